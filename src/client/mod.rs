//! The worker's side: the profile (server, user, device token), the local SQLite store
//! (task cache, outbox, drafts, sync state), and the sync engine that talks to the
//! server in one round trip per sync. Nothing here draws.

mod class;
mod clips;
mod engine;
mod notice;
mod plan;
pub mod player;
mod profile;
mod remote;
mod store;

/// Training records as the server sends them and the store keeps them: the screens read
/// them through `TrainingBook`.
pub use crate::protocol::{ExamMiss, ExamResult, ExamState, ExamTask, LessonTask};
pub use class::{ClassConfig, ClassLink, ClassNotice};
pub use clips::{ClipCache, ClipError, DEFAULT_CLIP_CACHE_BYTES};
pub use engine::{
    Link, SyncConfig, SyncEngine, SyncError, SyncOutcome, SyncStatus, sync_asked, sync_once,
};
pub use notice::feedback_notice;
pub use plan::{LocalState, PlanConfig, UnsentAnswer, plan, plan_asked};
pub use profile::{DEFAULT_PREFETCH, Profile, ProfileError, kazi_home, login, logout};
pub use remote::{Remote, RemoteError};
pub use store::{
    Applied, Counts, HeldAttempt, LessonPlace, LocalStore, STORE_VERSION, StoreError, TrainingBook,
    Undone, UnreadableProject,
};

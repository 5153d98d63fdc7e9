//! The server's storage behind one trait of domain operations (enrol, authenticate,
//! sync, catalogue, export) and the narrow transaction the scheduler drives (`SyncTx`),
//! implemented by SQLite (one centre, one file) and PostgreSQL (several instances on one
//! database) without copying rules. The backend is chosen from the database URL.

pub mod class;
mod gold_tx;
mod keys;
pub mod migrate;
mod postgres;
pub mod review;
mod sqlite;
mod sync_tx;
pub mod training;

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::intake::{Intake, IntakeForm};
use crate::model::{AnswerValue, Project, Role};
use crate::protocol::{SyncRequest, SyncResponse};
use crate::quality::Decision;
use crate::server::scheduler::review::{Decided, ReviewDecision, ReviewRefusal, ReviewTake, Taken};
use review::{NewReviewItem, ReviewFilter, ReviewItem};

pub use gold_tx::{
    GoldAnswered, GoldRecord, GoldResult, GoldTally, GoldTx, NewFeedback, StoredGold,
};
pub use keys::{NewSshKey, SshKeyAdded, SshKeySummary};
pub use postgres::{PostgresStore, shown_url as postgres_url_shown};
pub use sqlite::SqliteStore;
pub use sync_tx::{
    CatalogueEntry, EarlierAnswer, LeaseState, NewAnswer, OpenTask, SyncTx, TaskHome,
};

/// SHA-256 of a secret (device token or enrolment code): the only form stored.
pub type SecretHash = [u8; 32];

/// A backend's own error (rusqlite's or tokio-postgres's), kept as the source of a
/// `StoreError` so its kind and detail reach the log without tying callers to a backend.
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

/// Why a store operation failed. Messages are shown to admins as they are; the backend's
/// detail is the `source`, which the CLI prints after the message and the HTTP layer only
/// logs.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL must start with sqlite: or postgres://")]
    BadUrl,
    #[error("cannot open database {path}")]
    Open {
        path: String,
        #[source]
        source: BackendError,
    },
    #[error(
        "database schema version {found} is newer than this build knows ({known}); upgrade kazi"
    )]
    TooNew { found: i64, known: i64 },
    #[error("enrolment code is wrong, used or expired; ask your admin for a new one")]
    BadEnrolment,
    #[error("no database at {0}; create it with kazi admin --db sqlite:{0} init")]
    Missing(String),
    #[error("no project '{0}'; add it with kazi admin --db URL project add FILE.toml")]
    NoProject(String),
    #[error("task id '{id}' is already in project '{project}' with different content")]
    TaskClash { project: String, id: String },
    #[error("{0}")]
    Aborted(String),
    /// The same operation will likely succeed if tried again: another writer held the
    /// database (SQLite BUSY/LOCKED) or a transaction lost a race (PostgreSQL
    /// serialization failure or deadlock). Nothing was stored.
    #[error("the database is busy; try again in a moment")]
    Busy(#[source] BackendError),
    #[error("database error")]
    Backend(#[source] BackendError),
    /// A stored row the code cannot read back: never replaced by a default.
    #[error("stored {what} cannot be read; the database may be damaged")]
    Corrupt {
        what: &'static str,
        #[source]
        source: BackendError,
    },
    #[error("no task '{id}' in project '{project}'; see kazi admin --db URL tasks list")]
    NoTask { project: String, id: String },
    #[error("no user '{0}'; see kazi admin --db URL user list")]
    NoUser(String),
    #[error("user '{user}' has no device {device}; see kazi admin --db URL user list")]
    NoDevice { user: String, device: i64 },
    #[error("user '{0}' is disabled; kazi admin --db URL user enable {0} lets them in again")]
    UserDisabled(String),
    #[error(
        "user '{0}' was removed; their answers keep the name, so choose another name for a new user"
    )]
    UserRemoved(String),
    #[error(
        "key {fingerprint} is already registered for user '{owner}'; one key belongs to one user"
    )]
    KeyTaken { fingerprint: String, owner: String },
    #[error("user '{user}' has no key {fingerprint}; see kazi admin --db URL user key list {user}")]
    NoKey { user: String, fingerprint: String },
    #[error("a database job panicked")]
    JobPanicked,
    #[error("the database writer has stopped")]
    WriterGone,
}

impl StoreError {
    /// Whether the caller should try the same operation again.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Busy(_))
    }
}

/// Who a request comes from, once its device token is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: i64,
    pub device_id: i64,
    pub user: String,
    pub role: Role,
}

/// Why a token does not sign in, told apart so the worker's screen says the right thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStanding {
    /// No device has this token.
    Unknown,
    /// An admin signed the device out (`user revoke`): log in again with a new code.
    Revoked,
    /// The user is disabled (`user disable`) until an admin enables them again; the device
    /// works again then, with nothing lost.
    Disabled,
    /// The user was removed (`user remove`).
    Removed,
}

impl TokenStanding {
    /// The standing of a token's row: device revoked, user disabled, user removed (each
    /// the time it happened, if it did); None: no such token.
    pub fn of(row: Option<(Option<i64>, Option<i64>, Option<i64>)>) -> TokenStanding {
        match row {
            None => TokenStanding::Unknown,
            Some((_, _, Some(_))) => TokenStanding::Removed,
            Some((_, Some(_), None)) => TokenStanding::Disabled,
            Some((_, None, None)) => TokenStanding::Revoked,
        }
    }
}

/// What `put_user` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserPut {
    Created,
    /// The user existed: a fresh code replaces any unused one; the role is as given.
    Renewed {
        old_role: Role,
    },
}

/// A user as `kazi admin user list` shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub name: String,
    pub role: Role,
    /// Since when the user may not sign in or sync (server time); `enable` lifts it.
    pub disabled: Option<i64>,
    /// When the user was removed: kept only because answers carry the name.
    pub removed: Option<i64>,
    /// Every device ever logged in, oldest first, revoked ones included.
    pub devices: Vec<DeviceSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSummary {
    pub id: i64,
    /// The name the device gave at login (untrusted: show it sanitised).
    pub name: String,
    /// Server times, unix seconds.
    pub created: i64,
    pub last_sync: Option<i64>,
    /// When its token was revoked; a revoked device can no longer sync.
    pub revoked: Option<i64>,
}

/// What `remove_user` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRemoved {
    /// The user had given no answer: every trace is gone and the name is free again.
    Deleted,
    /// The user's answers stay (exports name them): the account is closed for good, its
    /// devices signed out, its tasks back in the queue, the name reserved.
    Retired { answers: u64 },
}

/// One project's tasks by where they are, for `kazi admin project list`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectCounts {
    pub project: Project,
    pub total: u64,
    /// Still wanting answers with a free slot: a worker's next sync may get them.
    pub waiting: u64,
    /// Held by at least one worker right now.
    pub leased: u64,
    /// With all their answers (`overlap`).
    pub done: u64,
    /// With a final answer (a subset of done: a tie is done but not decided).
    pub decided: u64,
    /// In the review queue as a dispute (answers too far apart), not yet decided.
    pub disputes: u64,
}

/// Which tasks `task_list` shows; the same task may be in several (a task of overlap 3
/// with one lease is waiting and leased).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    Waiting,
    Leased,
    Done,
    Decided,
}

impl TaskState {
    /// The state as a condition on `tasks t` (with its project `p`), the same SQL on
    /// both backends.
    fn condition(state: Option<TaskState>) -> &'static str {
        match state {
            None => "TRUE",
            Some(TaskState::Waiting) => "t.open_slots > 0",
            Some(TaskState::Leased) => {
                "EXISTS (SELECT 1 FROM leases l WHERE l.task_id = t.id AND l.live)"
            }
            Some(TaskState::Done) => "t.counted >= p.overlap",
            Some(TaskState::Decided) => "t.decided IS NOT NULL",
        }
    }
}

/// Every project's schema and task counts (total, waiting, leased, done, decided), by
/// name: one statement both backends run as it is.
const PROJECT_COUNTS_SQL: &str = "\
SELECT p.schema, COUNT(t.id), \
       COUNT(t.id) FILTER (WHERE t.open_slots > 0), \
       COUNT(l.task_id), \
       COUNT(t.id) FILTER (WHERE t.counted >= p.overlap), \
       COUNT(t.id) FILTER (WHERE t.decided IS NOT NULL), \
       (SELECT COUNT(DISTINCT r.task_id) FROM review_items r WHERE r.project_id = p.id \
          AND r.state = 'open' AND r.reason IN ('dispute', 'field_dispute')) \
FROM projects p \
LEFT JOIN tasks t ON t.project_id = p.id \
LEFT JOIN (SELECT DISTINCT task_id FROM leases WHERE live) l ON l.task_id = t.id \
GROUP BY p.id, p.schema, p.name ORDER BY p.name";

/// The tasks of project id `param` in one state, first `limit_param` of them in import
/// order: ext id, text, counted answers, live leases, decision.
fn task_list_sql(param: &str, limit_param: &str, state: Option<TaskState>) -> String {
    format!(
        "SELECT t.ext_id, t.text, t.counted, \
                (SELECT COUNT(*) FROM leases l WHERE l.task_id = t.id AND l.live), t.decided \
         FROM tasks t JOIN projects p ON p.id = t.project_id \
         WHERE p.id = {param} AND {} ORDER BY t.id LIMIT {limit_param}",
        TaskState::condition(state)
    )
}

/// How many tasks of project id `param` are in the state.
fn task_count_sql(param: &str, state: Option<TaskState>) -> String {
    format!(
        "SELECT COUNT(*) FROM tasks t JOIN projects p ON p.id = t.project_id \
         WHERE p.id = {param} AND {}",
        TaskState::condition(state)
    )
}

/// One task as `kazi admin tasks list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    pub id: String,
    /// Untrusted: shown sanitised.
    pub text: String,
    pub counted: u64,
    pub live_leases: u64,
    /// The final answer in compact form.
    pub decided: Option<String>,
}

/// The first tasks of a selection in import order, and how many it holds in all.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskList {
    pub overlap: u32,
    pub tasks: Vec<TaskRow>,
    pub matching: u64,
}

/// What `put_project` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectAdded {
    New,
    Updated,
    Unchanged,
}

/// A task to import. `gold` is never sent to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub id: String,
    pub text: String,
    pub suggestion: Option<String>,
    /// The first accepted gold answer (what aggregation and export read).
    pub gold: Option<Vec<String>>,
    /// The whole gold as JSON of `model::Gold` (every accepted answer, the explanation),
    /// when the task has gold.
    pub gold_spec: Option<String>,
    /// Answers given in another tool before the task came to Kazi.
    pub prior: Vec<PriorAnswer>,
    /// The task's audio (`media::ingest`), stored with it in the import's transaction.
    pub clip: Option<crate::media::Clip>,
}

/// An answer a task brings from another tool (a Label Studio annotation, a Prodigy
/// answer), kept with its annotator's name. It is nobody's Kazi answer: never leased,
/// never in a worker's "done today"; it counts towards the task's overlap and votes in
/// its decision like an answer given here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorAnswer {
    /// The annotator as the other tool named them; not a Kazi user.
    pub annotator: String,
    /// Checked against the project and in normal form.
    pub value: AnswerValue,
    /// Unix seconds: when it was given, or when it was imported if the file does not say.
    pub at: i64,
}

/// Counts of one import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub added: u64,
    /// Identical tasks that were imported before: re-running an import is safe.
    pub already_present: u64,
}

/// A project's counted answers, task by task, for the background aggregator.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregationInput {
    pub project: Project,
    /// The newest answer id among them: the same next time means nothing new arrived.
    pub latest_answer: i64,
    pub tasks: Vec<TaskAnswers>,
    /// Each worker's gold record in the project, by user id (workers never scored on
    /// gold are absent): what `wmv` weighs them by, as a sync does.
    pub gold_records: HashMap<i64, GoldRecord>,
}

/// One task's counted answers (not superseded), by user id, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskAnswers {
    pub task: i64,
    pub counted: i64,
    pub gold: Option<Vec<String>>,
    pub answers: Vec<(i64, AnswerValue)>,
}

/// One task with its outcome and every answer, for export.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    pub id: String,
    pub text: String,
    /// The model's suggestion (a label id) imported with the task.
    pub suggestion: Option<String>,
    pub gold: Option<Vec<String>>,
    /// The decided answer (compact form) once the task has all its answers and a winner.
    pub decided: Option<String>,
    pub agreement: Option<f64>,
    /// The method that decided (`mv`, `wmv`, `ds`) and how sure it is, 0.0..=1.0.
    pub method: Option<String>,
    pub confidence: Option<f64>,
    pub answers: Vec<AnswerRecord>,
    /// The latest verdict that gave the task a final answer, if a reviewer decided it.
    pub review: Option<review::ReviewOutcome>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRecord {
    pub worker: String,
    /// The Kazi user who gave it (None for an answer imported from another tool): what
    /// the worker's per-project pseudonym is made from.
    pub user_id: Option<i64>,
    pub value: AnswerValue,
    /// Server time, unix seconds.
    pub at: i64,
    /// Replaced by a later correction of the same device: kept for provenance, not counted.
    pub superseded: bool,
    /// Brought in with the task from another tool (`worker` is that tool's annotator).
    pub imported: bool,
}

/// One counted answer (not superseded, not imported) with what impact figures need.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkItem {
    pub user: String,
    pub project: String,
    /// The task's row id (a task answered twice by one worker is one task).
    pub task: i64,
    /// Server time, unix seconds.
    pub at: i64,
    /// The gold result recorded when the answer arrived (`gold_results`, rescored on a
    /// gold correction): Some(correct) on a gold task.
    pub gold_correct: Option<bool>,
    /// A reviewer's verdict scored against the answer (`scheduler::verdict`): Some(kept)
    /// on a reviewed task that has no gold.
    pub review_correct: Option<bool>,
}

/// A qualification a worker holds: the project whose exam they passed, and when (server
/// time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualified {
    pub user: String,
    pub project: String,
    pub granted: i64,
}

/// The tasks of an import, streamed; an `Err` aborts the import with that message and
/// nothing is stored.
pub type TaskStream<'a> = dyn Iterator<Item = Result<NewTask, String>> + 'a;

/// What a reviewer's request came to: refused with a reason the reviewer is shown, or
/// done; the outer error is the store's.
pub type Reviewed<T> = Result<Result<T, ReviewRefusal>, StoreError>;

/// Storage operations of the queue server. Synchronous: the HTTP layer calls them on
/// blocking threads.
pub trait Store: Send + Sync {
    /// Create a user, or renew an existing one's enrolment code (and set its role).
    fn put_user(
        &self,
        name: &str,
        role: Role,
        code_hash: &SecretHash,
        code_expires: i64,
        now: i64,
    ) -> Result<UserPut, StoreError>;

    /// Use a one-time enrolment code: on success a device with this token exists.
    fn redeem_enrolment(
        &self,
        user: &str,
        code_hash: &SecretHash,
        device: &str,
        token_hash: &SecretHash,
        now: i64,
    ) -> Result<Role, StoreError>;

    /// The user and device of a token, if the token is known and not revoked.
    fn authenticate(&self, token_hash: &SecretHash) -> Result<Option<Principal>, StoreError>;

    /// Why a token that `authenticate` refused does not sign in (a removed user first,
    /// then a disabled one, then a revoked device).
    fn token_standing(&self, token_hash: &SecretHash) -> Result<TokenStanding, StoreError>;

    /// One sync round: store answers, release skipped tasks, grant leases, and report
    /// schemas, all at server time `now`. Answers acknowledged are committed on return.
    /// A backend runs `scheduler::sync` on its `SyncTx` inside one transaction; the
    /// rules are the scheduler's, never the backend's.
    fn sync(
        &self,
        who: &Principal,
        request: SyncRequest,
        now: i64,
    ) -> Result<SyncResponse, StoreError>;

    /// Every user with their devices, by name.
    fn users(&self) -> Result<Vec<UserSummary>, StoreError>;

    /// Revoke the user's device `device`, or every device of theirs: its token stops
    /// working at once and its live leases go back to the pool. How many devices were
    /// still active; `NoUser` / `NoDevice` when there is no such one.
    fn revoke_devices(&self, user: &str, device: Option<i64>, now: i64) -> Result<u64, StoreError>;

    /// Disable a user (`true`): every device stops working at once, no code can be
    /// redeemed, and the tasks they held go back to the queue; the devices and the code
    /// are kept, so `false` (enable) lets the same devices in again. Whether it changed.
    fn set_user_disabled(&self, user: &str, disabled: bool, now: i64) -> Result<bool, StoreError>;

    /// Remove a user: see `UserRemoved`. `NoUser` when there is none (or it was removed).
    fn remove_user(&self, user: &str, now: i64) -> Result<UserRemoved, StoreError>;

    /// Every project with its tasks counted by state, by name.
    fn project_counts(&self) -> Result<Vec<ProjectCounts>, StoreError>;

    /// The first `limit` tasks of a project in import order (of one state, or all), and
    /// how many there are.
    fn task_list(
        &self,
        project: &str,
        state: Option<TaskState>,
        limit: u32,
    ) -> Result<TaskList, StoreError>;
    /// Register an SSH public key for `user`; it signs in as a new device of the user
    /// (named after the fingerprint, with `device_token` as its never-shown token).
    /// `KeyTaken` when another user has the key; `NoUser` when there is no such user.
    fn add_ssh_key(
        &self,
        user: &str,
        key: &NewSshKey,
        device_token: &SecretHash,
        now: i64,
    ) -> Result<SshKeyAdded, StoreError>;

    /// The user's SSH keys, oldest first (`NoUser` when there is no such user).
    fn ssh_keys(&self, user: &str) -> Result<Vec<SshKeySummary>, StoreError>;

    /// Remove one of the user's SSH keys: its device is revoked at once (a session
    /// signed in with it ends, its leases go back to the pool). `NoUser` / `NoKey`.
    fn remove_ssh_key(&self, user: &str, fingerprint: &str, now: i64) -> Result<(), StoreError>;

    /// Who signs in with the key of this fingerprint: its user and device, unless the
    /// key is unknown or its device was revoked.
    fn ssh_principal(&self, fingerprint: &str) -> Result<Option<Principal>, StoreError>;

    /// Add a project or update the one with its name.
    fn put_project(&self, project: &Project, now: i64) -> Result<ProjectAdded, StoreError>;

    fn project(&self, name: &str) -> Result<Option<Project>, StoreError>;

    /// Import tasks in one transaction: all or nothing. A new task's prior answers are
    /// stored with it and counted (`scheduler::prior_answers_counted`); a task already
    /// there is the same only with the same prior answers (annotator and value).
    fn import_tasks(
        &self,
        project: &str,
        tasks: &mut TaskStream<'_>,
    ) -> Result<ImportCounts, StoreError>;

    /// Names of every project.
    fn project_names(&self) -> Result<Vec<String>, StoreError>;

    /// The id of the newest answer stored (0 without any): a cheap "anything new?".
    fn latest_answer_id(&self) -> Result<i64, StoreError>;

    /// Every task of a project with its counted answers and gold, from one snapshot.
    fn aggregation_input(&self, project: &str) -> Result<AggregationInput, StoreError>;

    /// Store decisions made outside a sync (the background aggregator), in one
    /// transaction. Tasks no longer complete are left alone.
    fn record_decisions(&self, decisions: &[(i64, Decision)]) -> Result<(), StoreError>;

    /// Replace the gold of task `task` (the import's id) of `project`, score every
    /// answer to it again and tell each of those workers (`scheduler::gold::correct`), in
    /// one transaction. Gold that does not fit the project is refused (`Aborted`).
    fn correct_gold(
        &self,
        project: &str,
        task: &str,
        gold: &crate::model::Gold,
        now: i64,
    ) -> Result<crate::server::scheduler::gold::Correction, StoreError>;
    /// A clip's wire bytes by hash (`None`: no such clip), for `GET /v1/clips/HASH`.
    fn clip_wire(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// A clip's original file as imported and its extension (`flac`, ...), for export.
    fn clip_original(&self, hash: &str) -> Result<Option<(Vec<u8>, String)>, StoreError>;

    /// Replace a project's training set (lessons and exam pool, in file order) in one
    /// transaction. Rows keep their identity by id; rows no longer named are retired.
    fn put_training(
        &self,
        project: &str,
        tasks: &[training::NewTrainingTask],
    ) -> Result<training::TrainingCounts, StoreError>;

    /// Every task of a project in import order, with its answers (prior answers first,
    /// then Kazi's in arrival order), one at a time.
    fn export(
        &self,
        project: &str,
        each: &mut dyn FnMut(TaskRecord) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError>;

    /// Queue a review item; its id, or `None` when the task already had one for this
    /// reason and worker (queueing is idempotent).
    fn review_enqueue(&self, item: &NewReviewItem, now: i64) -> Result<Option<i64>, StoreError>;

    /// Review items the filter admits, oldest first (`kazi admin review list`, the
    /// reviewer's queue once the scheduler has scoped the filter).
    fn review_list(&self, filter: &ReviewFilter) -> Result<Vec<ReviewItem>, StoreError>;

    /// `scheduler::review::take` in one transaction: the item is leased to `who`.
    fn review_take(&self, who: &Principal, which: &ReviewTake, now: i64)
    -> Reviewed<Option<Taken>>;

    /// `scheduler::review::release` in one transaction.
    fn review_release(&self, who: &Principal, item: i64, now: i64) -> Reviewed<()>;

    /// `scheduler::review::decide` in one transaction: the verdict and all it causes.
    fn review_decide(
        &self,
        who: &Principal,
        decision: &ReviewDecision,
        now: i64,
    ) -> Reviewed<Decided>;

    /// Assign a user to review a project (`kazi admin user assign`); false when they
    /// already were. `NoUser` / `NoProject` when either is missing.
    fn assign_reviewer(&self, user: &str, project: &str, now: i64) -> Result<bool, StoreError>;

    /// Set the self-reported fields the centre asks at intake.
    fn put_intake_form(&self, form: &IntakeForm) -> Result<(), StoreError>;

    /// The centre's intake form (no fields until one is set).
    fn intake_form(&self) -> Result<IntakeForm, StoreError>;

    /// Replace a user's intake record; `NoUser` when there is no such user.
    fn put_intake(&self, user: &str, intake: &Intake) -> Result<(), StoreError>;

    /// The centre's secret key for per-project pseudonyms, made on first use.
    fn pseudonym_key(&self) -> Result<crate::server::pseudonym::PseudonymKey, StoreError>;

    /// Every user's intake record, by user name (users without one are absent).
    fn intakes(&self) -> Result<Vec<(String, Intake)>, StoreError>;

    /// Counted answers given at server times `from <= at < to`, of one user or everyone,
    /// ordered by user and time, one at a time from one snapshot.
    fn work_history(
        &self,
        user: Option<&str>,
        from: i64,
        to: i64,
        each: &mut dyn FnMut(WorkItem) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError>;

    /// Qualifications held, of one user or everyone, ordered by user and time granted.
    fn qualifications(&self, user: Option<&str>) -> Result<Vec<Qualified>, StoreError>;

    /// One class request (`POST /v1/class`): `scheduler::class::handle` inside one
    /// transaction.
    fn class(
        &self,
        who: &Principal,
        request: &crate::protocol::ClassRequest,
        now: i64,
    ) -> crate::server::scheduler::class::ClassResult;

    /// The after-class report of the class with this join code, if there is one
    /// (`kazi admin class report`).
    fn class_report(&self, code: &str) -> Result<Option<crate::protocol::ClassReport>, StoreError>;
}

/// Most tries at a fresh public id for one task (two random 53-bit ids colliding is
/// already rare).
pub(crate) const PUBLIC_ID_TRIES: usize = 8;

/// A fresh public id for a task: random in 2^32..2^53, above every id a task kept from
/// before public ids (those already on devices) and exact in any JSON reader. Random so
/// the ids a worker sees tell nothing of which tasks were imported together.
pub(crate) fn new_public_id() -> Result<i64, StoreError> {
    const LOW: u64 = 1 << 32;
    const SPAN: u64 = (1 << 53) - LOW;
    let r = getrandom::u64().map_err(|e| StoreError::Backend(e.to_string().into()))?;
    Ok((LOW + r % SPAN) as i64)
}

/// Open the store a database URL names: `sqlite:PATH` (created and migrated if needed)
/// or `postgres://...` / `postgresql://...` (an existing database, migrated if needed).
/// Only `kazi serve` and `kazi admin init` create; everything else uses
/// `open_existing_store`.
pub fn open_store(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    match Backend::of(url)? {
        Backend::Sqlite(path) => Ok(Arc::new(SqliteStore::open(path)?)),
        Backend::Postgres(url) => Ok(Arc::new(PostgresStore::open(url)?)),
    }
}

/// Open a store that must already exist: a mistyped `sqlite:PATH` is refused, naming the
/// path, instead of becoming a new empty centre. (A PostgreSQL database always exists
/// before Kazi is pointed at it; connecting to a missing one fails by itself.)
pub fn open_existing_store(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if let Backend::Sqlite(path) = Backend::of(url)?
        && !path.exists()
    {
        return Err(StoreError::Missing(path.display().to_string()));
    }
    open_store(url)
}

/// The backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend<'u> {
    Sqlite(&'u std::path::Path),
    Postgres(&'u str),
}

impl<'u> Backend<'u> {
    pub fn of(url: &'u str) -> Result<Backend<'u>, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(StoreError::BadUrl);
            }
            return Ok(Backend::Sqlite(std::path::Path::new(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Backend::Postgres(url));
        }
        Err(StoreError::BadUrl)
    }
}

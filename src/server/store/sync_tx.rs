//! The narrow transactional interface the scheduler drives: one method per obvious query
//! on tasks, leases, answers and replies, with no rule in it. A backend implements it on
//! one open transaction (SQLite: the writer's; PostgreSQL: row locks, `SKIP LOCKED` when
//! picking tasks), and the scheduler decides what to call.

use std::collections::BTreeMap;

use crate::model::{AnswerValue, Project};
use crate::protocol::{ClipRef, Lease};
use crate::quality::Decision;
use crate::server::store::StoreError;
use crate::server::store::review::{AnswerUnderReview, TaskUnderReview};
use crate::server::store::review::{NewReviewItem, ReviewFilter, ReviewItem, ReviewLease, Verdict};
use crate::server::store::training::TrainingTx;

/// A project as the scheduler needs it on every sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueEntry {
    pub id: i64,
    pub version: String,
    pub lease_secs: i64,
}

/// The project a task belongs to and the answers it wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskHome {
    pub project_id: i64,
    pub overlap: i64,
}

/// A worker's lease on a task. The row outlives the lease: `live` says whether it still
/// holds a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseState {
    /// Server time the lease was (last) granted.
    pub granted: i64,
    pub live: bool,
}

/// An answer stored earlier under a device's client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierAnswer {
    /// The store's own id of the answer row.
    pub id: i64,
    pub task: i64,
    pub value: AnswerValue,
    /// Replaced by a correction: kept for provenance, not counted.
    pub superseded: bool,
}

/// An answer to insert, already judged and dated by the scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAnswer<'a> {
    pub device_id: i64,
    pub client_id: u64,
    pub task: i64,
    pub user_id: i64,
    pub value: &'a AnswerValue,
    /// Server time, unix seconds.
    pub at: i64,
}

/// A task that can be leased, as the lease carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTask {
    pub task: i64,
    /// The id the wire carries (`tasks.public_id`).
    pub public: i64,
    pub text: String,
    pub suggestion: Option<String>,
    pub clip: Option<ClipRef>,
}

/// A clip reference from its three columns (hash, wire bytes, duration ms), as a
/// `LEFT JOIN clips` reads them: all null for a task without audio.
pub(crate) fn clip_ref(
    hash: Option<String>,
    bytes: Option<i64>,
    ms: Option<i64>,
) -> Option<ClipRef> {
    match (hash, bytes, ms) {
        (Some(hash), Some(bytes), Some(ms)) => Some(ClipRef {
            hash,
            bytes: bytes.max(0) as u64,
            ms: ms.max(0) as u64,
        }),
        _ => None,
    }
}

/// One transaction of a sync (or of a project update), as the scheduler sees it. Every
/// method is one query; together they keep `open_slots = overlap - counted answers - live
/// leases` only because the scheduler calls them so.
pub trait SyncTx: super::gold_tx::GoldTx + TrainingTx {
    /// End every live lease that expired by `now`, giving its slot back to its task.
    fn expire_leases(&mut self, now: i64) -> Result<(), StoreError>;

    /// Every project by name.
    fn catalogue(&mut self) -> Result<BTreeMap<String, CatalogueEntry>, StoreError>;

    /// A project's full schema.
    fn project_schema(&mut self, project_id: i64) -> Result<Project, StoreError>;

    fn task_home(&mut self, task: i64) -> Result<Option<TaskHome>, StoreError>;

    /// The answer this device sent under `client_id`, if any.
    fn answer_by_client_id(
        &mut self,
        device_id: i64,
        client_id: u64,
    ) -> Result<Option<EarlierAnswer>, StoreError>;

    /// This worker's lease row on the task, live or not.
    fn lease(&mut self, task: i64, user_id: i64) -> Result<Option<LeaseState>, StoreError>;

    /// Whether this worker has an answer to the task that is not superseded.
    fn has_counted_answer(&mut self, task: i64, user_id: i64) -> Result<bool, StoreError>;

    /// Store an answer; its new id.
    fn insert_answer(&mut self, answer: &NewAnswer<'_>) -> Result<i64, StoreError>;

    /// Mark answer `old` as replaced by answer `by`.
    fn supersede(&mut self, old: i64, by: i64) -> Result<(), StoreError>;

    /// Count one more answer against the task and move its open slots by `slot_delta`.
    fn count_answer(&mut self, task: i64, slot_delta: i64) -> Result<(), StoreError>;

    /// Move a task's open slots by `delta`.
    fn move_open_slots(&mut self, task: i64, delta: i64) -> Result<(), StoreError>;

    /// End this worker's lease on the task; `released` remembers it as a skip.
    fn end_lease(&mut self, task: i64, user_id: i64, released: bool) -> Result<(), StoreError>;

    /// Answers counted against the task.
    fn counted_answers(&mut self, task: i64) -> Result<i64, StoreError>;

    /// Values of the task's answers that are not superseded, prior answers (brought from
    /// another tool at import) first, then Kazi's oldest first.
    fn live_answer_values(&mut self, task: i64) -> Result<Vec<AnswerValue>, StoreError>;

    fn record_decision(&mut self, task: i64, decision: &Decision) -> Result<(), StoreError>;

    /// Live leases granted to this device in replies numbered above `seen`, in task
    /// order, at most `limit`.
    fn unseen_leases(
        &mut self,
        device_id: i64,
        seen: u64,
        limit: usize,
    ) -> Result<Vec<Lease>, StoreError>;

    /// Move this device's live leases in replies numbered above `seen` and below `before`
    /// to reply `to`: those a bounded reply left out, so they are sent again next time.
    fn defer_unseen_leases(
        &mut self,
        device_id: i64,
        seen: u64,
        before: u64,
        to: u64,
    ) -> Result<(), StoreError>;

    /// Note that the device synced at `now` (shown to admins).
    fn note_sync(&mut self, device_id: i64, now: i64) -> Result<(), StoreError>;

    /// Tasks this device holds a live lease on, with the worker holding each.
    fn live_leases_of_device(&mut self, device_id: i64) -> Result<Vec<(i64, i64)>, StoreError>;

    /// How many live leases this worker holds in the project.
    fn live_leases_held(&mut self, project_id: i64, user_id: i64) -> Result<u64, StoreError>;

    /// How many production tasks of the project this worker could still be given (open
    /// slots, not answered nor held nor handed back by them), counting at most `cap`.
    fn open_tasks_for(
        &mut self,
        project_id: i64,
        user_id: i64,
        cap: u32,
    ) -> Result<u32, StoreError>;

    /// Note that this worker's lease on the task travels in reply `reply`. The task is
    /// named by its public id, as the resent `Lease` carries it.
    fn tag_lease_reply(&mut self, public: i64, user_id: i64, reply: u64) -> Result<(), StoreError>;

    /// The device's next reply number (rising, starting at 1).
    fn next_reply(&mut self, device_id: i64) -> Result<u64, StoreError>;

    /// Up to `limit` tasks of the project, in import order, with an open slot, that this
    /// worker has not answered, holds or skipped; without gold tasks if `skip_gold` (the
    /// project mixes them in by its gold rate). A backend with several writers locks
    /// the rows it returns and skips rows others hold.
    fn pick_open_tasks(
        &mut self,
        project_id: i64,
        user_id: i64,
        limit: usize,
        skip_gold: bool,
    ) -> Result<Vec<OpenTask>, StoreError>;

    /// Give this worker (on this device) a live lease on the task, in reply `reply`.
    /// Slots are the caller's: see `move_open_slots`.
    fn hold_lease(
        &mut self,
        task: i64,
        user_id: i64,
        device_id: i64,
        granted: i64,
        expires: i64,
        reply: u64,
    ) -> Result<(), StoreError>;

    /// This worker's answers dated at or after `since` that are not superseded.
    fn answers_since(&mut self, user_id: i64, since: i64) -> Result<u64, StoreError>;

    /// Move the open slots of every task of the project by `delta` (overlap changed).
    fn move_project_open_slots(&mut self, project_id: i64, delta: i64) -> Result<(), StoreError>;

    /// Forget the decision of every task of the project with fewer than `overlap` answers.
    fn clear_decisions_below(&mut self, project_id: i64, overlap: i64) -> Result<(), StoreError>;

    /// Tasks of the project with at least `overlap` answers and no decision yet.
    fn undecided_complete_tasks(
        &mut self,
        project_id: i64,
        overlap: i64,
    ) -> Result<Vec<i64>, StoreError>;

    /// Put an item in the review queue unless the task already has one for this reason
    /// and worker; the new item's id, or `None` when it was there.
    fn enqueue_review(&mut self, item: &NewReviewItem, now: i64)
    -> Result<Option<i64>, StoreError>;

    /// The oldest open item the filter admits whose lease is free at `now` or already
    /// `reviewer`'s. A backend with several writers locks it and skips items others are
    /// taking.
    fn next_review_item(
        &mut self,
        filter: &ReviewFilter,
        reviewer: i64,
        now: i64,
    ) -> Result<Option<i64>, StoreError>;

    /// One review item, locked for the rest of the transaction.
    fn review_item(&mut self, id: i64) -> Result<Option<ReviewItem>, StoreError>;

    /// Give the item's lease to a reviewer, or free it (`None`).
    fn lease_review_item(&mut self, id: i64, lease: Option<ReviewLease>) -> Result<(), StoreError>;

    /// Close the item with its verdict (and free its lease).
    fn decide_review_item(&mut self, id: i64, verdict: &Verdict) -> Result<(), StoreError>;

    /// Whether the user is assigned to review the project.
    fn is_assigned_reviewer(&mut self, user_id: i64, project_id: i64) -> Result<bool, StoreError>;

    /// The centre's pseudonym key, made (and kept) on first use: whichever transaction
    /// makes it first wins, every other one reads that.
    fn pseudonym_key(&mut self) -> Result<crate::server::pseudonym::PseudonymKey, StoreError>;

    /// The task's text and aggregate, for a reviewer.
    fn task_under_review(&mut self, task: i64) -> Result<Option<TaskUnderReview>, StoreError>;

    /// The task's counted (not superseded) answers, oldest first, with their lease times.
    fn answers_under_review(&mut self, task: i64) -> Result<Vec<AnswerUnderReview>, StoreError>;
}

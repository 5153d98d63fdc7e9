//! The part of a sync's transaction that gold and feedback need: public task ids, the
//! gold pool and the per-worker mix, gold results and feedback items. A supertrait of
//! `SyncTx`, so the scheduler reaches it through the same transaction; each backend
//! implements it in its own `gold.rs`. One query per method, no rule in it.

use crate::model::AnswerValue;
use crate::protocol::{FeedbackItem, FeedbackKind};
use crate::server::store::{OpenTask, StoreError};

/// Characters of a task's text a feedback item carries (the task may have left the
/// worker's cache by the time they read it).
pub const FEEDBACK_TEXT_CHARS: i64 = 300;

/// A task's gold as stored: the first accepted answer in compact form (`tasks.gold`,
/// what aggregation and export read) and, for gold imported since gold tasks exist, the
/// whole gold as JSON of `model::Gold` (every accepted answer, the explanation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredGold {
    pub project_id: i64,
    pub first: String,
    pub spec: Option<String>,
}

/// The score of one answer against gold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldResult {
    pub answer_id: i64,
    pub task: i64,
    pub user_id: i64,
    pub project_id: i64,
    pub correct: bool,
    /// JSON list of `[expected, given]` label pairs the answer confused.
    pub confusions: String,
    /// Server time of the answer.
    pub at: i64,
}

/// A feedback item to keep for a worker (task by the store's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeedback<'a> {
    pub user_id: i64,
    pub project_id: i64,
    pub task: i64,
    pub kind: FeedbackKind,
    pub correct: bool,
    pub answer: Option<&'a AnswerValue>,
    pub expected: Option<&'a AnswerValue>,
    pub note: &'a str,
    pub missed_fields: &'a [String],
    pub at: i64,
}

/// Counts behind a worker's accuracy in one project (answers not superseded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GoldTally {
    pub recent_correct: u32,
    pub recent_total: u32,
    pub all_correct: u64,
    pub all_total: u64,
}

/// A worker's gold record in one project: gold answers scored (not superseded), and how
/// many were right. What `wmv` weighs the worker by (`quality::labels::gold_weight`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GoldRecord {
    pub correct: u64,
    pub seen: u64,
}

/// A counted answer to a gold task, for scoring it again after a correction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldAnswered {
    pub answer_id: i64,
    pub user_id: i64,
    pub value: AnswerValue,
    pub at: i64,
}

pub trait GoldTx {
    /// The store's id of the task the wire calls `public`.
    fn task_by_public(&mut self, public: i64) -> Result<Option<i64>, StoreError>;

    /// The task's gold, if it has any.
    fn task_gold(&mut self, task: i64) -> Result<Option<StoredGold>, StoreError>;

    /// Up to `limit` gold tasks of the project this worker was never leased nor answered,
    /// in public-id order (random, so it says nothing of import order). Gold is not held
    /// by slots: every worker may get each one once.
    fn pick_gold_tasks(
        &mut self,
        project_id: i64,
        user_id: i64,
        limit: usize,
    ) -> Result<Vec<OpenTask>, StoreError>;

    /// How many tasks of the project this worker was leased under the gold mix, and how
    /// many of those were gold.
    fn gold_mix(&mut self, project_id: i64, user_id: i64) -> Result<(u64, u64), StoreError>;

    /// Add to the worker's mix counts.
    fn add_gold_mix(
        &mut self,
        project_id: i64,
        user_id: i64,
        leased: u64,
        gold: u64,
    ) -> Result<(), StoreError>;

    /// Record (or, after a correction, replace) the score of one answer.
    fn record_gold_result(&mut self, result: &GoldResult) -> Result<(), StoreError>;

    /// Keep a feedback item for the worker; its number (rising per store).
    fn give_feedback(&mut self, item: &NewFeedback<'_>) -> Result<u64, StoreError>;

    /// The worker's feedback items numbered above `after`, oldest first, at most `limit`,
    /// as the wire carries them (public task id, project name, the start of the text).
    fn feedback_after(
        &mut self,
        user_id: i64,
        after: u64,
        limit: usize,
    ) -> Result<Vec<FeedbackItem>, StoreError>;

    /// The worker's gold counts in the project: the last `recent` and all time.
    fn gold_tally(
        &mut self,
        user_id: i64,
        project_id: i64,
        recent: u32,
    ) -> Result<GoldTally, StoreError>;

    /// The task's live answers in `live_answer_values`' order, each with its worker's
    /// gold record in the task's project (an answer imported from another tool has an
    /// empty one): what a `wmv` project is decided by at sync.
    fn live_answers_with_gold(
        &mut self,
        task: i64,
    ) -> Result<Vec<(AnswerValue, GoldRecord)>, StoreError>;

    /// The confusions (JSON lists) of the worker's latest `limit` missed gold answers.
    fn recent_confusions(
        &mut self,
        user_id: i64,
        project_id: i64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError>;

    /// Every counted (not superseded) answer to the task, oldest first.
    fn gold_answers_of_task(&mut self, task: i64) -> Result<Vec<GoldAnswered>, StoreError>;

    /// Replace the task's gold.
    fn set_task_gold(&mut self, task: i64, first: &str, spec: &str) -> Result<(), StoreError>;
}

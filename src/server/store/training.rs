//! What the store keeps for training: a project's training tasks (lessons and the exam
//! pool: task rows with gold, an explanation and a hint), workers' exam attempts and the
//! qualifications they earned, all at server time. `TrainingTx` is the scheduler's
//! narrow interface to them inside a sync; no rule lives in a backend.

use crate::server::store::StoreError;

/// A training task to import. `gold` is the JSON of the task's `model::gold::Gold` (its
/// explanation included), checked against the project by the importer; the store keeps
/// it as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTrainingTask {
    /// The admin's id of the row: importing the same id again updates it in place.
    pub id: String,
    pub text: String,
    pub suggestion: Option<String>,
    pub gold: String,
    /// Shown before answering on `hint`; empty for none. Exam tasks have none.
    pub hint: String,
    /// In the exam pool (drawn for attempts, never sent with its gold) rather than a
    /// lesson (sent whole, for practice offline).
    pub exam: bool,
    /// The task's audio (transcribe projects), stored once in the clips table.
    pub clip: Option<crate::media::Clip>,
}

/// A stored training task. `item` is the store's own id, the one on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingTask {
    pub item: i64,
    pub id: String,
    pub text: String,
    pub suggestion: Option<String>,
    pub gold: String,
    pub hint: String,
    pub exam: bool,
    pub clip: Option<crate::model::ClipRef>,
}

/// Counts of one training import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrainingCounts {
    pub lessons: u64,
    pub exam: u64,
    /// Tasks of an earlier import that this one no longer names: kept for the attempts
    /// that drew them, never sent or drawn again.
    pub retired: u64,
}

/// One exam attempt of a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExamAttemptRow {
    pub id: i64,
    /// The training tasks drawn, in the order shown.
    pub items: Vec<i64>,
    /// Server time it was drawn.
    pub created: i64,
    pub graded: Option<GradedAttempt>,
}

/// The server's grading of an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradedAttempt {
    /// Server time it was graded.
    pub at: i64,
    pub correct: u32,
    pub passed: bool,
    /// The JSON of the result as sent to the worker (`protocol::ExamResult`).
    pub result: String,
}

/// The scheduler's access to training records inside a sync's transaction.
pub trait TrainingTx {
    /// The project's training tasks in use (not retired), lessons or exam pool, in file
    /// order.
    fn training_tasks(
        &mut self,
        project_id: i64,
        exam: bool,
    ) -> Result<Vec<TrainingTask>, StoreError>;

    /// When this worker qualified in the project (server time), if they did.
    fn qualification(&mut self, project_id: i64, user_id: i64) -> Result<Option<i64>, StoreError>;

    /// Record that the worker qualified at `at` by passing attempt `attempt`.
    fn grant_qualification(
        &mut self,
        project_id: i64,
        user_id: i64,
        at: i64,
        attempt: i64,
    ) -> Result<(), StoreError>;

    /// Every exam attempt of this worker in the project, oldest first.
    fn exam_attempts(
        &mut self,
        project_id: i64,
        user_id: i64,
    ) -> Result<Vec<ExamAttemptRow>, StoreError>;

    /// The attempt with this id if it is this worker's, and its project id.
    fn exam_attempt(
        &mut self,
        attempt: i64,
        user_id: i64,
    ) -> Result<Option<(i64, ExamAttemptRow)>, StoreError>;

    /// Store a new attempt drawing `items` at `at`; its id.
    fn insert_exam_attempt(
        &mut self,
        project_id: i64,
        user_id: i64,
        items: &[i64],
        at: i64,
    ) -> Result<i64, StoreError>;

    /// Record the grading of an attempt that has none yet.
    fn grade_exam_attempt(
        &mut self,
        attempt: i64,
        graded: &GradedAttempt,
    ) -> Result<(), StoreError>;

    /// The training tasks with these ids, in the order given (missing ones left out).
    fn training_items(&mut self, items: &[i64]) -> Result<Vec<TrainingTask>, StoreError>;
}

/// The item list of an attempt as stored: a JSON array of ids.
pub(crate) fn items_json(items: &[i64]) -> String {
    let ids: Vec<String> = items.iter().map(i64::to_string).collect();
    format!("[{}]", ids.join(","))
}

pub(crate) fn parse_items(json: &str) -> Result<Vec<i64>, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        what: "exam attempt",
        source: Box::new(e),
    })
}

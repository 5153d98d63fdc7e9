//! Training on the wire: lesson sets (sent whole with their gold, for practice offline),
//! exam attempts (sent without answers), exam submissions and the server's grading.
//! Every field is optional on the request and the reply, so a client and a server one
//! version apart keep working.

use serde::{Deserialize, Serialize};

use crate::model::gold::Gold;
use crate::model::{AnswerValue, ClipRef};

/// A project's lessons, in order. `version` changes whenever a lesson does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LessonSet {
    pub project: String,
    pub version: String,
    pub tasks: Vec<LessonTask>,
}

/// A practice task: a task row with its gold (and why that is the answer), and a hint shown
/// before answering. Not a production task, so its gold may travel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LessonTask {
    pub item: i64,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// The accepted answers and why (`Gold::explanation`).
    pub gold: Gold,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hint: String,
    /// The lesson's audio (transcribe projects), fetched into the clip cache like a
    /// lease's. Absent for other kinds and from servers before lesson audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip: Option<ClipRef>,
}

/// The bytes `tasks` take in a reply (their JSON, before compression): what a lesson set
/// spends of the reply's budget, and what `MAX_LESSON_SET_BYTES` bounds.
pub fn lesson_bytes(tasks: &[LessonTask]) -> usize {
    // Serialising these plain structs cannot fail; were it to, the set counts as too big.
    serde_json::to_vec(tasks).map_or(usize::MAX, |json| json.len())
}

/// A worker's exam standing in one project, sent when the client asks (`exams`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExamState {
    pub project: String,
    /// Server time the worker qualified; None: not qualified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualified: Option<i64>,
    /// The attempt to take now (answers kept by the client until it is sent whole).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<ExamAttempt>,
    /// The grading of the latest graded attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ExamResult>,
    /// Server time from which a new attempt is drawn after a failed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<i64>,
    /// Why no attempt can be drawn (the exam pool is too small), for the worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
    /// The user's role takes no exam (trainers and admins: only workers are examined);
    /// production work is not held back for them and no attempt is ever drawn.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exempt: bool,
}

/// An attempt's tasks, without their answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExamAttempt {
    pub id: i64,
    pub pass_mark: u32,
    pub tasks: Vec<ExamTask>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExamTask {
    pub item: i64,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// The task's audio (transcribe projects), as `LessonTask::clip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip: Option<ClipRef>,
}

/// A whole attempt's answers, sent once every task has one. Sending it again is a
/// no-op: the server grades an attempt once and sends the same result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExamSubmission {
    pub attempt: i64,
    pub answers: Vec<ExamAnswer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExamAnswer {
    pub item: i64,
    pub value: AnswerValue,
}

/// The server's grading of an attempt (server time), with what was missed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExamResult {
    pub attempt: i64,
    pub correct: u32,
    pub size: u32,
    pub pass_mark: u32,
    pub passed: bool,
    pub at: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missed: Vec<ExamMiss>,
}

/// One exam task answered wrongly: the task, the worker's answer, what was expected and
/// why. Sent only after the attempt was graded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExamMiss {
    pub item: i64,
    pub text: String,
    pub answer: AnswerValue,
    /// The accepted answers and why (`Gold::explanation`).
    pub expected: Gold,
}

//! The feedback channel on the wire: what the server tells a worker about answers it
//! already gave (gold results, review verdicts, gold corrections), the worker's accuracy
//! per project, and the contests and flags a worker sends up. All optional fields of a
//! sync, so clients and servers one version apart ignore them.

use serde::{Deserialize, Serialize};

use crate::model::AnswerValue;

/// One piece of feedback about one answer. Items are numbered per worker in the order
/// the server made them; the client sends the highest it stored as `feedback_seen`, so
/// an item in a reply the link lost comes again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedbackItem {
    pub id: u64,
    pub kind: FeedbackKind,
    pub project: String,
    /// The task's id as leases carry it.
    pub task: i64,
    /// The start of the task's text (the task may have left this computer's cache).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    pub correct: bool,
    /// What the worker answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<AnswerValue>,
    /// What was expected (gold) or decided (review).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<AnswerValue>,
    /// The gold's explanation, or the reviewer's note.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Entry: the fields that were wrong (`total`, `items[1].qty`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missed_fields: Vec<String>,
    /// Server time, unix seconds.
    pub at: i64,
}

/// Where a feedback item comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackKind {
    /// A gold (control) task was scored when its answer arrived.
    Gold,
    /// A reviewer decided a task this worker answered.
    Review,
    /// An admin or reviewer corrected a gold answer this worker was scored on.
    GoldCorrected,
    /// A kind from a newer server: shown plainly.
    #[serde(other)]
    Other,
}

impl FeedbackKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedbackKind::Gold => "gold",
            FeedbackKind::Review => "review",
            FeedbackKind::GoldCorrected => "gold_corrected",
            FeedbackKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> FeedbackKind {
        match s {
            "gold" => FeedbackKind::Gold,
            "review" => FeedbackKind::Review,
            "gold_corrected" => FeedbackKind::GoldCorrected,
            _ => FeedbackKind::Other,
        }
    }
}

/// A worker's accuracy on gold in one project, computed by the server from its records
/// (server time; superseded answers not counted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accuracy {
    pub project: String,
    /// Of the last 50 gold answers: how many were right, of how many.
    pub recent_correct: u32,
    pub recent_total: u32,
    pub all_correct: u64,
    pub all_total: u64,
    /// The label pairs this worker confuses most, most often first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confused: Vec<Confusion>,
}

/// Gold said `expected`, the worker chose `given`, `count` times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    pub expected: String,
    pub given: String,
    pub count: u32,
}

/// How many gold answers "recent" accuracy covers.
pub const RECENT_GOLD: u32 = 50;
/// How many confused label pairs an `Accuracy` carries.
pub const MAX_CONFUSIONS: usize = 3;

/// A worker's report on a task, sent up in a sync: a contest of a gold verdict or a flag
/// on a task. Numbered by the device like answers (the same id twice is one report); the
/// server acknowledges each in `SyncResponse::reports_done` once it is in the review queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub id: u64,
    /// The task's id as leases carry it.
    pub task: i64,
    pub kind: ReportKind,
    /// A short note in the worker's words (at most `MAX_REPORT_NOTE_CHARS`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// What a report says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// The worker thinks the gold answer they were scored against is wrong.
    Contest,
    /// The task cannot be answered as it is.
    Flag(FlagReason),
}

/// Why a task is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagReason {
    Unclear,
    BrokenAudio,
    Offensive,
    Other,
}

impl FlagReason {
    pub const ALL: [FlagReason; 4] = [
        FlagReason::Unclear,
        FlagReason::BrokenAudio,
        FlagReason::Offensive,
        FlagReason::Other,
    ];

    /// The words a worker picks from.
    pub fn words(self) -> &'static str {
        match self {
            FlagReason::Unclear => "unclear",
            FlagReason::BrokenAudio => "broken audio",
            FlagReason::Offensive => "offensive",
            FlagReason::Other => "other",
        }
    }
}

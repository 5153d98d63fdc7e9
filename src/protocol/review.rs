//! The review API on the wire (`POST /v1/review`): one request per reviewer action
//! (list the queue, take an item, decide it, put it back) and what each returns. Workers
//! appear only by their per-project pseudonym. New fields are optional with defaults.

use serde::{Deserialize, Serialize};

use crate::model::{AnswerValue, Project};

pub const REVIEW_PATH: &str = "/v1/review";

/// What a reviewer did with an item, by name on the wire (`verdict`) and in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictKind {
    /// One of the workers' answers is the final answer.
    Pick,
    /// The reviewer wrote the final answer.
    Edit,
    /// A flag or contest holds: the verdict's value is the final answer (a contest's
    /// gold is corrected to it).
    Uphold,
    /// The flag or contest does not hold: the answer stays as it was, no value.
    Reject,
}

impl VerdictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Pick => "pick",
            VerdictKind::Edit => "edit",
            VerdictKind::Uphold => "uphold",
            VerdictKind::Reject => "reject",
        }
    }

    pub fn parse(text: &str) -> Option<VerdictKind> {
        [
            VerdictKind::Pick,
            VerdictKind::Edit,
            VerdictKind::Uphold,
            VerdictKind::Reject,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// What a reviewer asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ReviewRequest {
    /// Open items, oldest first, of the reviewer's projects.
    Queue {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        project: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// This item (`item`), or the oldest free one of the filter; held for the reviewer.
    Take {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        project: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The verdict on an item the reviewer holds: `pick`, `edit`, `uphold`, `reject`.
    Decide {
        item: i64,
        verdict: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<AnswerValue>,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        note: String,
    },
    /// Put an item back undecided.
    Release { item: i64 },
}

/// One line of the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueEntry {
    pub item: i64,
    pub reason: String,
    pub project: String,
    /// The task's id in its import.
    pub task: String,
    /// Seconds since it was queued (server clock).
    pub age: i64,
    /// Another reviewer holds it now.
    #[serde(default)]
    pub busy: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// One worker's answer, as the reviewer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseAnswer {
    /// Stable per project, never the worker's name.
    pub worker: String,
    pub value: AnswerValue,
    /// Server time of the answer.
    pub at: i64,
    /// Seconds from lease to answer, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub took: Option<i64>,
    /// Right answers of scored ones (gold and reviewed) in this project; 0 of 0 until
    /// the worker has any.
    #[serde(default)]
    pub scored_correct: u64,
    #[serde(default)]
    pub scored_total: u64,
}

/// An item with everything needed to decide it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewCase {
    pub item: i64,
    pub reason: String,
    /// The project's schema: labels, form, transcribe rules.
    pub project: Project,
    pub task: String,
    pub text: String,
    /// The disputed fields of a field dispute.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Who flagged or contested, and what they wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raised_by: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    pub answers: Vec<CaseAnswer>,
    /// The aggregate (compact form) and how it was reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// Server time the hold ends.
    pub held_until: i64,
    /// The task's audio (transcribe tasks), fetched like a lease's (`clip_path`).
    /// Absent for tasks without audio and from servers before review had audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip: Option<super::ClipRef>,
}

/// What the server answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ReviewResponse {
    Queue {
        items: Vec<QueueEntry>,
    },
    /// `None`: nothing free for this reviewer.
    Take {
        case: Option<Box<ReviewCase>>,
    },
    Decide {
        item: i64,
        feedback_given: u64,
    },
    Release {
        item: i64,
    },
}

impl ReviewRequest {
    /// The note within `MAX_REVIEW_NOTE_CHARS`, checked before any store work.
    pub fn check_limits(&self) -> Result<(), String> {
        match self {
            ReviewRequest::Decide { note, .. }
                if note.chars().count() > super::MAX_REVIEW_NOTE_CHARS =>
            {
                Err(format!(
                    "a review note is at most {} characters",
                    super::MAX_REVIEW_NOTE_CHARS
                ))
            }
            _ => Ok(()),
        }
    }
}

//! The review queue as the store keeps it: one row per reason to look at a task (a
//! dispute, a field dispute, a spot check, a worker's flag or gold contest), leased to
//! one reviewer at a time, and once decided the verdict with its audit (who, when,
//! what, why). Only types live here; each backend stores them, the scheduler's
//! `review` module holds the rules.

use crate::model::AnswerValue;
use crate::server::store::StoreError;

/// Why a task is in the review queue. The names are stored and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReviewReason {
    /// The task's aggregate fell under the project's agreement or confidence threshold.
    Dispute,
    /// An entry task whose answers disagree on some fields (`fields` names them).
    FieldDispute,
    /// An accepted task sampled for a check.
    SpotCheck,
    /// A worker flagged the task (`note` says why).
    Flag,
    /// A worker contests the gold answer of a task they were scored on.
    Contest,
}

impl ReviewReason {
    pub const ALL: [ReviewReason; 5] = [
        ReviewReason::Dispute,
        ReviewReason::FieldDispute,
        ReviewReason::SpotCheck,
        ReviewReason::Flag,
        ReviewReason::Contest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewReason::Dispute => "dispute",
            ReviewReason::FieldDispute => "field_dispute",
            ReviewReason::SpotCheck => "spot_check",
            ReviewReason::Flag => "flag",
            ReviewReason::Contest => "contest",
        }
    }

    pub fn parse(text: &str) -> Option<ReviewReason> {
        ReviewReason::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl std::fmt::Display for ReviewReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An item to put in the queue. A task has at most one item per reason and worker, ever:
/// enqueueing it again (the background aggregator decides a task many times) is a no-op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReviewItem {
    pub reason: ReviewReason,
    /// The store's task id.
    pub task: i64,
    /// The disputed fields of a `FieldDispute`, by path; empty otherwise.
    pub fields: Vec<String>,
    /// The user who flagged or contested (user id).
    pub worker: Option<i64>,
    /// What that worker wrote (untrusted: shown sanitised).
    pub note: Option<String>,
}

pub use crate::protocol::VerdictKind;

/// A decided item's verdict and its audit: who decided, when, what and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub kind: VerdictKind,
    /// The final answer (normal form); `None` for `Reject`.
    pub value: Option<AnswerValue>,
    /// The reviewer (user id).
    pub by: i64,
    /// Server time, unix seconds.
    pub at: i64,
    /// Why (untrusted: shown sanitised); may be empty.
    pub note: String,
}

/// Whether an item still waits for a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewState {
    Open,
    Decided,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Open => "open",
            ReviewState::Decided => "decided",
        }
    }

    pub fn parse(text: &str) -> Option<ReviewState> {
        match text {
            "open" => Some(ReviewState::Open),
            "decided" => Some(ReviewState::Decided),
            _ => None,
        }
    }
}

/// A reviewer's hold on an open item: nobody else is given it until `expires`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewLease {
    pub holder: i64,
    pub expires: i64,
}

/// One item of the queue as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItem {
    pub id: i64,
    pub reason: ReviewReason,
    pub project: String,
    /// The store's task id and the task's id in its import.
    pub task: i64,
    pub task_ext: String,
    pub fields: Vec<String>,
    pub worker: Option<i64>,
    pub note: Option<String>,
    /// Server time it was queued, unix seconds.
    pub created: i64,
    /// The last lease given, live or expired.
    pub lease: Option<ReviewLease>,
    pub state: ReviewState,
    pub verdict: Option<Verdict>,
}

/// Which items a listing or a take looks at; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewFilter {
    pub project: Option<String>,
    pub reason: Option<ReviewReason>,
    pub state: Option<ReviewState>,
    /// Only items of projects this user is assigned to review.
    pub assigned_to: Option<i64>,
    /// Most items listed (oldest first); `None` for every one.
    pub limit: Option<usize>,
}

/// The stored form of a field list: a JSON array, or NULL when there is none. Built as a
/// `Value`, whose printing cannot fail.
pub(super) fn fields_json(fields: &[String]) -> Option<String> {
    (!fields.is_empty()).then(|| serde_json::Value::from(fields.to_vec()).to_string())
}

/// A stored item's columns as both backends read them, turned into a `ReviewItem` in one
/// place. A value that does not parse back is refused, never replaced by a default.
pub(super) struct ItemColumns {
    pub id: i64,
    pub reason: String,
    pub project: String,
    pub task: i64,
    pub task_ext: String,
    /// JSON list of field paths.
    pub fields: Option<String>,
    pub worker: Option<i64>,
    pub note: Option<String>,
    pub created: i64,
    pub holder: Option<i64>,
    pub expires: Option<i64>,
    pub state: String,
    pub kind: Option<String>,
    /// JSON `AnswerValue`.
    pub verdict: Option<String>,
    pub by: Option<i64>,
    pub at: Option<i64>,
    pub why: Option<String>,
}

fn bad(what: &'static str, found: &str) -> StoreError {
    StoreError::Corrupt {
        what,
        source: format!("unknown value '{found}'").into(),
    }
}

impl ItemColumns {
    pub(super) fn parse(self) -> Result<ReviewItem, StoreError> {
        let corrupt = |what: &'static str| {
            move |e: serde_json::Error| StoreError::Corrupt {
                what,
                source: Box::new(e),
            }
        };
        let reason =
            ReviewReason::parse(&self.reason).ok_or_else(|| bad("review reason", &self.reason))?;
        let state =
            ReviewState::parse(&self.state).ok_or_else(|| bad("review state", &self.state))?;
        let fields = match &self.fields {
            Some(json) => serde_json::from_str(json).map_err(corrupt("review fields"))?,
            None => Vec::new(),
        };
        let lease = match (self.holder, self.expires) {
            (Some(holder), Some(expires)) => Some(ReviewLease { holder, expires }),
            _ => None,
        };
        let verdict = match (self.kind.as_deref(), self.by, self.at) {
            (Some(kind), Some(by), Some(at)) => Some(Verdict {
                kind: VerdictKind::parse(kind).ok_or_else(|| bad("verdict", kind))?,
                value: self
                    .verdict
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(corrupt("verdict answer"))?,
                by,
                at,
                note: self.why.unwrap_or_default(),
            }),
            _ => None,
        };
        Ok(ReviewItem {
            id: self.id,
            reason,
            project: self.project,
            task: self.task,
            task_ext: self.task_ext,
            fields,
            worker: self.worker,
            note: self.note,
            created: self.created,
            lease,
            state,
            verdict,
        })
    }
}

/// A task as a reviewer needs it: its text and its aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskUnderReview {
    pub project_id: i64,
    pub text: String,
    /// Compact form (an entry task's: its field decision as JSON).
    pub decided: Option<String>,
    pub agreement: Option<f64>,
    pub confidence: Option<f64>,
    /// The task's audio (transcribe tasks).
    pub clip: Option<crate::protocol::ClipRef>,
}

/// One counted answer to a task under review, with when its lease was granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerUnderReview {
    pub answer_id: i64,
    pub user_id: i64,
    pub value: AnswerValue,
    pub at: i64,
    pub granted: Option<i64>,
}

/// A verdict as an export shows it: the final answer and who decided, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewOutcome {
    pub kind: VerdictKind,
    pub value: AnswerValue,
    /// The reviewer (user id) and the project, for the pseudonym.
    pub by: i64,
    pub note: String,
}

/// The verdicts of a project's tasks, by task: the latest with a final answer wins.
/// Built from rows `(task, kind, value JSON, by, note)` oldest first.
pub(super) fn outcomes(
    rows: Vec<(i64, String, String, i64, Option<String>)>,
) -> Result<std::collections::HashMap<i64, ReviewOutcome>, StoreError> {
    let mut out = std::collections::HashMap::new();
    for (task, kind, value, by, note) in rows {
        let kind = VerdictKind::parse(&kind).ok_or_else(|| bad("verdict", &kind))?;
        let value = serde_json::from_str(&value).map_err(|e| StoreError::Corrupt {
            what: "verdict answer",
            source: Box::new(e),
        })?;
        out.insert(
            task,
            ReviewOutcome {
                kind,
                value,
                by,
                note: note.unwrap_or_default(),
            },
        );
    }
    Ok(out)
}

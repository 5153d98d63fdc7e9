//! The wire protocol shared by client and server: request and response types, the
//! endpoints, body compression and protocol versions. One sync is one HTTP request
//! (DESIGN.md). Each side ignores fields it does not know, so a client and a server one
//! version apart keep working; sizes and counts stay strictly limited.

mod class;
mod codec;
mod feedback;
mod limits;
mod progress;
mod review;
mod training;
mod version;

pub use class::{
    CLASS_PATH, ClassAnswer, ClassMarker, ClassReport, ClassRequest, ClassResponse, ClassRow,
    ClassState, ClassView, JOIN_ALPHABET, JOIN_CODE_LEN, MAX_CLASS_ANSWERS, MAX_VIEW_WAIT,
    ReportStep, ReportStudent, ScoredAnswer, normalize_join_code,
};
pub use codec::{CodecError, Encoding, decode, encode, try_encode};
pub use feedback::{
    Accuracy, Confusion, FeedbackItem, FeedbackKind, FlagReason, MAX_CONFUSIONS, RECENT_GOLD,
    Report, ReportKind,
};
pub use limits::{
    MAX_ANSWERS_PER_SYNC, MAX_BODY_BYTES, MAX_DECODED_BYTES, MAX_FEEDBACK_PER_REPLY,
    MAX_KINDS_ENTRIES, MAX_KNOWN_ENTRIES, MAX_LABELS_PER_ANSWER, MAX_LOGIN_BODY_BYTES,
    MAX_LOGIN_DECODED_BYTES, MAX_QUEUE_ENTRIES, MAX_REPLY_TEXT_BYTES, MAX_REPORT_NOTE_CHARS,
    MAX_REPORTS_PER_SYNC, MAX_REVIEW_NOTE_CHARS, MAX_VERSION_LEN, MAX_WANT_ENTRIES,
    MAX_WANT_PER_SYNC, RequestLimit,
};
pub use limits::{
    MAX_EXAM_ANSWERS, MAX_EXAM_ENTRIES, MAX_EXAM_SUBMISSIONS, MAX_LESSON_SET_BYTES, MAX_LESSONS,
};
pub use progress::{
    Held, MAX_PROGRESS_PROJECTS, MAX_PROGRESS_QUALIFICATIONS, PROGRESS_DAYS, PROGRESS_WEEKS,
    Period, Progress, ProjectProgress,
};
pub use review::{
    CaseAnswer, QueueEntry, REVIEW_PATH, ReviewCase, ReviewRequest, ReviewResponse, VerdictKind,
};
pub use training::{
    ExamAnswer, ExamAttempt, ExamMiss, ExamResult, ExamState, ExamSubmission, ExamTask, LessonSet,
    LessonTask, lesson_bytes,
};
pub use version::{PROTOCOL_HEADER, PROTOCOL_VERSION, VersionError, request_version, served};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::model::ClipRef;
use crate::model::{AnswerValue, Project, Role};

pub const LOGIN_PATH: &str = "/v1/login";
pub const SYNC_PATH: &str = "/v1/sync";
pub const HEALTH_PATH: &str = "/healthz";

/// What the client shows when the server no longer accepts its token (revoked by an
/// admin, or never known).
/// A disabled user's device (HTTP 423): nothing is lost, and it works again once enabled.
pub const ACCOUNT_PAUSED: &str =
    "paused by the centre's admin: answers are kept and sent once you are enabled";
pub const SIGNED_OUT: &str = "this device was signed out \u{2014} ask your admin for a new code";

/// `POST /v1/login`: exchange a one-time enrolment code for a device token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub user: String,
    pub code: String,
    /// A name for the device, shown to admins.
    #[serde(default)]
    pub device: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub user: String,
    pub role: Role,
    /// Server time, unix seconds.
    pub now: i64,
}

/// `POST /v1/sync`: everything a client has to say, in one request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// Answers not yet acknowledged, oldest first.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "limits::bounded_answers"
    )]
    pub answers: Vec<AnswerUpload>,
    /// Tasks the worker skipped: their leases go back to the pool.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "limits::bounded_released"
    )]
    pub released: Vec<i64>,
    /// How many new tasks the client wants, per project.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "limits::bounded_want"
    )]
    pub want: Vec<Want>,
    /// Project schemas the client holds, name -> version. The server sends those missing
    /// or changed.
    #[serde(default)]
    pub known: BTreeMap<String, String>,
    /// The `reply` number of the last reply this device applied (0: none yet). Leases in
    /// later replies never arrived (the link dropped the reply): the server sends them
    /// again. Absent: the client keeps no such count, and nothing is sent again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<u64>,
    /// Task kinds this client can show (`"entry"`, ...); classify always. Absent: a
    /// client from before data entry, which is never sent projects of other kinds (it
    /// could not read their schemas, and its whole sync would fail on them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// The highest feedback item number this device stored (0: none yet). The reply
    /// carries the items after it. Absent: a client from before feedback, sent none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback_seen: Option<u64>,
    /// Contests and flags not yet acknowledged, oldest first.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "limits::bounded_reports"
    )]
    pub reports: Vec<Report>,
    /// Lesson sets the client holds, project -> version; the server sends those of its
    /// known projects that are missing or changed. Absent: a client without training,
    /// which is sent none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lessons: Option<BTreeMap<String, String>>,
    /// Projects whose exam standing the client asks for (it is not qualified there, or
    /// sends an attempt); the server draws an attempt when one is due.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "limits::bounded_exams"
    )]
    pub exams: Vec<String>,
    /// Exam attempts answered whole, graded by the server on arrival.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "limits::bounded_exam_answers"
    )]
    pub exam_answers: Vec<ExamSubmission>,
    /// Ask how many tasks wait on the server for this worker in each project the
    /// client knows (the project picker shows them). Absent: not asked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub counts: bool,
    /// Asks for the worker's progress summary in the reply (at most hourly, or when the
    /// progress view is opened). A server before progress ignores it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub progress: bool,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One answer as the client sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerUpload {
    /// Client-generated id, unique per device (a sequence number): the idempotency key.
    pub id: u64,
    pub task: i64,
    pub value: AnswerValue,
    /// Seconds between the answer and this request, by the client's clock. The server
    /// dates the answer by its own clock minus this, never trusting the client's date.
    #[serde(default)]
    pub ago: u32,
    /// An earlier answer of this device that this one corrects (after undo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Want {
    pub project: String,
    pub count: u32,
}

/// The reply to a sync.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// Server time, unix seconds: the only clock clients rely on.
    pub now: i64,
    /// Answers this worker gave since the start of the server's day (UTC).
    pub done_today: u32,
    /// One acknowledgement per uploaded answer, in the same order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acks: Vec<Ack>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leases: Vec<Lease>,
    /// Schemas the client lacks or holds in an old version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<Project>,
    /// Projects the client knows that are gone or closed to this user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    /// This device's number for a reply carrying leases (rising); the client sends the
    /// last one it applied as `seen`. 0 when the reply carries none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reply: u64,
    /// Feedback items after the request's `feedback_seen`, oldest first (at most
    /// `MAX_FEEDBACK_PER_REPLY`; the rest follow next sync).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feedback: Vec<FeedbackItem>,
    /// The worker's accuracy in each project the feedback items concern.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accuracy: Vec<Accuracy>,
    /// Reports (by the device's id) now in the review queue.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reports_done: Vec<u64>,
    /// Lesson sets the client lacks or holds in an old version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lessons: Vec<LessonSet>,
    /// The worker's exam standing in each project the request asked about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exams: Vec<ExamState>,
    /// Tasks waiting on the server for this worker (not answered by them nor held),
    /// per project, when the request asked (`counts`); each at most `MAX_WAITING_COUNT`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waiting: Vec<Waiting>,
    /// The worker's progress, when the request asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
}

/// How many tasks of a project wait on the server for the worker who asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub project: String,
    pub tasks: u32,
}

/// The server counts waiting tasks up to this many per project (a count walks the open
/// tasks; beyond this the picker says "1000+").
pub const MAX_WAITING_COUNT: u32 = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub id: u64,
    #[serde(flatten)]
    pub status: AckStatus,
}

/// What became of one uploaded answer. Statuses are per item, never all-or-nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "s", content = "why", rename_all = "snake_case")]
pub enum AckStatus {
    /// Stored now.
    Ok,
    /// Stored before with the same content: nothing changed.
    Dup,
    /// The id was used before with different content; the first one stands.
    Conflict(String),
    /// The answer is invalid (unknown task, bad labels, ...); it will never be stored.
    Rejected(String),
}

impl AckStatus {
    pub fn is_stored(&self) -> bool {
        matches!(self, AckStatus::Ok | AckStatus::Dup)
    }
}

/// A task leased to this worker until `expires` (server time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub task: i64,
    pub project: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    pub expires: i64,
    /// The task's audio (transcribe tasks): fetched from `clip_path(hash)` with Range
    /// requests. Absent for tasks without audio and from servers before audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip: Option<ClipRef>,
}

/// `GET` a clip's wire bytes; `Range: bytes=N-` resumes a cut download.
pub const CLIPS_PATH: &str = "/v1/clips/";

pub fn clip_path(hash: &str) -> String {
    format!("{CLIPS_PATH}{hash}")
}

/// Every error response carries this JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_status_wire_form_is_compact() {
        let ok = Ack {
            id: 7,
            status: AckStatus::Ok,
        };
        assert_eq!(serde_json::to_string(&ok).unwrap(), r#"{"id":7,"s":"ok"}"#);
        let bad = Ack {
            id: 8,
            status: AckStatus::Rejected("unknown label".into()),
        };
        let json = serde_json::to_string(&bad).unwrap();
        assert_eq!(json, r#"{"id":8,"s":"rejected","why":"unknown label"}"#);
        assert_eq!(serde_json::from_str::<Ack>(&json).unwrap(), bad);
    }

    #[test]
    fn empty_sync_request_is_tiny() {
        let json = serde_json::to_string(&SyncRequest::default()).unwrap();
        assert_eq!(json, r#"{"known":{}}"#);
    }

    #[test]
    fn unknown_fields_are_ignored_at_every_level() {
        // A client one version ahead may send fields this build does not know.
        let json = r#"{"known":{},"future":1,
            "answers":[{"id":1,"task":2,"value":{"labels":["a"]},"confidence":0.5}],
            "want":[{"project":"p","count":3,"priority":"high"}]}"#;
        let req = serde_json::from_str::<SyncRequest>(json).unwrap();
        assert_eq!(req.answers[0].task, 2);
        assert_eq!(req.want[0].count, 3);
        let login = r#"{"user":"u","code":"c","device":"d","otp":"123"}"#;
        assert_eq!(
            serde_json::from_str::<LoginRequest>(login).unwrap().user,
            "u"
        );
    }

    #[test]
    fn answer_round_trips() {
        let a = AnswerUpload {
            id: 3,
            task: 42,
            value: AnswerValue::Labels(vec!["food".into()]),
            ago: 5,
            replaces: Some(2),
        };
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<AnswerUpload>(&json).unwrap(), a);
    }
}

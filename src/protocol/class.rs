//! Class sessions on the wire (`POST /v1/class`): a trainer opens a class on a project's
//! lessons and gets a join code, steps through them, reveals, ends, and watches one row
//! per student; a student joins by code and then sends presence and answers on a short
//! interval, hearing back the trainer's step. One request per action. Every field past the
//! first version is optional with a default, so a client and a server one version apart
//! keep working; names of students appear only in the trainer's view and report.

use serde::{Deserialize, Serialize};

use super::training::LessonSet;
use crate::model::AnswerValue;

pub const CLASS_PATH: &str = "/v1/class";

/// Letters and digits that cannot be mistaken for one another when read aloud or off a
/// projector (no 0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V).
pub const JOIN_ALPHABET: &[u8] = b"34679ACDEFGHJKMNPQRTWXY";
/// Characters in a join code.
pub const JOIN_CODE_LEN: usize = 6;
/// Answers one presence message may carry (a student who was offline sends the rest next).
pub const MAX_CLASS_ANSWERS: usize = 64;
/// The longest a trainer's `View` may wait for a change, seconds.
pub const MAX_VIEW_WAIT: u32 = 25;

/// A join code as typed: spaces and dashes dropped, letters upper-cased. `None` when it
/// cannot be a code (wrong length or a character outside `JOIN_ALPHABET`).
pub fn normalize_join_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let ok = code.len() == JOIN_CODE_LEN && code.bytes().all(|b| JOIN_ALPHABET.contains(&b));
    ok.then_some(code)
}

/// What a trainer or a student asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ClassRequest {
    /// Trainer or admin: open a class on `project`'s lesson set, at step 0, not revealed.
    Start { project: String },
    /// Trainer: the class moves to lesson `step` (0-based), its answer shown or not.
    Step {
        code: String,
        step: u32,
        #[serde(default)]
        revealed: bool,
    },
    /// Trainer: close the class; students' clients stop their presence.
    End { code: String },
    /// Trainer: the class view if it changed after version `since` (0: always). With
    /// `wait`, the server holds the request up to that many seconds (at most
    /// `MAX_VIEW_WAIT`) for a change: a long poll.
    View {
        code: String,
        #[serde(default)]
        since: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        wait: Option<u32>,
    },
    /// Trainer: the classes this trainer has open (an admin: everyone's).
    Open,
    /// Trainer or admin: the after-class report.
    Report { code: String },
    /// Student: join the class with this code.
    Join { code: String },
    /// Student (joined): "I am here, at `step`", with answers not yet acknowledged,
    /// oldest first. Sent every few seconds while the class is open.
    Presence {
        code: String,
        #[serde(default)]
        step: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        answers: Vec<ClassAnswer>,
    },
}

/// One answer of a student to a step. The server scores it against the lesson's gold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassAnswer {
    /// Unique per student and class (a sequence number from 1): sending it again is a
    /// no-op.
    pub id: u64,
    pub step: u32,
    pub value: AnswerValue,
    /// Seconds the student took, from the step appearing to the answer (client clock).
    #[serde(default)]
    pub took: u32,
    /// Seconds between the answer and this request (client clock); the server dates it
    /// by its own clock minus this.
    #[serde(default)]
    pub ago: u32,
}

/// Where a class stands: what every participant's screen follows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClassState {
    pub code: String,
    pub project: String,
    /// The version of the lesson set the class runs on.
    #[serde(default)]
    pub lessons: String,
    /// Steps in the lesson set.
    #[serde(default)]
    pub steps: u32,
    /// The trainer's current step (0-based).
    #[serde(default)]
    pub step: u32,
    /// The trainer revealed the current step's expected answer and explanation.
    #[serde(default)]
    pub revealed: bool,
    /// Server time the class ended; None while open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<i64>,
    /// Server time it started.
    #[serde(default)]
    pub started: i64,
}

/// Why a student's row is marked for the trainer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassMarker {
    /// The current step has been up a while and this student has not answered it.
    Stuck,
    /// The student's last answers were wrong, one after another.
    Wrong,
    /// No presence for a while (offline, or left).
    Away,
    /// A marker of a newer server, shown as a plain mark.
    #[serde(other)]
    Other,
}

/// One student in the trainer's class view.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassRow {
    /// The student's user name (trainer's view only). Untrusted: shown sanitised.
    pub name: String,
    /// The furthest step the student answered or was present at.
    #[serde(default)]
    pub step: u32,
    /// Steps answered, and those whose first answer was right.
    #[serde(default)]
    pub answered: u32,
    #[serde(default)]
    pub correct: u32,
    /// Server time of the last presence or answer.
    #[serde(default)]
    pub last_seen: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<ClassMarker>,
}

/// The trainer's class view. `version` rises with every change to a row or the state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassView {
    pub state: ClassState,
    pub version: u64,
    /// Server time of this view (for "seen 12 s ago").
    pub now: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub students: Vec<ClassRow>,
}

/// A student's own answer as the server scored it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoredAnswer {
    pub id: u64,
    pub step: u32,
    pub correct: bool,
    /// Why the answer cannot be stored (a step the class does not have): the client
    /// drops it and says so. It is not counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// One student's answers to one step, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportStep {
    pub step: u32,
    /// Answers given, in order (compact form: labels joined by `+`, fields as k=v).
    pub answers: Vec<String>,
    /// The first answer was right.
    pub correct: bool,
    /// Seconds taken by the first answer.
    #[serde(default)]
    pub took: u32,
}

/// One student in the after-class report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportStudent {
    pub name: String,
    pub steps: Vec<ReportStep>,
    /// Right first answers of steps answered (0.0..=1.0); None before any answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    /// Mean seconds of first answers; None before any answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_took: Option<f64>,
    /// Server time the student qualified in the project (passed its exam), if they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualified: Option<i64>,
}

/// The after-class report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassReport {
    pub state: ClassState,
    #[serde(default)]
    pub students: Vec<ReportStudent>,
}

/// What the server answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ClassResponse {
    /// The new class, and the lessons it runs on (the trainer's screen shows them).
    Start {
        state: ClassState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lessons: Option<LessonSet>,
    },
    Step {
        state: ClassState,
    },
    End {
        state: ClassState,
    },
    /// None: nothing changed after `since` (within the wait).
    View {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        view: Option<ClassView>,
    },
    Open {
        #[serde(default)]
        classes: Vec<ClassState>,
    },
    Report {
        report: ClassReport,
    },
    /// Joined (again: joining twice is harmless): the state and the lessons.
    Join {
        state: ClassState,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lessons: Option<LessonSet>,
    },
    /// The trainer's step now, and the student's answers stored (by id), as scored.
    Presence {
        state: ClassState,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        stored: Vec<ScoredAnswer>,
    },
}

impl ClassRequest {
    /// Sizes checked before any store work.
    pub fn check_limits(&self) -> Result<(), String> {
        match self {
            ClassRequest::Presence { answers, .. } if answers.len() > MAX_CLASS_ANSWERS => Err(
                format!("a presence message carries at most {MAX_CLASS_ANSWERS} answers"),
            ),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_codes_are_read_forgivingly_and_checked() {
        assert_eq!(normalize_join_code("kx7-m3p").as_deref(), Some("KX7M3P"));
        assert_eq!(normalize_join_code(" kx7 m4p ").as_deref(), Some("KX7M4P"));
        assert_eq!(normalize_join_code("KX7M4"), None);
        // O and 0 are not in the alphabet: a misread code is refused, not guessed.
        assert_eq!(normalize_join_code("KX7M4O"), None);
    }

    #[test]
    fn unknown_markers_and_fields_are_tolerated() {
        let json = r#"{"name":"amina","step":2,"marker":"asleep","mood":"fine"}"#;
        let row: ClassRow = serde_json::from_str(json).unwrap();
        assert_eq!(row.marker, Some(ClassMarker::Other));
        assert_eq!(row.answered, 0);
        let req = r#"{"op":"presence","code":"KX7M4P","future":1}"#;
        let req: ClassRequest = serde_json::from_str(req).unwrap();
        assert_eq!(
            req,
            ClassRequest::Presence {
                code: "KX7M4P".into(),
                step: 0,
                answers: vec![]
            }
        );
    }
}

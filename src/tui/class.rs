//! What the class screens (the trainer's presentation and class view, the student's
//! in-class screen) ask the runtime, and what they hear back. The executors carry these
//! out over `POST /v1/class` (`client::class`): the screens never see the network.
//! A student's answers are kept on this computer until the server has them, and sent
//! with the presence messages of an open class; the trainer's class view follows the
//! server (a long poll), and a `ClassEvent::View` comes only when a row changed.

use crate::model::AnswerValue;
use crate::protocol::{ClassReport, ClassResponse, ClassState, ClassView, LessonSet, ScoredAnswer};

/// What a class screen asks the runtime to do.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassEffect {
    /// Trainer: open a class on the project's lessons; replied to with `Started`.
    Start { project: String },
    /// Trainer: move the class to `step`, the answer revealed or not; replied to with
    /// `State`.
    Step {
        code: String,
        step: u32,
        revealed: bool,
    },
    /// Trainer: close the class (and stop watching it); replied to with `State`.
    End { code: String },
    /// Trainer: follow the class view from now on; each change comes as `View`.
    Watch { code: String },
    /// Trainer: stop following the class view (the screen went away).
    Unwatch,
    /// Trainer: the classes left open (to pick one up again); replied to with `Open`.
    Open,
    /// Trainer: the after-class report; replied to with `Report`.
    Report { code: String },
    /// Student: join with a typed code (read forgivingly: `kx7 m4p` is `KX7M4P`);
    /// replied to with `Joined`, then `State` whenever the trainer moves on.
    Join { code: String },
    /// Student: the step now on the student's screen (sent with the next presence).
    At { step: u32 },
    /// Student: an answer to `step`, `took` seconds after the step appeared. Kept on this
    /// computer at once, sent with the next presence; replied to with `Scored` once the
    /// server has it.
    Answer {
        step: u32,
        value: AnswerValue,
        took: u32,
    },
    /// Student: leave the class (presence stops; answers not yet sent are still sent).
    Leave,
}

/// What the runtime tells a class screen.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassEvent {
    /// Trainer: the class is open; read its join code aloud. The lessons it runs on.
    Started {
        state: ClassState,
        lessons: Option<LessonSet>,
    },
    /// Student: in the class. The lessons it runs on (the same the trainer shows).
    Joined {
        state: ClassState,
        lessons: Option<LessonSet>,
    },
    /// The class's state changed: the trainer's step, revealed, ended.
    State(ClassState),
    /// Trainer: the class view changed (only then: the screen redraws on it).
    View(ClassView),
    /// Trainer: classes open.
    Open(Vec<ClassState>),
    Report(ClassReport),
    /// Student: answers the server stored, as it scored them.
    Scored(Vec<ScoredAnswer>),
    /// Student: the link to the class is down; `unsent` answers are kept here and go
    /// when it returns. Followed by `State` once it is back.
    Offline {
        unsent: u32,
    },
    /// A refusal or failure, for the message line ("no class with code KX7M4P").
    Failed(String),
}

impl ClassEvent {
    /// What the screens hear of the server's reply, if anything (a view unchanged and a
    /// presence acknowledgement say nothing to them).
    pub fn of_reply(reply: ClassResponse) -> Option<ClassEvent> {
        Some(match reply {
            ClassResponse::Start { state, lessons } => ClassEvent::Started { state, lessons },
            ClassResponse::Join { state, lessons } => ClassEvent::Joined { state, lessons },
            ClassResponse::Step { state } | ClassResponse::End { state } => {
                ClassEvent::State(state)
            }
            ClassResponse::Open { classes } => ClassEvent::Open(classes),
            ClassResponse::Report { report } => ClassEvent::Report(report),
            ClassResponse::View { view: Some(view) } => ClassEvent::View(view),
            ClassResponse::View { view: None } | ClassResponse::Presence { .. } => return None,
        })
    }
}

//! A checked project: its kind, labels or form or transcript rules, overlap, lease and
//! gold settings. This is also the schema sent to clients. Reading and checking the TOML
//! an admin writes is in `project_file`.

use serde::{Deserialize, Serialize};

use super::form::Form;
use super::review_policy::ReviewPolicy;
use super::training::ExamRule;
use super::transcript::TranscribeRules;

/// The kinds of task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Classify,
    /// Data entry: a source document beside a typed form (`Project::form`).
    Entry,
    /// Transcription: an audio clip and a text area, with the project's
    /// `Project::transcribe` rules.
    Transcribe,
}

impl TaskKind {
    pub const ALL: [TaskKind; 3] = [TaskKind::Classify, TaskKind::Entry, TaskKind::Transcribe];

    /// The name in project files and on the wire.
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::Classify => "classify",
            TaskKind::Entry => "entry",
            TaskKind::Transcribe => "transcribe",
        }
    }
}

/// How a project's complete tasks are decided: `aggregate = "mv" | "wmv" | "ds"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum AggregateMethod {
    /// Majority vote.
    #[default]
    #[serde(rename = "mv")]
    Majority,
    /// Vote weighted by each worker's accuracy on gold tasks.
    #[serde(rename = "wmv")]
    Weighted,
    /// Dawid-Skene: per-worker confusion matrices, anchored by gold.
    #[serde(rename = "ds")]
    DawidSkene,
    /// Transcripts: the one closest to all others by word error rate. Chosen by the
    /// kind (transcribe projects), never written in a project file.
    #[serde(rename = "medoid")]
    Medoid,
}

impl AggregateMethod {
    /// The short name used in project files, exports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateMethod::Majority => "mv",
            AggregateMethod::Weighted => "wmv",
            AggregateMethod::DawidSkene => "ds",
            AggregateMethod::Medoid => "medoid",
        }
    }

    pub fn parse(s: &str) -> Option<AggregateMethod> {
        match s {
            "mv" => Some(AggregateMethod::Majority),
            "wmv" => Some(AggregateMethod::Weighted),
            "ds" => Some(AggregateMethod::DawidSkene),
            _ => None,
        }
    }

    pub(super) fn is_majority(&self) -> bool {
        *self == AggregateMethod::Majority
    }
}

/// One label of a classify project: the key is what the worker presses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub id: String,
    pub name: String,
    pub key: char,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
}

/// A checked project. This is also the schema sent to clients (as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub name: String,
    pub title: String,
    pub kind: TaskKind,
    #[serde(default)]
    pub instructions: String,
    pub labels: Vec<Label>,
    #[serde(default)]
    pub multi_label: bool,
    /// The form of an entry project; None for other kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Form>,
    /// The transcript rules of a transcribe project; None for other kinds. Boxed: most
    /// projects have none, and a `Project` is passed around by value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcribe: Option<Box<TranscribeRules>>,
    /// Answers wanted per task.
    pub overlap: u32,
    /// How long a lease lasts, in seconds of server time.
    pub lease_secs: u64,
    /// Left out of the schema when it is the default, so projects that never chose keep
    /// their schema version.
    #[serde(default, skip_serializing_if = "AggregateMethod::is_majority")]
    pub aggregate: AggregateMethod,
    /// Most live leases one worker may hold in this project, so one greedy device cannot
    /// take the whole queue. Schemas stored before the cap existed get the default.
    #[serde(default = "default_lease_cap")]
    pub lease_cap: u32,
    /// When a decided task goes to review. Left out of the schema when it is the
    /// default, so projects that never chose keep their schema version.
    #[serde(default, skip_serializing_if = "ReviewPolicy::is_default")]
    pub review: ReviewPolicy,
    /// Share of a worker's production leases that are gold (control) tasks, 0.0..=0.5.
    /// 0 (the default): gold answers only anchor aggregation and their tasks are leased
    /// like any other. Left out of the schema at 0 so old schemas keep their version.
    #[serde(default, skip_serializing_if = "is_zero_rate")]
    pub gold_rate: f64,
    /// How the project's exam is taken and passed; None: the project has no exam.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exam: Option<ExamRule>,
    /// Production leases go only to workers who passed the exam (the server refuses the
    /// others). Left out when false so older schemas keep their version.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requires_qualification: bool,
    /// What a worker earns per counted task, when the project sets it (`[rate]`).
    /// Boxed: most projects have none, and a `Project` is passed around by value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Box<super::Rate>>,
}

fn is_zero_rate(rate: &f64) -> bool {
    *rate == 0.0
}

/// Highest `gold_rate`: more control than production would be a test, not work.
pub const MAX_GOLD_RATE: f64 = 0.5;

/// Tasks a client keeps cached by default (`prefetch` in its profile).
pub const DEFAULT_PREFETCH: u32 = 50;
/// Default `lease_cap`: four default prefetches, so a device whose centre doubled its
/// prefetch for long offline stretches (plus the client's top-up margin) still fills its
/// cache, yet one worker never holds more than a few mornings' work.
pub const DEFAULT_LEASE_CAP: u32 = 4 * DEFAULT_PREFETCH;

fn default_lease_cap() -> u32 {
    DEFAULT_LEASE_CAP
}

/// Whether `name` can name a project: 1-64 ASCII letters, digits, '-' or '_'.
pub fn is_project_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Project {
    pub fn label(&self, id: &str) -> Option<&Label> {
        self.labels.iter().find(|l| l.id == id)
    }

    pub fn label_by_key(&self, key: char) -> Option<&Label> {
        self.labels.iter().find(|l| l.key == key)
    }

    /// A short content hash: the schema version clients compare to know when to refresh.
    pub fn version(&self) -> String {
        use sha2::{Digest, Sha256};
        let json = serde_json::to_vec(self).unwrap_or_default();
        let digest = Sha256::digest(&json);
        digest[..6].iter().map(|b| format!("{b:02x}")).collect()
    }
}

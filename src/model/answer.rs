//! Answers and their validation against a project's schema.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::form::{FieldIssue, FormValues};
use super::transcript::{Transcript, TranscriptIssue};
use super::{Project, TaskKind};

/// What a worker answered. Serialised externally tagged, e.g. `{"labels":["food"]}`,
/// `{"form":{"fields":{"vendor":"Naivas"}}}` or `{"transcript":{"text":"habari"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum AnswerValue {
    /// Label ids for a classify task: exactly one unless the project is multi-label.
    Labels(Vec<String>),
    /// The values of an entry task's form, as typed.
    Form(FormValues),
    /// A transcribe task's transcript, as typed.
    Transcript(Transcript),
}

impl AnswerValue {
    /// The labels of a classify answer; a form answer has none.
    pub fn labels(&self) -> Option<&[String]> {
        match self {
            AnswerValue::Labels(labels) => Some(labels),
            AnswerValue::Form(_) | AnswerValue::Transcript(_) => None,
        }
    }

    /// The text of a transcript answer; other answers have none.
    pub fn transcript(&self) -> Option<&str> {
        match self {
            AnswerValue::Transcript(t) => Some(&t.text),
            AnswerValue::Labels(_) | AnswerValue::Form(_) => None,
        }
    }

    /// The value in a stable, compact text form (for export and comparisons): labels
    /// joined by `|`; a form as JSON with its keys in order and no `|` (written
    /// `\u007c`, the same JSON), so it can stand where label lists are `|`-joined; a
    /// transcript as its text with `|` and `\` escaped (`\|`, `\\`) and line breaks as `\n`.
    pub fn to_compact(&self) -> String {
        match self {
            AnswerValue::Labels(labels) => labels.join("|"),
            AnswerValue::Form(values) => form_compact(values),
            AnswerValue::Transcript(t) => t
                .text
                .replace('\\', "\\\\")
                .replace('|', "\\|")
                .replace('\n', "\\n"),
        }
    }
}

/// JSON of form values, built as a `Value` (whose printing cannot fail).
fn form_compact(values: &FormValues) -> String {
    use serde_json::{Map, Value};
    let strings = |m: &std::collections::BTreeMap<String, String>| {
        Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    };
    let mut out = Map::new();
    if !values.fields.is_empty() {
        out.insert("fields".into(), strings(&values.fields));
    }
    if !values.groups.is_empty() {
        let groups = values
            .groups
            .iter()
            .map(|(id, rows)| (id.clone(), Value::Array(rows.iter().map(strings).collect())))
            .collect();
        out.insert("groups".into(), Value::Object(groups));
    }
    Value::Object(out).to_string().replace('|', "\\u007c")
}

/// Why an answer does not fit its project. The text is shown to the worker as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("no label chosen: pick at least one")]
    Empty,
    #[error("this project takes one label, got {0}")]
    TooMany(usize),
    #[error("unknown label '{0}' for this project")]
    UnknownLabel(String),
    #[error("label '{0}' given twice")]
    Repeated(String),
    #[error("{0}")]
    Field(FieldIssue),
    #[error("{0}")]
    Transcript(TranscriptIssue),
    #[error("this answer is a {given}, but the project takes a {wanted}")]
    WrongKind {
        given: &'static str,
        wanted: &'static str,
    },
}

fn kind_word(value: &AnswerValue) -> &'static str {
    match value {
        AnswerValue::Labels(_) => "label choice",
        AnswerValue::Form(_) => "filled-in form",
        AnswerValue::Transcript(_) => "transcript",
    }
}

impl Project {
    /// Check an answer against this project's schema.
    pub fn validate(&self, value: &AnswerValue) -> Result<(), AnswerError> {
        match (self.kind, value) {
            (TaskKind::Classify, AnswerValue::Labels(labels)) => {
                if labels.is_empty() {
                    return Err(AnswerError::Empty);
                }
                if !self.multi_label && labels.len() > 1 {
                    return Err(AnswerError::TooMany(labels.len()));
                }
                for (i, id) in labels.iter().enumerate() {
                    if self.label(id).is_none() {
                        return Err(AnswerError::UnknownLabel(
                            crate::model::sanitize_line(id).into_owned(),
                        ));
                    }
                    if labels[..i].contains(id) {
                        return Err(AnswerError::Repeated(id.clone()));
                    }
                }
                Ok(())
            }
            (TaskKind::Entry, AnswerValue::Form(values)) => match &self.form {
                Some(form) => form.validate(values).map_err(AnswerError::Field),
                None => Err(AnswerError::WrongKind {
                    given: kind_word(value),
                    wanted: "form it does not have",
                }),
            },
            (TaskKind::Transcribe, AnswerValue::Transcript(t)) => match &self.transcribe {
                Some(rules) => rules
                    .check(&t.normal().text)
                    .map_err(AnswerError::Transcript),
                None => Err(AnswerError::WrongKind {
                    given: kind_word(value),
                    wanted: "transcript it has no rules for",
                }),
            },
            (TaskKind::Classify, _) => Err(AnswerError::WrongKind {
                given: kind_word(value),
                wanted: "label choice",
            }),
            (TaskKind::Entry, _) => Err(AnswerError::WrongKind {
                given: kind_word(value),
                wanted: "filled-in form",
            }),
            (TaskKind::Transcribe, _) => Err(AnswerError::WrongKind {
                given: kind_word(value),
                wanted: "transcript",
            }),
        }
    }

    /// The answer in its normal form, so equal answers compare and vote as one: labels
    /// in this project's label order, each once; a transcript without its draft cursor
    /// or trailing white space. Labels the project does not know (an
    /// answer stored before a label was removed) follow in the order given.
    pub fn normalise(&self, value: &AnswerValue) -> AnswerValue {
        match value {
            AnswerValue::Labels(given) => {
                let mut labels: Vec<String> = self
                    .labels
                    .iter()
                    .filter(|l| given.contains(&l.id))
                    .map(|l| l.id.clone())
                    .collect();
                for id in given {
                    if self.label(id).is_none() && !labels.contains(id) {
                        labels.push(id.clone());
                    }
                }
                AnswerValue::Labels(labels)
            }
            AnswerValue::Form(values) => match &self.form {
                Some(form) => AnswerValue::Form(form.normalise(values)),
                None => value.clone(),
            },
            AnswerValue::Transcript(t) => AnswerValue::Transcript(t.normal()),
        }
    }
}

/// What a user may do. Every server endpoint checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Worker,
    Trainer,
    Reviewer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Worker, Role::Trainer, Role::Reviewer, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Worker => "worker",
            Role::Trainer => "trainer",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the role answers tasks. Reviewers adjudicate other people's answers, so
    /// they do not answer production tasks themselves.
    pub fn takes_tasks(self) -> bool {
        !matches!(self, Role::Reviewer)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(ids: &[&str]) -> AnswerValue {
        AnswerValue::Labels(ids.iter().map(|s| s.to_string()).collect())
    }

    fn multi() -> Project {
        Project::from_toml(
            "m.toml",
            "name = \"m\"\ntitle = \"M\"\nkind = \"classify\"\nmulti_label = true\n\
             overlap = 2\nlease = \"1h\"\n\
             [[labels]]\nid = \"a\"\nname = \"A\"\nkey = \"1\"\n\
             [[labels]]\nid = \"b\"\nname = \"B\"\nkey = \"2\"\n\
             [[labels]]\nid = \"c\"\nname = \"C\"\nkey = \"3\"\n",
        )
        .expect("test project parses")
    }

    #[test]
    fn normal_form_follows_the_project_label_order() {
        let p = multi();
        assert_eq!(p.normalise(&labels(&["c", "a"])), labels(&["a", "c"]));
        assert_eq!(
            p.normalise(&labels(&["b", "a"])),
            p.normalise(&labels(&["a", "b"]))
        );
        assert_eq!(p.normalise(&labels(&["b", "b", "a"])), labels(&["a", "b"]));
    }

    #[test]
    fn normal_form_keeps_labels_the_project_no_longer_has() {
        let p = multi();
        assert_eq!(
            p.normalise(&labels(&["old", "b", "old"])),
            labels(&["b", "old"])
        );
    }
}

//! Interchange with the annotation tools teams already use: Label Studio's JSON task list
//! and Prodigy's JSONL, read into Kazi tasks (with the answers given there) and written
//! from Kazi's tasks and answers. README.md gives the mapping field by field.

pub(super) mod label_studio;
pub(super) mod prodigy;

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::task_check::label_list;
use crate::model::{Project, sanitize_line};
use crate::server::store::{AnswerRecord, PriorAnswer};

/// A task read from another tool's file, its labels already mapped to the project's label
/// ids. The import checks it like a task of any other format.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SourceTask {
    /// Line of the file where the task starts.
    pub line: u64,
    pub id: String,
    pub text: String,
    pub suggestion: Option<String>,
    pub gold: Option<Vec<String>>,
    pub prior: Vec<PriorAnswer>,
}

/// What a file held that Kazi does not keep, reported once per file rather than dropped
/// in silence: fields by their path, and answers not kept by the reason.
#[derive(Debug, Default)]
pub(super) struct Leftovers {
    fields: BTreeMap<String, u64>,
    answers: BTreeMap<&'static str, u64>,
    unknown_options: BTreeMap<String, u64>,
    several_predictions: u64,
}

impl Leftovers {
    pub fn field(&mut self, path: String) {
        *self.fields.entry(path).or_default() += 1;
    }

    pub fn answer_not_kept(&mut self, why: &'static str) {
        *self.answers.entry(why).or_default() += 1;
    }

    /// A choice the other tool offered that is no label of the project.
    pub fn unknown_option(&mut self, id: &str) {
        *self.unknown_options.entry(id.to_string()).or_default() += 1;
    }

    pub fn several_predictions(&mut self) {
        self.several_predictions += 1;
    }

    /// One line per kind of leftover, for the admin.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if !self.fields.is_empty() {
            let fields = self
                .fields
                .iter()
                .map(|(path, n)| format!("{} ({n}x)", sanitize_line(path)))
                .collect::<Vec<_>>()
                .join(", ");
            notes.push(format!("fields Kazi does not use, not imported: {fields}"));
        }
        if !self.answers.is_empty() {
            let answers = self
                .answers
                .iter()
                .map(|(why, n)| format!("{n} {why}"))
                .collect::<Vec<_>>()
                .join(", ");
            notes.push(format!("answers not kept: {answers}"));
        }
        if !self.unknown_options.is_empty() {
            let options = self
                .unknown_options
                .iter()
                .map(|(id, n)| format!("'{}' ({n}x)", sanitize_line(id)))
                .collect::<Vec<_>>()
                .join(", ");
            notes.push(format!(
                "options that are no label of the project: {options}"
            ));
        }
        if self.several_predictions > 0 {
            let n = self.several_predictions;
            let tasks = if n == 1 { "task" } else { "tasks" };
            notes.push(format!(
                "{n} {tasks} had several predictions: the one with the highest score \
                 became the suggestion"
            ));
        }
        notes
    }
}

/// The project's label id for a label as another tool wrote it: its id, else its name.
pub(super) fn label_id(project: &Project, given: &str, what: &str) -> Result<String, String> {
    if let Some(label) = project.label(given) {
        return Ok(label.id.clone());
    }
    if let Some(label) = project.labels.iter().find(|l| l.name == given) {
        return Ok(label.id.clone());
    }
    // Prodigy's labels are often upper case (`DELIVERY`): one match ignoring case will do.
    let mut loose = project.labels.iter().filter(|l| {
        l.id.eq_ignore_ascii_case(given.trim()) || l.name.eq_ignore_ascii_case(given.trim())
    });
    if let (Some(label), None) = (loose.next(), loose.next()) {
        return Ok(label.id.clone());
    }
    Err(format!(
        "unknown label '{}' in {what}; labels are: {}",
        sanitize_line(given),
        label_list(project)
    ))
}

/// Why a file of a task kind Kazi does not have yet is refused. Transcription adds its
/// controls to the readers' matches and this message grows with it.
pub(super) fn unsupported(tool: &str, control: &str) -> String {
    format!(
        "{tool} {control} cannot be imported yet: Kazi has classify projects today \
         (single or multiple choice over a text)"
    )
}

/// A JSON id (text or a whole number) as text.
pub(super) fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// A stable signed 32-bit hash of some text, as Prodigy's `_input_hash` and `_task_hash`
/// are.
pub(super) fn hash32(parts: &[&str]) -> i32 {
    let mut digest = Sha256::new();
    for part in parts {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    let bytes = digest.finalize();
    i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// A hex digest of a text, for ids of tasks that came without one.
pub(super) fn text_digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A JSON error without serde's own "at line L column C", which would count from the
/// start of the task rather than the file; the caller names the line.
pub(super) fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Labels as the export writes them: one id as a string, several as a list (the shape of
/// `gold` in Kazi's own JSONL).
pub(super) fn labels_json(labels: &[String], multi_label: bool) -> Value {
    match labels {
        [one] if !multi_label => Value::String(one.clone()),
        many => Value::from(many.to_vec()),
    }
}

/// Labels read back from `labels_json` (or a hand-written file): a string or a list of
/// strings, each mapped to the project's label ids.
pub(super) fn labels_of_json(
    project: &Project,
    value: &Value,
    what: &str,
) -> Result<Vec<String>, String> {
    let bad = || format!("{what} must be a label or a list of labels");
    match value {
        Value::String(s) => Ok(vec![label_id(project, s, what)?]),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => label_id(project, s, what),
                _ => Err(bad()),
            })
            .collect(),
        _ => Err(bad()),
    }
}

/// Counted answers of a task (corrections replaced them), as the tools' exports carry
/// them.
pub(super) fn counted(answers: &[AnswerRecord]) -> impl Iterator<Item = &AnswerRecord> {
    answers.iter().filter(|a| !a.superseded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_stable_and_signed_32_bit() {
        assert_eq!(hash32(&["a", "b"]), hash32(&["a", "b"]));
        assert_ne!(hash32(&["a", "b"]), hash32(&["ab"]), "parts are separated");
        assert_eq!(text_digest("x").len(), 12);
    }

    #[test]
    fn json_errors_lose_their_relative_position() {
        let e = serde_json::from_str::<Value>("{\"a\": }").unwrap_err();
        assert_eq!(json_error(&e), "expected value");
    }
}

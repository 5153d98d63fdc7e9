//! Prodigy's JSONL: one annotation per line (`text`, `options` and `accept` for choice,
//! `label` for binary classification, `answer`, the hashes, `meta`), lines of one input
//! grouped into one Kazi task with an answer per annotator; written back the same way.

use std::collections::HashMap;
use std::io::Write;

use serde_json::{Map, Value, json};

use super::label_studio::LineError;
use super::{Leftovers, SourceTask, counted, hash32, id_text, json_error, label_id, labels_json};
use super::{labels_of_json, text_digest, unsupported};
use crate::model::{AnswerValue, Project, sanitize_line};
use crate::server::store::{AnswerRecord, PriorAnswer, TaskRecord};

/// Fields that make a Prodigy task one Kazi cannot take yet (transcripts, audio, video).
const MEDIA_FIELDS: [&str; 3] = ["audio", "video", "transcript"];
/// Prodigy views of those tasks.
const MEDIA_VIEWS: [&str; 3] = ["audio", "audio_manual", "text_input"];
/// Who answered when a line does not say.
const NO_ANNOTATOR: &str = "prodigy";

/// One input's lines so far.
struct Group {
    task: SourceTask,
    /// Labels accepted per annotator, in the order annotators appear.
    answers: Vec<(String, Vec<String>, i64)>,
}

/// Every task of a Prodigy JSONL file, lines of the same input as one task.
pub(in crate::server::admin) fn read(
    text: &str,
    project: &Project,
    now: i64,
    left: &mut Leftovers,
) -> Result<Vec<SourceTask>, LineError> {
    let mut groups: Vec<Group> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index as u64 + 1;
        let raw = raw.trim_start_matches('\u{feff}').trim();
        if raw.is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(raw)
            .map_err(|e| (line, format!("not valid JSON: {}", json_error(&e))))?;
        let parsed = parse_line(value, project, now, left).map_err(|m| (line, m))?;
        let slot = match by_id.get(&parsed.id) {
            Some(&slot) => slot,
            None => {
                by_id.insert(parsed.id.clone(), groups.len());
                groups.push(Group {
                    task: SourceTask {
                        line,
                        id: parsed.id.clone(),
                        text: parsed.text.clone(),
                        suggestion: None,
                        gold: None,
                        prior: Vec::new(),
                    },
                    answers: Vec::new(),
                });
                groups.len() - 1
            }
        };
        merge(&mut groups[slot], parsed).map_err(|m| (line, m))?;
    }
    Ok(groups
        .into_iter()
        .map(|g| {
            let mut task = g.task;
            task.prior = g
                .answers
                .into_iter()
                .map(|(annotator, labels, at)| PriorAnswer {
                    annotator,
                    value: AnswerValue::Labels(labels),
                    at,
                })
                .collect();
            task
        })
        .collect())
}

/// What one line says about its input.
struct Line {
    id: String,
    text: String,
    gold: Option<Vec<String>>,
    suggestion: Option<String>,
    /// Who accepted which labels; None when the line is not an accepted answer.
    answer: Option<(String, Vec<String>, i64)>,
}

fn parse_line(
    value: Value,
    project: &Project,
    now: i64,
    left: &mut Leftovers,
) -> Result<Line, String> {
    let Value::Object(mut task) = value else {
        return Err("each line must be a JSON object".into());
    };
    if let Some(field) = MEDIA_FIELDS.iter().find(|f| task.contains_key(**f)) {
        return Err(unsupported(
            "Prodigy",
            &format!("transcripts and audio ('{field}')"),
        ));
    }
    let view = match task.remove("_view_id") {
        Some(Value::String(view)) => view,
        _ => String::new(),
    };
    if MEDIA_VIEWS.contains(&view.as_str()) {
        return Err(unsupported(
            "Prodigy",
            &format!("view '{}'", sanitize_line(&view)),
        ));
    }
    let text = match task.remove("text") {
        Some(Value::String(text)) => text,
        Some(_) => return Err("text must be text".into()),
        None => return Err("the line has no text".into()),
    };
    let mut meta = match task.remove("meta") {
        Some(Value::Object(meta)) => meta,
        None | Some(Value::Null) => Map::new(),
        Some(_) => return Err("meta must be an object".into()),
    };
    let input_hash = task.remove("_input_hash");
    let id = match (meta.remove("id"), &input_hash) {
        (Some(v), _) => id_text(&v).ok_or("meta.id must be text or a whole number")?,
        (None, Some(v)) => id_text(v).ok_or("_input_hash must be a whole number")?,
        // An input stream of bare texts: the same text gets the same id on every import.
        (None, None) => format!("text-{}", text_digest(&text)),
    };
    let gold = match meta.remove("gold") {
        Some(Value::Null) | None => None,
        Some(v) => Some(labels_of_json(project, &v, "meta.gold")?),
    };
    let mut suggestion = match meta.remove("suggestion") {
        Some(Value::Null) | None => None,
        Some(Value::String(s)) => Some(label_id(project, &s, "meta.suggestion")?),
        Some(_) => return Err("meta.suggestion must be a label".into()),
    };
    for key in meta.keys() {
        if !matches!(key.as_str(), "final" | "agreement") {
            left.field(format!("meta.{key}"));
        }
    }

    let options = options(task.remove("options"), project, left)?;
    let mut labels: Vec<String> = Vec::new();
    match task.remove("accept") {
        None | Some(Value::Null) => {}
        Some(Value::Array(ids)) => {
            for id in ids {
                let id = id_text(&id).ok_or("accept must list option ids")?;
                // An option's id names a Kazi label, or else its text does.
                let label = label_id(project, &id, "accept").or_else(|e| {
                    match options.iter().find(|(oid, _)| *oid == id) {
                        Some((_, text)) => label_id(project, text, "accept").map_err(|_| e),
                        None => Err(e),
                    }
                })?;
                if !labels.contains(&label) {
                    labels.push(label);
                }
            }
        }
        Some(_) => return Err("accept must be a list of option ids".into()),
    }
    match task.remove("label") {
        None | Some(Value::Null) => {}
        Some(Value::String(label)) => {
            let label = label_id(project, &label, "label")?;
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
        Some(_) => return Err("label must be text".into()),
    }
    let named: Vec<String> = ["_annotator_id", "_session_id"]
        .into_iter()
        .filter_map(|key| match task.remove(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            _ => None,
        })
        .collect();
    let annotator = named
        .into_iter()
        .next()
        .unwrap_or_else(|| NO_ANNOTATOR.to_string());
    let at = match task.remove("_timestamp") {
        None | Some(Value::Null) => now,
        Some(Value::Number(n)) => n.as_i64().ok_or("_timestamp must be whole seconds")?,
        Some(_) => return Err("_timestamp must be unix seconds".into()),
    };
    let answer = match task.remove("answer") {
        None | Some(Value::Null) => {
            // Not annotated yet: what is pre-selected is the model's suggestion.
            match labels.as_slice() {
                [] => {}
                [one] if suggestion.is_none() => suggestion = Some(one.clone()),
                [one] if suggestion.as_deref() == Some(one) => {}
                _ => return Err("a line without an answer pre-selects more than one label, or another than meta.suggestion: a Kazi suggestion is one label".into()),
            }
            None
        }
        Some(Value::String(answer)) => match answer.as_str() {
            "accept" if labels.is_empty() => {
                left.answer_not_kept("accepted with no option chosen");
                None
            }
            "accept" => Some((annotator, labels, at)),
            "reject" => {
                left.answer_not_kept("answered reject");
                None
            }
            "ignore" => {
                left.answer_not_kept("answered ignore");
                None
            }
            other => {
                return Err(format!(
                    "answer '{}' is not accept, reject or ignore",
                    sanitize_line(other)
                ));
            }
        },
        Some(_) => return Err("answer must be accept, reject or ignore".into()),
    };
    for key in ["_task_hash", "config"] {
        task.remove(key);
    }
    for key in task.keys() {
        left.field(key.clone());
    }
    Ok(Line {
        id,
        text,
        gold,
        suggestion,
        answer,
    })
}

/// Prodigy's `options`: each an `id` and the `text` shown. Options that name no label of
/// the project are reported: answers choosing them are refused, the rest stand.
fn options(
    value: Option<Value>,
    project: &Project,
    left: &mut Leftovers,
) -> Result<Vec<(String, String)>, String> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err("options must be a list".into()),
    };
    let mut options = Vec::with_capacity(items.len());
    for item in items {
        let Value::Object(mut option) = item else {
            return Err("each option must be a JSON object".into());
        };
        let id = option
            .remove("id")
            .as_ref()
            .and_then(id_text)
            .ok_or("each option needs an id (text or a whole number)")?;
        let text = match option.remove("text") {
            Some(Value::String(text)) => text,
            _ => String::new(),
        };
        if label_id(project, &id, "options").is_err()
            && label_id(project, &text, "options").is_err()
        {
            left.unknown_option(&id);
        }
        for key in option.keys() {
            left.field(format!("options[].{key}"));
        }
        options.push((id, text));
    }
    Ok(options)
}

/// One line into its input's task: the same text, one gold and suggestion, and each
/// annotator's accepted labels together (binary lines accept one label each).
fn merge(group: &mut Group, line: Line) -> Result<(), String> {
    let task = &mut group.task;
    if task.text != line.text {
        return Err(format!(
            "task '{}' has another text than on line {}",
            sanitize_line(&task.id),
            task.line
        ));
    }
    let (id, first) = (sanitize_line(&task.id).into_owned(), task.line);
    let clash = |what: &str| format!("task '{id}' has another {what} than on line {first}");
    if let Some(gold) = line.gold {
        match &task.gold {
            Some(known) if *known != gold => return Err(clash("meta.gold")),
            Some(_) => {}
            None => task.gold = Some(gold),
        }
    }
    if let Some(suggestion) = line.suggestion {
        match &task.suggestion {
            Some(known) if *known != suggestion => return Err(clash("suggestion")),
            Some(_) => {}
            None => task.suggestion = Some(suggestion),
        }
    }
    if let Some((annotator, labels, at)) = line.answer {
        match group
            .answers
            .iter_mut()
            .find(|(who, _, _)| *who == annotator)
        {
            Some((_, known, when)) => {
                for label in labels {
                    if !known.contains(&label) {
                        known.push(label);
                    }
                }
                *when = (*when).max(at);
            }
            None => group.answers.push((annotator, labels, at)),
        }
    }
    Ok(())
}

/// Writes one line per counted answer (a task without answers gets one line without an
/// `answer`), in the choice view, as Prodigy's `db-out` writes a dataset.
pub(in crate::server::admin) fn write_task(
    out: &mut dyn Write,
    project: &Project,
    task: &TaskRecord,
    worker: impl Fn(&AnswerRecord) -> String,
) -> std::io::Result<()> {
    let options: Vec<Value> = project
        .labels
        .iter()
        .map(|l| json!({"id": l.id, "text": l.name}))
        .collect();
    let style = if project.multi_label {
        "multiple"
    } else {
        "single"
    };
    let mut meta = Map::new();
    meta.insert("id".into(), Value::String(task.id.clone()));
    if let Some(gold) = &task.gold {
        meta.insert("gold".into(), labels_json(gold, project.multi_label));
    }
    if let Some(s) = &task.suggestion {
        meta.insert("suggestion".into(), Value::String(s.clone()));
    }
    if let Some(decided) = &task.decided {
        let labels: Vec<String> = decided.split('|').map(str::to_string).collect();
        meta.insert("final".into(), labels_json(&labels, project.multi_label));
    }
    if let Some(agreement) = task.agreement {
        meta.insert("agreement".into(), json!(super::super::rounded(agreement)));
    }
    let base = json!({
        "text": task.text,
        "options": options,
        "_input_hash": hash32(&["kazi", &project.name, &task.id]),
        "_task_hash": hash32(&["kazi", &project.name, &task.id, "choice"]),
        "_view_id": "choice",
        "config": {"choice_style": style},
        "meta": meta,
    });
    let mut lines = 0;
    for answer in counted(&task.answers) {
        let AnswerValue::Labels(labels) = &answer.value;
        let mut line = base.clone();
        if let Value::Object(fields) = &mut line {
            let name = worker(answer);
            fields.insert("accept".into(), json!(labels));
            fields.insert("answer".into(), json!("accept"));
            fields.insert(
                "_session_id".into(),
                json!(format!("{}-{name}", project.name)),
            );
            fields.insert("_annotator_id".into(), json!(name));
            fields.insert("_timestamp".into(), json!(answer.at));
        }
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
        lines += 1;
    }
    if lines == 0 {
        serde_json::to_writer(&mut *out, &base)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> Project {
        Project::from_toml(
            "t.toml",
            "name = \"p\"\ntitle = \"P\"\nkind = \"classify\"\nmulti_label = true\n\
             [[labels]]\nid = \"food\"\nname = \"Food\"\nkey = \"1\"\n\
             [[labels]]\nid = \"toys\"\nname = \"Toys\"\nkey = \"2\"\n",
        )
        .unwrap()
    }

    #[test]
    fn binary_lines_of_one_annotator_make_one_answer() {
        let text = "{\"text\": \"Toy rice cooker\", \"label\": \"food\", \"answer\": \"accept\", \"_input_hash\": 5, \"_annotator_id\": \"ann\", \"_timestamp\": 100}\n\
                    {\"text\": \"Toy rice cooker\", \"label\": \"Toys\", \"answer\": \"accept\", \"_input_hash\": 5, \"_annotator_id\": \"ann\", \"_timestamp\": 200}\n\
                    {\"text\": \"Toy rice cooker\", \"label\": \"toys\", \"answer\": \"reject\", \"_input_hash\": 5, \"_annotator_id\": \"bo\"}\n";
        let mut left = Leftovers::default();
        let tasks = read(text, &project(), 7, &mut left).unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].id, "5");
        assert_eq!(
            tasks[0].prior,
            [PriorAnswer {
                annotator: "ann".into(),
                value: AnswerValue::Labels(vec!["food".into(), "toys".into()]),
                at: 200,
            }]
        );
        assert_eq!(left.notes(), ["answers not kept: 1 answered reject"]);
    }

    #[test]
    fn options_that_are_no_label_are_reported() {
        let text = "{\"text\": \"Cat food\", \"options\": [{\"id\": \"food\", \"text\": \"Food\"}, {\"id\": 9, \"text\": \"Pets\", \"style\": {}}], \"accept\": [\"food\"], \"answer\": \"accept\"}\n";
        let mut left = Leftovers::default();
        let tasks = read(text, &project(), 7, &mut left).unwrap();
        assert_eq!(tasks[0].prior.len(), 1);
        assert_eq!(
            left.notes(),
            [
                "fields Kazi does not use, not imported: options[].style (1x)",
                "options that are no label of the project: '9' (1x)"
            ]
        );
        let chose_pets = text.replace("[\"food\"], \"answer", "[9], \"answer");
        let (line, e) = read(&chose_pets, &project(), 7, &mut left).unwrap_err();
        assert_eq!(line, 1);
        assert!(e.starts_with("unknown label '9' in accept"), "{e}");
    }

    #[test]
    fn another_text_under_one_id_is_refused_with_its_line() {
        let text = "{\"text\": \"a\", \"meta\": {\"id\": \"x\"}}\n\n{\"text\": \"b\", \"meta\": {\"id\": \"x\"}}\n";
        let (line, message) = read(text, &project(), 7, &mut Leftovers::default()).unwrap_err();
        assert_eq!(line, 3);
        assert_eq!(message, "task 'x' has another text than on line 1");
    }
}

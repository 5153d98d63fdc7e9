//! Label Studio's JSON task list: `data` (the text and an id), `predictions` (the model's
//! suggestion), `annotations` (earlier answers with their annotator; a ground-truth one
//! is the gold), read into Kazi tasks and written from them.

use std::io::Write;

use serde_json::{Map, Value, json};

use super::{Leftovers, SourceTask, counted, id_text, json_error, labels_json};
use super::{labels_of_json, unsupported};
use crate::model::{AnswerValue, Project, format_utc, parse_utc};
use crate::server::store::{PriorAnswer, TaskRecord};

/// The control names the export writes into every result, and a labeling config with the
/// same names reads them (`<Choices name="label" toName="text">`).
const FROM_NAME: &str = "label";
const TO_NAME: &str = "text";
/// Who a ground-truth annotation (Kazi's gold) is from in an export.
const GOLD_ANNOTATOR: &str = "gold";

/// A file position's error: the line and what is wrong there.
pub(in crate::server::admin) type LineError = (u64, String);

/// Every task of a Label Studio file (a JSON list of tasks, or one task).
pub(in crate::server::admin) fn read(
    text: &str,
    project: &Project,
    now: i64,
    left: &mut Leftovers,
) -> Result<Vec<SourceTask>, LineError> {
    let mut at = Cursor::new(text.trim_start_matches('\u{feff}'));
    let mut reader = TaskReader {
        project,
        now,
        control: None,
    };
    let mut tasks = Vec::new();
    at.skip_space();
    if at.rest().starts_with('{') {
        let line = at.line();
        let value = at.value()?;
        tasks.push(reader.task(value, line, left)?);
    } else if at.eat('[') {
        if !at.eat(']') {
            loop {
                let line = at.line();
                let value = at.value()?;
                tasks.push(reader.task(value, line, left)?);
                if at.eat(',') {
                    continue;
                }
                if at.eat(']') {
                    break;
                }
                return Err((at.line(), "expected ',' or ']' after a task".into()));
            }
        }
    } else {
        return Err((
            at.line(),
            "a Label Studio file is a JSON list of tasks: [{\"data\": {...}}, ...]".into(),
        ));
    }
    if !at.rest().is_empty() {
        return Err((at.line(), "text after the end of the task list".into()));
    }
    Ok(tasks)
}

/// A position in the file that only moves forward, with its line counted as it goes
/// (counting from the start for every task would be quadratic in the file's size).
struct Cursor<'t> {
    text: &'t str,
    pos: usize,
    counted_to: usize,
    line: u64,
}

impl<'t> Cursor<'t> {
    fn new(text: &'t str) -> Self {
        Cursor {
            text,
            pos: 0,
            counted_to: 0,
            line: 1,
        }
    }

    fn rest(&self) -> &'t str {
        &self.text[self.pos..]
    }

    fn line(&mut self) -> u64 {
        let newlines = self.text.as_bytes()[self.counted_to..self.pos]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line += newlines as u64;
        self.counted_to = self.pos;
        self.line
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// Step over `c` (and the space after it) if it comes next.
    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            self.skip_space();
            true
        } else {
            false
        }
    }

    /// The JSON value that starts here, and the space after it.
    fn value(&mut self) -> Result<Value, LineError> {
        let line = self.line();
        let mut stream = serde_json::Deserializer::from_str(self.rest()).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) => {
                self.pos += stream.byte_offset();
                self.skip_space();
                Ok(value)
            }
            Some(Err(e)) => Err((
                line + e.line().saturating_sub(1) as u64,
                format!("not valid JSON: {}", json_error(&e)),
            )),
            None => Err((line, "the task list is not closed".into())),
        }
    }
}

/// Reads tasks one by one, remembering the file's choice control.
struct TaskReader<'a> {
    project: &'a Project,
    now: i64,
    /// The `from_name` of the first choices result: a Kazi project has one label set.
    control: Option<String>,
}

/// One annotation as Kazi keeps it.
struct Annotation {
    annotator: String,
    labels: Vec<String>,
    at: i64,
    ground_truth: bool,
}

impl TaskReader<'_> {
    fn task(
        &mut self,
        value: Value,
        line: u64,
        left: &mut Leftovers,
    ) -> Result<SourceTask, LineError> {
        self.task_fields(value, line, left).map_err(|m| (line, m))
    }

    fn task_fields(
        &mut self,
        value: Value,
        line: u64,
        left: &mut Leftovers,
    ) -> Result<SourceTask, String> {
        let Value::Object(mut task) = value else {
            return Err("each task must be a JSON object".into());
        };
        // Without `data`, Label Studio takes the whole task as its data.
        let mut data = match task.remove("data") {
            Some(Value::Object(data)) => data,
            Some(_) => return Err("data must be an object".into()),
            None => std::mem::take(&mut task),
        };
        let task_id = task.remove("id");
        let id = match data.remove("id") {
            Some(v) => Some(id_text(&v).ok_or("data.id must be text or a whole number")?),
            None => None,
        };
        let id = match (id, task_id) {
            (Some(id), Some(_)) => {
                left.field("id".into());
                id
            }
            (Some(id), None) => id,
            (None, Some(v)) => id_text(&v).ok_or("id must be text or a whole number")?,
            (None, None) => {
                return Err("the task has no id: give data.id (or the task's id)".into());
            }
        };
        let text = match data.remove("text") {
            Some(Value::String(text)) => text,
            Some(_) => return Err("data.text must be text".into()),
            None => only_text_field(&mut data)?,
        };
        for key in data.keys() {
            left.field(format!("data.{key}"));
        }

        let mut prior: Vec<PriorAnswer> = Vec::new();
        let mut gold: Option<Vec<String>> = None;
        // `completions` is what Label Studio before 1.0 called annotations.
        for key in ["annotations", "completions"] {
            for annotation in list(task.remove(key), key)? {
                let Some(a) = self.annotation(annotation, left)? else {
                    continue;
                };
                if a.ground_truth {
                    if gold.as_ref().is_some_and(|g| *g != a.labels) {
                        return Err("two ground-truth annotations disagree".into());
                    }
                    gold = Some(a.labels);
                } else if prior.iter().any(|p| p.annotator == a.annotator) {
                    return Err(format!(
                        "annotator '{}' has two annotations on task '{}': Kazi keeps one \
                         answer per annotator",
                        crate::model::sanitize_line(&a.annotator),
                        crate::model::sanitize_line(&id)
                    ));
                } else {
                    prior.push(PriorAnswer {
                        annotator: a.annotator,
                        value: AnswerValue::Labels(a.labels),
                        at: a.at,
                    });
                }
            }
        }
        let suggestion = self.suggestion(list(task.remove("predictions"), "predictions")?, left)?;
        if let Some(meta) = task.remove("meta") {
            let Value::Object(meta) = meta else {
                return Err("meta must be an object".into());
            };
            for key in meta.keys() {
                // Kazi's own export: recomputed here from the answers.
                if !matches!(key.as_str(), "final" | "agreement") {
                    left.field(format!("meta.{key}"));
                }
            }
        }
        for key in task.keys() {
            left.field(key.clone());
        }
        Ok(SourceTask {
            line,
            id,
            text,
            suggestion,
            gold,
            prior,
        })
    }

    fn annotation(
        &mut self,
        value: Value,
        left: &mut Leftovers,
    ) -> Result<Option<Annotation>, String> {
        let Value::Object(mut a) = value else {
            return Err("each annotation must be a JSON object".into());
        };
        let cancelled = matches!(a.remove("was_cancelled"), Some(Value::Bool(true)));
        let ground_truth = matches!(a.remove("ground_truth"), Some(Value::Bool(true)));
        let labels = self.choices(a.remove("result"), "annotation", left)?;
        let annotator = annotator(&mut a);
        let at = match a.remove("created_at") {
            Some(Value::String(s)) => parse_utc(&s).ok_or_else(|| {
                format!(
                    "annotation created_at '{}' is not a time like 2026-11-23T07:04:13Z",
                    crate::model::sanitize_line(&s)
                )
            })?,
            Some(Value::Null) | None => self.now,
            Some(_) => return Err("annotation created_at must be a time in text".into()),
        };
        for key in a.keys() {
            left.field(format!("annotations[].{key}"));
        }
        if cancelled {
            left.answer_not_kept("cancelled (skipped) in Label Studio");
            return Ok(None);
        }
        if labels.is_empty() {
            left.answer_not_kept("with no choice made");
            return Ok(None);
        }
        Ok(Some(Annotation {
            annotator,
            labels,
            at,
            ground_truth,
        }))
    }

    /// The suggestion: the choice of the prediction with the highest score.
    fn suggestion(
        &mut self,
        predictions: Vec<Value>,
        left: &mut Leftovers,
    ) -> Result<Option<String>, String> {
        if predictions.len() > 1 {
            left.several_predictions();
        }
        let mut best: Option<(f64, Vec<String>)> = None;
        for prediction in predictions {
            let Value::Object(mut p) = prediction else {
                return Err("each prediction must be a JSON object".into());
            };
            let score = match p.remove("score") {
                Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
                Some(Value::Null) | None => 0.0,
                Some(_) => return Err("prediction score must be a number".into()),
            };
            let labels = self.choices(p.remove("result"), "prediction", left)?;
            p.remove("model_version");
            for key in p.keys() {
                left.field(format!("predictions[].{key}"));
            }
            if !labels.is_empty() && best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, labels));
            }
        }
        match best {
            None => Ok(None),
            Some((_, labels)) => match <[String; 1]>::try_from(labels) {
                Ok([one]) => Ok(Some(one)),
                Err(labels) => Err(format!(
                    "a prediction with {} choices: a Kazi suggestion is one label",
                    labels.len()
                )),
            },
        }
    }

    /// The labels chosen in a `result` list, mapped to the project's ids.
    fn choices(
        &mut self,
        result: Option<Value>,
        what: &str,
        left: &mut Leftovers,
    ) -> Result<Vec<String>, String> {
        let mut labels: Vec<String> = Vec::new();
        for region in list(result, "result")? {
            let Value::Object(mut region) = region else {
                return Err(format!("each {what} result must be a JSON object"));
            };
            let kind = match region.remove("type") {
                Some(Value::String(kind)) => kind,
                _ => return Err(format!("a {what} result has no type")),
            };
            // Transcription adds "textarea" (and audio's controls) here.
            match kind.as_str() {
                "choices" => {}
                "textarea" => return Err(unsupported("Label Studio", "text areas (textarea)")),
                other => {
                    return Err(unsupported(
                        "Label Studio",
                        &format!("control '{}'", crate::model::sanitize_line(other)),
                    ));
                }
            }
            let from = match region.remove("from_name") {
                Some(Value::String(name)) => name,
                _ => String::new(),
            };
            match &self.control {
                Some(first) if *first != from => {
                    return Err(format!(
                        "two choice controls ('{}' and '{}'): a Kazi project has one label \
                         set; import each into its own project",
                        crate::model::sanitize_line(first),
                        crate::model::sanitize_line(&from)
                    ));
                }
                Some(_) => {}
                None => self.control = Some(from),
            }
            let choices = match region.remove("value") {
                Some(Value::Object(mut value)) => value.remove("choices"),
                _ => None,
            };
            let choices = choices.ok_or_else(|| format!("a {what} result has no value.choices"))?;
            for label in labels_of_json(self.project, &choices, what)? {
                if !labels.contains(&label) {
                    labels.push(label);
                }
            }
            for key in ["to_name", "id", "origin"] {
                region.remove(key);
            }
            for key in region.keys() {
                left.field(format!("{what}s[].result[].{key}"));
            }
        }
        Ok(labels)
    }
}

/// A list field, absent meaning empty.
fn list(value: Option<Value>, what: &str) -> Result<Vec<Value>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(format!("{what} must be a list")),
    }
}

/// The text of a task whose data has no `text`: its one text field, if it has only one.
fn only_text_field(data: &mut Map<String, Value>) -> Result<String, String> {
    if data.contains_key("audio") {
        return Err(unsupported("Label Studio", "audio tasks (data.audio)"));
    }
    let texts: Vec<String> = data
        .iter()
        .filter(|(_, v)| v.is_string())
        .map(|(k, _)| k.clone())
        .collect();
    match texts.as_slice() {
        [only] => match data.remove(only) {
            Some(Value::String(text)) => Ok(text),
            _ => Err("data has no text".into()),
        },
        _ => Err(format!(
            "data has no text: Kazi reads data.text, or the task's only text field (found: {})",
            crate::model::sanitize_line(&data.keys().cloned().collect::<Vec<_>>().join(", "))
        )),
    }
}

/// Who gave an annotation: Label Studio's `created_username`, else `completed_by` (an
/// email, a name, or a user number).
fn annotator(a: &mut Map<String, Value>) -> String {
    let username = a.remove("created_username");
    let completed_by = a.remove("completed_by");
    if let Some(Value::String(name)) = username
        && !name.trim().is_empty()
    {
        return name.trim().to_string();
    }
    match completed_by {
        Some(Value::String(name)) if !name.trim().is_empty() => name.trim().to_string(),
        Some(Value::Number(n)) => format!("label-studio-user-{n}"),
        Some(Value::Object(user)) => match (user.get("email"), user.get("id")) {
            (Some(Value::String(email)), _) if !email.trim().is_empty() => email.trim().to_string(),
            (_, Some(Value::Number(n))) => format!("label-studio-user-{n}"),
            _ => "label-studio".into(),
        },
        _ => "label-studio".into(),
    }
}

fn choices_result(labels: &[String]) -> Value {
    json!([{
        "from_name": FROM_NAME,
        "to_name": TO_NAME,
        "type": "choices",
        "value": {"choices": labels},
    }])
}

/// Writes a JSON list of tasks, one task per line.
pub(in crate::server::admin) struct Writer {
    written: u64,
}

impl Writer {
    pub fn start(out: &mut dyn Write) -> std::io::Result<Writer> {
        out.write_all(b"[")?;
        Ok(Writer { written: 0 })
    }

    /// One task: its counted answers as annotations, gold as a ground-truth annotation,
    /// the suggestion as a prediction, Kazi's decision in `meta`.
    pub fn task(
        &mut self,
        out: &mut dyn Write,
        project: &Project,
        task: &TaskRecord,
        worker: impl Fn(&crate::server::store::AnswerRecord) -> String,
    ) -> std::io::Result<()> {
        let mut annotations: Vec<Value> = counted(&task.answers)
            .map(|a| {
                let AnswerValue::Labels(labels) = &a.value;
                json!({
                    "result": choices_result(labels),
                    "created_username": worker(a),
                    "created_at": format_utc(a.at),
                    "ground_truth": false,
                    "was_cancelled": false,
                })
            })
            .collect();
        if let Some(gold) = &task.gold {
            annotations.push(json!({
                "result": choices_result(gold),
                "created_username": GOLD_ANNOTATOR,
                "ground_truth": true,
                "was_cancelled": false,
            }));
        }
        let predictions: Vec<Value> = task
            .suggestion
            .iter()
            .map(|s| json!({"model_version": "suggestion", "result": choices_result(std::slice::from_ref(s))}))
            .collect();
        let decided = task.decided.as_deref().map(|d| {
            let labels: Vec<String> = d.split('|').map(str::to_string).collect();
            labels_json(&labels, project.multi_label)
        });
        let line = json!({
            "data": {"id": task.id, "text": task.text},
            "annotations": annotations,
            "predictions": predictions,
            "meta": {"final": decided, "agreement": task.agreement.map(super::super::rounded)},
        });
        out.write_all(if self.written == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *out, &line)?;
        self.written += 1;
        Ok(())
    }

    pub fn finish(self, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(b"\n]\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> Project {
        Project::from_toml(
            "t.toml",
            "name = \"p\"\ntitle = \"P\"\nkind = \"classify\"\n\
             [[labels]]\nid = \"food\"\nname = \"Food\"\nkey = \"1\"\n\
             [[labels]]\nid = \"toys\"\nname = \"Toys\"\nkey = \"2\"\n",
        )
        .unwrap()
    }

    fn read_str(text: &str) -> Result<Vec<SourceTask>, LineError> {
        read(text, &project(), 7, &mut Leftovers::default())
    }

    #[test]
    fn errors_name_the_line_of_the_file() {
        let text = "[\n{\"data\": {\"id\": 1, \"text\": \"a\"}},\n{\"data\": {\"id\": 2,\n \"text\": }}\n]";
        let (line, message) = read_str(text).unwrap_err();
        assert_eq!(line, 4, "{message}");
        assert!(message.starts_with("not valid JSON"), "{message}");
        let (line, message) =
            read_str("[{\"data\": {\"id\": 1, \"text\": \"a\"}} {}]").unwrap_err();
        assert_eq!(
            (line, message.as_str()),
            (1, "expected ',' or ']' after a task")
        );
        assert!(read_str("[]").unwrap().is_empty());
        assert_eq!(read_str("{\"text\": \"x\", \"id\": 3}").unwrap()[0].id, "3");
    }

    #[test]
    fn labels_by_id_or_name_and_the_best_prediction() {
        let text = r#"[{"data": {"id": "a", "text": "Rice"},
          "predictions": [
            {"score": 0.2, "result": [{"type": "choices", "from_name": "c", "value": {"choices": ["toys"]}}]},
            {"score": 0.9, "result": [{"type": "choices", "from_name": "c", "value": {"choices": ["Food"]}}]}]}]"#;
        let task = &read_str(text).unwrap()[0];
        assert_eq!(task.suggestion.as_deref(), Some("food"));
    }
}

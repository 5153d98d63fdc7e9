//! The rows of an import file: Kazi's JSONL and CSV records (a transcribe project's rows
//! name their audio), read and checked one at a time with their line number, and gold as
//! written in them or typed on the command line. The driver is `import`.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Deserialize;

use super::import::ImportError;
use super::task_check::check_task;
use crate::model::gold::{DEFAULT_MAX_WER_PERCENT, Gold, GoldAnswer};
use crate::model::{Project, TaskKind, sanitize_line};
use crate::server::store::NewTask;

/// Kazi's own file formats, streamed from the file.
#[derive(Clone, Copy)]
pub(super) enum Format {
    Jsonl,
    Csv,
}

/// One JSONL line of a transcribe project: the audio file (relative to the import
/// file), an optional note, machine draft and gold transcript.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AudioRow {
    id: String,
    audio: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    draft: Option<String>,
    #[serde(default)]
    gold: Option<String>,
    /// Why the gold transcript is right, shown to a worker who misses it.
    #[serde(default)]
    explanation: String,
    /// The word error rate the gold allows, in percent (default 10).
    #[serde(default)]
    max_wer_percent: Option<u32>,
}

/// One JSONL line as written by the admin.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonTask {
    id: String,
    text: String,
    #[serde(default)]
    suggestion: Option<String>,
    #[serde(default)]
    gold: Option<serde_json::Value>,
    /// Why the gold is right, shown to a worker who missed it.
    #[serde(default)]
    explanation: Option<String>,
}

#[derive(Debug)]
struct CsvColumns {
    id: usize,
    text: usize,
    suggestion: Option<usize>,
    gold: Option<usize>,
    explanation: Option<usize>,
}

enum Source {
    Jsonl {
        reader: BufReader<File>,
        buf: String,
        line: u64,
        bytes: u64,
    },
    Csv {
        reader: csv::Reader<BufReader<File>>,
        columns: CsvColumns,
        record: csv::StringRecord,
    },
}

/// Reads and checks one record at a time, with its line number.
pub(super) struct TaskReader<'a> {
    source: Source,
    /// The import file's folder: audio paths are relative to it.
    dir: std::path::PathBuf,
    path: &'a str,
    project: &'a Project,
}

impl<'a> TaskReader<'a> {
    pub(super) fn open(
        file: &Path,
        format: Format,
        path: &'a str,
        project: &'a Project,
    ) -> Result<Self, ImportError> {
        let read_err = |e: std::io::Error| ImportError::Read {
            path: path.to_string(),
            message: e.to_string(),
        };
        let reader = BufReader::new(File::open(file).map_err(read_err)?);
        let source = match format {
            Format::Jsonl => Source::Jsonl {
                reader,
                buf: String::new(),
                line: 0,
                bytes: 0,
            },
            Format::Csv => {
                let scan = BufReader::new(File::open(file).map_err(read_err)?);
                if let Some(line) = super::csv_scan::unclosed_quote(scan).map_err(read_err)? {
                    return Err(ImportError::Line {
                        path: path.to_string(),
                        line,
                        message: "a quote opens here and never closes; close it \
                                  (write \"\" for a quote inside a field)"
                            .into(),
                    });
                }
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .from_reader(reader);
                let line_err = |message: String| ImportError::Line {
                    path: path.to_string(),
                    line: 1,
                    message,
                };
                let headers = reader
                    .headers()
                    .map_err(|e| line_err(format!("cannot read the header row: {e}")))?
                    .clone();
                let columns = csv_columns(&headers).map_err(line_err)?;
                Source::Csv {
                    reader,
                    columns,
                    record: csv::StringRecord::new(),
                }
            }
        };
        Ok(TaskReader {
            source,
            dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
            path,
            project,
        })
    }

    pub(super) fn bytes_read(&self) -> u64 {
        match &self.source {
            Source::Jsonl { bytes, .. } => *bytes,
            Source::Csv { reader, .. } => reader.position().byte(),
        }
    }

    fn error(&self, line: u64, message: String) -> ImportError {
        ImportError::Line {
            path: self.path.to_string(),
            line,
            message,
        }
    }

    pub(super) fn next_task(&mut self) -> Option<Result<(u64, NewTask), ImportError>> {
        let (line, raw) = match &mut self.source {
            Source::Jsonl {
                reader,
                buf,
                line,
                bytes,
            } => loop {
                buf.clear();
                *line += 1;
                let n = match reader.read_line(buf) {
                    Ok(0) => return None,
                    Ok(n) => n,
                    Err(e) => {
                        let line = *line;
                        return Some(Err(self.error(line, format!("cannot read this line: {e}"))));
                    }
                };
                *bytes += n as u64;
                let text = buf.trim_start_matches('\u{feff}').trim();
                if text.is_empty() {
                    continue; // blank lines separate nothing and hold nothing
                }
                let line = *line;
                if self.project.kind == crate::model::TaskKind::Transcribe {
                    let row = audio_row(self.project, &self.dir, text);
                    return Some(row.map(|t| (line, t)).map_err(|m| self.error(line, m)));
                }
                break match serde_json::from_str::<JsonTask>(text) {
                    Ok(t) => match gold_of_json(self.project, t.gold)
                        .and_then(|g| with_explanation(g, t.explanation))
                    {
                        Ok(gold) => (line, (t.id, t.text, t.suggestion, gold)),
                        Err(message) => return Some(Err(self.error(line, message))),
                    },
                    Err(e) => {
                        return Some(Err(self.error(line, format!("not a valid task: {e}"))));
                    }
                };
            },
            Source::Csv {
                reader,
                columns,
                record,
            } => match reader.read_record(record) {
                Ok(false) => return None,
                Ok(true) => {
                    let line = record.position().map(|p| p.line()).unwrap_or(0);
                    // A line break inside a quoted field is the text's own: Windows
                    // writes it as CRLF, which would show to workers as a stray symbol.
                    let cell = |i: usize| record.get(i).unwrap_or("").replace("\r\n", "\n");
                    let optional = |i: Option<usize>| {
                        i.map(|i| record.get(i).unwrap_or("").trim().to_string())
                            .filter(|s| !s.is_empty())
                    };
                    let gold = match optional(columns.gold) {
                        // An entry task's gold cell holds the same JSON object as JSONL, and
                        // so does a classify cell accepting several answers ({"any": ...}).
                        Some(g) if self.project.form.is_some() || g.starts_with('{') => {
                            match serde_json::from_str(&g) {
                                Ok(value) => gold_of_json(self.project, Some(value)),
                                Err(e) => Err(format!("gold is not a JSON object: {e}")),
                            }
                        }
                        other => Ok(other.map(|g| {
                            Gold::labels(vec![g.split('|').map(|l| l.trim().to_string()).collect()])
                        })),
                    };
                    let gold = match gold
                        .and_then(|g| with_explanation(g, optional(columns.explanation)))
                    {
                        Ok(gold) => gold,
                        Err(message) => return Some(Err(self.error(line, message))),
                    };
                    (
                        line,
                        (
                            cell(columns.id),
                            cell(columns.text),
                            optional(columns.suggestion),
                            gold,
                        ),
                    )
                }
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    return Some(Err(self.error(line, format!("bad CSV: {e}"))));
                }
            },
        };
        let (id, text, suggestion, gold) = raw;
        Some(
            check_task(self.project, id, text, suggestion, gold, Vec::new())
                .map(|task| (line, task))
                .map_err(|message| self.error(line, message)),
        )
    }
}

/// A transcribe row: checked like any task, its audio read and checked by `media`.
fn audio_row(project: &Project, dir: &Path, text: &str) -> Result<NewTask, String> {
    let row: AudioRow =
        serde_json::from_str(text).map_err(|e| format!("not a valid transcribe task: {e}"))?;
    if row.audio.trim().is_empty() {
        return Err("audio is empty: name the clip's file".into());
    }
    let mut task = check_task(
        project,
        row.id,
        row.text,
        row.draft,
        row.gold.map(|text| Gold {
            answer: GoldAnswer::Transcript {
                text,
                max_wer_percent: row.max_wer_percent.unwrap_or(DEFAULT_MAX_WER_PERCENT),
            },
            explanation: row.explanation,
        }),
        Vec::new(),
    )?;
    let clip = crate::media::ingest(&dir.join(row.audio.trim())).map_err(|e| e.to_string())?;
    task.clip = Some(clip);
    Ok(task)
}

fn csv_columns(headers: &csv::StringRecord) -> Result<CsvColumns, String> {
    let (mut id, mut text, mut suggestion, mut gold, mut explanation) =
        (None, None, None, None, None);
    for (i, name) in headers.iter().enumerate() {
        let slot = match name
            .trim()
            .trim_start_matches('\u{feff}')
            .to_ascii_lowercase()
            .as_str()
        {
            "id" => &mut id,
            "text" => &mut text,
            "suggestion" => &mut suggestion,
            "gold" => &mut gold,
            "explanation" => &mut explanation,
            other => {
                return Err(format!(
                    "unknown column '{}'; columns are id, text and optionally suggestion, gold, explanation",
                    sanitize_line(other)
                ));
            }
        };
        if slot.replace(i).is_some() {
            return Err(format!("column '{}' appears twice", name.trim()));
        }
    }
    match (id, text) {
        (Some(id), Some(text)) => Ok(CsvColumns {
            id,
            text,
            suggestion,
            gold,
            explanation,
        }),
        _ => Err("the header row needs columns id and text".into()),
    }
}

/// Gold in JSONL: one label id, a list of them (one answer of a multi-label project),
/// or `{"any": [...]}` of those when several answers are right; for an entry project an
/// object of field values (`entry::gold_of_json`).
fn gold_of_json(
    project: &Project,
    value: Option<serde_json::Value>,
) -> Result<Option<Gold>, String> {
    use serde_json::Value;
    if let Some(form) = &project.form {
        return match value {
            None | Some(Value::Null) => Ok(None),
            Some(v) => super::entry::gold_of_json(form, v).map(|values| {
                Some(Gold {
                    answer: GoldAnswer::Form(values),
                    explanation: String::new(),
                })
            }),
        };
    }
    if project.kind == TaskKind::Transcribe {
        return transcript_gold_of_json(value);
    }
    let bad =
        || "gold must be a label id, a list of label ids, or {\"any\": [...]} of those".to_string();
    let one = |v: Value| match v {
        Value::String(s) => Ok(vec![s]),
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(bad()),
            })
            .collect::<Result<Vec<_>, _>>(),
        _ => Err(bad()),
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(mut map)) => match (map.remove("any"), map.is_empty()) {
            (Some(Value::Array(answers)), true) => answers
                .into_iter()
                .map(one)
                .collect::<Result<Vec<_>, _>>()
                .map(|sets| Some(Gold::labels(sets))),
            _ => Err(bad()),
        },
        Some(v) => one(v).map(|set| Some(Gold::labels(vec![set]))),
    }
}

/// Gold as an admin types it on the command line (`kazi admin review correct`): JSON as in
/// a JSONL file (`{"any": ["a", "b"]}`, a form's object, `["a", "b"]`), else label ids
/// joined by `|` (a transcript for a transcribe project), with its explanation; checked
/// against the project.
pub fn gold_from_text(project: &Project, text: &str, explanation: &str) -> Result<Gold, String> {
    let text = text.trim();
    let value = if text.starts_with(['{', '[', '"']) {
        serde_json::from_str(text).map_err(|e| format!("gold is not valid JSON: {e}"))?
    } else if project.kind == TaskKind::Transcribe || project.form.is_some() {
        serde_json::Value::String(text.to_string())
    } else {
        let labels: Vec<serde_json::Value> = text
            .split('|')
            .map(|l| serde_json::Value::String(l.trim().to_string()))
            .collect();
        serde_json::Value::Array(labels)
    };
    let mut gold = gold_of_json(project, Some(value))?.ok_or("gold is empty")?;
    gold.explanation = explanation.trim().to_string();
    gold.fits(project)?;
    Ok(gold)
}

/// Gold of a transcribe task: the transcript, or `{"text": "...", "max_wer": 15}` with
/// the word error rate (percent, after the project's normalisation) still counted right.
pub(super) fn transcript_gold_of_json(
    value: Option<serde_json::Value>,
) -> Result<Option<Gold>, String> {
    use serde_json::Value;
    let bad = || {
        "gold of a transcribe task must be its transcript, or {\"text\": \"...\", \"max_wer\": 15}"
            .to_string()
    };
    let (text, max_wer_percent) = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => (text, DEFAULT_MAX_WER_PERCENT),
        Some(Value::Object(mut map)) => {
            let text = match map.remove("text") {
                Some(Value::String(text)) => text,
                _ => return Err(bad()),
            };
            let max = match map.remove("max_wer") {
                None => DEFAULT_MAX_WER_PERCENT,
                Some(v) => v
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(bad)?,
            };
            if !map.is_empty() {
                return Err(bad());
            }
            (text, max)
        }
        Some(_) => return Err(bad()),
    };
    Ok(Some(Gold {
        answer: GoldAnswer::Transcript {
            text,
            max_wer_percent,
        },
        explanation: String::new(),
    }))
}

/// The explanation joins the gold; one without gold has nothing to explain.
fn with_explanation(
    gold: Option<Gold>,
    explanation: Option<String>,
) -> Result<Option<Gold>, String> {
    let explanation = explanation
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty());
    match (gold, explanation) {
        (Some(mut gold), Some(text)) => {
            gold.explanation = text;
            Ok(Some(gold))
        }
        (None, Some(_)) => Err("explanation without gold: give the task's gold too".into()),
        (gold, None) => Ok(gold),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_header_rules() {
        let h = csv::StringRecord::from(vec!["text", "id", "gold"]);
        let c = csv_columns(&h).unwrap();
        assert_eq!((c.id, c.text, c.gold, c.suggestion), (1, 0, Some(2), None));
        let h = csv::StringRecord::from(vec!["id", "body"]);
        assert!(
            csv_columns(&h)
                .unwrap_err()
                .contains("unknown column 'body'")
        );
        let h = csv::StringRecord::from(vec!["id"]);
        assert!(csv_columns(&h).unwrap_err().contains("id and text"));
    }
}

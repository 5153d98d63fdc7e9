//! Task import from JSONL or CSV, and from Label Studio and Prodigy files (`interchange`).
//! Two passes: the first checks every record (so a bad line is reported with its number
//! before anything is stored), the second feeds the store's one all-or-nothing
//! transaction. JSONL and CSV stream from the file both times; the tools' files are read
//! once, since their tasks span lines.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Deserialize;

use super::interchange::{self, Leftovers};
use super::task_check::{check_source, check_task};
use crate::model::gold::{DEFAULT_MAX_WER_PERCENT, Gold, GoldAnswer};
use crate::model::{Project, TaskKind, sanitize_line};
use crate::server::Clock;
use crate::server::store::{NewTask, Store, StoreError};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub added: u64,
    /// Tasks identical to ones imported before, left as they were.
    pub already_present: u64,
}

/// What an import did, and what the file held that Kazi does not keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub format: ImportFormat,
    pub summary: ImportSummary,
    /// One line per kind of thing left out (fields Kazi does not use, answers not kept).
    pub notes: Vec<String>,
}

/// The formats tasks are imported from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// Kazi's own JSON Lines.
    Jsonl,
    Csv,
    /// Label Studio's JSON task list.
    LabelStudio,
    /// Prodigy's JSONL.
    Prodigy,
}

impl ImportFormat {
    /// The format as people call it.
    pub fn title(self) -> &'static str {
        match self {
            ImportFormat::Jsonl => "Kazi JSONL",
            ImportFormat::Csv => "CSV",
            ImportFormat::LabelStudio => "a Label Studio task list",
            ImportFormat::Prodigy => "Prodigy JSONL",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error(
        "{path}: tasks must be in a .jsonl, .csv or .json (Label Studio) file, \
         or name the format with --format jsonl|csv|ls|prodigy"
    )]
    Format { path: String },
    #[error("{path}: the file holds no tasks")]
    Empty { path: String },
    /// A bad record: nothing from the file was imported.
    #[error("{path}:{line}: {message}")]
    Line {
        path: String,
        line: u64,
        message: String,
    },
    /// A lesson set larger than one sync reply carries (it travels whole).
    #[error(
        "{path}: the {lessons} lessons take {kb} KB as sent, more than the {max_kb} KB one sync reply carries \
         (a project's lessons travel whole, so a worker never practises half a set offline); \
         make texts, hints or explanations shorter, or give fewer lessons"
    )]
    LessonsTooBig {
        path: String,
        lessons: usize,
        kb: usize,
        max_kb: usize,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Import the tasks in `path` (`.jsonl` or `.csv`, or a Label Studio `.json` list, or a
/// Prodigy `.jsonl` told apart by its fields) into `project`: all or nothing.
pub fn import_tasks(
    store: &dyn Store,
    project: &str,
    path: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportSummary, ImportError> {
    import_tasks_as(store, project, path, None, progress).map(|report| report.summary)
}

/// Import the tasks in `path` in `format` (None: from the file's name, and for `.jsonl`
/// its first record) into `project`: all or nothing. Tasks identical to ones already
/// imported count as already present, so re-running an import is safe; an existing id
/// with other content is refused. `progress` gets (done, total) in bytes over both
/// passes, about every 1%.
pub fn import_tasks_as(
    store: &dyn Store,
    project: &str,
    path: &Path,
    format: Option<ImportFormat>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportReport, ImportError> {
    let shown = path.display().to_string();
    let read_err = |e: std::io::Error| ImportError::Read {
        path: shown.clone(),
        message: e.to_string(),
    };
    let schema = store
        .project(project)?
        .ok_or_else(|| StoreError::NoProject(project.to_string()))?;
    let format = match format {
        Some(format) => format,
        None => detect_format(path, &shown)?,
    };
    let size = std::fs::metadata(path).map_err(read_err)?.len();
    let mut ticker = Ticker::new(size.saturating_mul(2).max(1), progress);
    let (summary, notes) = match format {
        ImportFormat::Jsonl | ImportFormat::Csv => {
            let streamed = if format == ImportFormat::Csv {
                Format::Csv
            } else {
                Format::Jsonl
            };
            let summary =
                import_streamed(store, &schema, path, &shown, streamed, size, &mut ticker)?;
            (summary, Vec::new())
        }
        ImportFormat::LabelStudio | ImportFormat::Prodigy => {
            import_interchange(store, &schema, path, &shown, format, size, &mut ticker)?
        }
    };
    ticker.done();
    Ok(ImportReport {
        format,
        summary,
        notes,
    })
}

/// The format a file's name says; a `.jsonl` that opens a JSON list is Label Studio's,
/// and one whose first record has Prodigy's fields is Prodigy's (Kazi's own JSONL has
/// none of them).
fn detect_format(path: &Path, shown: &str) -> Result<ImportFormat, ImportError> {
    const PRODIGY_FIELDS: [&str; 10] = [
        "_input_hash",
        "_task_hash",
        "answer",
        "options",
        "accept",
        "label",
        "meta",
        "_view_id",
        "_session_id",
        "_annotator_id",
    ];
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv") => Ok(ImportFormat::Csv),
        Some("json") => Ok(ImportFormat::LabelStudio),
        Some("jsonl") => {
            let file = File::open(path).map_err(|e| ImportError::Read {
                path: shown.to_string(),
                message: e.to_string(),
            })?;
            let first = BufReader::new(file)
                .lines()
                .map_while(Result::ok)
                .find(|l| !l.trim().is_empty());
            let first = first.map(|l| l.trim_start_matches('\u{feff}').trim().to_string());
            if first.as_deref().is_some_and(|l| l.starts_with('[')) {
                return Ok(ImportFormat::LabelStudio); // a JSON list, not lines
            }
            let prodigy = first
                .and_then(|l| {
                    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(
                        l.trim_start_matches('\u{feff}'),
                    )
                    .ok()
                })
                .is_some_and(|record| PRODIGY_FIELDS.iter().any(|f| record.contains_key(*f)));
            Ok(if prodigy {
                ImportFormat::Prodigy
            } else {
                ImportFormat::Jsonl
            })
        }
        _ => Err(ImportError::Format {
            path: shown.to_string(),
        }),
    }
}

#[derive(Clone, Copy)]
enum Format {
    Jsonl,
    Csv,
}

/// Kazi's JSONL or CSV, streamed from the file in both passes.
fn import_streamed(
    store: &dyn Store,
    schema: &Project,
    path: &Path,
    shown: &str,
    format: Format,
    size: u64,
    ticker: &mut Ticker<'_>,
) -> Result<ImportSummary, ImportError> {
    // Pass 1: check everything, remember each id's line.
    let mut lines: HashMap<String, u64> = HashMap::new();
    let mut reader = TaskReader::open(path, format, shown, schema)?;
    while let Some(record) = reader.next_task() {
        let (line, task) = record?;
        if let Some(first) = lines.insert(task.id.clone(), line) {
            return Err(twice(shown, line, &task.id, first));
        }
        ticker.at(reader.bytes_read());
    }
    if lines.is_empty() {
        return Err(ImportError::Empty {
            path: shown.to_string(),
        });
    }

    // Pass 2: the same records into one transaction.
    let mut reader = TaskReader::open(path, format, shown, schema)?;
    let mut stream = std::iter::from_fn(|| {
        let record = reader.next_task()?;
        ticker.at(size + reader.bytes_read());
        Some(record.map(|(_, task)| task).map_err(|e| e.to_string()))
    });
    store_tasks(store, &schema.name, shown, &lines, &mut stream)
}

/// A Label Studio or Prodigy file: read and checked whole, then stored.
fn import_interchange(
    store: &dyn Store,
    schema: &Project,
    path: &Path,
    shown: &str,
    format: ImportFormat,
    size: u64,
    ticker: &mut Ticker<'_>,
) -> Result<(ImportSummary, Vec<String>), ImportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ImportError::Read {
        path: shown.to_string(),
        message: e.to_string(),
    })?;
    let now = Clock::system().now();
    let mut left = Leftovers::default();
    let read = match format {
        ImportFormat::LabelStudio => interchange::label_studio::read(&text, schema, now, &mut left),
        _ => interchange::prodigy::read(&text, schema, now, &mut left),
    };
    let sources = read.map_err(|(line, message)| ImportError::Line {
        path: shown.to_string(),
        line,
        message,
    })?;
    ticker.at(size);
    if sources.is_empty() {
        return Err(ImportError::Empty {
            path: shown.to_string(),
        });
    }
    let mut lines: HashMap<String, u64> = HashMap::new();
    let mut tasks = Vec::with_capacity(sources.len());
    for source in sources {
        let line = source.line;
        let task = check_source(schema, source).map_err(|message| ImportError::Line {
            path: shown.to_string(),
            line,
            message,
        })?;
        if let Some(first) = lines.insert(task.id.clone(), line) {
            return Err(twice(shown, line, &task.id, first));
        }
        tasks.push(task);
    }
    let total = tasks.len() as u64;
    let mut stream = tasks.into_iter().enumerate().map(|(i, task)| {
        ticker.at(size + size * i as u64 / total);
        Ok(task)
    });
    let summary = store_tasks(store, &schema.name, shown, &lines, &mut stream)?;
    Ok((summary, left.notes()))
}

fn twice(path: &str, line: u64, id: &str, first: u64) -> ImportError {
    ImportError::Line {
        path: path.to_string(),
        line,
        message: format!(
            "task id '{}' appears twice in this file (first on line {first})",
            sanitize_line(id)
        ),
    }
}

/// The checked tasks into the store's one transaction; a clash names its line.
fn store_tasks(
    store: &dyn Store,
    project: &str,
    shown: &str,
    lines: &HashMap<String, u64>,
    stream: &mut crate::server::store::TaskStream<'_>,
) -> Result<ImportSummary, ImportError> {
    let counts = store.import_tasks(project, stream).map_err(|e| match e {
        StoreError::TaskClash { project, id } => ImportError::Line {
            path: shown.to_string(),
            line: lines.get(&id).copied().unwrap_or(0),
            message: format!(
                "task id '{}' is already in project '{project}' with different content",
                sanitize_line(&id)
            ),
        },
        other => ImportError::Store(other),
    })?;
    Ok(ImportSummary {
        added: counts.added,
        already_present: counts.already_present,
    })
}

/// Calls the progress callback about every 1% of `total`.
struct Ticker<'a> {
    total: u64,
    next: u64,
    progress: &'a mut dyn FnMut(u64, u64),
}

impl<'a> Ticker<'a> {
    fn new(total: u64, progress: &'a mut dyn FnMut(u64, u64)) -> Self {
        progress(0, total);
        Ticker {
            total,
            next: 0,
            progress,
        }
    }

    fn at(&mut self, done: u64) {
        if done >= self.next {
            (self.progress)(done.min(self.total), self.total);
            self.next = done + (self.total / 100).max(1);
        }
    }

    fn done(&mut self) {
        (self.progress)(self.total, self.total);
    }
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
struct TaskReader<'a> {
    source: Source,
    /// The import file's folder: audio paths are relative to it.
    dir: std::path::PathBuf,
    path: &'a str,
    project: &'a Project,
}

impl<'a> TaskReader<'a> {
    fn open(
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

    fn bytes_read(&self) -> u64 {
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

    fn next_task(&mut self) -> Option<Result<(u64, NewTask), ImportError>> {
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
fn transcript_gold_of_json(value: Option<serde_json::Value>) -> Result<Option<Gold>, String> {
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

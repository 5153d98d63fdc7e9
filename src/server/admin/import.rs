//! Task import from JSONL or CSV, and from Label Studio and Prodigy files (`interchange`).
//! Two passes: the first checks every record (so a bad line is reported with its number
//! before anything is stored), the second feeds the store's one all-or-nothing
//! transaction. JSONL and CSV stream from the file both times (their rows are read in
//! `import_rows`); the tools' files are read once, since their tasks span lines.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::import_rows::{Format, TaskReader};
use super::interchange::{self, Leftovers};
use super::task_check::check_source;
use crate::model::{Project, sanitize_line};
use crate::server::Clock;
use crate::server::store::{Store, StoreError};

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

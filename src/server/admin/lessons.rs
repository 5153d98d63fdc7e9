//! `kazi admin lessons import`: a project's training set from one JSONL file. Each line
//! is a task row with gold (`id`, `text`, optional `suggestion`, `gold`), its
//! `explanation`, and either a `hint` (a lesson, practised in file order) or
//! `"exam": true` (in the exam pool). A transcribe project's rows name their `audio`
//! file (relative to the lessons file, read and checked like a task import's) and give
//! the transcript as gold. The whole file is checked first; a bad line stops it all,
//! named `FILE:LINE: what`, and nothing is stored.

use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::ImportError;
use crate::model::gold::{Gold, GoldAnswer};
use crate::model::{Project, TaskKind, sanitize_line};
use crate::protocol::{LessonTask, MAX_LESSON_SET_BYTES, MAX_LESSONS, lesson_bytes};
use crate::server::store::training::{NewTrainingTask, TrainingCounts};
use crate::server::store::{Store, StoreError};

/// Longest task text of a training task, as of a task (bytes).
const MAX_TEXT_BYTES: usize = 64 << 10;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LessonRow {
    id: String,
    /// The task's text; a transcribe lesson's optional note (its clip is the task).
    #[serde(default)]
    text: String,
    /// A label id; an entry project's none; a transcribe project's machine draft, also
    /// written `draft` as in a task import.
    #[serde(default, alias = "draft")]
    suggestion: Option<String>,
    gold: Value,
    #[serde(default)]
    explanation: String,
    #[serde(default)]
    hint: String,
    #[serde(default)]
    exam: bool,
    /// A transcribe lesson's audio file, relative to the lessons file.
    #[serde(default)]
    audio: Option<String>,
}

/// Read, check and store a project's training set; what was stored.
pub fn import_lessons(
    store: &dyn Store,
    project: &str,
    file: &Path,
) -> Result<TrainingCounts, ImportError> {
    let shown = file.display().to_string();
    let schema = store
        .project(project)?
        .ok_or_else(|| StoreError::NoProject(project.to_string()))?;
    let tasks = read_lessons(&schema, file, &shown)?;
    Ok(store.put_training(project, &tasks)?)
}

/// Every row of the file, checked against the project.
pub fn read_lessons(
    project: &Project,
    file: &Path,
    shown: &str,
) -> Result<Vec<NewTrainingTask>, ImportError> {
    let read_err = |e: std::io::Error| ImportError::Read {
        path: shown.to_string(),
        message: e.to_string(),
    };
    let reader = BufReader::new(std::fs::File::open(file).map_err(read_err)?);
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let line_err = |line: u64, message: String| ImportError::Line {
        path: shown.to_string(),
        line,
        message,
    };
    let mut tasks: Vec<NewTrainingTask> = Vec::new();
    let mut last_line = 0;
    for (i, text) in reader.lines().enumerate() {
        let line = i as u64 + 1;
        last_line = line;
        let text = text.map_err(read_err)?;
        let text = text.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            continue;
        }
        let row: LessonRow = serde_json::from_str(text)
            .map_err(|e| line_err(line, format!("not a valid lesson row: {e}")))?;
        let task = check_row(project, &dir, row).map_err(|m| line_err(line, m))?;
        if tasks.iter().any(|t| t.id == task.id) {
            return Err(line_err(
                line,
                format!("id '{}' is used twice", sanitize_line(&task.id)),
            ));
        }
        tasks.push(task);
    }
    if tasks.is_empty() {
        return Err(ImportError::Empty {
            path: shown.to_string(),
        });
    }
    let lessons = tasks.iter().filter(|t| !t.exam).count();
    if lessons > MAX_LESSONS {
        return Err(line_err(
            last_line,
            format!("a project may have at most {MAX_LESSONS} lessons, this file has {lessons}"),
        ));
    }
    let bytes = set_bytes(&tasks);
    if bytes > MAX_LESSON_SET_BYTES {
        return Err(ImportError::LessonsTooBig {
            path: shown.to_string(),
            lessons,
            kb: bytes.div_ceil(1024),
            max_kb: MAX_LESSON_SET_BYTES / 1024,
        });
    }
    let exam = tasks.len() - lessons;
    if let Some(rule) = project.exam
        && exam < rule.size as usize
    {
        return Err(line_err(
            last_line,
            format!(
                "the exam draws {} tasks per attempt but this file has {exam} exam tasks (\"exam\": true); \
                 give at least {} (twice that lets a retry draw all new tasks)",
                rule.size, rule.size
            ),
        ));
    }
    Ok(tasks)
}

/// The bytes the file's lessons will take in a reply, measured as the server sends them
/// (`protocol::lesson_bytes`), with the widest item number each.
fn set_bytes(tasks: &[NewTrainingTask]) -> usize {
    let sent: Result<Vec<LessonTask>, _> = tasks
        .iter()
        .filter(|t| !t.exam)
        .map(|t| {
            serde_json::from_str(&t.gold).map(|gold| LessonTask {
                item: i64::MIN,
                text: t.text.clone(),
                suggestion: t.suggestion.clone(),
                gold,
                hint: t.hint.clone(),
                clip: t.clip.as_ref().map(|c| crate::model::ClipRef {
                    hash: c.hash.clone(),
                    bytes: c.wire.len() as u64,
                    ms: c.duration_ms,
                }),
            })
        })
        .collect();
    sent.map_or(usize::MAX, |sent| lesson_bytes(&sent))
}

fn check_row(project: &Project, dir: &Path, row: LessonRow) -> Result<NewTrainingTask, String> {
    let id = row.id.trim().to_string();
    if id.is_empty() || id.len() > 200 || id.chars().any(char::is_control) {
        return Err("id must be 1-200 characters without control characters".into());
    }
    let transcribe = project.kind == TaskKind::Transcribe;
    if row.text.trim().is_empty() && !transcribe {
        return Err("text is empty".into());
    }
    if row.text.len() > MAX_TEXT_BYTES {
        return Err(format!("text is longer than {MAX_TEXT_BYTES} bytes"));
    }
    if row.explanation.trim().is_empty() {
        return Err(
            "explanation is empty: say why the gold answer is right (workers read it after answering)"
                .into(),
        );
    }
    if row.exam && !row.hint.trim().is_empty() {
        return Err("exam tasks show no hint; remove \"hint\" or make this a lesson".into());
    }
    if let Some(s) = &row.suggestion
        && project.form.is_none()
        && !transcribe
        && project.label(s).is_none()
    {
        return Err(format!("suggestion '{}' is not a label", sanitize_line(s)));
    }
    if transcribe {
        super::task_check::check_transcribe_task(project, row.suggestion.as_deref(), &[])?;
    }
    let clip = match (transcribe, row.audio.as_deref().map(str::trim)) {
        (true, None | Some("")) => {
            return Err(
                "audio is missing: name the lesson's clip file (\"audio\": \"clips/a.wav\", \
                        relative to the lessons file)"
                    .into(),
            );
        }
        (true, Some(audio)) => {
            Some(crate::media::ingest(&dir.join(audio)).map_err(|e| e.to_string())?)
        }
        (false, None) => None,
        (false, Some(_)) => {
            return Err("audio is for transcribe projects; remove \"audio\" from this row".into());
        }
    };
    let answer = gold_answer(project, row.gold)?;
    let gold = Gold {
        answer,
        explanation: row.explanation.trim().to_string(),
    };
    gold.fits(project)?;
    let gold = serde_json::to_string(&gold).map_err(|e| format!("gold cannot be kept: {e}"))?;
    Ok(NewTrainingTask {
        id,
        text: row.text.replace("\r\n", "\n"),
        suggestion: row.suggestion,
        gold,
        hint: row.hint.trim().to_string(),
        exam: row.exam,
        clip,
    })
}

/// Gold as a row writes it: a label id or a list of them (one accepted answer), or a
/// list of such lists (any one accepted); for an entry project an object of field values;
/// for a transcribe project the transcript or `{"text": "...", "max_wer": 15}`.
fn gold_answer(project: &Project, value: Value) -> Result<GoldAnswer, String> {
    if let Some(form) = &project.form {
        return super::entry::gold_of_json(form, value).map(GoldAnswer::Form);
    }
    if project.kind == TaskKind::Transcribe {
        return super::import_rows::transcript_gold_of_json(Some(value))?
            .map(|gold| gold.answer)
            .ok_or_else(|| "gold is empty: give the clip's transcript".to_string());
    }
    let bad = || {
        "gold must be a label id, a list of label ids, or a list of such lists (any one accepted)"
            .to_string()
    };
    let ids = |items: Vec<Value>| -> Result<Vec<String>, String> {
        items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(bad()),
            })
            .collect()
    };
    match value {
        Value::String(s) => Ok(GoldAnswer::Labels(vec![vec![s]])),
        Value::Array(items) if items.iter().all(Value::is_array) && !items.is_empty() => items
            .into_iter()
            .map(|set| match set {
                Value::Array(set) => ids(set),
                _ => Err(bad()),
            })
            .collect::<Result<_, _>>()
            .map(GoldAnswer::Labels),
        Value::Array(items) => Ok(GoldAnswer::Labels(vec![ids(items)?])),
        _ => Err(bad()),
    }
}

//! Admin operations behind `kazi admin` and `kazi export`: users and their enrolment
//! codes, projects, task import (`import`), and export with provenance, in Kazi's own
//! formats and in Label Studio's and Prodigy's (`interchange`).

mod agreement;
mod class_report;
mod csv_scan;
mod entry;
mod import;
mod import_rows;
mod interchange;
mod lessons;
mod overview;
mod project_change;
pub mod ssh_keys;
mod task_check;

use std::borrow::Cow;
use std::io::Write;

use serde::Serialize;

pub use crate::server::store::{ProjectAdded, SshKeyAdded, TaskState, UserRemoved as Removed};
pub use agreement::{AgreementFormat, PairTable, pair_agreement, write_pairs};
pub use class_report::{class_report_csv, class_report_table};
pub use import::{
    ImportError, ImportFormat, ImportReport, ImportSummary, import_tasks, import_tasks_as,
};
pub use import_rows::gold_from_text;
pub use lessons::{import_lessons, read_lessons};
pub use overview::{ProjectOverview, TASK_LIST_MAX, project_overview, task_list};

use crate::model::{Project, Role, format_utc, sanitize_line};
use crate::server::Clock;
use crate::server::secret;
use crate::server::store::{AnswerRecord, Store, StoreError, TaskRecord, UserRemoved, UserSummary};

/// How long an enrolment code stays usable (server clock).
pub const ENROLMENT_CODE_SECS: i64 = 7 * 86_400;
const MAX_USER_NAME: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(
        "user name '{0}' must be 1-{MAX_USER_NAME} characters: letters, digits, '.', '-' or '_'"
    )]
    BadUserName(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Random(String),
    /// The output went away or filled up; the io error keeps its kind, so a reader that
    /// closed the pipe (`kazi export ... | head`) is told apart from a full disk.
    #[error("cannot write the export")]
    Write(#[source] std::io::Error),
    #[error(
        "project '{0}' is a data-entry project: export it as jsonl or csv (Label Studio and Prodigy exports cover classify projects)"
    )]
    EntryFormat(String),
    #[error(
        "project '{project}': this update {changes}; check the file, or run again with --force"
    )]
    RiskyUpdate { project: String, changes: String },
}

/// Check a user name: it is typed on the command line and shown on screens.
pub fn check_user_name(name: &str) -> Result<(), AdminError> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_USER_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(AdminError::BadUserName(
            crate::model::sanitize_line(name).into_owned(),
        ))
    }
}

/// Create a user and return a one-time enrolment code, valid for
/// `ENROLMENT_CODE_SECS`. For an existing user this issues a fresh code (any unused
/// earlier code stops working), sets the role to `role`, and keeps their logged-in
/// devices working.
pub fn add_user(
    store: &dyn Store,
    name: &str,
    role: Role,
    clock: &Clock,
) -> Result<String, AdminError> {
    check_user_name(name)?;
    let code = secret::new_enrolment_code().map_err(|e| AdminError::Random(e.to_string()))?;
    let now = clock.now();
    store.put_user(
        name,
        role,
        &secret::hash_enrolment_code(&code),
        now + ENROLMENT_CODE_SECS,
        now,
    )?;
    Ok(code)
}

/// Every user with their devices, by name.
pub fn users(store: &dyn Store) -> Result<Vec<UserSummary>, AdminError> {
    Ok(store.users()?)
}

/// Sign out one device of a user (`device`), or all of them: their tokens stop working
/// at once and their leases go back to the pool. The user's answers stay; a fresh code
/// from `add_user` logs them in again. How many devices were still signed in.
pub fn revoke(store: &dyn Store, name: &str, device: Option<i64>) -> Result<u64, AdminError> {
    check_user_name(name)?;
    Ok(store.revoke_devices(name, device, Clock::system().now())?)
}

/// Disable a user (`true`) or enable them again (`false`): see `Store::set_user_disabled`.
/// Whether anything changed (disabling a disabled user does nothing).
pub fn set_disabled(store: &dyn Store, name: &str, disabled: bool) -> Result<bool, AdminError> {
    check_user_name(name)?;
    Ok(store.set_user_disabled(name, disabled, Clock::system().now())?)
}

/// Remove a user for good: see `Store::remove_user`.
pub fn remove_user(store: &dyn Store, name: &str) -> Result<UserRemoved, AdminError> {
    check_user_name(name)?;
    Ok(store.remove_user(name, Clock::system().now())?)
}

/// Add a project, or update the one with the same name (clients get the new version on
/// their next sync). Changing the overlap applies to tasks not yet complete.
pub fn add_project(store: &dyn Store, project: &Project) -> Result<ProjectAdded, AdminError> {
    Ok(store.put_project(project, Clock::system().now())?)
}

/// `add_project` for an admin: an update that would change what answers already given
/// mean (an answered label removed, one label switched to several) is refused unless
/// `force`, saying what would change.
pub fn add_project_checked(
    store: &dyn Store,
    project: &Project,
    force: bool,
) -> Result<ProjectAdded, AdminError> {
    project_change::check_update(store, project, force)?;
    add_project(store, project)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Jsonl,
    Csv,
    /// Label Studio's JSON task list.
    LabelStudio,
    /// Prodigy's JSONL, one line per answer.
    Prodigy,
}

/// How an export names who gave an answer: the one place that writes it, in every
/// format. `Named` has already put the worker's per-project pseudonym (or, with
/// `--with-names`, the user name) in `worker`; an imported answer keeps the other tool's
/// annotator.
pub fn answer_author(answer: &AnswerRecord) -> String {
    answer.worker.clone()
}

/// Who an export names: workers by their per-project pseudonym (the default, what a
/// client receives), or by user name (`--with-names`, for the centre's admins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    Pseudonyms,
    UserNames,
}

/// The store as an export reads it: every Kazi answer's `worker` is the name `Naming`
/// says, before any format writer sees it.
struct Named<'s> {
    store: &'s dyn Store,
    key: crate::server::pseudonym::PseudonymKey,
    naming: Naming,
}

impl<'s> Named<'s> {
    fn new(store: &'s dyn Store, naming: Naming) -> Result<Named<'s>, StoreError> {
        Ok(Named {
            store,
            key: store.pseudonym_key()?,
            naming,
        })
    }

    fn project(&self, name: &str) -> Result<Option<Project>, StoreError> {
        self.store.project(name)
    }

    fn export(
        &self,
        project: &str,
        each: &mut dyn FnMut(TaskRecord) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        if self.naming == Naming::UserNames {
            return self.store.export(project, each);
        }
        self.store.export(project, &mut |mut task: TaskRecord| {
            for answer in &mut task.answers {
                if let Some(user) = answer.user_id {
                    answer.worker = self.pseudonym(project, user);
                }
            }
            each(task)
        })
    }

    /// A user's pseudonym in `project` (reviewers are always named so).
    fn pseudonym(&self, project: &str, user: i64) -> String {
        crate::server::pseudonym::pseudonym(&self.key, project, user)
    }
}

#[derive(Serialize)]
struct ExportLine<'a> {
    id: &'a str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    gold: Option<GoldOut<'a>>,
    #[serde(rename = "final")]
    decided: Option<&'a str>,
    agreement: Option<f64>,
    /// The method that decided (`mv`, `wmv`, `ds`) and its confidence.
    method: Option<&'a str>,
    confidence: Option<f64>,
    /// Where the final answer comes from: `aggregate` or `review` (absent while the task
    /// has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    provenance: Option<&'static str>,
    /// A reviewer's verdict (`pick`, `edit`, `uphold`), their pseudonym and note.
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decided_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    answers: Vec<ExportAnswer>,
}

/// Gold as imported: one label as a string, several as a list.
#[derive(Serialize)]
#[serde(untagged)]
enum GoldOut<'a> {
    One(&'a str),
    Many(&'a [String]),
}

#[derive(Serialize)]
struct ExportAnswer {
    worker: String,
    value: String,
    time: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    superseded: bool,
    /// Brought with the task from another tool; `worker` is that tool's annotator.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    imported: bool,
}

fn project_schema(store: &dyn Store, project: &str) -> Result<Project, AdminError> {
    Ok(store
        .project(project)?
        .ok_or_else(|| StoreError::NoProject(project.to_string()))?)
}

/// Agreement rounded for people: 0.6667, not 0.6666666666666666.
fn rounded(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The io error inside a CSV writer's error, with its kind (csv's own conversion to
/// `io::Error` would hide it).
fn csv_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// Where an export goes: a file or pipe gets the data byte for byte; a terminal gets
/// every text with control characters, C1 controls and bidi overrides shown inert
/// (`model::sanitize_line`), so hostile task text cannot drive the admin's terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportTarget {
    File,
    Terminal,
}

impl ExportTarget {
    fn show<'a>(self, text: &'a str) -> Cow<'a, str> {
        match self {
            ExportTarget::File => Cow::Borrowed(text),
            ExportTarget::Terminal => sanitize_line(text),
        }
    }

    /// A task's texts as this target shows them, for the writers of other tools'
    /// formats (JSON escapes C0 controls, but not C1 controls or bidi overrides).
    fn task(self, mut task: TaskRecord) -> TaskRecord {
        if self == ExportTarget::Terminal {
            let show = |text: &mut String| *text = sanitize_line(text).into_owned();
            show(&mut task.id);
            show(&mut task.text);
            task.suggestion.as_mut().map(show);
            task.decided.as_mut().map(show);
            task.method.as_mut().map(show);
        }
        task
    }

    fn author(self, answer: &AnswerRecord) -> String {
        self.show(&answer_author(answer)).into_owned()
    }
}

/// `export_to` a file or pipe: the data byte for byte.
pub fn export(
    store: &dyn Store,
    project: &str,
    format: ExportFormat,
    out: &mut dyn Write,
) -> Result<u64, AdminError> {
    export_to(store, project, format, ExportTarget::File, out)
}

/// Write one record per task of `project`, in import order, with its final answer, the
/// method that decided it and its confidence, and every answer, its worker and its time.
/// CSV, Label Studio and Prodigy list counted answers only; JSONL also lists replaced
/// ones, marked `"superseded": true`. Returns the number of tasks.
pub fn export_to(
    store: &dyn Store,
    project: &str,
    format: ExportFormat,
    target: ExportTarget,
    out: &mut dyn Write,
) -> Result<u64, AdminError> {
    export_named(store, project, format, target, Naming::Pseudonyms, out)
}

/// `export_to`, naming workers as `naming` says.
pub fn export_named(
    store: &dyn Store,
    project: &str,
    format: ExportFormat,
    target: ExportTarget,
    naming: Naming,
    out: &mut dyn Write,
) -> Result<u64, AdminError> {
    let store = &Named::new(store, naming)?;
    if let Some(form) = store.project(project)?.and_then(|p| p.form) {
        return export_entry(store, project, &form, format, target, out);
    }
    // The store's callback can only stop the walk; the write error itself is kept here
    // and returned with its kind.
    let mut failed: Option<std::io::Error> = None;
    let mut write_err = |e: std::io::Error| {
        failed = Some(e);
        StoreError::Aborted("cannot write the export".into())
    };
    let walked = match format {
        ExportFormat::Jsonl => store.export(project, &mut |task: TaskRecord| {
            let gold_shown: Option<Vec<String>> = task.gold.as_ref().map(|g| {
                g.iter()
                    .map(|label| target.show(label).into_owned())
                    .collect()
            });
            let reviewed = task.review.as_ref().map(|r| r.value.to_compact());
            let decided = reviewed
                .as_deref()
                .or(task.decided.as_deref())
                .map(|d| target.show(d));
            let provenance = match (&task.review, &decided) {
                (Some(_), _) => Some("review"),
                (None, Some(_)) => Some("aggregate"),
                (None, None) => None,
            };
            let line = ExportLine {
                provenance,
                verdict: task.review.as_ref().map(|r| r.kind.as_str()),
                decided_by: task.review.as_ref().map(|r| store.pseudonym(project, r.by)),
                note: task
                    .review
                    .as_ref()
                    .map(|r| target.show(&r.note).into_owned()),
                id: &target.show(&task.id),
                text: &target.show(&task.text),
                gold: gold_shown.as_deref().map(|g| match g {
                    [one] => GoldOut::One(one),
                    many => GoldOut::Many(many),
                }),
                decided: decided.as_deref(),
                agreement: task.agreement.map(rounded),
                method: task.method.as_deref(),
                confidence: task.confidence.map(rounded),
                answers: task
                    .answers
                    .iter()
                    .map(|a| ExportAnswer {
                        worker: target.author(a),
                        value: target.show(&a.value.to_compact()).into_owned(),
                        time: format_utc(a.at),
                        superseded: a.superseded,
                        imported: a.imported,
                    })
                    .collect(),
            };
            serde_json::to_writer(&mut *out, &line).map_err(|e| write_err(e.into()))?;
            out.write_all(b"\n").map_err(&mut write_err)
        }),
        ExportFormat::Csv => {
            let mut csv = csv::Writer::from_writer(&mut *out);
            csv.write_record([
                "id",
                "text",
                "final",
                "agreement",
                "method",
                "confidence",
                "answers",
            ])
            .map_err(|e| AdminError::Write(csv_io(e)))?;
            let walked = store.export(project, &mut |task: TaskRecord| {
                let answers = task
                    .answers
                    .iter()
                    .filter(|a| !a.superseded)
                    .map(|a| {
                        let who = answer_author(a);
                        format!("{who}={}@{}", a.value.to_compact(), format_utc(a.at))
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                let answers = target.show(&answers);
                let agreement = task
                    .agreement
                    .map(|x| rounded(x).to_string())
                    .unwrap_or_default();
                let confidence = task
                    .confidence
                    .map(|x| rounded(x).to_string())
                    .unwrap_or_default();
                csv.write_record([
                    target.show(&task.id).as_ref(),
                    target.show(&task.text).as_ref(),
                    target.show(task.decided.as_deref().unwrap_or("")).as_ref(),
                    agreement.as_str(),
                    target.show(task.method.as_deref().unwrap_or("")).as_ref(),
                    confidence.as_str(),
                    answers.as_ref(),
                ])
                .map_err(|e| write_err(csv_io(e)))
            });
            if walked.is_ok() {
                csv.flush().map_err(AdminError::Write)?;
            }
            walked
        }
        ExportFormat::LabelStudio => {
            let schema = project_schema(store.store, project)?;
            let mut writer =
                interchange::label_studio::Writer::start(&mut *out).map_err(AdminError::Write)?;
            let walked = store.export(project, &mut |task: TaskRecord| {
                let task = target.task(task);
                writer
                    .task(&mut *out, &schema, &task, |a| target.author(a))
                    .map_err(&mut write_err)
            });
            if walked.is_ok() {
                writer.finish(&mut *out).map_err(AdminError::Write)?;
            }
            walked
        }
        ExportFormat::Prodigy => {
            let schema = project_schema(store.store, project)?;
            store.export(project, &mut |task: TaskRecord| {
                let task = target.task(task);
                interchange::prodigy::write_task(&mut *out, &schema, &task, |a| target.author(a))
                    .map_err(&mut write_err)
            })
        }
    };
    if let Some(e) = failed {
        return Err(AdminError::Write(e));
    }
    let count = walked?;
    out.flush().map_err(AdminError::Write)?;
    Ok(count)
}

/// Export of an entry project: JSONL with nested values and per-field agreement, or CSV
/// with one column per field (two walks: the first finds how many rows each group
/// needs, so the header is right before the first record).
fn export_entry(
    store: &Named<'_>,
    project: &str,
    form: &crate::model::form::Form,
    format: ExportFormat,
    target: ExportTarget,
    out: &mut dyn Write,
) -> Result<u64, AdminError> {
    let mut failed: Option<std::io::Error> = None;
    let mut write_err = |e: std::io::Error| {
        failed = Some(e);
        StoreError::Aborted("cannot write the export".into())
    };
    let walked = match format {
        ExportFormat::LabelStudio | ExportFormat::Prodigy => {
            return Err(AdminError::EntryFormat(project.to_string()));
        }
        ExportFormat::Jsonl => store.export(project, &mut |task: TaskRecord| {
            let line = entry::jsonl_line(form, &task, task.agreement.map(rounded))?;
            out.write_all(target.show(&line).as_bytes())
                .and_then(|()| out.write_all(b"\n"))
                .map_err(&mut write_err)
        }),
        ExportFormat::Csv => {
            let mut rows = std::collections::BTreeMap::new();
            store.export(project, &mut |task: TaskRecord| {
                entry::grow_rows(&task, &mut rows)
            })?;
            let header = entry::csv_header(form, &rows);
            let mut csv = csv::Writer::from_writer(&mut *out);
            csv.write_record(&header)
                .map_err(|e| AdminError::Write(csv_io(e)))?;
            let walked = store.export(project, &mut |task: TaskRecord| {
                let agreement = task
                    .agreement
                    .map(|x| rounded(x).to_string())
                    .unwrap_or_default();
                let record = entry::csv_record(&header, &task, &agreement)?;
                csv.write_record(record.iter().map(|field| target.show(field).into_owned()))
                    .map_err(|e| write_err(csv_io(e)))
            });
            if walked.is_ok() {
                csv.flush().map_err(AdminError::Write)?;
            }
            walked
        }
    };
    if let Some(e) = failed {
        return Err(AdminError::Write(e));
    }
    let count = walked?;
    out.flush().map_err(AdminError::Write)?;
    Ok(count)
}

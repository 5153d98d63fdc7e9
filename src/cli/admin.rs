//! Server-side commands: serve, admin (users, projects, tasks) and export.

use std::fs;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};

use kazi::model::{Project, Role, format_utc, sanitize_line};
use kazi::server::store::migrate::migrate_centre;
use kazi::server::{self, Clock, ServerConfig, Store, admin};
use kazi::tui::{Key, Keymap, Mode};

/// The centre's database, which must exist: only `serve` and `init` create one.
pub fn open(db: &str) -> Result<Arc<dyn Store>> {
    Ok(server::open_existing_store(db)?)
}

/// Create the centre's database (or bring an existing one up to date).
pub fn init(db: &str) -> Result<()> {
    server::open_store(db)?;
    say!("Database {db} ready.")?;
    say!("Next: kazi admin --db {db} project add FILE.toml")?;
    Ok(())
}

pub fn serve(db: &str, listen: &str) -> Result<()> {
    let store = server::open_store(db)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        say!("Kazi server on http://{addr} with {db}. Stop with Ctrl-C.")?;
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        server::serve(listener, store, ServerConfig::default(), shutdown).await?;
        say!("Server stopped.")?;
        Ok(())
    })
}

pub fn user_add(db: &str, name: &str, role: Role, intake: &[String]) -> Result<()> {
    let store = open(db)?;
    // A bad intake setting adds nothing.
    super::impact::check_intake(store.as_ref(), name, intake)?;
    let code = admin::add_user(store.as_ref(), name, role, &Clock::system())?;
    say!(
        "User {} ({role}) ready. One-time enrolment code: {code}",
        sanitize_line(name)
    )?;
    say!(
        "On the worker's machine: kazi login --server URL --user {} --code {code}",
        sanitize_line(name)
    )?;
    super::impact::store_intake(store.as_ref(), name, intake)?;
    Ok(())
}

/// Users, their roles and devices: one line per user, one indented line per device.
pub fn user_list(db: &str) -> Result<()> {
    let store = open(db)?;
    let users = admin::users(store.as_ref())?;
    if users.is_empty() {
        say!("No users yet; add one with kazi admin --db {db} user add NAME --role worker")?;
    }
    let when = |t: Option<i64>| t.map_or_else(|| "never".to_string(), format_utc);
    for user in &users {
        let active = user.devices.iter().filter(|d| d.revoked.is_none()).count();
        say!(
            "{} ({}): {active} device(s) signed in",
            sanitize_line(&user.name),
            user.role
        )?;
        for d in &user.devices {
            let state = match d.revoked {
                Some(at) => format!("signed out {}", format_utc(at)),
                None => "signed in".to_string(),
            };
            say!(
                "  device {} \"{}\": since {}, last sync {}, {state}",
                d.id,
                sanitize_line(&d.name),
                format_utc(d.created),
                when(d.last_sync)
            )?;
        }
    }
    Ok(())
}

/// Sign out one device of a user, or all of them.
pub fn user_revoke(db: &str, name: &str, device: Option<i64>) -> Result<()> {
    let store = open(db)?;
    let n = admin::revoke(store.as_ref(), name, device)?;
    let name = sanitize_line(name);
    match (n, device) {
        (0, Some(id)) => say!("Device {id} of {name} was already signed out.")?,
        (0, None) => say!("{name} had no device signed in.")?,
        (_, Some(id)) => {
            say!("Device {id} of {name} is signed out; its tasks went back to the queue.")?
        }
        (n, None) => {
            say!("{n} device(s) of {name} signed out; their tasks went back to the queue.")?
        }
    }
    say!(
        "To let {name} in again: kazi admin --db {db} user add {name} --role ROLE gives a new code."
    )?;
    Ok(())
}

pub fn read_project(file: &Path) -> Result<Project> {
    let text =
        fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file.display().to_string();
    let project = Project::from_toml(&name, &text)?;
    check_label_keys(&project, &name, &text)?;
    Ok(project)
}

/// A label key that the built-in keymap binds to an action could never be pressed as a
/// label on any worker's screen: refuse the file before it reaches a worker.
fn check_label_keys(project: &Project, file: &str, text: &str) -> Result<()> {
    let keymap = Keymap::default();
    let mode = Mode::for_kind(project.kind);
    for (index, label) in project.labels.iter().enumerate() {
        if let Some(action) = keymap.action(mode, Key::char(label.key)) {
            let message = format!(
                "label key '{}' is the key of '{action}' in Kazi's built-in keymap; \
                 give label '{}' another key",
                label.key,
                sanitize_line(&label.id)
            );
            return Err(Project::label_key_error(file, text, index, message).into());
        }
    }
    Ok(())
}

pub fn project_add(db: &str, file: &Path, force: bool) -> Result<()> {
    let project = read_project(file)?;
    let store = open(db)?;
    let added = match admin::add_project_checked(store.as_ref(), &project, force)? {
        admin::ProjectAdded::New => "added",
        admin::ProjectAdded::Updated => "updated",
        admin::ProjectAdded::Unchanged => "unchanged",
    };
    let schema = match &project.form {
        Some(form) => format!("{} fields", form.fields.len()),
        None => format!("{} labels", project.labels.len()),
    };
    say!(
        "Project {} ({schema}, overlap {}): {added}.",
        project.name,
        project.overlap
    )?;
    say!(
        "Next: kazi admin --db {db} tasks import {} FILE.jsonl",
        project.name
    )?;
    Ok(())
}

pub fn tasks_import(
    db: &str,
    project: &str,
    file: &Path,
    format: Option<admin::ImportFormat>,
) -> Result<()> {
    let store = open(db)?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} lines")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let result =
        admin::import_tasks_as(store.as_ref(), project, file, format, &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        });
    bar.finish_and_clear();
    let report = result?;
    if matches!(
        report.format,
        admin::ImportFormat::LabelStudio | admin::ImportFormat::Prodigy
    ) {
        say!(
            "Read {} as {}.",
            sanitize_line(&file.display().to_string()),
            report.format.title()
        )?;
    }
    // What the file held that Kazi does not keep: said once, never dropped in silence.
    for note in &report.notes {
        say!("{}: {note}", sanitize_line(&file.display().to_string()))?;
    }
    say!(
        "Imported {} new tasks into {project} ({} were already there).",
        report.summary.added,
        report.summary.already_present
    )?;
    Ok(())
}

pub fn export(
    db: &str,
    project: &str,
    format: admin::ExportFormat,
    naming: admin::Naming,
    out: Option<&Path>,
) -> Result<()> {
    let store = open(db)?;
    match out {
        Some(path) => {
            let mut file = std::io::BufWriter::new(
                fs::File::create(path)
                    .with_context(|| format!("cannot write {}", path.display()))?,
            );
            let n = admin::export_named(
                store.as_ref(),
                project,
                format,
                admin::ExportTarget::File,
                naming,
                &mut file,
            )?;
            file.flush()?;
            eprintln!("Exported {n} tasks to {}.", path.display());
        }
        None => {
            let stdout = std::io::stdout();
            // A pipe gets the data byte for byte; a terminal sees it inert.
            let target = if stdout.is_terminal() {
                admin::ExportTarget::Terminal
            } else {
                admin::ExportTarget::File
            };
            let mut lock = std::io::BufWriter::new(stdout.lock());
            admin::export_named(store.as_ref(), project, format, target, naming, &mut lock)?;
            lock.flush()?;
        }
    }
    Ok(())
}

/// `kazi admin migrate`: copy the centre with a progress bar per table, then print what
/// was verified.
pub fn migrate(from: Option<&str>, to: &str, replace: bool) -> Result<()> {
    let from = from.context("--from sqlite:PATH is needed (the centre's database file)")?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix:>16} {bar:40} {pos}/{len} rows")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let result = migrate_centre(from, to, replace, &mut |table, done, total| {
        bar.set_prefix(table);
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let moved = result?;
    let shown = server::store::postgres_url_shown(to);
    for table in &moved {
        say!(
            "{:<16} {:>9} rows  sha256 {}",
            table.table,
            table.rows,
            &table.checksum[..16]
        )?;
    }
    say!("Moved the centre to {shown}: counts and checksums match on both sides.")?;
    say!("Next: kazi serve --db {shown} on each instance; devices keep their logins.")?;
    Ok(())
}

/// Let a reviewer act in a project (the server refuses them everywhere else).
pub fn user_assign(db: &str, name: &str, project: &str) -> Result<()> {
    let store = open(db)?;
    let now = Clock::system().now();
    let added = store.assign_reviewer(name, project, now)?;
    let (name, project) = (sanitize_line(name), sanitize_line(project));
    if added {
        say!("{name} now reviews project {project}.")?;
    } else {
        say!("{name} already reviews project {project}.")?;
    }
    Ok(())
}

/// The review queue: one line per item, oldest first.
pub fn review_list(db: &str, project: Option<&str>, reason: Option<&str>, all: bool) -> Result<()> {
    use kazi::server::store::review::{ReviewFilter, ReviewReason, ReviewState};
    let reason = match reason {
        Some(text) => Some(ReviewReason::parse(text).ok_or_else(|| {
            let names: Vec<&str> = ReviewReason::ALL.iter().map(|r| r.as_str()).collect();
            anyhow::anyhow!(
                "--reason must be one of {} (got '{}')",
                names.join(", "),
                sanitize_line(text)
            )
        })?),
        None => None,
    };
    let store = open(db)?;
    let now = Clock::system().now();
    let items = store.review_list(&ReviewFilter {
        project: project.map(str::to_string),
        reason,
        state: (!all).then_some(ReviewState::Open),
        ..ReviewFilter::default()
    })?;
    if items.is_empty() {
        say!(
            "The review queue is empty{}.",
            if all {
                ""
            } else {
                " (add --all for decided items)"
            }
        )?;
        return Ok(());
    }
    say!(
        "{:>6}  {:<13}  {:<16}  {:<16}  {:>6}  state",
        "item",
        "reason",
        "project",
        "task",
        "age"
    )?;
    for item in &items {
        let state = match (&item.verdict, item.lease) {
            (Some(v), _) => format!("decided: {}", v.kind.as_str()),
            (None, Some(l)) if l.expires > now => "open, being reviewed".to_string(),
            (None, _) => "open".to_string(),
        };
        say!(
            "{:>6}  {:<13}  {:<16}  {:<16}  {:>6}  {state}",
            item.id,
            item.reason.as_str(),
            sanitize_line(&item.project),
            sanitize_line(&item.task_ext),
            kazi::model::format_age(now - item.created),
        )?;
    }
    Ok(())
}

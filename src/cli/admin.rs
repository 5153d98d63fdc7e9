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

/// The server's log on standard error: one line per event with its fields as
/// `key=value`, at the levels `RUST_LOG` names (default `info`; `RUST_LOG=warn` keeps
/// refusals and errors only, `RUST_LOG=kazi=debug` more).
fn start_log() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// `kazi serve --ssh-listen`: where, with which host key, and the session limits.
pub struct SshArgs {
    pub listen: String,
    pub host_key: std::path::PathBuf,
    pub idle: std::time::Duration,
    pub per_user: usize,
    pub in_all: usize,
}

pub fn serve(db: &str, listen: &str, ssh: Option<SshArgs>) -> Result<()> {
    start_log();
    let store = server::open_store(db)?;
    let ssh_key = match &ssh {
        Some(SshArgs {
            host_key: key_file, ..
        }) => {
            let (key, made) = kazi::ssh::load_host_key(key_file)?;
            if made {
                say!(
                    "Made a new SSH host key {} (mode 0600).",
                    key_file.display()
                )?;
            }
            Some(key)
        }
        None => None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let ssh_task = match (ssh, ssh_key) {
            (Some(args), Some(key)) => {
                let ssh_listen = args.listen;
                let ssh_listener = tokio::net::TcpListener::bind(&ssh_listen)
                    .await
                    .with_context(|| format!("cannot listen for SSH on {ssh_listen}"))?;
                let ssh_addr = ssh_listener.local_addr()?;
                let fingerprint = kazi::ssh::host_key::fingerprint(&key);
                say!("Kazi SSH server on {ssh_addr}; host key fingerprint {fingerprint}")?;
                tracing::info!(addr = %ssh_addr, %fingerprint, "serving ssh");
                let mut stop = stop.clone();
                let ssh_shutdown = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                let config = kazi::ssh::SshConfig {
                    idle_timeout: args.idle,
                    max_sessions_per_user: args.per_user,
                    max_sessions: args.in_all,
                    ..kazi::ssh::SshConfig::new(key)
                };
                Some(tokio::spawn(kazi::ssh::serve(
                    ssh_listener,
                    store.clone(),
                    config,
                    ssh_shutdown,
                )))
            }
            _ => None,
        };
        let shown = server::store::postgres_url_shown(db);
        say!("Kazi server on http://{addr} with {shown}. Stop with Ctrl-C.")?;
        tracing::info!(%addr, db = %shown, "serving");
        let shutdown = async move {
            let _ = tokio::signal::ctrl_c().await;
            let _ = stop_tx.send(true);
        };
        server::serve(listener, store, ServerConfig::default(), shutdown).await?;
        if let Some(task) = ssh_task {
            task.await??;
        }
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
        let state = match (user.removed, user.disabled) {
            (Some(at), _) => format!(", removed {} (answers kept)", format_utc(at)),
            (None, Some(at)) => format!(", disabled since {}", format_utc(at)),
            (None, None) => String::new(),
        };
        say!(
            "{} ({}): {active} device(s) signed in{state}",
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

/// Register the SSH public keys of a .pub file for a user.
pub fn key_add(db: &str, name: &str, file: &Path) -> Result<()> {
    let text =
        fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let keys = admin::ssh_keys::parse_key_file(&file.display().to_string(), &text)?;
    let store = open(db)?;
    let added = admin::ssh_keys::add_keys(store.as_ref(), name, &keys, &Clock::system())?;
    let name = sanitize_line(name);
    for (key, added) in keys.iter().zip(added) {
        let what = match added {
            admin::SshKeyAdded::New { .. } => "added",
            admin::SshKeyAdded::AlreadyThere { .. } => "was already there",
            admin::SshKeyAdded::Renewed { .. } => "signs in again",
        };
        say!(
            "Key {} ({}) of {name} {what}.",
            key.fingerprint,
            key.comment
        )?;
    }
    say!("{name} connects with: ssh -p PORT {name}@SERVER (kazi serve --ssh-listen)")?;
    Ok(())
}

/// A user's SSH keys: fingerprint, comment, when added, whether it still signs in.
pub fn key_list(db: &str, name: &str) -> Result<()> {
    let store = open(db)?;
    let keys = admin::ssh_keys::list_keys(store.as_ref(), name)?;
    let shown = sanitize_line(name);
    if keys.is_empty() {
        say!(
            "{shown} has no SSH key; add one with kazi admin --db {db} user key add {shown} FILE.pub"
        )?;
    }
    for key in &keys {
        let state = match key.revoked {
            Some(at) => format!(
                "signed out {} (user revoke); key add again lets it in",
                format_utc(at)
            ),
            None => "signs in".to_string(),
        };
        say!(
            "{} {} \"{}\": added {}, device {}, {state}",
            key.fingerprint,
            key.public_key.split(' ').next().unwrap_or(""),
            sanitize_line(&key.comment),
            format_utc(key.added),
            key.device_id
        )?;
    }
    Ok(())
}

pub fn key_remove(db: &str, name: &str, fingerprint: &str) -> Result<()> {
    let store = open(db)?;
    admin::ssh_keys::remove_key(store.as_ref(), name, fingerprint)?;
    say!(
        "Key {} of {} removed; a session signed in with it ends now.",
        sanitize_line(fingerprint),
        sanitize_line(name)
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

/// `kazi admin lessons import PROJECT FILE`: the project's training set.
pub fn lessons_import(db: &str, project: &str, file: &Path) -> Result<()> {
    let store = open(db)?;
    let counts = admin::import_lessons(store.as_ref(), project, file)?;
    say!(
        "Imported the training set of {project}: {} lessons, {} exam tasks{}.",
        counts.lessons,
        counts.exam,
        if counts.retired > 0 {
            format!(" ({} earlier ones no longer used)", counts.retired)
        } else {
            String::new()
        }
    )?;
    Ok(())
}

/// `kazi admin class report CODE [--format csv]`: a class's report, read from the store.
pub fn class_report(db: &str, code: &str, csv: bool) -> Result<()> {
    let store = open(db)?;
    let typed = code.trim();
    let Some(code) = kazi::protocol::normalize_join_code(typed) else {
        anyhow::bail!(
            "'{}' is not a class code: 6 letters and digits, as the trainer's screen shows",
            kazi::model::sanitize_line(typed)
        );
    };
    let Some(report) = store.class_report(&code)? else {
        anyhow::bail!(
            "no class with code {code}; the trainer's screen shows it when the class starts"
        );
    };
    if csv {
        let text = admin::class_report_csv(&report)?;
        std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes())?;
    } else {
        for line in admin::class_report_table(&report).lines() {
            say!("{line}")?;
        }
    }
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

// The everyday admin commands: disable, enable and remove users; projects and tasks
// at a glance.

/// `user disable NAME` (`disabled`) and `user enable NAME`.
pub fn user_disable(db: &str, name: &str, disabled: bool) -> Result<()> {
    let store = open(db)?;
    let changed = admin::set_disabled(store.as_ref(), name, disabled)?;
    let name = sanitize_line(name);
    match (disabled, changed) {
        (true, true) => {
            say!("{name} is disabled: no device of theirs works, no code logs them in.")?;
            say!("Their tasks went back to the queue.")?;
            say!("To let {name} in again: kazi admin --db {db} user enable {name}")?;
        }
        (true, false) => say!("{name} was already disabled.")?,
        (false, true) => {
            say!("{name} is enabled: their signed-in devices work again, no new code needed.")?
        }
        (false, false) => say!("{name} was not disabled; nothing changed.")?,
    }
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

/// `user remove NAME`.
pub fn user_remove(db: &str, name: &str) -> Result<()> {
    let store = open(db)?;
    let removed = admin::remove_user(store.as_ref(), name)?;
    let name = sanitize_line(name);
    match removed {
        admin::Removed::Deleted => {
            say!("{name} is removed. They had given no answer: nothing of them is kept,")?;
            say!("and the name is free for a new user.")?;
        }
        admin::Removed::Retired { answers } => {
            say!(
                "{name} is removed: their devices are signed out, their tasks back in the queue."
            )?;
            say!("Their {answers} answer(s) stay under the name; no new user can take it.")?;
        }
    }
    Ok(())
}

/// A number, or "—" where it is not defined.
fn figure(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_string(), |v| format!("{v:.2}"))
}

/// `project list`: one line per project.
pub fn project_list(db: &str) -> Result<()> {
    let store = open(db)?;
    let projects = admin::project_overview(store.as_ref())?;
    if projects.is_empty() {
        say!("No projects yet; add one with kazi admin --db {db} project add FILE.toml")?;
        return Ok(());
    }
    let name_w = projects
        .iter()
        .map(|p| p.counts.project.name.len())
        .max()
        .unwrap_or(0)
        .max("project".len());
    say!(
        "{:<name_w$} {:<8} {:>7} {:>7} {:>6} {:>7} {:>7} {:>7} {:>5} {:>5}",
        "project",
        "kind",
        "tasks",
        "waiting",
        "leased",
        "done",
        "decided",
        "dispute",
        "alpha",
        "kappa"
    )?;
    for p in &projects {
        let c = &p.counts;
        say!(
            "{:<name_w$} {:<8} {:>7} {:>7} {:>6} {:>7} {:>7} {:>7} {:>5} {:>5}",
            c.project.name,
            c.project.kind.name(),
            c.total,
            c.waiting,
            c.leased,
            c.done,
            c.decided,
            c.disputes,
            figure(p.alpha),
            figure(p.kappa)
        )?;
    }
    for line in [
        "waiting: a slot free for the next worker; done: all answers in;",
        "decided: a final answer; dispute: in the review queue, answers too far apart.",
        "alpha, kappa: Krippendorff's alpha, Fleiss' kappa over the workers' answers",
        "(— until defined; entry projects agree field by field: see their export).",
    ] {
        say!("{line}")?;
    }
    Ok(())
}

/// `project agreement PROJECT`: one row per pair of workers who answered the same tasks.
pub fn project_agreement(
    db: &str,
    project: &str,
    format: admin::AgreementFormat,
    naming: admin::Naming,
) -> Result<()> {
    let store = open(db)?;
    let table = admin::pair_agreement(store.as_ref(), project, naming)?;
    let stdout = std::io::stdout();
    let inert = stdout.is_terminal();
    if table.rows.is_empty() {
        eprintln!(
            "No two workers of {} answered the same task yet.",
            sanitize_line(project)
        );
    }
    let mut out = std::io::BufWriter::new(stdout.lock());
    admin::write_pairs(&table, format, inert, &mut out)?;
    out.flush()?;
    if format == admin::AgreementFormat::Table && !table.rows.is_empty() {
        eprintln!(
            "tasks: answered by both; agreement: share of those with the same answer \
             (wer: mean word error rate, 0 = the same words)."
        );
    }
    Ok(())
}

/// `tasks list PROJECT [--state S] [--limit N]`: one line per task, bounded.
pub fn tasks_list(
    db: &str,
    project: &str,
    state: Option<admin::TaskState>,
    limit: u32,
) -> Result<()> {
    let store = open(db)?;
    let list = admin::task_list(store.as_ref(), project, state, limit)?;
    let which = match state {
        None => "",
        Some(admin::TaskState::Waiting) => " waiting",
        Some(admin::TaskState::Leased) => " leased",
        Some(admin::TaskState::Done) => " done",
        Some(admin::TaskState::Decided) => " decided",
    };
    if list.tasks.is_empty() {
        say!("No{which} tasks in {project}.")?;
        return Ok(());
    }
    say!(
        "{:<20} {:>7} {:>6} {:<16} text",
        "id",
        "answers",
        "leases",
        "final"
    )?;
    for task in &list.tasks {
        let id = sanitize_line(&task.id);
        let answers = format!("{}/{}", task.counted, list.overlap);
        let decided = task.decided.as_deref().map_or("—".into(), sanitize_line);
        let text = sanitize_line(&task.text);
        say!(
            "{:<20} {:>7} {:>6} {:<16} {}",
            kazi::model::fit(&id, 20, "…"),
            answers,
            task.live_leases,
            kazi::model::fit(&decided, 16, "…"),
            kazi::model::fit(&text, 24, "…")
        )?;
    }
    if list.matching > list.tasks.len() as u64 {
        say!(
            "Showing the first {} of {}{which} tasks; --limit N shows more (at most {}).",
            list.tasks.len(),
            list.matching,
            admin::TASK_LIST_MAX
        )?;
    } else {
        say!("{}{which} task(s).", list.matching)?;
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

/// `kazi admin review correct`: replace a task's gold answer; every worker scored on it
/// is scored again and told, their accuracy follows.
pub fn review_correct(
    db: &str,
    project: &str,
    task: &str,
    gold: &str,
    explanation: &str,
) -> Result<()> {
    let store = open(db)?;
    let schema = store
        .project(project)?
        .ok_or_else(|| anyhow::anyhow!("no project '{}'", sanitize_line(project)))?;
    let gold = admin::gold_from_text(&schema, gold, explanation).map_err(anyhow::Error::msg)?;
    let done = store.correct_gold(project, task, &gold, Clock::system().now())?;
    say!(
        "Gold of task {} in {} corrected: {} answer(s) scored again, {} verdict(s) changed; each worker is told at their next sync.",
        sanitize_line(task),
        sanitize_line(project),
        done.rescored,
        done.changed
    )?;
    Ok(())
}

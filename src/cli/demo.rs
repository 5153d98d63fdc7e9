//! `kazi demo`: a whole centre in one process. The queue server runs on a free loopback
//! port with its database in the data dir; the client talks to it over real HTTP.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use kazi::client::{self, Profile};
use kazi::model::{AnswerValue, Role};
use kazi::protocol::{AnswerUpload, ExamAnswer, ExamSubmission, SyncRequest, Want};
use kazi::server::{self, Clock, ServerConfig, Store, admin};

use super::admin::read_project;

pub fn run(
    data_dir: Option<PathBuf>,
    role: Role,
    project: Option<String>,
    keymap: Option<PathBuf>,
) -> Result<()> {
    let keymap = super::worker::keymap(keymap.as_deref())?;
    let (dir, fresh) = match data_dir {
        Some(d) => (d, false),
        None => (fresh_temp_dir()?, true),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let db = format!("sqlite:{}", dir.join("server.db").display());
    let store = server::open_store(&db)?;
    load_fixtures(store.as_ref())?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server_task = rt.spawn(server::serve(
        listener,
        Arc::clone(&store),
        ServerConfig::default(),
        async {
            let _ = stop_rx.await;
        },
    ));

    let home = dir.join("client");
    let profile = demo_profile(store.as_ref(), &home, role, &url)?;
    let result = if role == Role::Worker {
        kazi::tui::local::work(&profile, project, keymap)
    } else if role == Role::Trainer {
        kazi::tui::local::train(&profile, project, keymap)
    } else {
        seed_disputes(store.as_ref(), &rt, &url, &dir.join("seed"))
            .and_then(|()| kazi::tui::local::review::review(&profile, project, keymap))
    };

    let _ = stop_tx.send(());
    let _ = rt.block_on(async { tokio::time::timeout(Duration::from_secs(3), server_task).await });
    rt.shutdown_timeout(Duration::from_secs(1));
    if fresh {
        // The screen's own error, if any, comes first; then where the data is.
        let printed = say!(
            "Demo data kept in {}; continue with: kazi demo --data-dir {}",
            dir.display(),
            dir.display()
        );
        result?;
        printed?;
        return Ok(());
    }
    result
}

fn fresh_temp_dir() -> Result<PathBuf> {
    let n = getrandom::u64().unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("kazi-demo-{n:016x}"));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// The fixture projects: `fixtures/projects` under the working directory, else beside
/// the source tree this binary was built from.
fn fixtures_dir() -> Result<PathBuf> {
    let candidates = [
        PathBuf::from("fixtures/projects"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/projects"),
    ];
    candidates
        .into_iter()
        .find(|p| p.is_dir())
        .context("cannot find fixtures/projects; run the demo from the Kazi source folder")
}

/// Add every fixture project and import its tasks (same file name, .jsonl) and its
/// training set (.lessons.jsonl), once.
fn load_fixtures(store: &dyn Store) -> Result<()> {
    let dir = fixtures_dir()?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for file in files {
        let project = read_project(&file)?;
        admin::add_project(store, &project)?;
        let tasks = file.with_extension("jsonl");
        if tasks.is_file() {
            admin::import_tasks(store, &project.name, &tasks, &mut |_, _| {})
                .with_context(|| format!("importing {}", tasks.display()))?;
        }
        let lessons = file.with_extension("lessons.jsonl");
        if lessons.is_file() {
            admin::import_lessons(store, &project.name, &lessons)
                .with_context(|| format!("importing {}", lessons.display()))?;
        }
    }
    Ok(())
}

/// The demo user's profile: reuse the one from an earlier run (pointing it at this run's
/// port), or create the user and log in over HTTP like a real device.
fn demo_profile(store: &dyn Store, home: &Path, role: Role, url: &str) -> Result<Profile> {
    let name = role.as_str();
    if let Ok(mut profile) = Profile::load(home, name) {
        profile.set_server(url)?;
        return Ok(profile);
    }
    let mut own_code = None;
    for r in Role::ALL {
        // Demo users are named after their role.
        let code = admin::add_user(store, r.as_str(), r, &Clock::system())?;
        if r == role {
            own_code = Some(code);
        }
    }
    if let Some(code) = own_code {
        return Ok(client::login(home, name, url, name, &code)?);
    }
    bail!("no demo user for role {role}")
}

/// Demo products every seeded worker answers, all differently (one may be a control task).
const SEEDED_TASKS: u32 = 4;

/// Disputes for the reviewer to decide: three demo workers (`demo-w1..3`, logged in
/// over HTTP like real devices) pass the products exam as any worker must, then answer
/// the first products differently; the reviewer is assigned every project. Once per
/// data dir.
fn seed_disputes(
    store: &dyn Store,
    rt: &tokio::runtime::Runtime,
    url: &str,
    home: &Path,
) -> Result<()> {
    for project in store.project_names()? {
        store.assign_reviewer("reviewer", &project, Clock::system().now())?;
    }
    if Profile::load(home, "demo-w1").is_ok() {
        return Ok(());
    }
    let Some(products) = store.project("products")? else {
        return Ok(());
    };
    for w in 1..=3usize {
        let name = format!("demo-w{w}");
        let code = admin::add_user(store, &name, Role::Worker, &Clock::system())?;
        let profile = client::login(home, &name, url, &name, &code)?;
        let remote = client::Remote::new(url, &profile.token)?;
        if products.requires_qualification {
            pass_exam(rt, &remote, "products")?;
        }
        let want = SyncRequest {
            want: vec![Want {
                project: "products".into(),
                count: SEEDED_TASKS,
            }],
            kinds: vec!["classify".into()],
            ..SyncRequest::default()
        };
        let leases = rt.block_on(remote.sync(&want))?.leases;
        let answers = leases
            .iter()
            .enumerate()
            .map(|(j, lease)| {
                // A label of the task's own (the leases come in another order for each
                // worker, a control task among them), shifted by the worker: three
                // different labels on every task, each a three-way tie.
                let own = lease.text.bytes().map(usize::from).sum::<usize>();
                let label = (own + w) % products.labels.len();
                AnswerUpload {
                    id: j as u64 + 1,
                    task: lease.task,
                    value: AnswerValue::Labels(vec![products.labels[label].id.clone()]),
                    ago: 0,
                    replaces: None,
                }
            })
            .collect();
        let send = SyncRequest {
            answers,
            ..SyncRequest::default()
        };
        rt.block_on(remote.sync(&send))?;
    }
    Ok(())
}

/// Take the project's exam over HTTP and pass it, answering each task with the gold of
/// the fixture's exam task of the same text.
fn pass_exam(rt: &tokio::runtime::Runtime, remote: &client::Remote, project: &str) -> Result<()> {
    let lessons = fixtures_dir()?.join(format!("{project}.lessons.jsonl"));
    let mut gold = std::collections::HashMap::new();
    for line in std::fs::read_to_string(&lessons)?.lines() {
        let row: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("reading {}", lessons.display()))?;
        if let (Some(text), Some(label)) = (row["text"].as_str(), row["gold"].as_str()) {
            gold.insert(text.to_string(), label.to_string());
        }
    }
    let ask = SyncRequest {
        exams: vec![project.into()],
        kinds: vec!["classify".into()],
        ..SyncRequest::default()
    };
    let standing = rt.block_on(remote.sync(&ask))?.exams;
    let Some(attempt) = standing.into_iter().find_map(|s| s.attempt) else {
        bail!("the demo's {project} exam drew no attempt");
    };
    let answers = attempt
        .tasks
        .iter()
        .map(|task| {
            let label = gold.get(&task.text).with_context(|| {
                format!(
                    "no exam answer in {} for {:?}",
                    lessons.display(),
                    task.text
                )
            })?;
            Ok(ExamAnswer {
                item: task.item,
                value: AnswerValue::Labels(vec![label.clone()]),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let send = SyncRequest {
        exams: vec![project.into()],
        exam_answers: vec![ExamSubmission {
            attempt: attempt.id,
            answers,
        }],
        kinds: vec!["classify".into()],
        ..SyncRequest::default()
    };
    let graded = rt.block_on(remote.sync(&send))?.exams;
    if graded.iter().any(|s| s.qualified.is_some()) {
        Ok(())
    } else {
        bail!("the demo's {project} exam was not passed: {graded:?}")
    }
}

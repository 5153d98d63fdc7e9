//! Transcript drafts under SIGKILL: a worker process (this test binary, re-run as a
//! child) corrects the machine drafts of the fixture's clips in the transcribe screen
//! through the real `Session`, its sync engine talking to a real server; the parent kills
//! it at random moments and checks that the store holds the text and cursor of the last
//! keystroke (at most the one in flight is lost), that the restarted screen brings it
//! back as it was, and that every transcript the screen sent reaches the server once.
//!
//! `KAZI_CRASH_LOOPS=100` for more kills; `KAZI_CRASH_SEED=N` repeats a run.

#[path = "support/server_harness.rs"]
mod harness;
#[path = "support/crash_kit.rs"]
mod kit;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kazi::client::{self, LocalStore, PlanConfig, Profile, SyncConfig, SyncEngine};
use kazi::model::transcript::Transcript;
use kazi::model::{AnswerValue, Project, Role};
use kazi::server::admin::{self, ExportFormat};
use kazi::tui::{Event, Key, Keymap, Theme};

const CHILD_ENV: &str = "KAZI_CRASH_TRANSCRIBE_CHILD";
const CHILD_SEED_ENV: &str = "KAZI_CRASH_TRANSCRIBE_SEED";
const PROFILE: &str = "w";
const CHILD_LIFETIME: Duration = Duration::from_secs(30);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/projects")
        .join(name)
}

fn sauti() -> Project {
    let text = std::fs::read_to_string(fixture("sauti.toml")).unwrap();
    let mut p = Project::from_toml("sauti.toml", &text).unwrap();
    p.overlap = 1;
    // Every clip leased in import order (the reference file has every transcript).
    p.gold_rate = 0.0;
    p
}

/// The reference transcript of the clip whose machine draft is `draft`.
fn gold_of(draft: Option<&str>) -> Option<String> {
    std::fs::read_to_string(fixture("reference/sauti.jsonl"))
        .ok()?
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|r| r["draft"].as_str() == draft)
        .and_then(|r| r["gold"].as_str().map(str::to_string))
}

/// What a child said before it died.
#[derive(Default)]
struct Said {
    /// Per task, the last draft (JSON) the screen had saved when the key returned, and
    /// whether another key was in flight after it.
    typed: BTreeMap<i64, (String, bool)>,
    /// The draft the screen showed when a task first came on screen, per task.
    resumed: BTreeMap<i64, String>,
    sent: Vec<i64>,
    error: Option<String>,
}

fn run_child(exe: &Path, home: &Path, seed: u64, kill_after: Duration) -> Said {
    let mut child = Command::new(exe)
        .args([
            "child_transcriber",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .env(CHILD_SEED_ENV, seed.to_string())
        .env("KAZI_HOME", home)
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the worker process");
    let stdout = child.stdout.take().expect("child stdout");
    let reader = std::thread::spawn(move || {
        let mut said = Said::default();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // The first line follows the test harness's "test child_transcriber ... ".
            let Some(start) = ["key ", "typed ", "resumed ", "sent ", "child-error"]
                .iter()
                .filter_map(|w| line.find(w))
                .min()
            else {
                continue;
            };
            let line = &line[start..];
            let words: Vec<&str> = line.trim_end().splitn(3, ' ').collect();
            match words.as_slice() {
                ["key", task] => {
                    let task: i64 = task.parse().expect("task id");
                    said.typed.entry(task).or_insert((String::new(), true)).1 = true;
                }
                ["typed", task, json] => {
                    said.typed
                        .insert(task.parse().expect("task id"), (json.to_string(), false));
                }
                ["resumed", task, json] => {
                    said.resumed
                        .insert(task.parse().expect("task id"), json.to_string());
                }
                ["sent", task] => said.sent.push(task.parse().expect("task id")),
                _ if line.starts_with("child-error") => said.error = Some(line.to_string()),
                _ => {}
            }
        }
        said
    });
    std::thread::sleep(kill_after);
    // SAFETY: kill(2) on the pid of our own child, which has not been waited for yet, so
    // the pid cannot have been reused.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGKILL);
    }
    let status = child.wait().expect("wait for the worker process");
    let said = reader.join().expect("child output read");
    assert!(
        said.error.is_none() && (status.code().is_none() || status.success()),
        "worker process failed on its own ({status}): {:?}",
        said.error
    );
    said
}

fn draft_json(draft: Transcript) -> String {
    serde_json::to_string(&AnswerValue::Transcript(draft)).unwrap()
}

#[test]
fn transcript_drafts_survive_sigkill_with_text_and_cursor() {
    let started = Instant::now();
    let seed = kit::seed("crash_transcribe");
    let loops = kit::loops("crash_transcribe", 10);
    let mut rng = kit::Rng::new(seed);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt.block_on(harness::start());
    server.add_project(&sauti());
    admin::import_tasks(
        &*server.store,
        "sauti",
        &fixture("reference/sauti.jsonl"),
        &mut |_, _| {},
    )
    .unwrap();
    let code = admin::add_user(&*server.store, "neema", Role::Worker, &server.clock).unwrap();
    let home = tempfile::tempdir().unwrap();
    let profile = client::login(home.path(), PROFILE, &server.base, "neema", &code).unwrap();
    let client_db = profile.db_path();
    let exe = std::env::current_exe().expect("test binary path");

    let mut sent: BTreeSet<i64> = BTreeSet::new();
    let mut left: BTreeMap<i64, String> = BTreeMap::new();
    let (mut checked, mut resumed_checked) = (0, 0);
    for round in 0..loops {
        let kill_after = Duration::from_millis(rng.between(150, 1200));
        let said = run_child(&exe, home.path(), rng.next_u64(), kill_after);
        for (task, json) in &said.resumed {
            if let Some(before) = left.get(task) {
                assert_eq!(
                    json, before,
                    "round {round}: task {task} came back otherwise"
                );
                resumed_checked += 1;
            }
        }
        sent.extend(&said.sent);
        let store = LocalStore::open(&client_db).unwrap();
        // A child killed before its first key changed nothing: what was left stays.
        if said.typed.is_empty() {
            continue;
        }
        left.clear();
        for (task, (json, in_flight)) in &said.typed {
            if sent.contains(task) {
                continue;
            }
            let stored = store
                .draft(*task)
                .unwrap()
                .map(|d| serde_json::to_string(&d).unwrap());
            if !in_flight {
                assert_eq!(
                    stored.as_deref(),
                    Some(json.as_str()),
                    "round {round}: task {task}'s draft is not its last keystroke"
                );
                checked += 1;
            }
            if let Some(s) = stored {
                left.insert(*task, s);
            }
        }
    }

    let out = kit::kazi(&["sync", "--profile", PROFILE], Some(home.path()));
    assert!(out.contains(" 0 unsent"), "kazi sync left answers: {out}");
    let export = server.export("sauti", ExportFormat::Jsonl);
    let answered: usize = export
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| v["answers"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(
        answered >= sent.len(),
        "{answered} answers on the server, {} sent",
        sent.len()
    );
    assert!(
        answered <= sent.len() + loops,
        "answers the screen never sent"
    );
    assert!(
        checked > 0,
        "no draft was checked: the kills came too early"
    );
    eprintln!(
        "crash_transcribe: {loops} kills, {} transcripts sent, {checked} drafts checked after \
         a kill, {resumed_checked} found again on restart, {:.1} s",
        sent.len(),
        started.elapsed().as_secs_f64()
    );
}

/// The worker process of the test above; does nothing unless started by it.
#[test]
#[ignore = "run as a child process by transcript_drafts_survive_sigkill_with_text_and_cursor"]
fn child_transcriber() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    if let Err(e) = child_main() {
        println!("child-error {e}");
        std::process::exit(3);
    }
}

fn child_main() -> Result<(), String> {
    let seed: u64 = std::env::var(CHILD_SEED_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or("no seed")?;
    let mut rng = kit::Rng::new(seed);
    let home = PathBuf::from(std::env::var_os("KAZI_HOME").ok_or("no KAZI_HOME")?);
    let profile = Profile::load(&home, PROFILE).map_err(|e| e.to_string())?;
    let config = SyncConfig {
        plan: PlanConfig {
            prefetch: 10,
            batch: 10,
        },
        send_after_answers: 2,
        send_after: Duration::from_millis(100),
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(500),
        exhausted_retry: Duration::from_secs(1),
    };
    let (tx, statuses) = mpsc::channel();
    let engine = SyncEngine::start(&profile, config, move |s| {
        let _ = tx.send(s);
    })
    .map_err(|e| e.to_string())?;
    let mut store = LocalStore::open(&profile.db_path()).map_err(|e| e.to_string())?;
    let projects = store.projects().map_err(|e| e.to_string())?;
    let theme = Theme {
        color: false,
        ascii: false,
    };
    let mut session = kazi::tui::local::session(
        &mut store,
        &engine,
        Keymap::default(),
        theme,
        Some("sauti".into()),
        projects,
    );
    let mut out = std::io::stdout().lock();
    let mut say = |line: String| -> Result<(), String> {
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())
    };
    let draft_of = |session: &kazi::tui::local::LocalSession<'_>| {
        session
            .app()
            .transcribe()
            .and_then(|s| s.current())
            .map(|c| Transcript {
                text: c.area.text().to_string(),
                cursor: Some(c.area.cursor()),
            })
    };
    let mut seen: BTreeSet<i64> = BTreeSet::new();
    let end = Instant::now() + CHILD_LIFETIME;
    while Instant::now() < end {
        while let Ok(status) = statuses.try_recv() {
            session.notice(status.into());
        }
        let Some(current) = session.app().transcribe().and_then(|s| s.current()) else {
            if let Ok(status) = statuses.recv_timeout(Duration::from_millis(200)) {
                session.notice(status.into());
            }
            continue;
        };
        let task = current.task.id;
        let gold = gold_of(current.task.draft()).ok_or("a clip not in the fixture")?;
        let have = current.area.text().to_string();
        let at_end = current.area.cursor() == have.len();
        if seen.insert(task) {
            let shown = draft_of(&session).ok_or("no text on screen")?;
            say(format!("resumed {task} {}", draft_json(shown)))?;
        }
        // Back over what differs (word by word, from the end), then type the rest.
        let key = if !at_end {
            Key::parse("ctrl-end").unwrap()
        } else if !gold.starts_with(&have) {
            Key::parse("ctrl-w").unwrap()
        } else if let Some(c) = gold[have.len()..].chars().next() {
            Key::char(c)
        } else {
            Key::parse("ctrl-s").unwrap()
        };
        let sending = key == Key::parse("ctrl-s").unwrap();
        say(format!("key {task}"))?;
        session.feed(Event::Key(key));
        if sending {
            if session
                .app()
                .transcribe()
                .and_then(|s| s.current())
                .map(|c| c.task.id)
                == Some(task)
            {
                return Err(format!(
                    "transcript of task {task} not sent: {}",
                    session.app().message().unwrap_or("no reason")
                ));
            }
            say(format!("sent {task}"))?;
        } else if let Some(shown) = draft_of(&session) {
            say(format!("typed {task} {}", draft_json(shown)))?;
        }
        std::thread::sleep(Duration::from_millis(rng.between(0, 15)));
    }
    Ok(())
}

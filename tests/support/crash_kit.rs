//! Shared pieces of the thin-link, crash and clock tests: a seeded random source whose
//! seed is printed (so a failing run can be repeated), loop counts from the environment,
//! reading an export back, and running the `kazi` binary.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// splitmix64: small, seedable, good enough to pick delays and labels.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// The run's seed: `KAZI_CRASH_SEED` when set (to repeat a run), else from the clock.
/// Printed either way.
pub fn seed(test: &str) -> u64 {
    let seed = std::env::var("KAZI_CRASH_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    eprintln!("{test}: seed {seed} (repeat with KAZI_CRASH_SEED={seed})");
    seed
}

/// How many kill loops to run: `KAZI_CRASH_LOOPS` when set, else `default` (CI).
pub fn loops(test: &str, default: usize) -> usize {
    let n = std::env::var("KAZI_CRASH_LOOPS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default);
    eprintln!("{test}: {n} loops (more with KAZI_CRASH_LOOPS=300)");
    n
}

/// The labels of the test project (`support/server_harness.rs`), by key.
pub const LABELS: [(char, &str); 3] = [('1', "food"), ('2', "toys"), ('3', "tools")];

/// "item 17" -> 17: tasks are imported as `t{n}` with text `item {n}`.
pub fn item_number(text: &str) -> u64 {
    text.strip_prefix("item ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a test task text: {text:?}"))
}

/// One answer as the export shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub worker: String,
    pub value: String,
    pub time: String,
    pub superseded: bool,
}

/// A JSONL export read back: item number -> its answers.
pub fn parse_export(jsonl: &str) -> BTreeMap<u64, Vec<Exported>> {
    let mut out = BTreeMap::new();
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        let record: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("export line is not JSON ({e}): {line}"));
        let text = record["text"].as_str().expect("export record has text");
        let answers = record["answers"]
            .as_array()
            .expect("export record has answers")
            .iter()
            .map(|a| Exported {
                worker: a["worker"].as_str().unwrap_or_default().to_string(),
                value: a["value"].as_str().unwrap_or_default().to_string(),
                time: a["time"].as_str().unwrap_or_default().to_string(),
                superseded: a["superseded"].as_bool().unwrap_or(false),
            })
            .collect();
        out.insert(item_number(text), answers);
    }
    out
}

/// `tasks.jsonl` with tasks `t1..=tn` ("item N") in `dir`.
pub fn write_tasks(dir: &Path, n: usize) -> std::path::PathBuf {
    let path = dir.join("tasks.jsonl");
    let mut text = String::new();
    for i in 1..=n {
        text.push_str(&format!("{{\"id\":\"t{i}\",\"text\":\"item {i}\"}}\n"));
    }
    std::fs::write(&path, text).expect("write tasks file");
    path
}

/// Run the `kazi` binary and return its stdout; panics with its stderr on failure.
pub fn kazi(args: &[&str], home: Option<&Path>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kazi"));
    cmd.args(args);
    if let Some(home) = home {
        cmd.env("KAZI_HOME", home);
    }
    let out = cmd.output().expect("run kazi");
    assert!(
        out.status.success(),
        "kazi {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The code in `kazi admin user add`'s "... One-time enrolment code: CODE" line.
pub fn enrolment_code(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.split("enrolment code: ").nth(1))
        .map(|c| c.trim().to_string())
        .unwrap_or_else(|| panic!("no enrolment code in: {stdout}"))
}

/// A `kazi serve` process on `db` listening on `addr`, once it accepts connections.
pub fn start_server(db: &str, addr: std::net::SocketAddr) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_kazi"))
        .args(["serve", "--db", db, "--listen", &addr.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("start kazi serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200))
        .is_err()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "kazi serve did not come up on {addr}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child
}

/// SIGKILL a child process and reap it.
pub fn sigkill(child: &mut std::process::Child) {
    // SAFETY: kill(2) on the pid of our own child, not yet waited for: not reused.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGKILL);
    }
    let _ = child.wait();
}

// ---- Kill loops: the test binary re-run as a worker process, killed by the parent ----

/// Set in a worker process started by `run_child`, with its seed.
const CHILD_ENV: &str = "KAZI_CRASH_CHILD";
const CHILD_SEED_ENV: &str = "KAZI_CRASH_CHILD_SEED";
/// The profile the worker logs in on.
pub const PROFILE: &str = "w";
/// A child that is never killed (the parent died) stops by itself.
const CHILD_LIFETIME: std::time::Duration = std::time::Duration::from_secs(30);

/// Start this test binary again as a worker running the ignored test `test`, let it work
/// for `kill_after`, SIGKILL it, and give back the lines it wrote in full (a line cut off
/// by the kill was not said), each from the first of `words` on: the test harness writes
/// "test NAME ... " without a newline before the worker's first line. A worker that gave
/// up by itself ("child-error ...", or an exit code) fails the test.
pub fn run_child(
    test: &str,
    home: &Path,
    seed: u64,
    kill_after: std::time::Duration,
    words: &[&str],
) -> Vec<String> {
    use std::io::{BufRead, BufReader};
    let exe = std::env::current_exe().expect("test binary path");
    let mut child = Command::new(exe)
        .args([
            test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .env(CHILD_SEED_ENV, seed.to_string())
        .env("KAZI_HOME", home)
        .env("RUST_BACKTRACE", "0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("start the worker process");
    let stdout = child.stdout.take().expect("child stdout");
    let words: Vec<String> = words
        .iter()
        .map(|w| w.to_string())
        .chain(["child-error".to_string()])
        .collect();
    let reader = std::thread::spawn(move || {
        let mut said = Vec::new();
        let mut lines = BufReader::new(stdout);
        let mut line = String::new();
        loop {
            line.clear();
            match lines.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) if !line.ends_with('\n') => break,
                Ok(_) => {}
            }
            if let Some(start) = words.iter().filter_map(|w| line.find(w.as_str())).min() {
                said.push(line[start..].trim_end().to_string());
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
    let error = said.iter().find(|l| l.starts_with("child-error"));
    assert!(
        error.is_none() && (status.code().is_none() || status.success()),
        "worker process failed on its own ({status}): {error:?}"
    );
    said
}

/// How a worker process syncs and which project it opens.
pub struct ChildSetup {
    pub project: &'static str,
    pub prefetch: usize,
    /// Answers that start a send at once.
    pub send_after_answers: u32,
}

/// A worker process at work: the real session over the profile's store, its sync engine
/// talking to the test's server, and the line it says to the parent.
pub struct Worker<'a> {
    pub session: kazi::tui::local::LocalSession<'a>,
    pub statuses: std::sync::mpsc::Receiver<kazi::client::SyncStatus>,
    pub rng: Rng,
    pub profile: kazi::client::Profile,
    out: std::io::StdoutLock<'static>,
    end: std::time::Instant,
}

impl Worker<'_> {
    /// Tell the parent `line`, flushed at once: what is said before a kill counts.
    pub fn say(&mut self, line: String) -> Result<(), String> {
        use std::io::Write;
        writeln!(self.out, "{line}").map_err(|e| e.to_string())?;
        self.out.flush().map_err(|e| e.to_string())
    }

    /// Whether the worker's lifetime is not over (a worker never killed stops).
    pub fn working(&self) -> bool {
        std::time::Instant::now() < self.end
    }

    /// Hand the sync engine's reports to the session.
    pub fn pump(&mut self) {
        while let Ok(status) = self.statuses.try_recv() {
            self.session.notice(status.into());
        }
    }

    /// Nothing on screen yet: wait a little for the sync engine.
    pub fn wait(&mut self) {
        if let Ok(status) = self
            .statuses
            .recv_timeout(std::time::Duration::from_millis(200))
        {
            self.session.notice(status.into());
        }
    }
}

/// The worker process's side of `run_child`: runs `work` when this process is one (else
/// does nothing); a failure is said as "child-error ..." and ends the process (code 3).
pub fn child(setup: ChildSetup, work: impl FnOnce(&mut Worker<'_>) -> Result<(), String>) {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    if let Err(e) = worker(setup, work) {
        println!("child-error {e}");
        std::process::exit(3);
    }
}

fn worker(
    setup: ChildSetup,
    work: impl FnOnce(&mut Worker<'_>) -> Result<(), String>,
) -> Result<(), String> {
    use kazi::client::{LocalStore, PlanConfig, Profile, SyncConfig, SyncEngine};
    use std::time::Duration;
    let seed: u64 = std::env::var(CHILD_SEED_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or("no seed")?;
    let home = std::path::PathBuf::from(std::env::var_os("KAZI_HOME").ok_or("no KAZI_HOME")?);
    let profile = Profile::load(&home, PROFILE).map_err(|e| e.to_string())?;
    let config = SyncConfig {
        plan: PlanConfig {
            prefetch: setup.prefetch,
            batch: setup.prefetch,
        },
        send_after_answers: setup.send_after_answers,
        send_after: Duration::from_millis(100),
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(500),
        exhausted_retry: Duration::from_secs(1),
    };
    let (tx, statuses) = std::sync::mpsc::channel();
    let engine = SyncEngine::start(&profile, config, move |s| {
        let _ = tx.send(s);
    })
    .map_err(|e| e.to_string())?;
    let mut store = LocalStore::open(&profile.db_path()).map_err(|e| e.to_string())?;
    let projects = store.projects().map_err(|e| e.to_string())?;
    let theme = kazi::tui::Theme {
        color: false,
        ascii: false,
    };
    let session = kazi::tui::local::session(
        &mut store,
        &engine,
        kazi::tui::Keymap::default(),
        theme,
        Some(setup.project.into()),
        projects,
    );
    let mut worker = Worker {
        session,
        statuses,
        rng: Rng::new(seed),
        profile,
        out: std::io::stdout().lock(),
        end: std::time::Instant::now() + CHILD_LIFETIME,
    };
    work(&mut worker)
}

/// What a typist worker (entry, transcribe) says: "key T" before each key, "typed T
/// JSON" with the draft on screen after it, "resumed T JSON" when task T first comes on
/// screen, "sent T" once its answer is sent.
pub const TYPIST_WORDS: [&str; 4] = ["key ", "typed ", "resumed ", "sent "];

/// A typist's lines read back.
#[derive(Default)]
pub struct Typist {
    /// Per task, the last draft (JSON) the screen had saved when the key returned, and
    /// whether another key was in flight after it.
    pub typed: BTreeMap<i64, (String, bool)>,
    /// The draft the screen showed when a task first came on screen, per task.
    pub resumed: BTreeMap<i64, String>,
    pub sent: Vec<i64>,
}

impl Typist {
    pub fn read(lines: &[String]) -> Typist {
        let mut said = Typist::default();
        for line in lines {
            let words: Vec<&str> = line.splitn(3, ' ').collect();
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
                _ => {}
            }
        }
        said
    }
}

/// The parent's books over a typist's kill rounds.
#[derive(Default)]
pub struct DraftBooks {
    pub sent: std::collections::BTreeSet<i64>,
    /// The draft each task had in the store after the last kill: what must come back.
    left: BTreeMap<i64, String>,
    /// Drafts found to be the last keystroke after a kill.
    pub checked: usize,
    /// Drafts that came back on screen as they were left.
    pub resumed_checked: usize,
}

impl DraftBooks {
    /// After kill `round`: each task the worker found again came back as the store held
    /// it, and the store (`client_db`) holds the draft of each task's last keystroke,
    /// unless another key was in flight or the task was sent.
    pub fn check(&mut self, round: usize, said: &Typist, client_db: &Path) {
        for (task, json) in &said.resumed {
            if let Some(before) = self.left.get(task) {
                assert_eq!(
                    json, before,
                    "round {round}: task {task} came back otherwise"
                );
                self.resumed_checked += 1;
            }
        }
        self.sent.extend(&said.sent);
        let store = kazi::client::LocalStore::open(client_db).expect("open the client store");
        // A worker killed before its first key changed nothing: what was left stays.
        if said.typed.is_empty() {
            return;
        }
        self.left.clear();
        for (task, (json, in_flight)) in &said.typed {
            if self.sent.contains(task) {
                continue;
            }
            let stored = store
                .draft(*task)
                .expect("read a draft")
                .map(|d| serde_json::to_string(&d).expect("draft as JSON"));
            if !in_flight {
                assert_eq!(
                    stored.as_deref(),
                    Some(json.as_str()),
                    "round {round}: task {task}'s draft is not its last keystroke"
                );
                self.checked += 1;
            }
            if let Some(s) = stored {
                self.left.insert(*task, s);
            }
        }
    }

    /// After the last kill and a `kazi sync`: every answer sent is in the export (JSONL),
    /// and at most one more per kill (sent as the kill came, before "sent" was said).
    pub fn check_export(&self, export: &str, loops: usize) {
        let answered: usize = export
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("export line"))
            .map(|v| v["answers"].as_array().map_or(0, Vec::len))
            .sum();
        assert!(
            answered >= self.sent.len(),
            "{answered} answers on the server, {} sent",
            self.sent.len()
        );
        assert!(
            answered <= self.sent.len() + loops,
            "answers the screen never sent"
        );
        assert!(
            self.checked > 0,
            "no draft was checked: the kills came too early"
        );
    }
}

/// Add worker "neema" on the server at `base` and log in on `PROFILE` under `home`, as
/// the kill loops' worker does: the client store's path.
pub fn enrol_worker(
    store: &dyn kazi::server::Store,
    clock: &kazi::server::Clock,
    base: &str,
    home: &Path,
) -> std::path::PathBuf {
    let code = kazi::server::admin::add_user(store, "neema", kazi::model::Role::Worker, clock)
        .expect("add the worker");
    kazi::client::login(home, PROFILE, base, "neema", &code)
        .expect("log the worker in")
        .db_path()
}

/// The runtime the test server runs on while the parent drives the loop.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

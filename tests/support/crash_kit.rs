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

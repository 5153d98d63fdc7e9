//! The real `kazi work` process in a pseudo-terminal at 80x24, on a profile whose local
//! store holds 10,000 cached tasks, with its server running: time from spawn to the first
//! frame showing the task, resident memory once settled, and bytes written while idle.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use kazi::client::{self, LocalStore};

use crate::common::{self, BenchServer, Report, median};
use crate::pty::{MemoryRuns, PtyChild};

const CACHED_TASKS: usize = 10_000;
const COLD_RUNS: usize = 10;
const RSS_RUNS: usize = 3;
/// Ctrl-Q: quit (send what is unsent, restore the terminal).
const QUIT: &[u8] = b"\x11";

/// The binary cargo built beside this benchmark.
pub fn kazi_binary() -> Result<PathBuf> {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_kazi"));
    if !path.exists() {
        bail!(
            "the kazi binary is missing at {}; run `cargo bench --bench perf`, which builds it",
            path.display()
        );
    }
    Ok(path)
}

/// The longest word of the first cached task: the first frame shows it unbroken (cells
/// of one word are written together; spaces may be skipped with cursor moves).
fn marker(title: &str) -> String {
    title
        .split_whitespace()
        .max_by_key(|w| w.len())
        .unwrap_or(title)
        .to_string()
}

/// `kazi work --profile bench --project PROJECT` in an 80x24 pseudo-terminal, under the
/// command in `KAZI_BENCH_RUNNER` if one is set (words split at spaces; `.ci/hot-code` runs
/// the client under callgrind this way to learn which code a start runs).
pub fn spawn(binary: &Path, home: &Path, project: &str) -> Result<PtyChild> {
    let runner = std::env::var("KAZI_BENCH_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    let mut cmd = match words.next() {
        Some(program) => {
            let mut cmd = Command::new(program);
            cmd.args(words).arg(binary);
            cmd
        }
        None => Command::new(binary),
    };
    cmd.args(["work", "--profile", "bench", "--project", project])
        .env("KAZI_HOME", home)
        .env("TERM", "xterm-256color")
        .env("LANG", "C.UTF-8")
        .env_remove("NO_COLOR")
        .env_remove("KAZI_ASCII");
    Ok(PtyChild::spawn(cmd, 80, 24)?)
}

/// Quit as a worker does, so the next start finds the store closed cleanly.
pub fn quit(mut child: PtyChild) {
    child.send(QUIT);
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.child.try_wait() {
            return;
        }
        let _ = child.drain(Duration::from_millis(20));
    }
    // Dropping the child kills it.
}

pub fn run(report: &mut Report, titles: &[String]) -> Result<()> {
    let binary = kazi_binary()?;
    let project = common::products()?;
    let server = BenchServer::start(kazi::server::ServerConfig::default())?;
    server.add_project(&project)?;
    server.import(&project.name, titles, titles.len())?;
    let code = server.add_worker("baraka")?;
    let home = tempfile::tempdir()?;
    let profile = client::login(home.path(), "bench", &server.url(), "baraka", &code)?;
    {
        let mut store = LocalStore::open(&profile.db_path())?;
        // Ids far from the server's: these tasks are only shown, never answered here.
        common::fill_cache(&mut store, &project, titles, CACHED_TASKS, 1_000_000)?;
    }
    let word = marker(&titles[0]);

    let mut cold_ms = Vec::with_capacity(COLD_RUNS);
    let mut memory = MemoryRuns::default();
    let mut idle_bytes = Vec::new();
    for run in 0..COLD_RUNS {
        let start = Instant::now();
        let mut child = spawn(&binary, home.path(), &project.name)?;
        let shown = child
            .wait_for(&word, Duration::from_secs(10))
            .with_context(|| {
                format!(
                    "kazi work showed no task within 10 s; it wrote: {}",
                    String::from_utf8_lossy(&child.seen)
                )
            })?;
        cold_ms.push((shown - start).as_secs_f64() * 1e3);
        if run < RSS_RUNS {
            // Settle: the engine starts and syncs once; its report redraws the status line.
            child.collect_for(Duration::from_secs(1));
            memory.take(&child)?;
            idle_bytes.push(child.collect_for(Duration::from_secs(2)).len() as f64);
        }
        quit(child);
    }
    report.add("cold_start_ms", median(&cold_ms), "ms");
    report.add("client_rss_10k_kb", median(memory.rss_kb()), "KB");
    report.add(
        "idle_terminal_bytes",
        idle_bytes.iter().copied().fold(0.0, f64::max),
        "bytes",
    );
    let mut sorted = cold_ms.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "  cold starts (ms): {}; {}",
        sorted
            .iter()
            .map(|v| format!("{v:.1}"))
            .collect::<Vec<_>>()
            .join(" "),
        memory
    );
    Ok(())
}

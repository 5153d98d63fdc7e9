//! The built-in SSH server with the real OpenSSH client in a pseudo-terminal at 80x24,
//! against the real `kazi serve`: bytes on the SSH channel per key on the worker screen
//! (what the client receives for one answer and the next task) and on the review screen
//! (open an item, move the mark, pick, the queue again), and the server's resident
//! memory per idle session (20 sessions open beside none). Skipped loudly without ssh.

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::common::{Report, median};
use crate::pty::PtyChild;
use crate::ssh_centre::Centre;

const KEYS: usize = 41;
const IDLE_SESSIONS: usize = 20;

fn ssh(centre: &Centre, user: &str) -> Result<PtyChild> {
    let mut cmd = Command::new("ssh");
    cmd.arg("-tt")
        .args(centre.ssh_args(user, &centre.key(user)))
        .env("TERM", "xterm-256color")
        .env("LANG", "C.UTF-8");
    Ok(PtyChild::spawn(cmd, 80, 24)?)
}

fn server_rss_kb(centre: &Centre) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", centre.server.id()))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS for kazi serve")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("VmRSS without a number")?
        .parse()?)
}

pub fn run(report: &mut Report, _titles: &[String]) -> Result<()> {
    let names: Vec<String> = (0..=IDLE_SESSIONS).map(|i| format!("s{i:02}")).collect();
    let mut users: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "worker")).collect();
    users.push(("reviewer", "reviewer"));
    let Some(centre) = Centre::start(&users) else {
        println!("  *** SKIPPED: the OpenSSH client is not installed ***");
        return Ok(());
    };

    let mut worker = ssh(&centre, &names[0])?;
    worker
        .wait_for("Product categories", Duration::from_secs(20))
        .context("no worker screen over SSH")?;
    worker.collect_for(Duration::from_millis(500));
    let mut per_key = Vec::with_capacity(KEYS);
    for i in 0..KEYS {
        // Labels 1..9 in turn: each answers and shows the next task.
        let key = b'1' + (i % 9) as u8;
        worker.send(&[key]);
        per_key.push(worker.drain(Duration::from_millis(250)).len() as f64);
    }
    report.add("ssh_bytes_per_key", median(&per_key), "bytes");
    let mut sorted = per_key.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "  bytes per key on the SSH channel: min {} max {}",
        sorted[0],
        sorted[sorted.len() - 1]
    );
    worker.send(b"\x11");
    drop(worker);
    review_bytes(&centre, &names[1..4], report)?;

    std::thread::sleep(Duration::from_millis(500));
    let before = server_rss_kb(&centre)?;
    let mut idle = Vec::with_capacity(IDLE_SESSIONS);
    for name in &names[1..] {
        let mut s = ssh(&centre, name)?;
        s.wait_for("Product categories", Duration::from_secs(20))
            .with_context(|| format!("no screen for {name}"))?;
        idle.push(s);
    }
    for s in &mut idle {
        s.collect_for(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let after = server_rss_kb(&centre)?;
    report.add(
        "ssh_rss_per_idle_session_kb",
        (after - before) / IDLE_SESSIONS as f64,
        "KB",
    );
    println!("  kazi serve RSS: {before} KB with no session, {after} KB with {IDLE_SESSIONS}");
    Ok(())
}

/// Bytes per key on the review screen: items are opened, marked and picked in turn.
fn review_bytes(centre: &Centre, workers: &[String], report: &mut Report) -> Result<()> {
    let workers: Vec<&str> = workers.iter().map(String::as_str).collect();
    let db = centre.db.as_str();
    crate::ssh_centre::kazi(&[
        "admin", "--db", db, "user", "assign", "reviewer", "products",
    ]);
    let disputes = centre.seed_disputes(&workers, 60);
    let mut reviewer = ssh(centre, "reviewer")?;
    reviewer
        .wait_for("Review queue", Duration::from_secs(20))
        .context("no review screen over SSH")?;
    reviewer.collect_for(Duration::from_millis(500));
    let mut per_key = Vec::new();
    // As the review screen's own figure (benches/perf/review.rs): enter opens, the
    // arrows move the mark, 1 picks and the queue comes back.
    for _ in 0..disputes.min(KEYS / 5) {
        for key in [&b"\r"[..], b"\x1b[B", b"\x1b[B", b"\x1b[A", b"1"] {
            reviewer.send(key);
            per_key.push(reviewer.drain(Duration::from_millis(250)).len() as f64);
        }
    }
    anyhow::ensure!(!per_key.is_empty(), "no disputes to review over SSH");
    report.add("ssh_review_bytes_per_key", median(&per_key), "bytes");
    reviewer.send(b"\x11");
    Ok(())
}

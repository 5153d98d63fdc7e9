//! Kazi's benchmark, run by `cargo bench --bench perf`: measures what issue 3 promises
//! (wire bytes, answer-to-frame time, terminal bytes, memory, start-up, server throughput
//! and sync latency) on real SQLite files, real HTTP on loopback and the real binary in a
//! pseudo-terminal. Prints each figure as `name: value unit`, then a verdict per target.
//!
//! `cargo bench --bench perf -- session process` runs only the named parts
//! (session, offline, process, throughput, fleet, postgres, abuse, entry, ssh, audio,
//! transcribe). The postgres part measures PostgreSQL with 1 and 3 instances when
//! `KAZI_TEST_PG` names a database.

#[path = "perf/audio.rs"]
mod audio;
#[path = "../tests/support/balancer.rs"]
mod balancer;
#[path = "perf/common.rs"]
mod common;
#[path = "perf/entry.rs"]
mod entry;
#[path = "../tests/support/link.rs"]
mod link;
#[path = "perf/load.rs"]
mod load;
#[path = "../tests/support/pg.rs"]
mod pg;
#[path = "perf/postgres.rs"]
mod postgres;
#[path = "perf/process.rs"]
mod process;
#[path = "perf/pty.rs"]
mod pty;
#[path = "perf/review.rs"]
mod review;
#[path = "perf/session.rs"]
mod session;
#[path = "perf/ssh.rs"]
mod ssh;
#[path = "../tests/support/ssh_centre.rs"]
mod ssh_centre;
#[path = "perf/transcribe.rs"]
mod transcribe;

use std::time::Instant;

use anyhow::Result;

use common::Report;

type Part = fn(&mut Report, &[String]) -> Result<()>;

const PARTS: &[(&str, Part)] = &[
    ("session", session::online),
    ("offline", session::offline),
    ("process", process::run),
    ("throughput", load::throughput),
    ("fleet", load::fleet),
    ("postgres", postgres::run),
    ("abuse", load::abuse),
    ("entry", entry::run),
    ("ssh", ssh::run),
    ("audio", audio::run),
    ("transcribe", transcribe::run),
    ("review", review::run),
];

/// A target: the figure it judges and whether a value meets it.
struct Target {
    what: &'static str,
    check: fn(&Report) -> Option<bool>,
}

const TARGETS: &[Target] = &[
    Target {
        what: "audio_wire_bytes_per_speech_second <= 2000 (16 kbit/s)",
        check: |r| Some(r.get("audio_wire_bytes_per_speech_second")? <= 2000.0),
    },
    Target {
        what: "play_key_to_first_pcm_ms <= 30",
        check: |r| Some(r.get("play_key_to_first_pcm_ms")? <= 30.0),
    },
    Target {
        what: "wire_bytes_per_task <= 250",
        check: |r| Some(r.get("wire_bytes_per_task")? <= 250.0),
    },
    Target {
        what: "wire_bytes_login_to_first_task <= 8000",
        check: |r| Some(r.get("wire_bytes_login_to_first_task")? <= 8000.0),
    },
    Target {
        what: "answer_to_next_frame_us <= 2000 online",
        check: |r| Some(r.get("answer_to_next_frame_us")? <= 2000.0),
    },
    Target {
        what: "answer_to_next_frame_us <= 2000 offline",
        check: |r| Some(r.get("answer_to_next_frame_offline_us")? <= 2000.0),
    },
    Target {
        what: "terminal_bytes_per_key <= 300 (median)",
        check: |r| Some(r.get("terminal_bytes_per_key")? <= 300.0),
    },
    Target {
        what: "ssh_bytes_per_key <= 300 (median, on the SSH channel, worker screen)",
        check: |r| Some(r.get("ssh_bytes_per_key")? <= 300.0),
    },
    Target {
        what: "ssh_review_bytes_per_key <= 300 (median, on the SSH channel, review screen)",
        check: |r| Some(r.get("ssh_review_bytes_per_key")? <= 300.0),
    },
    Target {
        what: "review_terminal_bytes_per_key <= 300 (median, review screen at 80x24)",
        check: |r| Some(r.get("review_terminal_bytes_per_key")? <= 300.0),
    },
    Target {
        what: "idle_terminal_bytes == 0",
        check: |r| Some(r.get("idle_terminal_bytes")? == 0.0),
    },
    Target {
        what: "client_rss_10k_kb <= 12000",
        check: |r| Some(r.get("client_rss_10k_kb")? <= 12000.0),
    },
    Target {
        what: "client_rss_kb <= 16000 (200 cached clips, a transcribe task open)",
        check: |r| Some(r.get("client_rss_kb")? <= 16000.0),
    },
    Target {
        what: "cold_start_ms <= 20",
        check: |r| Some(r.get("cold_start_ms")? <= 20.0),
    },
    Target {
        what: "server_answers_per_s >= 30% of raw_sqlite_inserts_per_s",
        check: |r| Some(r.get("server_answers_per_s")? >= 0.3 * r.get("raw_sqlite_inserts_per_s")?),
    },
    Target {
        what: "typing_terminal_bytes_per_char <= 40 (median, form field at 80x24)",
        check: |r| Some(r.get("typing_terminal_bytes_per_char")? <= 40.0),
    },
    Target {
        what: "validate_form_us <= 100 (largest fixture form)",
        check: |r| Some(r.get("validate_form_us")? <= 100.0),
    },
    Target {
        what: "answer_to_next_frame_us <= 2000 for a form",
        check: |r| Some(r.get("answer_to_next_frame_entry_us")? <= 2000.0),
    },
    Target {
        what: "typing_terminal_bytes_per_char <= 40 (median, transcript at 80x24)",
        check: |r| Some(r.get("typing_terminal_bytes_per_char_transcript")? <= 40.0),
    },
    Target {
        what: "answer_to_next_frame_us <= 2000 for a transcript",
        check: |r| Some(r.get("answer_to_next_frame_transcript_us")? <= 2000.0),
    },
    Target {
        what: "sync_p99_ms <= 100 with 1000 clients",
        check: |r| Some(r.get("sync_p99_ms")? <= 100.0),
    },
    Target {
        what: "sync_p99_ms_under_abuse <= 100 (one account's worst syncs beside)",
        check: |r| Some(r.get("sync_p99_ms_under_abuse")? <= 100.0),
    },
];

fn main() -> Result<()> {
    // Cargo passes `--bench`; any other word picks parts by name.
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let titles = common::titles()?;
    let mut report = Report::default();
    let start = Instant::now();
    let mut failed = Vec::new();
    for (name, part) in PARTS {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == name) {
            continue;
        }
        println!("## {name}");
        let began = Instant::now();
        if let Err(e) = part(&mut report, &titles) {
            println!("  FAILED: {e:#}");
            failed.push(*name);
        }
        println!("  ({:.1} s)", began.elapsed().as_secs_f64());
        // Write back what this part left dirty, so its disk traffic does not stall the
        // fsyncs of the next.
        // SAFETY: sync(2) takes no arguments and cannot fail.
        unsafe { libc::sync() };
    }
    println!(
        "\n## verdicts ({:.0} s in all)",
        start.elapsed().as_secs_f64()
    );
    for target in TARGETS {
        let verdict = match (target.check)(&report) {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "not measured",
        };
        println!("{verdict:>12}  {}", target.what);
    }
    if !failed.is_empty() {
        anyhow::bail!("parts failed: {}", failed.join(", "));
    }
    Ok(())
}

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

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kazi::model::transcript::Transcript;
use kazi::model::{AnswerValue, Project};
use kazi::server::admin::{self, ExportFormat};
use kazi::tui::{Event, Key};

const CHILD: &str = "child_transcriber";

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

fn draft_json(draft: Transcript) -> String {
    serde_json::to_string(&AnswerValue::Transcript(draft)).unwrap()
}

#[test]
fn transcript_drafts_survive_sigkill_with_text_and_cursor() {
    let started = Instant::now();
    let seed = kit::seed("crash_transcribe");
    let loops = kit::loops("crash_transcribe", 10);
    let mut rng = kit::Rng::new(seed);
    let rt = kit::runtime();
    let server = rt.block_on(harness::start());
    server.add_project(&sauti());
    admin::import_tasks(
        &*server.store,
        "sauti",
        &fixture("reference/sauti.jsonl"),
        &mut |_, _| {},
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let client_db = kit::enrol_worker(&*server.store, &server.clock, &server.base, home.path());

    let mut books = kit::DraftBooks::default();
    for round in 0..loops {
        let kill_after = Duration::from_millis(rng.between(150, 1200));
        let lines = kit::run_child(
            CHILD,
            home.path(),
            rng.next_u64(),
            kill_after,
            &kit::TYPIST_WORDS,
        );
        books.check(round, &kit::Typist::read(&lines), &client_db);
    }

    let out = kit::kazi(&["sync", "--profile", kit::PROFILE], Some(home.path()));
    assert!(out.contains(" 0 unsent"), "kazi sync left answers: {out}");
    books.check_export(&server.export("sauti", ExportFormat::Jsonl), loops);
    eprintln!(
        "crash_transcribe: {loops} kills, {} transcripts sent, {} drafts checked after \
         a kill, {} found again on restart, {:.1} s",
        books.sent.len(),
        books.checked,
        books.resumed_checked,
        started.elapsed().as_secs_f64()
    );
}

/// The worker process of the test above; does nothing unless started by it.
#[test]
#[ignore = "run as a child process by transcript_drafts_survive_sigkill_with_text_and_cursor"]
fn child_transcriber() {
    let setup = kit::ChildSetup {
        project: "sauti",
        prefetch: 10,
        send_after_answers: 2,
    };
    kit::child(setup, |w| {
        let draft_of = |w: &kit::Worker<'_>| {
            w.session
                .app()
                .transcribe()
                .and_then(|s| s.current())
                .map(|c| Transcript {
                    text: c.area.text().to_string(),
                    cursor: Some(c.area.cursor()),
                })
        };
        let mut seen: BTreeSet<i64> = BTreeSet::new();
        while w.working() {
            w.pump();
            let Some(current) = w.session.app().transcribe().and_then(|s| s.current()) else {
                w.wait();
                continue;
            };
            let task = current.task.id;
            let gold = gold_of(current.task.draft()).ok_or("a clip not in the fixture")?;
            let have = current.area.text().to_string();
            let at_end = current.area.cursor() == have.len();
            if seen.insert(task) {
                let shown = draft_of(w).ok_or("no text on screen")?;
                w.say(format!("resumed {task} {}", draft_json(shown)))?;
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
            w.say(format!("key {task}"))?;
            w.session.feed(Event::Key(key));
            if sending {
                if w.session
                    .app()
                    .transcribe()
                    .and_then(|s| s.current())
                    .map(|c| c.task.id)
                    == Some(task)
                {
                    return Err(format!(
                        "transcript of task {task} not sent: {}",
                        w.session.app().message().unwrap_or("no reason")
                    ));
                }
                w.say(format!("sent {task}"))?;
            } else if let Some(shown) = draft_of(w) {
                w.say(format!("typed {task} {}", draft_json(shown)))?;
            }
            std::thread::sleep(Duration::from_millis(w.rng.between(0, 15)));
        }
        Ok(())
    });
}

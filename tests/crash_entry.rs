//! Drafts of forms under SIGKILL: a worker process (this test binary, re-run as a child)
//! types business cards into the entry screen through the real `Session`, its sync engine
//! talking to a real server; the parent kills it at random moments and checks that the
//! store holds the form as of the last keystroke (at most the one in flight is lost),
//! that the restarted screen brings it back with its cursor, and that every form the
//! screen sent reaches the server once.
//!
//! `KAZI_CRASH_LOOPS=100` for more kills; `KAZI_CRASH_SEED=N` repeats a run.

#[path = "support/server_harness.rs"]
mod harness;
#[path = "support/crash_kit.rs"]
mod kit;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use kazi::model::form::{FieldPath, FormValues};
use kazi::model::{AnswerValue, Project};
use kazi::server::admin::{self, ExportFormat};
use kazi::tui::{Event, Key};

const CHILD: &str = "child_typist";

fn receipts() -> Project {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/projects/receipts.toml");
    let mut p =
        Project::from_toml("receipts.toml", &std::fs::read_to_string(path).unwrap()).unwrap();
    p.overlap = 1;
    // Every document leased in import order (the reference file has every entry).
    p.gold_rate = 0.0;
    p
}

fn draft_json(values: &FormValues) -> String {
    serde_json::to_string(&AnswerValue::Form(values.clone())).unwrap()
}

#[test]
fn form_drafts_survive_sigkill_with_every_value_and_the_cursor() {
    let started = Instant::now();
    let seed = kit::seed("crash_entry");
    let loops = kit::loops("crash_entry", 12);
    let mut rng = kit::Rng::new(seed);
    let rt = kit::runtime();
    let server = rt.block_on(harness::start());
    server.add_project(&receipts());
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/projects/reference/receipts.jsonl");
    admin::import_tasks(&*server.store, "receipts", &fixture, &mut |_, _| {}).unwrap();
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
    books.check_export(&server.export("receipts", ExportFormat::Jsonl), loops);
    eprintln!(
        "crash_entry: {loops} kills, {} forms sent, {} drafts checked after a kill, \
         {} found again on restart, {:.1} s",
        books.sent.len(),
        books.checked,
        books.resumed_checked,
        started.elapsed().as_secs_f64()
    );
}

/// What the typist enters on each card: doc kind, name, phone.
fn card_target(task: i64) -> [(&'static str, String); 3] {
    [
        ("doc_kind", "card".to_string()),
        ("person", format!("Amina Wanjiru {task}")),
        ("phone", "0722 123 456".to_string()),
    ]
}

/// The next key a typist presses to bring the form to its target: from whatever the
/// form holds (a restored draft included) and wherever the cursor is.
fn next_key(places: &[FieldPath], at: &FieldPath, values: &FormValues, task: i64) -> Key {
    let target = card_target(task);
    let Some((i, (id, want))) = target
        .iter()
        .enumerate()
        .find(|(_, (id, want))| values.get(&FieldPath::Field(id.to_string())) != want)
    else {
        return Key::parse("ctrl-s").unwrap();
    };
    let here = places.iter().position(|p| p == at).unwrap_or(0);
    let there = places
        .iter()
        .position(|p| *p == FieldPath::Field(id.to_string()))
        .unwrap_or(i);
    if here < there {
        return Key::parse("tab").unwrap();
    }
    if here > there {
        return Key::parse("backtab").unwrap();
    }
    if *id == "doc_kind" {
        return Key::char('c');
    }
    let have = values.get(at);
    match want.strip_prefix(have) {
        Some(rest) if !rest.is_empty() => Key::char(rest.chars().next().unwrap_or(' ')),
        _ => Key::parse("backspace").unwrap(),
    }
}

/// The worker process of the test above; does nothing unless started by it.
#[test]
#[ignore = "run as a child process by form_drafts_survive_sigkill_with_every_value_and_the_cursor"]
fn child_typist() {
    let setup = kit::ChildSetup {
        project: "receipts",
        prefetch: 10,
        send_after_answers: 2,
    };
    kit::child(setup, |w| {
        let mut seen: BTreeSet<i64> = BTreeSet::new();
        while w.working() {
            w.pump();
            let Some(form) = w.session.app().entry().and_then(|e| e.current()) else {
                w.wait();
                continue;
            };
            let task = form.task.id;
            let key = next_key(&form.places, &form.at, &form.values, task);
            let resumed = seen.insert(task).then(|| draft_json(&form.draft()));
            if let Some(json) = resumed {
                w.say(format!("resumed {task} {json}"))?;
            }
            let sending = key == Key::parse("ctrl-s").unwrap();
            w.say(format!("key {task}"))?;
            w.session.feed(Event::Key(key));
            if sending {
                if let Some(message) = w.session.app().message() {
                    return Err(format!("form of task {task} not sent: {message}"));
                }
                w.say(format!("sent {task}"))?;
            } else if let Some(form) = w.session.app().entry().and_then(|e| e.current()) {
                let json = draft_json(&form.draft());
                w.say(format!("typed {task} {json}"))?;
            }
            std::thread::sleep(Duration::from_millis(w.rng.between(0, 15)));
        }
        Ok(())
    });
}

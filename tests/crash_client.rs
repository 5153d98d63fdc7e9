//! Crash loops for the worker's machine: a worker process (this test binary, re-run as a
//! child) answers tasks through the worker screen's `Session` while its sync engine talks
//! to a real server; the parent SIGKILLs it at random moments, checks the local store,
//! restarts it, and at the end checks the server. Proves that no answer the screen
//! confirmed is lost or counted twice, and that saved drafts come back.
//!
//! `KAZI_CRASH_LOOPS=300` for more kills; `KAZI_CRASH_SEED=N` repeats a run.

#[path = "support/server_harness.rs"]
mod harness;
#[path = "support/crash_kit.rs"]
mod kit;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use kazi::client::LocalStore;
use kazi::model::AnswerValue;
use kazi::server::admin::ExportFormat;
use kazi::tui::{Event, Key};

const CHILD: &str = "child_worker";
/// The label every draft holds, so the parent knows what to find.
const DRAFT_LABEL: &str = "tools";

/// What a child said before it died.
#[derive(Default)]
struct Said {
    /// Task id -> (item number, label) the screen confirmed.
    confirmed: Vec<(i64, u64, String)>,
    /// Task ids whose draft was saved.
    drafts: Vec<i64>,
}

fn run_child(home: &Path, seed: u64, kill_after: Duration) -> Said {
    let lines = kit::run_child(CHILD, home, seed, kill_after, &["confirmed ", "draft "]);
    let mut said = Said::default();
    for line in &lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["confirmed", task, n, label] => said.confirmed.push((
                task.parse().expect("task id"),
                n.parse().expect("item number"),
                label.to_string(),
            )),
            ["draft", task] => said.drafts.push(task.parse().expect("task id")),
            _ => {}
        }
    }
    said
}

/// The local outbox: task -> value JSON, read straight from the client's database.
fn local_outbox(db: &Path) -> BTreeMap<i64, Vec<String>> {
    let conn = rusqlite::Connection::open(db).expect("open client db");
    // A worker killed before it first opened its store (a loaded machine starts the
    // process slowly) left no outbox: nothing in it, and any answer it confirmed would
    // be missing below.
    let has_outbox: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox')",
            [],
            |r| r.get(0),
        )
        .expect("schema query");
    if !has_outbox {
        return BTreeMap::new();
    }
    let mut stmt = conn
        .prepare("SELECT task, value FROM outbox WHERE undone = 0")
        .expect("outbox query");
    let mut out: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for row in stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .expect("outbox rows")
    {
        let (task, value) = row.expect("outbox row");
        out.entry(task).or_default().push(value);
    }
    out
}

fn live_leases(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open server db");
    conn.query_row("SELECT count(*) FROM leases WHERE live = 1", [], |r| {
        r.get(0)
    })
    .expect("count leases")
}

fn labels_json(label: &str) -> String {
    serde_json::to_string(&AnswerValue::Labels(vec![label.into()])).unwrap()
}

#[test]
fn confirmed_answers_and_drafts_survive_sigkill() {
    let started = Instant::now();
    let seed = kit::seed("crash_client");
    let loops = kit::loops("crash_client", 25);
    let mut rng = kit::Rng::new(seed);
    let rt = kit::runtime();
    let server = rt.block_on(harness::start());
    server.add_project(&harness::project(1));
    server.import_numbered("shop", loops * 120 + 400);
    let home = tempfile::tempdir().unwrap();
    let client_db = kit::enrol_worker(&*server.store, &server.clock, &server.base, home.path());
    let server_db = server.dir.path().join("server.db");

    // Item number and label of every confirmed answer, by task id.
    let mut confirmed: BTreeMap<i64, (u64, String)> = BTreeMap::new();
    let mut unconfirmed_seen: BTreeSet<i64> = BTreeSet::new();
    let mut drafts_checked = 0;
    for round in 0..loops {
        let kill_after = Duration::from_millis(rng.between(20, 900));
        let said = run_child(home.path(), rng.next_u64(), kill_after);
        for (task, n, label) in &said.confirmed {
            let earlier = confirmed.insert(*task, (*n, label.clone()));
            assert!(
                earlier.is_none(),
                "round {round}: task {task} was confirmed twice (shown again after its answer)"
            );
        }

        // The dead worker's store: every confirmed answer is there (or, pruned after the
        // server acknowledged it, on the server); at most one more per kill, the answer
        // committed just before its 'confirmed' line could be written.
        let outbox = local_outbox(&client_db);
        let on_server = kit::parse_export(&server.export("shop", ExportFormat::Jsonl));
        for (task, (n, label)) in &confirmed {
            let local = outbox.get(task).map(Vec::as_slice).unwrap_or_default();
            let remote = on_server.get(n).map(Vec::as_slice).unwrap_or_default();
            assert!(
                local.contains(&labels_json(label)) || remote.iter().any(|a| &a.value == label),
                "round {round}: confirmed answer to task {task} (item {n}) lost: local \
                 {local:?}, server {remote:?}"
            );
            assert!(local.len() <= 1, "task {task} answered twice locally");
        }
        let before = unconfirmed_seen.len();
        unconfirmed_seen.extend(outbox.keys().filter(|t| !confirmed.contains_key(t)));
        assert!(
            unconfirmed_seen.len() - before <= 1,
            "round {round}: {} answers saved that the screen never confirmed in one kill: {:?}",
            unconfirmed_seen.len() - before,
            unconfirmed_seen
        );

        // Drafts saved before the kill are back, unless their task got answered.
        let store = LocalStore::open(&client_db).unwrap();
        for task in &said.drafts {
            if outbox.contains_key(task) || confirmed.contains_key(task) {
                continue;
            }
            let draft = store.draft(*task).unwrap();
            assert_eq!(
                draft,
                Some(AnswerValue::Labels(vec![DRAFT_LABEL.into()])),
                "round {round}: draft of task {task} lost"
            );
            drafts_checked += 1;
        }
    }

    // Bring the device up to date headless, as a worker would with `kazi sync`.
    let out = kit::kazi(&["sync", "--profile", kit::PROFILE], Some(home.path()));
    assert!(out.contains(" 0 unsent"), "kazi sync left answers: {out}");

    let export = kit::parse_export(&server.export("shop", ExportFormat::Jsonl));
    let mut answered = 0;
    for (n, answers) in &export {
        assert!(answers.len() <= 1, "item {n} answered twice: {answers:?}");
        answered += answers.len();
    }
    for (task, (n, label)) in &confirmed {
        let answers = &export[n];
        assert_eq!(
            answers.len(),
            1,
            "confirmed answer to task {task} (item {n}) not on the server"
        );
        assert_eq!(&answers[0].value, label, "item {n}: value on the server");
    }
    let extra = answered - confirmed.len();
    assert!(
        extra <= loops,
        "{extra} answers on the server that the screen never confirmed, over {loops} kills"
    );
    // No lease stranded by a kill between the server's reply and the client's commit:
    // after the final sync the worker's cache holds every task the server leased to it.
    let store = LocalStore::open(&client_db).unwrap();
    assert_eq!(
        live_leases(&server_db),
        i64::from(store.counts(Some("shop")).unwrap().queued),
        "leases the server holds for the worker vs tasks in its cache"
    );
    eprintln!(
        "crash_client: {loops} kills, {} confirmed answers, {extra} committed unconfirmed, \
         {drafts_checked} drafts found again, {:.1} s",
        confirmed.len(),
        started.elapsed().as_secs_f64()
    );
}

/// The worker process of the test above; does nothing unless started by it.
#[test]
#[ignore = "run as a child process by confirmed_answers_and_drafts_survive_sigkill"]
fn child_worker() {
    let setup = kit::ChildSetup {
        project: "shop",
        prefetch: 20,
        send_after_answers: 3,
    };
    kit::child(setup, |w| {
        // Drafts through a second connection: the session holds the first.
        let drafts = LocalStore::open(&w.profile.db_path()).map_err(|e| e.to_string())?;
        let draft = AnswerValue::Labels(vec![DRAFT_LABEL.into()]);
        while w.working() {
            w.pump();
            let Some(current) = w.session.app().classify().and_then(|c| c.current()) else {
                w.wait();
                continue;
            };
            let task = current.task.clone();
            if w.rng.chance(0.25) {
                let pick = w.rng.below(5) as usize;
                let next = w
                    .session
                    .app()
                    .classify()
                    .and_then(|c| c.queue().get(pick))
                    .map(|t| t.id);
                if let Some(next) = next {
                    // Half-done work on a task further down: saved as typed.
                    drafts.save_draft(next, &draft).map_err(|e| e.to_string())?;
                    w.say(format!("draft {next}"))?;
                }
            }
            std::thread::sleep(Duration::from_millis(w.rng.between(0, 8)));
            let (key, label) = kit::LABELS[w.rng.below(3) as usize];
            w.session.feed(Event::Key(Key::char(key)));
            if let Some(message) = w.session.app().message() {
                return Err(format!(
                    "answer to task {} not confirmed: {message}",
                    task.id
                ));
            }
            // The screen has moved on: this answer is confirmed.
            w.say(format!(
                "confirmed {} {} {label}",
                task.id,
                kit::item_number(&task.text)
            ))?;
        }
        Ok(())
    });
}

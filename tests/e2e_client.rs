//! The real client against a real server on 127.0.0.1:0: login over HTTP, the local
//! store, planned syncs, idempotent resends, undo corrections, skips, late answers and
//! overlap across devices. Answers are checked in the server's own export.

#[path = "support/server_harness.rs"]
mod harness;

use std::path::Path;

use kazi::client::{self, LocalStore, PlanConfig, Profile, Remote, SyncOutcome};
use kazi::model::{AnswerValue, Role, Task};
use kazi::server::admin::{self, ExportFormat};

/// A server on its own runtime, so the (blocking) client API can be called from the test.
struct Centre {
    rt: tokio::runtime::Runtime,
    server: harness::TestServer,
    home: tempfile::TempDir,
}

impl Centre {
    fn new(overlap: u32, tasks: usize) -> Centre {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(harness::start());
        server.add_project(&harness::project(overlap));
        if tasks > 0 {
            server.import_numbered("shop", tasks);
        }
        Centre {
            rt,
            server,
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// Enrol `user` and log a device in as profile `user`.
    fn device(&self, user: &str) -> Device {
        let code =
            admin::add_user(&*self.server.store, user, Role::Worker, &self.server.clock).unwrap();
        let profile =
            client::login(self.home.path(), user, &self.server.base, user, &code).unwrap();
        let store = LocalStore::open(&profile.db_path()).unwrap();
        let remote = Remote::new(&profile.server, &profile.token).unwrap();
        Device {
            profile,
            store,
            remote,
        }
    }

    fn export(&self) -> Vec<serde_json::Value> {
        self.server
            .export("shop", ExportFormat::Jsonl)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Counted answers per task id ("t1"...) as (worker, label).
    fn answers(&self) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for rec in self.export() {
            for a in rec["answers"].as_array().unwrap() {
                if a.get("superseded").and_then(|s| s.as_bool()) == Some(true) {
                    continue;
                }
                out.push((
                    rec["id"].as_str().unwrap().to_string(),
                    a["worker"].as_str().unwrap().to_string(),
                    a["value"].as_str().unwrap().to_string(),
                ));
            }
        }
        out
    }
}

struct Device {
    profile: Profile,
    store: LocalStore,
    remote: Remote,
}

impl Device {
    fn sync(&mut self, centre: &Centre) -> SyncOutcome {
        centre
            .rt
            .block_on(client::sync_once(
                &self.remote,
                &mut self.store,
                Some("shop"),
                PlanConfig {
                    prefetch: 3,
                    batch: 0,
                },
            ))
            .unwrap()
    }

    fn next(&self) -> Option<Task> {
        self.store
            .queued_tasks("shop", 0, 1)
            .unwrap()
            .0
            .into_iter()
            .next()
    }

    fn answer(&mut self, label: &str) -> Task {
        let task = self.next().expect("a task is cached");
        self.store
            .record_answer(&task, &AnswerValue::Labels(vec![label.into()]))
            .unwrap();
        task
    }
}

#[test]
fn login_writes_a_private_token_and_a_reusable_profile() {
    let centre = Centre::new(1, 3);
    let device = centre.device("amina");
    let token = device.profile.dir.join("token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "token must be private");
    }
    let again = Profile::load(centre.home.path(), "amina").unwrap();
    assert_eq!(again.token, device.profile.token);
    assert_eq!(again.role, Role::Worker);
    // The code was for one use only.
    let code_reuse = client::login(
        centre.home.path(),
        "other",
        &centre.server.base,
        "amina",
        "ABCD-EFGH-JKMN-PQRS",
    );
    let err = code_reuse.unwrap_err().to_string();
    assert!(
        err.contains("enrolment code is wrong, used or expired"),
        "{err}"
    );
}

#[test]
fn one_sync_brings_schema_and_tasks_then_answers_reach_the_server() {
    let centre = Centre::new(1, 5);
    let mut dev = centre.device("amina");
    match dev.sync(&centre) {
        SyncOutcome::Synced { applied, .. } => {
            assert_eq!(applied.schemas, 1);
            assert_eq!(applied.new_tasks, 3);
        }
        other => panic!("expected a sync, got {other:?}"),
    }
    dev.answer("food");
    dev.answer("toys");
    dev.sync(&centre);
    assert_eq!(dev.store.counts(None).unwrap().unsent, 0);
    let mut answers: Vec<(String, String)> = centre
        .answers()
        .into_iter()
        .map(|(_, w, v)| (w, v))
        .collect();
    answers.sort();
    assert_eq!(
        answers,
        vec![
            ("amina".into(), "food".into()),
            ("amina".into(), "toys".into())
        ]
    );
    // Topped up again, then a sync with nothing to say is not made at all.
    dev.sync(&centre);
    assert_eq!(dev.sync(&centre), SyncOutcome::Idle);
}

#[test]
fn a_resend_after_a_lost_reply_counts_once() {
    let centre = Centre::new(1, 4);
    let mut dev = centre.device("amina");
    dev.sync(&centre);
    dev.answer("food");
    dev.sync(&centre);
    // The reply was "lost": mark the answer unsent again, as if the ack never came.
    mark_all_unsent(&dev.profile.db_path());
    assert_eq!(dev.store.counts(None).unwrap().unsent, 1);
    dev.sync(&centre);
    assert_eq!(
        dev.store.counts(None).unwrap().unsent,
        0,
        "the duplicate is acknowledged"
    );
    assert_eq!(dev.store.counts(None).unwrap().refused, 0);
    assert_eq!(centre.answers().len(), 1, "counted once");
}

fn mark_all_unsent(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute("UPDATE outbox SET sent = 0", []).unwrap();
}

#[test]
fn undo_after_sending_replaces_the_answer_on_the_server() {
    let centre = Centre::new(1, 3);
    let mut dev = centre.device("amina");
    dev.sync(&centre);
    let task = dev.answer("food");
    dev.sync(&centre);
    let undone = dev.store.undo_last("shop").unwrap().unwrap();
    assert_eq!(undone.task.id, task.id);
    assert_eq!(dev.next().unwrap().id, task.id, "the task is back in front");
    dev.answer("tools");
    dev.sync(&centre);
    let answers = centre.answers();
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0].2, "tools");
    let rec = centre
        .export()
        .into_iter()
        .find(|r| !r["answers"].as_array().unwrap().is_empty())
        .unwrap();
    assert_eq!(rec["final"], "tools", "the decision follows the correction");
}

#[test]
fn skipped_tasks_go_to_someone_else() {
    let centre = Centre::new(1, 3);
    let mut a = centre.device("amina");
    let mut b = centre.device("baraka");
    a.sync(&centre);
    let skipped = a.next().unwrap();
    a.store.skip(skipped.id).unwrap();
    a.sync(&centre);
    b.sync(&centre);
    let (b_tasks, _) = b.store.queued_tasks("shop", 0, 10).unwrap();
    assert!(
        b_tasks.iter().any(|t| t.id == skipped.id),
        "released task is leased to the next worker"
    );
    let (a_tasks, _) = a.store.queued_tasks("shop", 0, 10).unwrap();
    assert!(!a_tasks.iter().any(|t| t.id == skipped.id));
}

#[test]
fn overlap_is_shared_across_three_devices() {
    // 5 tasks wanting 2 answers each: 10 slots for 3 workers taking 3 at a time.
    let centre = Centre::new(2, 5);
    let mut devices: Vec<Device> = ["amina", "baraka", "chen"]
        .iter()
        .map(|u| centre.device(u))
        .collect();
    for _round in 0..5 {
        let mut leased = std::collections::BTreeMap::<i64, usize>::new();
        for d in &mut devices {
            d.sync(&centre);
            for t in d.store.queued_tasks("shop", 0, 100).unwrap().0 {
                *leased.entry(t.id).or_default() += 1;
            }
        }
        // Never more live leases of one task than it still needs.
        assert!(leased.values().all(|&n| n <= 2), "{leased:?}");
        for d in &mut devices {
            while d.next().is_some() {
                d.answer("food");
            }
            d.sync(&centre);
        }
    }
    let mut per_task = std::collections::BTreeMap::<String, Vec<String>>::new();
    for (task, worker, _) in centre.answers() {
        per_task.entry(task).or_default().push(worker);
    }
    assert_eq!(per_task.len(), 5, "{per_task:?}");
    for (task, workers) in &per_task {
        assert_eq!(workers.len(), 2, "{task}: {workers:?}");
        assert_ne!(
            workers[0], workers[1],
            "{task} answered twice by one worker"
        );
    }
}

#[test]
fn an_answer_after_the_lease_expired_is_still_credited() {
    let centre = Centre::new(1, 3);
    let mut a = centre.device("amina");
    a.sync(&centre);
    let task = a.next().unwrap();
    // Offline for two hours: the 1 h lease runs out and the task goes to someone else.
    centre.server.clock.advance(2 * 3600);
    let mut b = centre.device("baraka");
    b.sync(&centre);
    assert!(
        b.store
            .queued_tasks("shop", 0, 10)
            .unwrap()
            .0
            .iter()
            .any(|t| t.id == task.id)
    );
    a.answer("toys");
    a.sync(&centre);
    assert_eq!(
        a.store.counts(None).unwrap().refused,
        0,
        "late answer accepted"
    );
    let answers = centre.answers();
    assert!(
        answers.iter().any(|(_, w, v)| w == "amina" && v == "toys"),
        "{answers:?}"
    );
}

#[test]
fn the_sync_engine_reports_counts_as_unknown_when_the_store_cannot_be_read() {
    let centre = Centre::new(1, 5);
    let device = centre.device("amina");
    let (tx, statuses) = std::sync::mpsc::channel();
    let engine = client::SyncEngine::start(&device.profile, client::SyncConfig::default(), {
        move |s| {
            let _ = tx.send(s);
        }
    })
    .unwrap();
    let wait = || {
        statuses
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("a status arrives")
    };
    // The first sync: the counts are known.
    let mut status = wait();
    while status.link != client::Link::Online {
        status = wait();
    }
    assert_eq!(status.counts.map(|c| c.unsent), Some(0));

    // The store loses its outbox (a damaged file): the count is unknown, never zero.
    rusqlite::Connection::open(device.profile.db_path())
        .unwrap()
        .execute_batch("DROP TABLE outbox")
        .unwrap();
    engine.changed();
    let status = wait();
    assert_eq!(status.counts, None);
    let message = status.message.unwrap_or_default();
    assert!(message.starts_with("unsent answers unknown: "), "{message}");
    assert!(message.contains("outbox"), "{message}");
    engine.shutdown(std::time::Duration::from_secs(1));
}

#[test]
fn a_worker_asking_for_work_gets_tasks_imported_since_at_once() {
    let centre = Centre::new(1, 0);
    let device = centre.device("amina");
    let (tx, statuses) = std::sync::mpsc::channel();
    let engine = client::SyncEngine::start(&device.profile, client::SyncConfig::default(), {
        move |s| {
            let _ = tx.send(s);
        }
    })
    .unwrap();
    engine.set_project(Some("shop".into()));
    let wait = || {
        statuses
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("a status arrives")
    };
    let mut status = wait();
    while status.link != client::Link::Online {
        status = wait();
    }
    assert_eq!(status.counts.map(|c| c.queued), Some(0));
    // Asked with nothing on the server: the worker is told the server was asked.
    engine.refresh();
    let mut status = wait();
    while status.message.is_none() {
        status = wait();
    }
    assert_eq!(
        status.message.as_deref(),
        Some("asked the server: no new tasks yet")
    );
    // Tasks imported now arrive at the worker's ask, not after a long back-off.
    centre.server.import_numbered("shop", 5);
    engine.refresh();
    let mut status = wait();
    while status.new_tasks == 0 {
        status = wait();
    }
    assert_eq!(status.new_tasks, 5);
    assert_eq!(status.counts.map(|c| c.queued), Some(5));
    engine.shutdown(std::time::Duration::from_secs(1));
}

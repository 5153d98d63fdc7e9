//! The local store on a real SQLite file: answers survive reopening, undo withdraws or
//! corrects, skips hand leases back, and server replies are applied per item.

use kazi::client::LocalStore;
use kazi::model::{AnswerValue, Project, Task};
use kazi::protocol::{Ack, AckStatus, Lease, SyncRequest, SyncResponse};

const PROJECT: &str = r#"
name = "p"
title = "P"
kind = "classify"
[[labels]]
id = "a"
name = "A"
key = "1"
[[labels]]
id = "b"
name = "B"
key = "2"
"#;

fn labels(l: &str) -> AnswerValue {
    AnswerValue::Labels(vec![l.to_string()])
}

/// Task `id` of project "p", leased until 2,000,000.
fn lease(id: i64) -> Lease {
    Lease {
        task: id,
        project: "p".into(),
        text: format!("task {id}"),
        suggestion: None,
        expires: 2_000_000,
        clip: None,
    }
}

/// A store holding project "p" and tasks 1..=n leased to it.
fn store_with_tasks(dir: &std::path::Path, n: i64) -> LocalStore {
    let mut store = LocalStore::open(&dir.join("client.db")).unwrap();
    let project = Project::from_toml("p.toml", PROJECT).unwrap();
    let response = SyncResponse {
        now: 1_000_000,
        projects: vec![project],
        leases: (1..=n).map(lease).collect(),
        ..SyncResponse::default()
    };
    let request = store
        .local_state(Some("p"))
        .map(|s| kazi::client::plan(&s, Default::default()))
        .unwrap()
        .unwrap();
    store.apply(&request, &response).unwrap();
    store
}

fn task(store: &LocalStore, after: i64) -> Task {
    store.queued_tasks("p", after, 1).unwrap().0.remove(0)
}

#[test]
fn answers_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_tasks(dir.path(), 3);
    let t = task(&store, 0);
    let id = store.record_answer(&t, &labels("a")).unwrap();
    drop(store);
    let store = LocalStore::open(&dir.path().join("client.db")).unwrap();
    let state = store.local_state(Some("p")).unwrap();
    assert_eq!(state.unsent.len(), 1);
    assert_eq!(state.unsent[0].upload.id, id);
    assert_eq!(state.unsent[0].upload.task, t.id);
    assert_eq!(state.unsent[0].upload.value, labels("a"));
    let (queued, _) = store.queued_tasks("p", 0, 10).unwrap();
    assert_eq!(queued.iter().map(|t| t.id).collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(store.counts(Some("p")).unwrap().unsent, 1);
}

#[test]
fn undo_of_unsent_answer_withdraws_it_and_ids_are_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_tasks(dir.path(), 3);
    let t1 = task(&store, 0);
    let first = store.record_answer(&t1, &labels("a")).unwrap();
    let undone = store.undo_last("p").unwrap().unwrap();
    assert_eq!(undone.task, t1);
    assert_eq!(undone.previous, labels("a"));
    assert!(store.local_state(Some("p")).unwrap().unsent.is_empty());
    // The task is back in the queue, and its new answer gets a fresh id.
    assert_eq!(task(&store, 0).id, t1.id);
    let second = store.record_answer(&t1, &labels("b")).unwrap();
    assert!(second > first);
    let state = store.local_state(Some("p")).unwrap();
    assert_eq!(state.unsent.len(), 1);
    assert_eq!(state.unsent[0].upload.replaces, None);
    assert!(store.undo_last("p").unwrap().is_some());
    assert!(
        store.undo_last("p").unwrap().is_none(),
        "nothing left to undo"
    );
}

#[test]
fn undo_of_sent_answer_is_corrected_by_the_next_answer() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_tasks(dir.path(), 2);
    let t1 = task(&store, 0);
    let id = store.record_answer(&t1, &labels("a")).unwrap();
    let request =
        kazi::client::plan(&store.local_state(Some("p")).unwrap(), Default::default()).unwrap();
    let response = SyncResponse {
        now: 1_000_100,
        done_today: 1,
        acks: vec![Ack {
            id,
            status: AckStatus::Ok,
        }],
        ..SyncResponse::default()
    };
    store.apply(&request, &response).unwrap();
    assert_eq!(store.counts(None).unwrap().unsent, 0);
    assert_eq!(store.counts(None).unwrap().done_today, 1);

    let undone = store.undo_last("p").unwrap().unwrap();
    assert_eq!(undone.task.id, t1.id);
    let fix = store.record_answer(&t1, &labels("b")).unwrap();
    let state = store.local_state(Some("p")).unwrap();
    assert_eq!(state.unsent.len(), 1);
    assert_eq!(state.unsent[0].upload.id, fix);
    assert_eq!(state.unsent[0].upload.replaces, Some(id));
    // A correction is not more work: "done today" stays 1, as the server will count it.
    assert_eq!(store.counts(None).unwrap().done_today, 1);
    assert_eq!(store.counts(None).unwrap().unsent, 1);
}

#[test]
fn skip_hands_the_lease_back_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_tasks(dir.path(), 2);
    let t1 = task(&store, 0);
    store.skip(t1.id).unwrap();
    assert!(store.skip(t1.id).is_err(), "a task is skipped once");
    let state = store.local_state(Some("p")).unwrap();
    assert_eq!(state.released, vec![t1.id]);
    assert_eq!(task(&store, 0).id, 2);
    let request = kazi::client::plan(&state, Default::default()).unwrap();
    assert_eq!(request.released, vec![t1.id]);
    store
        .apply(
            &request,
            &SyncResponse {
                now: 1,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(store.local_state(Some("p")).unwrap().released.is_empty());
}

#[test]
fn acks_are_applied_per_item() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_tasks(dir.path(), 3);
    let mut ids = Vec::new();
    for _ in 0..3 {
        let t = task(&store, 0);
        ids.push(store.record_answer(&t, &labels("a")).unwrap());
    }
    let request =
        kazi::client::plan(&store.local_state(Some("p")).unwrap(), Default::default()).unwrap();
    assert_eq!(request.answers.len(), 3);
    let response = SyncResponse {
        now: 5,
        acks: vec![
            Ack {
                id: ids[0],
                status: AckStatus::Ok,
            },
            Ack {
                id: ids[1],
                status: AckStatus::Rejected("task 2 is closed".into()),
            },
            // An ack for an answer this request did not carry is ignored.
            Ack {
                id: 999,
                status: AckStatus::Ok,
            },
        ],
        ..SyncResponse::default()
    };
    let applied = store.apply(&request, &response).unwrap();
    assert_eq!(applied.stored, 1);
    assert_eq!(applied.refused, vec!["task 2 is closed".to_string()]);
    let counts = store.counts(None).unwrap();
    assert_eq!((counts.unsent, counts.refused), (1, 1));
    let refused = store.refused(10).unwrap();
    assert_eq!(refused[0].0, ids[1]);
    // The unacknowledged one is sent again next time.
    let state = store.local_state(Some("p")).unwrap();
    assert_eq!(
        state.unsent.iter().map(|u| u.upload.id).collect::<Vec<_>>(),
        vec![ids[2]]
    );
}

#[test]
fn leases_are_cached_once_in_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_tasks(dir.path(), 5);
    // The same leases again (a reply replayed) add nothing.
    let request = kazi::client::plan(&store.local_state(None).unwrap(), Default::default());
    let replay = SyncResponse {
        now: 1,
        leases: vec![Lease {
            expires: 9,
            ..lease(3)
        }],
        ..Default::default()
    };
    let applied = store.apply(&request.unwrap_or_default(), &replay).unwrap();
    assert_eq!(applied.new_tasks, 0);
    let (page1, last) = store.queued_tasks("p", 0, 2).unwrap();
    let (page2, _) = store.queued_tasks("p", last, 10).unwrap();
    let ids: Vec<i64> = page1.iter().chain(&page2).map(|t| t.id).collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5]);
    assert_eq!(store.projects().unwrap()[0].name, "p");
}

#[test]
fn drafts_are_kept_until_answered() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_tasks(dir.path(), 1);
    let t = task(&store, 0);
    store.save_draft(t.id, &labels("b")).unwrap();
    drop(store);
    let mut store = LocalStore::open(&dir.path().join("client.db")).unwrap();
    assert_eq!(store.draft(t.id).unwrap(), Some(labels("b")));
    store.record_answer(&t, &labels("b")).unwrap();
    assert_eq!(store.draft(t.id).unwrap(), None);
}

#[test]
fn arrival_numbers_are_never_reused_after_pruning() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_tasks(dir.path(), 3);
    // The screen has paged up to the newest task, which the worker skips.
    let (_, seen_up_to) = store.queued_tasks("p", 0, 10).unwrap();
    store.skip(3).unwrap();
    // A sync hands the skip back; the skipped task is pruned from the cache.
    let request =
        kazi::client::plan(&store.local_state(Some("p")).unwrap(), Default::default()).unwrap();
    store
        .apply(
            &request,
            &SyncResponse {
                now: 2,
                ..Default::default()
            },
        )
        .unwrap();
    // New tasks arrive later: the screen, asking for what came after what it saw, gets them.
    let fresh = SyncResponse {
        now: 3,
        leases: vec![Lease {
            expires: 9,
            ..lease(4)
        }],
        ..Default::default()
    };
    store.apply(&SyncRequest::default(), &fresh).unwrap();
    let (after, _) = store.queued_tasks("p", seen_up_to, 10).unwrap();
    assert_eq!(after.iter().map(|t| t.id).collect::<Vec<_>>(), vec![4]);
}

/// The schema exactly as the code before versioning created it, on every open, with no
/// version: stores like this are on workers' machines today.
const UNVERSIONED_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    name TEXT PRIMARY KEY, version TEXT NOT NULL, schema TEXT NOT NULL);
-- state: 0 queued, 1 answered, 2 skipped. `replaces`: a sent answer taken back by undo,
-- which the next answer to this task corrects on the server.
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY, project TEXT NOT NULL, text TEXT NOT NULL, suggestion TEXT,
    expires INTEGER NOT NULL, seq INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0,
    replaces INTEGER);
CREATE INDEX IF NOT EXISTS tasks_queue ON tasks(project, state, seq);
-- AUTOINCREMENT: an answer id is never reused, even after a withdrawn answer is deleted,
-- because the server treats a reused id with other content as a conflict.
-- sent: 0 unsent, 1 stored by the server, 2 refused by the server. undone: taken back.
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, task INTEGER NOT NULL, project TEXT NOT NULL,
    value TEXT NOT NULL, answered_at INTEGER NOT NULL, replaces INTEGER,
    sent INTEGER NOT NULL DEFAULT 0, undone INTEGER NOT NULL DEFAULT 0, reason TEXT);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox(sent, id);
CREATE TABLE IF NOT EXISTS released (task INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS drafts (task INTEGER PRIMARY KEY, value TEXT NOT NULL);
";

fn user_version(path: &std::path::Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_store_made_before_versioning_is_migrated_with_everything_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.db");
    let project = Project::from_toml("p.toml", PROJECT).unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
            .unwrap();
        conn.execute_batch(UNVERSIONED_SCHEMA).unwrap();
        conn.execute(
            "INSERT INTO projects VALUES ('p', ?1, ?2)",
            rusqlite::params![project.version(), serde_json::to_string(&project).unwrap()],
        )
        .unwrap();
        conn.execute_batch(
            "INSERT INTO tasks (id, project, text, expires, seq, state) VALUES
               (1, 'p', 'task 1', 2000000, 1, 1), (2, 'p', 'task 2', 2000000, 2, 0);
             INSERT INTO outbox (task, project, value, answered_at) VALUES
               (1, 'p', '{\"labels\":[\"a\"]}', 1000000);
             INSERT INTO drafts VALUES (2, '{\"labels\":[\"b\"]}');
             INSERT INTO meta VALUES ('last_sync', 999), ('done_today', 5),
               ('task_seq', 2), ('seen_reply', 3);",
        )
        .unwrap();
    }
    assert_eq!(user_version(&path), 0);

    let mut store = LocalStore::open(&path).unwrap();
    assert_eq!(user_version(&path), kazi::client::STORE_VERSION);
    let state = store.local_state(Some("p")).unwrap();
    assert_eq!(state.unsent.len(), 1);
    assert_eq!(state.unsent[0].upload.task, 1);
    assert_eq!(state.unsent[0].upload.value, labels("a"));
    assert_eq!(state.seen, 3);
    assert_eq!(store.draft(2).unwrap(), Some(labels("b")));
    assert_eq!(store.projects().unwrap(), vec![project]);
    let counts = store.counts(Some("p")).unwrap();
    assert_eq!(
        (
            counts.queued,
            counts.unsent,
            counts.done_today,
            counts.last_sync
        ),
        (1, 1, 6, Some(999))
    );
    // The store goes on working: a new answer gets a new id, and it opens again.
    let t2 = task(&store, 0);
    assert_eq!(t2.id, 2);
    assert_eq!(store.record_answer(&t2, &labels("b")).unwrap(), 2);
    drop(store);
    let store = LocalStore::open(&path).unwrap();
    assert_eq!(store.counts(None).unwrap().unsent, 2);
}

#[test]
fn a_half_made_unversioned_store_is_completed() {
    // The old code created its tables outside a transaction: a power cut could leave some.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
             INSERT INTO meta VALUES ('task_seq', 7);",
        )
        .unwrap();
    let store = store_with_tasks(dir.path(), 1);
    assert_eq!(user_version(&path), kazi::client::STORE_VERSION);
    assert_eq!(task(&store, 0).id, 1);
    // The arrival number went on from the one kept.
    assert_eq!(store.queued_tasks("p", 7, 10).unwrap().0.len(), 1);
}

#[test]
fn a_store_from_a_newer_kazi_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.db");
    let newer = kazi::client::STORE_VERSION + 1;
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(&format!(
            "CREATE TABLE inbox (id INTEGER PRIMARY KEY, note TEXT);
             INSERT INTO inbox VALUES (1, 'from a newer Kazi');
             PRAGMA user_version = {newer};"
        ))
        .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = match LocalStore::open(&path) {
        Ok(_) => panic!("a newer store was opened"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.ends_with(&format!(
            "this profile's data was written by a newer Kazi (store version {newer}, \
             this Kazi knows {}): update Kazi",
            kazi::client::STORE_VERSION
        )),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file is unchanged"
    );
    assert_eq!(user_version(&path), newer);
}

/// Overwrite a stored column the way a damaged file or another build would leave it.
fn damage(dir: &std::path::Path, sql: &str) {
    rusqlite::Connection::open(dir.join("client.db"))
        .unwrap()
        .execute_batch(sql)
        .unwrap();
}

#[test]
fn an_unreadable_unsent_answer_is_set_aside_shown_and_its_task_queued_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_tasks(dir.path(), 3);
    let t1 = task(&store, 0);
    let bad = store.record_answer(&t1, &labels("a")).unwrap();
    let t2 = task(&store, 0);
    let good = store.record_answer(&t2, &labels("b")).unwrap();
    damage(
        dir.path(),
        &format!("UPDATE outbox SET value = '{{\"labels\":' WHERE id = {bad}"),
    );

    // The sync carries on with the rest.
    let state = store.local_state(Some("p")).unwrap();
    let ids: Vec<u64> = state.unsent.iter().map(|u| u.upload.id).collect();
    assert_eq!(ids, vec![good]);
    let request = kazi::client::plan(&state, Default::default()).unwrap();
    assert_eq!(request.answers.len(), 1);
    // Counted honestly: not unsent for ever, but refused, with the reason.
    let counts = store.counts(None).unwrap();
    assert_eq!((counts.unsent, counts.refused), (1, 1));
    let refused = store.refused(5).unwrap();
    assert_eq!((refused[0].0, refused[0].1), (bad, t1.id));
    assert!(
        refused[0].2.starts_with("stored answer cannot be read"),
        "{}",
        refused[0].2
    );
    // The task is back in the queue, so the worker can answer it again.
    let (queued, _) = store.queued_tasks("p", 0, 10).unwrap();
    assert!(queued.iter().any(|t| t.id == t1.id), "{queued:?}");
    let again = store.record_answer(&t1, &labels("a")).unwrap();
    assert!(again > good);
}

#[test]
fn an_unreadable_answer_is_set_aside_when_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_tasks(dir.path(), 1);
    let t1 = task(&store, 0);
    let id = store.record_answer(&t1, &labels("a")).unwrap();
    drop(store);
    damage(
        dir.path(),
        &format!("UPDATE outbox SET value = 'garbage' WHERE id = {id}"),
    );
    // What `kazi status` reads right after opening.
    let store = LocalStore::open(&dir.path().join("client.db")).unwrap();
    let counts = store.counts(None).unwrap();
    assert_eq!((counts.unsent, counts.refused), (0, 1));
}

#[test]
fn undo_of_an_unreadable_answer_is_an_error_not_nothing_to_undo() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_tasks(dir.path(), 1);
    let t1 = task(&store, 0);
    let id = store.record_answer(&t1, &labels("a")).unwrap();
    damage(
        dir.path(),
        &format!("UPDATE outbox SET value = '{{}}' WHERE id = {id}"),
    );
    let err = store.undo_last("p").unwrap_err();
    assert!(
        matches!(err, kazi::client::StoreError::BadAnswer { id: i, task, .. } if i == id && task == t1.id),
        "{err}"
    );
    // Nothing was taken back: the answer is still there to be set aside and shown.
    assert_eq!(store.counts(None).unwrap().unsent, 1);
}

#[test]
fn an_unreadable_draft_is_an_error_not_a_missing_draft() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_tasks(dir.path(), 1);
    let t = task(&store, 0);
    store.save_draft(t.id, &labels("b")).unwrap();
    damage(dir.path(), "UPDATE drafts SET value = '[1,'");
    let err = store.draft(t.id).unwrap_err();
    assert!(
        matches!(err, kazi::client::StoreError::BadDraft { task, .. } if task == t.id),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("the kept choice for task {} cannot be read", t.id))
    );
    // No draft at all is still no draft.
    assert_eq!(store.draft(t.id + 100).unwrap(), None);
}

#[test]
fn an_unreadable_schema_is_reported_not_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_tasks(dir.path(), 1);
    damage(
        dir.path(),
        "UPDATE projects SET schema = '{\"name\":\"p\",\"kind\":\"transcribe\"}'",
    );
    assert!(store.projects().unwrap().is_empty());
    let unreadable = store.unreadable_projects().unwrap();
    assert_eq!(unreadable.len(), 1);
    assert_eq!(unreadable[0].name, "p");
    assert!(!unreadable[0].reason.is_empty());
}

#[test]
fn another_user_takes_a_profile_only_with_nothing_unsent_and_finds_nothing_of_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_tasks(dir.path(), 3);
    let t1 = task(&store, 0);
    let id = store.record_answer(&t1, &labels("a")).unwrap();
    store.save_draft(2, &labels("b")).unwrap();
    let err = store.forget_user().unwrap_err();
    assert!(matches!(err, kazi::client::StoreError::Unsent(1)), "{err}");
    assert_eq!(store.counts(None).unwrap().queued, 2, "nothing was cleared");

    let request =
        kazi::client::plan(&store.local_state(Some("p")).unwrap(), Default::default()).unwrap();
    let ack = SyncResponse {
        now: 1_000_100,
        acks: vec![Ack {
            id,
            status: AckStatus::Ok,
        }],
        ..SyncResponse::default()
    };
    store.apply(&request, &ack).unwrap();
    store.forget_user().unwrap();
    let counts = store.counts(None).unwrap();
    assert_eq!((counts.queued, counts.unsent, counts.refused), (0, 0, 0));
    assert_eq!(counts.last_sync, None);
    assert_eq!(store.draft(2).unwrap(), None);
    assert!(store.projects().unwrap().is_empty());
    let state = store.local_state(None).unwrap();
    assert!(!state.synced_before && state.seen == 0);
}

/// What the picker shows: tasks still to do on this computer, per project; answered and
/// skipped tasks no longer count.
#[test]
fn waiting_tasks_are_counted_per_project() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_tasks(dir.path(), 4);
    let counted = |store: &LocalStore| store.waiting_by_project().unwrap();
    assert_eq!(
        counted(&store),
        [("p".to_string(), 4)].into_iter().collect()
    );
    let t1 = task(&store, 0);
    store.record_answer(&t1, &labels("a")).unwrap();
    let t2 = task(&store, 0);
    store.skip(t2.id).unwrap();
    assert_eq!(
        counted(&store),
        [("p".to_string(), 2)].into_iter().collect()
    );
}

/// The server's count of tasks waiting for this worker is added to those cached here; a
/// lease that arrives before the server counts again moves one from there to here.
#[test]
fn the_servers_waiting_count_adds_to_the_cached_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_tasks(dir.path(), 2);
    let counted = |store: &LocalStore| store.waiting_by_project().unwrap();
    let reply = |waiting: Vec<kazi::protocol::Waiting>, leases: Vec<Lease>| SyncResponse {
        now: 1_000_100,
        waiting,
        leases,
        ..SyncResponse::default()
    };
    let request = kazi::client::plan_asked(&store.local_state(None).unwrap(), Default::default());
    assert!(request.counts, "the picker is on top: ask the server");
    let told = vec![kazi::protocol::Waiting {
        project: "p".into(),
        tasks: 30,
    }];
    store.apply(&request, &reply(told, Vec::new())).unwrap();
    assert_eq!(
        counted(&store),
        [("p".to_string(), 32)].into_iter().collect()
    );

    let lease = lease(3);
    let request =
        kazi::client::plan_asked(&store.local_state(Some("p")).unwrap(), Default::default());
    assert!(!request.counts, "working on a project: not asked");
    store
        .apply(&request, &reply(Vec::new(), vec![lease]))
        .unwrap();
    assert_eq!(
        counted(&store),
        [("p".to_string(), 32)].into_iter().collect(),
        "one more here, one fewer on the server"
    );
    let t1 = task(&store, 0);
    store.record_answer(&t1, &labels("a")).unwrap();
    assert_eq!(
        counted(&store),
        [("p".to_string(), 31)].into_iter().collect()
    );
}

#[test]
fn counts_follow_every_write_here_and_from_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_tasks(dir.path(), 3);
    // Asked twice with nothing written between: the same answer.
    assert_eq!(store.counts(Some("p")).unwrap().queued, 3);
    assert_eq!(store.counts(Some("p")).unwrap().queued, 3);
    let t = task(&store, 0);
    store.record_answer(&t, &labels("a")).unwrap();
    let after = store.counts(Some("p")).unwrap();
    assert_eq!((after.queued, after.unsent), (2, 1));
    // Another project asked for after this one is counted for itself, not taken from it.
    assert_eq!(store.counts(Some("other")).unwrap().queued, 0);
    assert_eq!(store.counts(None).unwrap().queued, 2);
    assert_eq!(store.counts(Some("p")).unwrap().queued, 2);

    // A second connection (another `kazi` on the same profile) answers one more.
    let mut other = LocalStore::open(&dir.path().join("client.db")).unwrap();
    let t = task(&other, 0);
    other.record_answer(&t, &labels("b")).unwrap();
    let seen = store.counts(Some("p")).unwrap();
    assert_eq!((seen.queued, seen.unsent), (1, 2));
}

/// The queued count the store keeps, against counting the tasks themselves.
fn assert_queued_as_counted(store: &LocalStore, path: &std::path::Path, when: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let counted: u32 = conn
        .query_row("SELECT count(*) FROM tasks WHERE state = 0", [], |r| {
            r.get(0)
        })
        .unwrap();
    let counted_p: u32 = conn
        .query_row(
            "SELECT count(*) FROM tasks WHERE project = 'p' AND state = 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(store.counts(None).unwrap().queued, counted, "all, {when}");
    assert_eq!(
        store.counts(Some("p")).unwrap().queued,
        counted_p,
        "p, {when}"
    );
}

#[test]
fn the_queued_count_follows_answers_skips_undos_releases_and_a_new_user() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.db");
    let mut store = store_with_tasks(dir.path(), 5);
    assert_queued_as_counted(&store, &path, "after the first leases");
    assert_eq!(store.counts(Some("p")).unwrap().queued, 5);

    let t = task(&store, 0);
    store.record_answer(&t, &labels("a")).unwrap();
    assert_queued_as_counted(&store, &path, "after an answer");
    let t2 = task(&store, t.id);
    store.skip(t2.id).unwrap();
    assert_queued_as_counted(&store, &path, "after a skip");
    store.undo_last("p").unwrap();
    assert_queued_as_counted(&store, &path, "after an undo");
    assert_eq!(store.counts(Some("p")).unwrap().queued, 4);

    // The server's reply: the answer acknowledged, two tasks no longer leased here, one new.
    let state = store.local_state(Some("p")).unwrap();
    let request = kazi::client::plan(&state, Default::default()).unwrap();
    let acks = request
        .answers
        .iter()
        .map(|a| Ack {
            id: a.id,
            status: AckStatus::Ok,
        })
        .collect();
    let response = SyncResponse {
        now: 1_000_100,
        acks,
        leases: [4, 5, 9].into_iter().map(lease).collect(),
        ..SyncResponse::default()
    };
    store.apply(&request, &response).unwrap();
    assert_queued_as_counted(&store, &path, "after a reply");

    store.forget_user().unwrap();
    assert_queued_as_counted(&store, &path, "after a new user");
    assert_eq!(store.counts(None).unwrap().queued, 0);
}

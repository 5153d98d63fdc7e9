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

/// A store holding project "p" and tasks 1..=n leased to it.
fn store_with_tasks(dir: &std::path::Path, n: i64) -> LocalStore {
    let mut store = LocalStore::open(&dir.join("client.db")).unwrap();
    let project = Project::from_toml("p.toml", PROJECT).unwrap();
    let response = SyncResponse {
        now: 1_000_000,
        projects: vec![project],
        leases: (1..=n)
            .map(|id| Lease {
                task: id,
                project: "p".into(),
                text: format!("task {id}"),
                suggestion: None,
                expires: 2_000_000,
            })
            .collect(),
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
            task: 3,
            project: "p".into(),
            text: "task 3".into(),
            suggestion: None,
            expires: 9,
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
            task: 4,
            project: "p".into(),
            text: "task 4".into(),
            suggestion: None,
            expires: 9,
        }],
        ..Default::default()
    };
    store.apply(&SyncRequest::default(), &fresh).unwrap();
    let (after, _) = store.queued_tasks("p", seen_up_to, 10).unwrap();
    assert_eq!(after.iter().map(|t| t.id).collect::<Vec<_>>(), vec![4]);
}

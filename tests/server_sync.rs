//! Sync on a real server: leasing in import order, schema delivery, idempotent answers,
//! per-item statuses, overlap under concurrency, lease expiry, late answers, skips,
//! corrections and the day's count.

#[path = "support/server_harness.rs"]
mod harness;

use std::collections::{BTreeMap, HashMap, HashSet};

use harness::{TestServer, answer, answers, project, start, want};
use kazi::model::{AnswerValue, Role};
use kazi::protocol::{AckStatus, AnswerUpload, SyncRequest, Want};
use kazi::server::admin::{self, ExportFormat, ProjectAdded};

/// A server with project "shop" (given overlap) and tasks t1..tn.
async fn shop(overlap: u32, tasks: usize) -> TestServer {
    let s = start().await;
    s.add_project(&project(overlap));
    s.import_numbered("shop", tasks);
    s
}

fn texts(leases: &[kazi::protocol::Lease]) -> Vec<&str> {
    leases.iter().map(|l| l.text.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_in_import_order_and_schemas_only_when_needed() {
    let s = shop(1, 6).await;
    let amina = s.enrol("amina", Role::Worker).await;

    let first = s.want(&amina, "shop", 3).await;
    assert_eq!(texts(&first.leases), ["item 1", "item 2", "item 3"]);
    assert!(first.leases.iter().all(|l| l.project == "shop"));
    let lease_secs = 3600;
    assert!(
        first
            .leases
            .iter()
            .all(|l| l.expires == first.now + lease_secs)
    );
    assert_eq!(first.projects.len(), 1, "the client lacked the schema");
    let version = first.projects[0].version();
    assert_eq!(first.projects[0], project(1));

    // Knowing the current version: no schema; held tasks are not sent again.
    let mut known = BTreeMap::new();
    known.insert("shop".to_string(), version.clone());
    known.insert("closed".to_string(), "abc".to_string());
    let second = s
        .sync(
            &amina,
            &SyncRequest {
                want: vec![Want {
                    project: "shop".into(),
                    count: 2,
                }],
                known: known.clone(),
                ..SyncRequest::default()
            },
        )
        .await;
    assert!(second.projects.is_empty());
    assert_eq!(texts(&second.leases), ["item 4", "item 5"]);
    assert_eq!(second.removed, ["closed"]);

    // A changed project is sent again, and says so when re-added.
    let mut changed = project(1);
    changed.title = "Shop items, v2".into();
    assert_eq!(
        admin::add_project(&*s.store, &changed).unwrap(),
        ProjectAdded::Updated
    );
    assert_eq!(
        admin::add_project(&*s.store, &changed).unwrap(),
        ProjectAdded::Unchanged
    );
    let third = s
        .sync(
            &amina,
            &SyncRequest {
                known,
                ..SyncRequest::default()
            },
        )
        .await;
    assert_eq!(third.projects, [changed]);
    assert!(third.leases.is_empty(), "nothing wanted, nothing leased");

    // The sync response never carries gold: the lease type has no such field.
    let raw = s.sync_raw(&amina, &want("shop", 1)).await;
    let body = zstd::bulk::decompress(&raw.body, 1 << 20).unwrap();
    assert!(!String::from_utf8_lossy(&body).contains("gold"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resent_answer_is_dup_and_counted_once_reused_id_is_conflict() {
    let s = shop(1, 3).await;
    let amina = s.enrol("amina", Role::Worker).await;
    let leases = s.want(&amina, "shop", 2).await.leases;
    let (t1, t2) = (leases[0].task, leases[1].task);

    let first = s.sync(&amina, &answers(vec![answer(1, t1, "food")])).await;
    assert_eq!(first.acks[0].status, AckStatus::Ok);
    assert_eq!(first.done_today, 1);

    // The reply got lost; the client sends the same answer again.
    let again = s.sync(&amina, &answers(vec![answer(1, t1, "food")])).await;
    assert_eq!(again.acks[0].id, 1);
    assert_eq!(again.acks[0].status, AckStatus::Dup);
    assert_eq!(again.done_today, 1);

    // Same id, other content: a conflict for that item; the first one stands.
    let reused = s
        .sync(
            &amina,
            &answers(vec![answer(1, t1, "toys"), answer(1, t2, "food")]),
        )
        .await;
    for ack in &reused.acks {
        let AckStatus::Conflict(why) = &ack.status else {
            panic!("expected a conflict, got {:?}", ack.status);
        };
        assert!(why.contains("first one stands"), "{why}");
    }
    let jsonl = s.export("shop", ExportFormat::Jsonl);
    let first_line: serde_json::Value =
        serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(first_line["answers"].as_array().unwrap().len(), 1);
    assert_eq!(first_line["answers"][0]["value"], "food");
    assert_eq!(first_line["final"], "food");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_batch_gets_a_status_per_item() {
    let s = shop(1, 4).await;
    let amina = s.enrol("amina", Role::Worker).await;
    let baraka = s.enrol("baraka", Role::Worker).await;
    let mine = s.want(&amina, "shop", 2).await.leases;
    let theirs = s.want(&baraka, "shop", 1).await.leases;

    let two_labels = AnswerUpload {
        id: 5,
        task: mine[1].task,
        value: AnswerValue::Labels(vec!["food".into(), "toys".into()]),
        ago: 0,
        replaces: None,
    };
    let batch = vec![
        answer(1, mine[0].task, "food"),
        answer(2, 999_999, "food"),
        answer(3, mine[1].task, "fod"),
        answer(4, theirs[0].task, "toys"),
        two_labels,
        answer(6, mine[1].task, "tools"),
    ];
    let reply = s.sync(&amina, &answers(batch)).await;
    let ids: Vec<u64> = reply.acks.iter().map(|a| a.id).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6], "one ack per answer, in order");
    let reason = |i: usize| match &reply.acks[i].status {
        AckStatus::Rejected(why) => why.clone(),
        other => panic!("answer {} should be rejected, got {other:?}", i + 1),
    };
    assert_eq!(reply.acks[0].status, AckStatus::Ok);
    assert!(reason(1).contains("does not exist"));
    assert!(reason(2).contains("unknown label 'fod'"));
    assert!(reason(3).contains("never given to you"));
    assert!(reason(4).contains("takes one label"));
    assert_eq!(reply.acks[5].status, AckStatus::Ok);
    assert_eq!(reply.done_today, 2);

    // A second answer to an answered task without `replaces` is refused.
    let twice = s
        .sync(&amina, &answers(vec![answer(7, mine[0].task, "toys")]))
        .await;
    assert!(
        matches!(&twice.acks[0].status, AckStatus::Rejected(w) if w.contains("already answered"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlap_holds_when_three_workers_ask_at_once() {
    let s = shop(2, 5).await;
    let workers = [
        s.enrol("w1", Role::Worker).await,
        s.enrol("w2", Role::Worker).await,
        s.enrol("w3", Role::Worker).await,
    ];
    for round in 0..2 {
        let replies = futures_join(&s, &workers, 5).await;
        let mut per_task: HashMap<i64, usize> = HashMap::new();
        for leases in &replies {
            let unique: HashSet<i64> = leases.iter().copied().collect();
            assert_eq!(unique.len(), leases.len(), "a worker got one task twice");
            for t in leases {
                *per_task.entry(*t).or_default() += 1;
            }
        }
        assert!(
            per_task.values().all(|&n| n <= 2),
            "round {round}: over-leased: {per_task:?}"
        );
        let total: usize = per_task.values().sum();
        if round == 0 {
            assert_eq!(total, 10, "5 tasks x overlap 2 slots, all handed out");
        } else {
            assert_eq!(total, 0, "nothing left while the leases live");
        }
    }
}

/// Every worker asks for `count` tasks at the same time; the task ids each got.
async fn futures_join(s: &TestServer, workers: &[String], count: u32) -> Vec<Vec<i64>> {
    let mut handles = Vec::new();
    for token in workers {
        let (base, token) = (s.base.clone(), token.clone());
        handles.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let body =
                kazi::protocol::encode(&want("shop", count), kazi::protocol::Encoding::Identity);
            let reply = http
                .post(format!("{base}{}", kazi::protocol::SYNC_PATH))
                .header("authorization", format!("Bearer {token}"))
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), 200);
            let bytes = reply.bytes().await.unwrap();
            let response: kazi::protocol::SyncResponse = serde_json::from_slice(&bytes).unwrap();
            response.leases.iter().map(|l| l.task).collect::<Vec<_>>()
        }));
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_lease_returns_the_task_and_a_late_answer_still_counts() {
    let s = shop(1, 1).await;
    let amina = s.enrol("amina", Role::Worker).await;
    let baraka = s.enrol("baraka", Role::Worker).await;

    let held = s.want(&amina, "shop", 5).await.leases;
    assert_eq!(held.len(), 1);
    let task = held[0].task;
    assert!(
        s.want(&baraka, "shop", 5).await.leases.is_empty(),
        "overlap 1 is taken"
    );

    s.clock.advance(3601);
    let retaken = s.want(&baraka, "shop", 5).await.leases;
    assert_eq!(retaken.len(), 1, "the expired lease went back to the pool");
    assert_eq!(retaken[0].task, task);

    let b = s
        .sync(&baraka, &answers(vec![answer(1, task, "toys")]))
        .await;
    assert_eq!(b.acks[0].status, AckStatus::Ok);
    // Amina was offline; her answer arrives after expiry and after the overlap filled.
    let mut late = answer(1, task, "toys");
    late.ago = 60;
    let a = s.sync(&amina, &answers(vec![late])).await;
    assert_eq!(a.acks[0].status, AckStatus::Ok, "late work is accepted");
    assert_eq!(a.done_today, 1, "and credited");

    let line: serde_json::Value =
        serde_json::from_str(s.export("shop", ExportFormat::Jsonl).trim()).unwrap();
    let workers: Vec<&str> = line["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["worker"].as_str().unwrap())
        .collect();
    assert_eq!(workers, ["baraka", "amina"]);
    assert_eq!(line["final"], "toys");
    assert_eq!(line["agreement"], 1.0);
    // Still nothing to lease: the task has all its answers.
    let w3 = s.enrol("w3", Role::Worker).await;
    assert!(s.want(&w3, "shop", 5).await.leases.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn released_tasks_go_back_but_not_to_the_same_worker() {
    let s = shop(1, 3).await;
    let amina = s.enrol("amina", Role::Worker).await;
    let baraka = s.enrol("baraka", Role::Worker).await;
    let held = s.want(&amina, "shop", 2).await.leases;
    assert_eq!(texts(&held), ["item 1", "item 2"]);

    let skip = SyncRequest {
        released: vec![held[0].task],
        want: vec![Want {
            project: "shop".into(),
            count: 5,
        }],
        ..SyncRequest::default()
    };
    let after = s.sync(&amina, &skip).await;
    assert_eq!(
        texts(&after.leases),
        ["item 3"],
        "skipped task not offered again"
    );
    let other = s.want(&baraka, "shop", 5).await;
    assert_eq!(
        texts(&other.leases),
        ["item 1"],
        "the skipped task went back"
    );

    // Even once Baraka's lease expires, Amina is not offered her skip again.
    s.clock.advance(7200);
    let later = s.want(&amina, "shop", 5).await;
    assert!(
        !later.leases.iter().any(|l| l.task == held[0].task),
        "{:?}",
        texts(&later.leases)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_replaces_the_earlier_answer_and_redecides() {
    let s = shop(2, 1).await;
    let amina = s.enrol("amina", Role::Worker).await;
    let baraka = s.enrol("baraka", Role::Worker).await;
    let task = s.want(&amina, "shop", 1).await.leases[0].task;
    s.want(&baraka, "shop", 1).await;
    s.sync(&amina, &answers(vec![answer(1, task, "food")]))
        .await;
    s.sync(&baraka, &answers(vec![answer(1, task, "toys")]))
        .await;
    let tie: serde_json::Value =
        serde_json::from_str(s.export("shop", ExportFormat::Jsonl).trim()).unwrap();
    assert_eq!(
        tie["final"],
        serde_json::Value::Null,
        "a tie decides nothing"
    );
    assert_eq!(tie["agreement"], 0.5);

    let mut fix = answer(2, task, "toys");
    fix.replaces = Some(1);
    let reply = s.sync(&amina, &answers(vec![fix])).await;
    assert_eq!(reply.acks[0].status, AckStatus::Ok);
    assert_eq!(reply.done_today, 1, "the replaced answer no longer counts");

    let line: serde_json::Value =
        serde_json::from_str(s.export("shop", ExportFormat::Jsonl).trim()).unwrap();
    assert_eq!(line["final"], "toys");
    assert_eq!(line["agreement"], 1.0);
    let list = line["answers"].as_array().unwrap();
    assert_eq!(list.len(), 3, "kept for provenance");
    assert_eq!(list[0]["superseded"], true);
    assert_eq!(list[0]["value"], "food");
    let csv = s.export("shop", ExportFormat::Csv);
    assert!(!csv.contains("amina=food"), "{csv}");
    assert!(csv.contains("amina=toys@"), "{csv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn done_today_counts_this_users_answers_of_the_server_day() {
    let s = shop(3, 5).await;
    let amina = s.enrol("amina", Role::Worker).await;
    let baraka = s.enrol("baraka", Role::Worker).await;
    let tasks: Vec<i64> = s
        .want(&amina, "shop", 3)
        .await
        .leases
        .iter()
        .map(|l| l.task)
        .collect();
    s.want(&baraka, "shop", 1).await;
    let reply = s
        .sync(
            &amina,
            &answers(vec![
                answer(1, tasks[0], "food"),
                answer(2, tasks[1], "toys"),
            ]),
        )
        .await;
    assert_eq!(reply.done_today, 2);
    let b = s
        .sync(&baraka, &answers(vec![answer(1, tasks[0], "food")]))
        .await;
    assert_eq!(b.done_today, 1, "per user");

    s.clock.advance(86_400);
    let tomorrow = s.sync(&amina, &SyncRequest::default()).await;
    assert_eq!(tomorrow.done_today, 0);
    assert!(tomorrow.now >= reply.now + 86_400);
    // Work done offline, sent today, is dated back by `ago`, but never before its lease
    // was granted (yesterday): it does not count for today.
    let mut old = answer(3, tasks[2], "tools");
    old.ago = 2 * 86_400;
    let sent = s.sync(&amina, &answers(vec![old])).await;
    assert_eq!(sent.acks[0].status, AckStatus::Ok);
    assert_eq!(sent.done_today, 0, "dated yesterday by the server clock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_overlap_redecides_and_reopens_tasks() {
    let s = shop(2, 1).await;
    let amina = s.enrol("amina", Role::Worker).await;
    let task = s.want(&amina, "shop", 1).await.leases[0].task;
    s.sync(&amina, &answers(vec![answer(1, task, "food")]))
        .await;
    let decided = |s: &TestServer| -> serde_json::Value {
        let line: serde_json::Value =
            serde_json::from_str(s.export("shop", ExportFormat::Jsonl).trim()).unwrap();
        line["final"].clone()
    };
    assert_eq!(decided(&s), serde_json::Value::Null, "one answer of two");

    admin::add_project(&*s.store, &project(1)).unwrap();
    assert_eq!(decided(&s), "food", "one answer is enough now");

    admin::add_project(&*s.store, &project(3)).unwrap();
    assert_eq!(
        decided(&s),
        serde_json::Value::Null,
        "needs more answers again"
    );
    let baraka = s.enrol("baraka", Role::Worker).await;
    assert_eq!(s.want(&baraka, "shop", 5).await.leases.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_label_answers_in_another_order_are_one_vote_and_a_resend() {
    let s = start().await;
    let mut multi = project(2);
    multi.multi_label = true;
    s.add_project(&multi);
    s.import_numbered("shop", 1);
    let amina = s.enrol("amina", Role::Worker).await;
    let baraka = s.enrol("baraka", Role::Worker).await;
    let task = s.want(&amina, "shop", 1).await.leases[0].task;
    s.want(&baraka, "shop", 1).await;
    let labels = |id: u64, ids: &[&str]| AnswerUpload {
        id,
        task,
        value: AnswerValue::Labels(ids.iter().map(|l| l.to_string()).collect()),
        ago: 0,
        replaces: None,
    };

    let a = s
        .sync(&amina, &answers(vec![labels(1, &["toys", "food"])]))
        .await;
    assert_eq!(a.acks[0].status, AckStatus::Ok);
    // The reply got lost and the client sends the same answer, its labels reordered.
    let again = s
        .sync(&amina, &answers(vec![labels(1, &["food", "toys"])]))
        .await;
    assert_eq!(again.acks[0].status, AckStatus::Dup, "not a conflict");
    let b = s
        .sync(&baraka, &answers(vec![labels(1, &["food", "toys"])]))
        .await;
    assert_eq!(b.acks[0].status, AckStatus::Ok);

    let line: serde_json::Value =
        serde_json::from_str(s.export("shop", ExportFormat::Jsonl).trim()).unwrap();
    assert_eq!(line["final"], "food|toys", "the project's label order");
    assert_eq!(line["agreement"], 1.0, "one vote, not two");
    let values: Vec<&str> = line["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["food|toys", "food|toys"], "stored in normal form");
}

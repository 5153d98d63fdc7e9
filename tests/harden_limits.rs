//! One ordinary worker account trying to stall, starve or flood a centre, over real HTTP
//! on a real SQLite server: the worst sync the limits allow does not hold up another
//! worker, impossible syncs get a 4xx with a reason, a greedy worker cannot take every
//! task, replies stay bounded however long the tasks, and guessing at a user's code
//! never locks that user out. The lease cap, bounded replies and revocation run on
//! PostgreSQL too when `KAZI_TEST_PG` is set.

#[path = "support/server_harness.rs"]
mod harness;

use std::collections::{BTreeMap, HashSet};

use harness::{TestServer, answer, every_backend, project, start, want};
use kazi::model::Role;
use kazi::protocol::{
    self, AckStatus, AnswerUpload, Encoding, MAX_ANSWERS_PER_SYNC, MAX_KINDS_ENTRIES,
    MAX_KNOWN_ENTRIES, MAX_REPLY_TEXT_BYTES, MAX_REPORTS_PER_SYNC, MAX_WANT_ENTRIES,
    MAX_WANT_PER_SYNC, SyncRequest, Want,
};
use kazi::server::admin;

async fn shop(overlap: u32, tasks: usize) -> TestServer {
    let s = start().await;
    stock(&s, overlap, tasks);
    s
}

/// Project "shop" with tasks t1..tn on the server.
fn stock(s: &TestServer, overlap: u32, tasks: usize) {
    s.add_project(&project(overlap));
    s.import_numbered("shop", tasks);
}

/// The costliest sync the limits let through: every list full, every answer for a task
/// that does not exist, every wanted project unknown, every lease resent.
fn worst_allowed_sync() -> SyncRequest {
    SyncRequest {
        progress: true,
        answers: (0..MAX_ANSWERS_PER_SYNC as u64)
            .map(|i| answer(1_000_000 + i, 9_000_000 + i as i64, "food"))
            .collect(),
        released: (0..MAX_ANSWERS_PER_SYNC as i64).collect(),
        counts: true,
        want: (0..MAX_WANT_ENTRIES)
            .map(|i| Want {
                project: format!("nope-{i}"),
                count: (MAX_WANT_PER_SYNC / MAX_WANT_ENTRIES as u32).max(1),
            })
            .collect(),
        known: (0..MAX_KNOWN_ENTRIES)
            .map(|i| (format!("gone-{i}"), "v".repeat(16)))
            .collect(),
        kinds: (0..MAX_KINDS_ENTRIES)
            .map(|i| format!("kind-{i}"))
            .collect(),
        seen: Some(0),
        feedback_seen: Some(0),
        reports: (0..MAX_REPORTS_PER_SYNC as u64)
            .map(|i| kazi::protocol::Report {
                id: i,
                task: 9_000_000 + i as i64,
                kind: kazi::protocol::ReportKind::Flag(kazi::protocol::FlagReason::Other),
                note: "n".repeat(kazi::protocol::MAX_REPORT_NOTE_CHARS),
            })
            .collect(),
        lessons: Some(
            (0..protocol::MAX_EXAM_ENTRIES)
                .map(|i| (format!("gone-{i}"), "v".repeat(16)))
                .collect(),
        ),
        exams: (0..protocol::MAX_EXAM_ENTRIES)
            .map(|i| format!("nope-{i}"))
            .collect(),
        exam_answers: (0..protocol::MAX_EXAM_SUBMISSIONS as i64)
            .map(|i| protocol::ExamSubmission {
                attempt: 9_000_000 + i,
                answers: (0..protocol::MAX_EXAM_ANSWERS as i64)
                    .map(|item| protocol::ExamAnswer {
                        item,
                        value: kazi::model::AnswerValue::Labels(vec!["food".into()]),
                    })
                    .collect(),
            })
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worst_sync_of_one_worker_does_not_hold_up_another() {
    let s = shop(1, 400).await;
    let mallory = s.enrol("mallory", Role::Worker).await;
    let amina = s.enrol("amina", Role::Worker).await;

    // The ~22 KB sync that once held the writer for a minute and a half: a few hundred
    // thousand distinct project names. Refused before the store, with the reason.
    let flood = SyncRequest {
        want: (0..200_000)
            .map(|i| Want {
                project: format!("p{i}"),
                count: 0,
            })
            .collect(),
        ..SyncRequest::default()
    };
    let reply = s.sync_raw(&mallory, &flood).await;
    assert_eq!(
        reply.status,
        400,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert!(
        reply.error().contains("at most 64 projects"),
        "{}",
        reply.error()
    );
    let bad_name = want("\u{1b}]0;owned\u{7}", 1);
    let reply = s.sync_raw(&mallory, &bad_name).await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.error().contains("cannot be a project name"),
        "{}",
        reply.error()
    );
    assert!(!reply.error().contains('\u{1b}'), "the reason is inert");

    // Mallory keeps sending the worst allowed sync from four connections while Amina
    // works through 60 tasks: each of her syncs completes, with the right answers.
    let worst = worst_allowed_sync();
    let abuse = async {
        let mut replies = Vec::new();
        for _ in 0..8 {
            let round = futures_join4(&s, &mallory, &worst).await;
            replies.extend(round);
        }
        replies
    };
    let work = async {
        let mut done = Vec::new();
        let mut id = 0;
        for _ in 0..6 {
            let leased = s.want(&amina, "shop", 10).await.leases;
            assert_eq!(leased.len(), 10, "Amina still gets her tasks");
            let mut sync = SyncRequest::default();
            for lease in &leased {
                id += 1;
                sync.answers.push(answer(id, lease.task, "food"));
            }
            let acks = s.sync(&amina, &sync).await.acks;
            assert!(acks.iter().all(|a| a.status == AckStatus::Ok), "{acks:?}");
            done.extend(leased.iter().map(|l| l.task));
        }
        done
    };
    let (mallory_replies, amina_done) = tokio::join!(abuse, work);
    for status in mallory_replies {
        assert_eq!(
            status, 200,
            "the worst allowed sync is served, not an error"
        );
    }
    let distinct: HashSet<i64> = amina_done.iter().copied().collect();
    assert_eq!(distinct.len(), 60);
    let csv = s.export("shop", admin::ExportFormat::Csv);
    assert_eq!(
        csv.matches("amina=food").count(),
        60,
        "every answer stored once"
    );
    assert!(!csv.contains("mallory"), "nothing of Mallory's was stored");
}

/// Four of the same sync at once; their statuses.
async fn futures_join4(s: &TestServer, token: &str, request: &SyncRequest) -> Vec<u16> {
    let (a, b, c, d) = tokio::join!(
        s.sync_raw(token, request),
        s.sync_raw(token, request),
        s.sync_raw(token, request),
        s.sync_raw(token, request)
    );
    vec![a.status, b.status, c.status, d.status]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_greedy_worker_cannot_keep_another_from_work() {
    for s in every_backend("the lease cap", |_| {}).await {
        greedy_on(&s).await;
    }
}

async fn greedy_on(s: &TestServer) {
    stock(s, 1, 1000);
    let greedy = s.enrol("greedy", Role::Worker).await;
    let amina = s.enrol("amina", Role::Worker).await;
    let mut held = 0;
    for _ in 0..5 {
        held += s
            .want(&greedy, "shop", MAX_WANT_PER_SYNC)
            .await
            .leases
            .len();
    }
    assert_eq!(
        held,
        kazi::model::DEFAULT_LEASE_CAP as usize,
        "the default cap"
    );
    assert_eq!(s.want(&greedy, "shop", 10).await.leases.len(), 0);
    assert_eq!(s.want(&amina, "shop", 50).await.leases.len(), 50);

    // The project file sets its own cap; an answer frees room under it.
    let mut tight = project(1);
    tight.lease_cap = 3;
    s.add_project(&tight);
    let baraka = s.enrol("baraka", Role::Worker).await;
    let first = s.want(&baraka, "shop", 10).await.leases;
    assert_eq!(first.len(), 3);
    let mut sync = want("shop", 10);
    sync.answers.push(answer(1, first[0].task, "food"));
    let reply = s.sync(&baraka, &sync).await;
    assert_eq!(reply.acks[0].status, AckStatus::Ok);
    assert_eq!(reply.leases.len(), 1, "one answered, one more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_are_bounded_and_resent_leases_follow_in_later_syncs() {
    for s in every_backend("bounded replies", |_| {}).await {
        bounded_replies_on(&s).await;
    }
}

async fn bounded_replies_on(s: &TestServer) {
    s.add_project(&project(1));
    let long = "x".repeat(19_000);
    let lines: Vec<String> = (1..=60)
        .map(|i| format!(r#"{{"id":"t{i}","text":"{i} {long}"}}"#))
        .collect();
    let file = s.write_file("long.jsonl", &(lines.join("\n") + "\n"));
    s.blocking(|| admin::import_tasks(&*s.store, "shop", &file, &mut |_, _| {}))
        .unwrap();
    let worker = s.enrol("amina", Role::Worker).await;
    let text_bytes =
        |leases: &[protocol::Lease]| leases.iter().map(|l| l.text.len()).sum::<usize>();

    let mut granted = HashSet::new();
    for _ in 0..5 {
        let reply = s.want(&worker, "shop", 60).await;
        assert!(text_bytes(&reply.leases) <= MAX_REPLY_TEXT_BYTES);
        granted.extend(reply.leases.iter().map(|l| l.task));
    }
    assert_eq!(granted.len(), 60, "all leased, a bounded reply at a time");

    // A device that says it saw nothing gets them all again, one bounded reply at a
    // time, each reply's leases marked seen by the next sync's `seen`.
    let mut resent = Vec::new();
    let mut seen = 0;
    for _ in 0..10 {
        let reply = s
            .sync(
                &worker,
                &SyncRequest {
                    seen: Some(seen),
                    ..SyncRequest::default()
                },
            )
            .await;
        if reply.leases.is_empty() {
            break;
        }
        assert!(text_bytes(&reply.leases) <= MAX_REPLY_TEXT_BYTES);
        assert!(reply.leases.len() < 60, "never all in one reply");
        resent.extend(reply.leases.iter().map(|l| l.task));
        seen = reply.reply;
    }
    let distinct: HashSet<i64> = resent.iter().copied().collect();
    assert_eq!(resent.len(), 60, "each resent once: {resent:?}");
    assert_eq!(distinct, granted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_codes_never_locks_the_user_out() {
    let s = start().await;
    let code = admin::add_user(&*s.store, "amina", Role::Worker, &s.clock).unwrap();
    let mut limited = 0;
    for _ in 0..30 {
        let reply = s.login("amina", "AAAA-AAAA-AAAA-AAAA").await;
        assert!(matches!(reply.status, 401 | 429), "{}", reply.status);
        if reply.status == 429 {
            limited += 1;
            assert!(
                reply.error().contains("too many wrong codes"),
                "{}",
                reply.error()
            );
        }
    }
    assert!(limited > 0, "the guessing run is limited");
    let reply = s.login("amina", &code).await;
    assert_eq!(reply.status, 200, "the right code: {}", reply.error());
    // Still per user: another user's login was never affected.
    let other = admin::add_user(&*s.store, "baraka", Role::Worker, &s.clock).unwrap();
    assert_eq!(s.login("baraka", &other).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_with_trailing_bytes_or_oversize_logins_are_refused() {
    let s = shop(1, 3).await;
    let token = s.enrol("amina", Role::Worker).await;
    for (encoding, name) in [(Encoding::Gzip, "gzip"), (Encoding::Zstd, "zstd")] {
        let mut body = protocol::encode(&want("shop", 1), encoding);
        body.extend_from_slice(b"trailing garbage");
        let reply = s
            .post(
                protocol::SYNC_PATH,
                Some(&token),
                body,
                &[("content-encoding", name)],
            )
            .await;
        assert_eq!(reply.status, 400, "{name}");
        assert!(
            reply.error().contains("follow the end"),
            "{}",
            reply.error()
        );
    }
    // Nothing was leased by the refused syncs.
    assert_eq!(s.want(&token, "shop", 3).await.leases.len(), 3);

    let login = serde_json::to_vec(&protocol::LoginRequest {
        user: "amina".into(),
        code: "x".repeat(protocol::MAX_LOGIN_BODY_BYTES),
        device: "d".into(),
    })
    .unwrap();
    let reply = s.post(protocol::LOGIN_PATH, None, login, &[]).await;
    assert_eq!(reply.status, 413);
    assert!(reply.error().contains("larger than"), "{}", reply.error());
    // A small compressed login that would decode to megabytes stops at the login's
    // own decoded limit.
    let bomb_json = format!(
        r#"{{"user":"amina","code":"{}","device":"d"}}"#,
        "A".repeat(1 << 20)
    );
    let bomb = zstd::bulk::compress(bomb_json.as_bytes(), 19).unwrap();
    assert!(bomb.len() < protocol::MAX_LOGIN_BODY_BYTES);
    let reply = s
        .post(
            protocol::LOGIN_PATH,
            None,
            bomb,
            &[("content-encoding", "zstd")],
        )
        .await;
    assert_eq!(reply.status, 413);
    assert!(
        reply
            .error()
            .contains(&protocol::MAX_LOGIN_DECODED_BYTES.to_string()),
        "{}",
        reply.error()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_sync_stores_nothing_and_its_answers_go_through_once_resent() {
    let s = shop(1, 5).await;
    let token = s.enrol("amina", Role::Worker).await;
    let leases = s.want(&token, "shop", 2).await.leases;
    let mut sync = SyncRequest {
        answers: leases
            .iter()
            .zip(1..)
            .map(|(l, id)| answer(id, l.task, "food"))
            .collect::<Vec<AnswerUpload>>(),
        known: (0..=MAX_KNOWN_ENTRIES)
            .map(|i| (format!("k{i}"), "v".into()))
            .collect::<BTreeMap<_, _>>(),
        ..SyncRequest::default()
    };
    let reply = s.sync_raw(&token, &sync).await;
    assert_eq!(reply.status, 400);
    assert!(
        !s.export("shop", admin::ExportFormat::Csv)
            .contains("amina=")
    );
    sync.known.clear();
    let acks = s.sync(&token, &sync).await.acks;
    assert!(acks.iter().all(|a| a.status == AckStatus::Ok), "{acks:?}");
    let acks = s.sync(&token, &sync).await.acks;
    assert!(acks.iter().all(|a| a.status == AckStatus::Dup), "{acks:?}");
    assert_eq!(
        s.export("shop", admin::ExportFormat::Csv)
            .matches("amina=food")
            .count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_stops_at_once_and_its_tasks_go_back() {
    for s in every_backend("revoking a device", |_| {}).await {
        revoked_on(&s).await;
    }
}

async fn revoked_on(s: &TestServer) {
    stock(s, 1, 3);
    let stolen = s.enrol("amina", Role::Worker).await;
    let baraka = s.enrol("baraka", Role::Worker).await;
    assert_eq!(s.want(&stolen, "shop", 3).await.leases.len(), 3);
    assert_eq!(s.want(&baraka, "shop", 3).await.leases.len(), 0);

    assert_eq!(
        s.blocking(|| admin::revoke(&*s.store, "amina", None))
            .unwrap(),
        1
    );
    let reply = s.sync_raw(&stolen, &want("shop", 3)).await;
    assert_eq!(reply.status, 401);
    assert!(reply.error().contains("signed out"), "{}", reply.error());
    assert_eq!(s.want(&baraka, "shop", 3).await.leases.len(), 3);

    let users = s.blocking(|| admin::users(&*s.store)).unwrap();
    let amina = users.iter().find(|u| u.name == "amina").unwrap();
    assert_eq!(amina.devices.len(), 1);
    assert!(amina.devices[0].revoked.is_some());
    assert!(amina.devices[0].last_sync.is_some());
    let baraka = users.iter().find(|u| u.name == "baraka").unwrap();
    assert!(baraka.devices[0].revoked.is_none(), "only Amina's device");
    // Revoking again finds nothing still signed in.
    assert_eq!(
        s.blocking(|| admin::revoke(&*s.store, "amina", None))
            .unwrap(),
        0
    );
}

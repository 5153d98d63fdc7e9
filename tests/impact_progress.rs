//! A worker's growth on every backend (SQLite in a temp dir; PostgreSQL with
//! `KAZI_TEST_PG`), the part of impact that tests/impact.rs does not seed: two workers
//! answer a project with a per-task rate over two weeks through the real sync, one passes
//! its exam in the second week, and a reviewer decides some of their tasks. The report's
//! review accuracy and qualifications, the signed work record's, and the progress
//! summary a sync reply carries are checked against values this test computes itself.

#[path = "support/backends.rs"]
mod backends;
#[path = "support/server_harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::sync::Arc;

use harness::{PROJECT_TOML, answer, answers, want};
use kazi::model::{AnswerValue, Project, Role};
use kazi::protocol::{ExamAnswer, ExamSubmission, SyncRequest};
use kazi::server::impact::figures::GroupBy;
use kazi::server::impact::signing::CentreKey;
use kazi::server::impact::{self, record, report};
use kazi::server::scheduler::review::{ReviewDecision, ReviewTake};
use kazi::server::store::review::{NewReviewItem, ReviewReason, VerdictKind};
use kazi::server::store::{Principal, SecretHash};
use kazi::server::{Store, admin, open_store};

/// Monday 2026-11-02 00:00 UTC.
const BASE: i64 = 1_793_577_600;
const DAY: i64 = 86_400;
const TASKS: usize = 200;
const WEEK: i64 = 7 * DAY;
/// When w1 passes the exam: Tuesday of the second week, 15:00.
const PASSED: i64 = BASE + WEEK + DAY + 15 * 3600;
/// The progress summary's "now": Thursday of the second week, 20:00.
const NOW: i64 = BASE + WEEK + 3 * DAY + 20 * 3600;

fn hash(seed: &str, salt: u8) -> SecretHash {
    let mut h = [salt; 32];
    for (i, b) in seed.bytes().enumerate().take(31) {
        h[i + 1] = b;
    }
    h
}

fn user(store: &dyn Store, name: &str, role: Role) -> Principal {
    let code = hash(name, 1);
    store
        .put_user(name, role, &code, BASE + 90 * DAY, BASE - DAY)
        .unwrap();
    let token = hash(name, 2);
    store
        .redeem_enrolment(name, &code, "pc", &token, BASE - DAY)
        .unwrap();
    store.authenticate(&token).unwrap().unwrap()
}

fn rated_project() -> Project {
    let text = PROJECT_TOML
        .replace("overlap = 2", "overlap = 1\nlease = \"30d\"")
        .replace("lease = \"1h\"\n", "")
        + "\n[exam]\nsize = 2\npass_mark = 2\nretry_after = \"10m\"\n\n[rate]\namount = \"0.05\"\ncurrency = \"USD\"\n";
    Project::from_toml("shop.toml", &text).expect("rated project parses")
}

/// One answer as this test sent it, and the reviewer's verdict on it if any.
struct Sent {
    user: String,
    at: i64,
    kept: Option<bool>,
}

/// The answers of one worker's session at `start`: `n` tasks, 30 s apart, all "food";
/// the first `reviewed.len()` are disputed and decided as `reviewed` says ("food" keeps).
fn session(
    store: &dyn Store,
    who: &Principal,
    reviewer: &Principal,
    (start, n): (i64, u32),
    reviewed: &[&str],
    next_id: &mut u64,
    sent: &mut Vec<Sent>,
) {
    let leased = store.sync(who, want("shop", n), start).unwrap();
    assert_eq!(leased.leases.len(), n as usize);
    let end = start + 30 * i64::from(n) + 5;
    let mut list = Vec::new();
    for (i, lease) in leased.leases.iter().enumerate() {
        *next_id += 1;
        let mut a = answer(*next_id, lease.task, "food");
        let at = start + 30 * (i as i64 + 1);
        a.ago = (end - at) as u32;
        list.push(a);
        sent.push(Sent {
            user: who.user.clone(),
            at,
            kept: reviewed.get(i).map(|v| *v == "food"),
        });
    }
    let reply = store.sync(who, answers(list), end).unwrap();
    assert!(reply.acks.iter().all(|a| a.status.is_stored()));
    for (i, verdict) in reviewed.iter().enumerate() {
        let lease = &leased.leases[i];
        // The review queue takes the store's task id; the aggregator's input lists every
        // task in import order, and "item N" is the Nth.
        let input = store.aggregation_input("shop").unwrap();
        assert_eq!(input.tasks.len(), TASKS);
        let n: usize = lease.text.trim_start_matches("item ").parse().unwrap();
        let task = input.tasks[n - 1].task;
        assert!(
            input.tasks[n - 1]
                .answers
                .iter()
                .any(|(u, _)| *u == who.user_id)
        );
        let item = NewReviewItem {
            reason: ReviewReason::Dispute,
            task,
            fields: Vec::new(),
            worker: None,
            note: None,
        };
        let id = store.review_enqueue(&item, end).unwrap().expect("queued");
        store
            .review_take(reviewer, &ReviewTake::Item(id), end + 1)
            .unwrap()
            .unwrap();
        store
            .review_decide(
                reviewer,
                &ReviewDecision {
                    item: id,
                    kind: VerdictKind::Pick,
                    value: Some(AnswerValue::Labels(vec![verdict.to_string()])),
                    note: "checked".into(),
                },
                end + 2,
            )
            .unwrap()
            .unwrap();
    }
}

struct Seeded {
    store: Arc<dyn Store>,
    sent: Vec<Sent>,
}

fn seed(url: &str, dir: &std::path::Path) -> Seeded {
    let store = open_store(url).unwrap();
    store.put_project(&rated_project(), BASE - DAY).unwrap();
    harness_import(store.as_ref(), TASKS);
    let lessons = dir.join("shop.lessons.jsonl");
    let mut rows = vec![
        r#"{"id":"l1","text":"lesson 1","gold":"food","explanation":"eaten","hint":"eaten"}"#
            .to_string(),
    ];
    for i in 1..=4 {
        rows.push(format!(
            r#"{{"id":"e{i}","text":"exam {i}","gold":"food","explanation":"eaten","exam":true}}"#
        ));
    }
    std::fs::write(&lessons, rows.join("\n") + "\n").unwrap();
    admin::import_lessons(store.as_ref(), "shop", &lessons).unwrap();
    let reviewer = user(store.as_ref(), "rev", Role::Reviewer);
    store.assign_reviewer("rev", "shop", BASE - DAY).unwrap();
    let w1 = user(store.as_ref(), "w1", Role::Worker);
    let w2 = user(store.as_ref(), "w2", Role::Worker);
    let mut sent = Vec::new();
    let (mut id1, mut id2) = (0, 0);
    let s = store.as_ref();
    // Week 1: w1 on Tuesday (4 reviewed: 3 kept), w2 on Wednesday (2 reviewed: 1 kept).
    session(
        s,
        &w1,
        &reviewer,
        (BASE + DAY + 9 * 3600, 10),
        &["food", "food", "toys", "food"],
        &mut id1,
        &mut sent,
    );
    session(
        s,
        &w2,
        &reviewer,
        (BASE + 2 * DAY + 9 * 3600, 6),
        &["toys", "food"],
        &mut id2,
        &mut sent,
    );
    // Week 2: w1 on Monday and Thursday (2 reviewed, both overturned on Thursday), w2
    // on Tuesday.
    session(
        s,
        &w1,
        &reviewer,
        (BASE + WEEK + 10 * 3600, 7),
        &[],
        &mut id1,
        &mut sent,
    );
    session(
        s,
        &w1,
        &reviewer,
        (BASE + WEEK + 3 * DAY + 9 * 3600, 5),
        &["toys", "tools"],
        &mut id1,
        &mut sent,
    );
    session(
        s,
        &w2,
        &reviewer,
        (BASE + WEEK + DAY + 9 * 3600, 8),
        &[],
        &mut id2,
        &mut sent,
    );
    // w1 takes the exam on Tuesday of week 2 and passes it (server time PASSED).
    let ask = SyncRequest {
        known: BTreeMap::from([("shop".to_string(), String::new())]),
        exams: vec!["shop".into()],
        ..SyncRequest::default()
    };
    let first = store.sync(&w1, ask.clone(), PASSED - 600).unwrap();
    let attempt = first.exams[0].attempt.clone().expect("an exam attempt");
    let mut submit = ask;
    submit.exam_answers = vec![ExamSubmission {
        attempt: attempt.id,
        answers: attempt
            .tasks
            .iter()
            .map(|t| ExamAnswer {
                item: t.item,
                value: AnswerValue::Labels(vec!["food".into()]),
            })
            .collect(),
    }];
    let graded = store.sync(&w1, submit, PASSED).unwrap();
    assert_eq!(graded.exams[0].qualified, Some(PASSED), "{url}");
    Seeded { store, sent }
}

fn harness_import(store: &dyn Store, n: usize) {
    let mut tasks = (1..=n).map(|i| {
        Ok(kazi::server::store::NewTask {
            id: format!("t{i}"),
            text: format!("item {i}"),
            suggestion: None,
            gold: None,
            gold_spec: None,
            clip: None,
            prior: Vec::new(),
        })
    });
    store.import_tasks("shop", &mut tasks).unwrap();
}

/// (tasks, reviewed, kept) per user and week index, from what was sent.
fn expected(sent: &[Sent]) -> BTreeMap<(String, i64), (u64, u64, u64)> {
    let mut out: BTreeMap<(String, i64), (u64, u64, u64)> = BTreeMap::new();
    for s in sent {
        let e = out
            .entry((s.user.clone(), (s.at - BASE).div_euclid(WEEK)))
            .or_default();
        e.0 += 1;
        if let Some(kept) = s.kept {
            e.1 += 1;
            e.2 += u64::from(kept);
        }
    }
    out
}

#[test]
fn review_accuracy_and_qualifications_reach_report_record_and_progress_on_every_backend() {
    for backend in backends::backends() {
        let dir = tempfile::tempdir().unwrap();
        let seeded = seed(&backend.url, dir.path());
        let store = seeded.store.as_ref();
        let want = expected(&seeded.sent);

        // The report by worker: review accuracy and exams passed per week.
        let rows = impact::report(store, i64::MIN, i64::MAX, &GroupBy::Worker).unwrap();
        assert_eq!(rows.len(), 4, "{}: two workers, two weeks", backend.url);
        for row in &rows {
            let week = (row.week - BASE) / WEEK;
            let (tasks, reviewed, kept) = want[&(row.group.clone(), week)];
            let cells = report::cells(row);
            assert_eq!(cells[0..2], [row.group.clone(), record::day(row.week)]);
            assert_eq!(cells[3], tasks.to_string(), "{row:?}");
            assert_eq!(cells[4], "", "no gold in this project: {row:?}");
            let review = match reviewed {
                0 => String::new(),
                n => format!("{:.1}%", kept as f64 * 100.0 / n as f64),
            };
            assert_eq!(cells[8], review, "review accuracy {row:?}");
            let passed = u64::from(row.group == "w1" && week == 1);
            assert_eq!(cells[9], passed.to_string(), "qualified {row:?}");
        }
        let csv = report::csv(&rows, &GroupBy::Worker).unwrap();
        assert!(
            csv.lines()
                .next()
                .unwrap()
                .ends_with(",review_accuracy,qualified")
        );
        let html = report::html(&rows, &GroupBy::Worker, "Centre");
        assert!(html.contains("Accuracy on review"));

        // The signed record: qualifications with their dates, accuracy on review.
        let record = impact::work_record(store, "w1", NOW).unwrap();
        assert_eq!(record.qualifications.len(), 1, "{}", backend.url);
        assert_eq!(record.qualifications[0].project, "shop");
        assert_eq!(record.qualifications[0].name, "Shop items");
        assert_eq!(record.qualifications[0].gained, record::day(PASSED));
        let (reviewed, kept) = want
            .iter()
            .filter(|((u, _), _)| u == "w1")
            .fold((0, 0), |(r, k), (_, e)| (r + e.1, k + e.2));
        let share = kept as f64 / reviewed as f64;
        assert_eq!(record.review_accuracy, Some(record::round(share, 4)));
        assert_eq!(record.projects[0].reviewed, reviewed);
        assert_eq!(record.accuracy, None, "no gold tasks");
        let (key, _) = CentreKey::load_or_create(&dir.path().join("centre.key")).unwrap();
        let text = record::signed_text(&record, &key);
        assert!(
            text.contains(&format!("Accuracy on review: {:.1}%", share * 100.0)),
            "{text}"
        );
        assert!(text.contains(&format!("Shop items (shop) since {}", record::day(PASSED))));
        for file in [text, record::signed_json(&record, &key)] {
            let verified = record::verify(&file, &key.public_hex(), "centre.pub").unwrap();
            assert_eq!(verified.worker, "w1");
        }

        // The progress summary a sync reply carries: by server time, from the same
        // records. "Today" is NOW's day; this week is the second.
        let who = user_again(store, "w1");
        let reply = store
            .sync(
                &who,
                SyncRequest {
                    progress: true,
                    ..SyncRequest::default()
                },
                NOW,
            )
            .unwrap();
        assert!(reply.progress.is_none(), "the store alone never adds it");
        let progress = impact::progress::progress(store, "w1", NOW).unwrap();
        assert_eq!(progress.as_of, NOW);
        assert_eq!(progress.days.len(), kazi::protocol::PROGRESS_DAYS);
        assert_eq!(progress.weeks.len(), kazi::protocol::PROGRESS_WEEKS);
        let day_of = |at: i64| at.div_euclid(DAY) * DAY;
        for d in &progress.days {
            let tasks = seeded
                .sent
                .iter()
                .filter(|s| s.user == "w1" && day_of(s.at) == d.start)
                .count() as u64;
            assert_eq!(
                d.tasks,
                tasks,
                "{}: day {}",
                backend.url,
                record::day(d.start)
            );
            // Answers 30 s apart, sessions hours apart: every answer but a session's
            // first is 30 s on task.
            let sessions = u64::from(tasks > 0);
            assert_eq!(d.seconds, 30 * tasks.saturating_sub(sessions));
        }
        assert_eq!(progress.today().unwrap().start, day_of(NOW));
        let this_week = progress.this_week().unwrap();
        assert_eq!(this_week.start, BASE + WEEK);
        assert_eq!(this_week.tasks, want[&("w1".to_string(), 1)].0);
        assert_eq!(
            progress.weeks[PROGRESS_WEEKS_BEFORE].tasks,
            want[&("w1".to_string(), 0)].0
        );
        let shop = &progress.projects[0];
        assert_eq!(shop.project, "shop");
        assert_eq!(shop.rate.as_ref().unwrap().amount, "0.05");
        let last_two: Vec<(u64, u64, u64)> = shop.weeks[PROGRESS_WEEKS_BEFORE..].to_vec();
        for (week, got) in last_two.iter().enumerate() {
            let (tasks, reviewed, kept) = want[&("w1".to_string(), week as i64)];
            assert_eq!(
                *got,
                (tasks, kept, reviewed),
                "{}: week {week}",
                backend.url
            );
        }
        assert_eq!(
            shop.rate.as_ref().unwrap().earned(shop.tasks()).unwrap(),
            format!("{:.2} USD", shop.tasks() as f64 * 0.05)
        );
        assert_eq!(progress.qualifications.len(), 1);
        assert_eq!(progress.qualifications[0].since, PASSED);
        assert_eq!(progress.qualifications[0].title, "Shop items");
        // w2 has no qualification, and sees only their own tasks.
        let other = impact::progress::progress(store, "w2", NOW).unwrap();
        assert!(other.qualifications.is_empty());
        assert_eq!(
            other.weeks.iter().map(|w| w.tasks).sum::<u64>(),
            seeded.sent.iter().filter(|s| s.user == "w2").count() as u64
        );
    }
}

/// The weeks of a summary before the seeded history's first: the history's two weeks
/// are its last two.
const PROGRESS_WEEKS_BEFORE: usize = kazi::protocol::PROGRESS_WEEKS - 2;

/// The principal of a user made by `seed` (its token is the test's own hash).
fn user_again(store: &dyn Store, name: &str) -> Principal {
    store.authenticate(&hash(name, 2)).unwrap().unwrap()
}

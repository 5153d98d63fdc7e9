//! The storage suite's gold part, on every backend (`support/backends.rs`): gold mixed
//! into leases at the project's rate, never twice to one worker, not production work,
//! scored when it arrives with feedback and accuracy in the same reply, resent when a
//! reply is lost, and a correction that scores everyone again and tells them.

#[path = "support/backends.rs"]
mod backends;
#[path = "support/server_harness.rs"]
mod harness;

use std::collections::HashSet;

use backends::on_every_backend;
use harness::{answer, project};
use kazi::model::gold::{Gold, GoldAnswer};
use kazi::model::{AnswerValue, Role};
use kazi::protocol::{FeedbackKind, FlagReason, Lease, Report, ReportKind, SyncRequest};
use kazi::server::Store;
use kazi::server::store::review::{ReviewFilter, ReviewReason};
use kazi::server::store::{NewTask, Principal, SecretHash};

const NOW: i64 = 1_800_000_000;

/// Project "shop" (overlap 1) with `rate` gold and `production` tasks "item N", then
/// `gold` gold tasks "gold N" (answer food, or toys too for even N) imported apart, as
/// an admin would.
fn shop(store: &dyn Store, rate: f64, production: usize, gold: usize) {
    let mut p = project(1);
    p.gold_rate = rate;
    p.lease_cap = 5_000;
    store.put_project(&p, NOW).unwrap();
    let mut tasks =
        (1..=production).map(|i| Ok(task(&format!("t{i}"), &format!("item {i}"), None)));
    store.import_tasks("shop", &mut tasks).unwrap();
    let mut golds = (1..=gold).map(|i| {
        let mut accepted = vec![vec!["food".to_string()]];
        if i % 2 == 0 {
            accepted.push(vec!["toys".to_string()]);
        }
        let gold = Gold {
            answer: GoldAnswer::Labels(accepted),
            explanation: format!("gold {i} is food"),
        };
        Ok(task(&format!("g{i}"), &format!("gold {i}"), Some(gold)))
    });
    store.import_tasks("shop", &mut golds).unwrap();
}

fn task(id: &str, text: &str, gold: Option<Gold>) -> NewTask {
    NewTask {
        id: id.into(),
        text: text.into(),
        suggestion: None,
        gold: gold
            .as_ref()
            .map(|g| g.expected().labels().unwrap().to_vec()),
        gold_spec: gold.map(|g| serde_json::to_string(&g).unwrap()),
        prior: Vec::new(),
    }
}

fn worker(store: &dyn Store, name: &str) -> Principal {
    let code: SecretHash = [name.len() as u8; 32];
    let mut token: SecretHash = [7; 32];
    token[..name.len()].copy_from_slice(name.as_bytes());
    store
        .put_user(name, Role::Worker, &code, NOW + 86_400, NOW)
        .unwrap();
    store
        .redeem_enrolment(name, &code, "device", &token, NOW)
        .unwrap();
    store.authenticate(&token).unwrap().unwrap()
}

fn want(count: u32) -> SyncRequest {
    SyncRequest {
        feedback_seen: Some(0),
        ..harness::want("shop", count)
    }
}

fn is_gold(lease: &Lease) -> bool {
    lease.text.starts_with("gold ")
}

#[test]
fn gold_comes_at_the_rate_and_never_twice() {
    on_every_backend(|backend, store| {
        shop(&*store, 0.1, 1_100, 150);
        let amina = worker(&*store, "amina");
        let mut leases = Vec::new();
        while leases.len() < 1_000 {
            let got = store.sync(&amina, want(200), NOW).unwrap().leases;
            assert!(!got.is_empty(), "{}: ran out of tasks", backend.url);
            leases.extend(got);
        }
        leases.truncate(1_000);
        let gold = leases.iter().filter(|l| is_gold(l)).count();
        assert!(
            (80..=120).contains(&gold),
            "{}: {gold} gold in 1,000 leases at a rate of 10%",
            backend.url
        );
        let ids: HashSet<i64> = leases.iter().map(|l| l.task).collect();
        assert_eq!(ids.len(), leases.len(), "a task leased twice");

        // Ids and order say nothing: gold's ids are spread among production's, not a
        // batch after them, and gold is not all at the end of a reply.
        let (golds, prods): (Vec<&Lease>, Vec<&Lease>) = leases.iter().partition(|l| is_gold(l));
        let max_prod = prods.iter().map(|l| l.task).max().unwrap();
        let min_prod = prods.iter().map(|l| l.task).min().unwrap();
        assert!(golds.iter().any(|g| g.task < max_prod) && golds.iter().any(|g| g.task > min_prod));
        assert!(leases[..200].iter().any(is_gold));

        // Every gold answered, expired and forgotten: still never the same gold again.
        let much_later = NOW + 10 * 86_400;
        let again = store.sync(&amina, want(200), much_later).unwrap().leases;
        let gold_ids: HashSet<i64> = golds.iter().map(|l| l.task).collect();
        assert!(
            again.iter().all(|l| !gold_ids.contains(&l.task)),
            "gold came back"
        );

        // A second worker gets gold too: gold is not held by slots.
        let baraka = worker(&*store, "baraka");
        let theirs = store.sync(&baraka, want(200), NOW).unwrap().leases;
        assert!(theirs.iter().any(is_gold), "{}", backend.url);
    });
}

#[test]
fn gold_is_scored_on_arrival_with_feedback_and_accuracy_in_the_same_reply() {
    on_every_backend(|backend, store| {
        shop(&*store, 0.5, 4, 4);
        let amina = worker(&*store, "amina");
        let leases = store.sync(&amina, want(8), NOW).unwrap().leases;
        let golds: Vec<&Lease> = leases.iter().filter(|l| is_gold(l)).collect();
        assert!(golds.len() >= 2, "{}: {leases:?}", backend.url);
        let (first, second) = (golds[0], golds[1]);
        let mut req = want(0);
        req.answers = vec![
            answer(1, first.task, "tools"),
            answer(2, second.task, "food"),
        ];
        let reply = store.sync(&amina, req, NOW + 60).unwrap();
        assert!(
            reply.acks.iter().all(|a| a.status.is_stored()),
            "{:?}",
            reply.acks
        );
        assert_eq!(reply.feedback.len(), 2, "{}", backend.url);
        let miss = &reply.feedback[0];
        assert_eq!(miss.kind, FeedbackKind::Gold);
        assert_eq!((miss.task, miss.correct), (first.task, false));
        assert_eq!(miss.answer, Some(AnswerValue::Labels(vec!["tools".into()])));
        assert_eq!(
            miss.expected,
            Some(AnswerValue::Labels(vec!["food".into()]))
        );
        assert!(miss.note.ends_with("is food"), "{}", miss.note);
        assert_eq!(miss.text, first.text, "a miss names its task");
        assert!(reply.feedback[1].correct);
        assert_eq!(reply.accuracy.len(), 1);
        let acc = &reply.accuracy[0];
        assert_eq!((acc.all_correct, acc.all_total), (1, 2));
        assert_eq!((acc.recent_correct, acc.recent_total), (1, 2));
        assert_eq!(
            (
                acc.confused[0].expected.as_str(),
                acc.confused[0].given.as_str()
            ),
            ("food", "tools")
        );

        // Gold is no production work: not counted, not decided.
        let records = {
            let mut all = Vec::new();
            store
                .export("shop", &mut |t| {
                    all.push(t);
                    Ok(())
                })
                .unwrap();
            all
        };
        let scored = records.iter().find(|r| r.text == first.text).unwrap();
        assert_eq!(scored.decided, None, "gold is not aggregated as production");

        // The reply was lost: the next sync from the same point brings the items again;
        // a client that says what it has gets nothing twice.
        let again = store.sync(&amina, want(0), NOW + 120).unwrap();
        assert_eq!(again.feedback.len(), 2);
        let mut seen = want(0);
        seen.feedback_seen = Some(reply.feedback[1].id);
        assert!(
            store
                .sync(&amina, seen, NOW + 180)
                .unwrap()
                .feedback
                .is_empty()
        );
        // A client from before feedback is sent none.
        let mut old = want(0);
        old.feedback_seen = None;
        assert!(
            store
                .sync(&amina, old, NOW + 240)
                .unwrap()
                .feedback
                .is_empty()
        );
    });
}

#[test]
fn a_correction_scores_everyone_again_and_tells_them() {
    on_every_backend(|backend, store| {
        shop(&*store, 0.5, 2, 1);
        let (amina, baraka) = (worker(&*store, "amina"), worker(&*store, "baraka"));
        let mut seen = Vec::new();
        for (who, label) in [(&amina, "tools"), (&baraka, "food")] {
            let leases = store.sync(who, want(3), NOW).unwrap().leases;
            let gold = leases.iter().find(|l| is_gold(l)).expect("gold leased");
            let mut req = want(0);
            req.answers = vec![answer(1, gold.task, label)];
            let reply = store.sync(who, req, NOW + 10).unwrap();
            seen.push(reply.feedback.last().unwrap().id);
        }
        // The gold was wrong: tools is right.
        let corrected = Gold {
            answer: GoldAnswer::Labels(vec![vec!["tools".into()]]),
            explanation: "it is a hammer".into(),
        };
        let done = store
            .correct_gold("shop", "g1", &corrected, NOW + 100)
            .unwrap();
        assert_eq!((done.rescored, done.changed), (2, 2), "{}", backend.url);
        for (who, (seen, right)) in [(&amina, (seen[0], true)), (&baraka, (seen[1], false))] {
            let mut req = want(0);
            req.feedback_seen = Some(seen);
            let reply = store.sync(who, req, NOW + 200).unwrap();
            assert_eq!(reply.feedback.len(), 1, "{}: {}", backend.url, who.user);
            let item = &reply.feedback[0];
            assert_eq!(item.kind, FeedbackKind::GoldCorrected);
            assert_eq!(item.correct, right);
            assert_eq!(
                item.expected,
                Some(AnswerValue::Labels(vec!["tools".into()]))
            );
            assert_eq!(item.note, "it is a hammer");
            let acc = &reply.accuracy[0];
            assert_eq!((acc.all_correct, acc.all_total), (u64::from(right), 1));
        }
        // Gold that does not fit the project is refused, and an unknown task named.
        let bad = Gold::labels(vec![vec!["nope".into()]]);
        let err = store.correct_gold("shop", "g1", &bad, NOW).unwrap_err();
        assert!(err.to_string().contains("unknown label"), "{err}");
        let err = store
            .correct_gold("shop", "zz", &corrected, NOW)
            .unwrap_err();
        assert!(err.to_string().contains("no task 'zz'"), "{err}");
    });
}

#[test]
fn without_a_gold_rate_gold_tasks_are_leased_like_any_other() {
    on_every_backend(|_, store| {
        shop(&*store, 0.0, 2, 2);
        let amina = worker(&*store, "amina");
        let leases = store.sync(&amina, want(10), NOW).unwrap().leases;
        let texts: Vec<&str> = leases.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            ["item 1", "item 2", "gold 1", "gold 2"],
            "import order"
        );
        // Still scored: accuracy counts every gold answer.
        let mut req = want(0);
        req.answers = vec![answer(1, leases[2].task, "food")];
        let reply = store.sync(&amina, req, NOW).unwrap();
        assert!(reply.feedback[0].correct);
    });
}

#[test]
fn contests_and_flags_go_to_the_review_queue_once() {
    on_every_backend(|backend, store| {
        shop(&*store, 0.5, 2, 2);
        let amina = worker(&*store, "amina");
        let leases = store.sync(&amina, want(4), NOW).unwrap().leases;
        let gold = leases.iter().find(|l| is_gold(l)).unwrap();
        let plain = leases.iter().find(|l| !is_gold(l)).unwrap();
        let mut req = want(0);
        req.answers = vec![answer(1, gold.task, "tools")];
        store.sync(&amina, req, NOW).unwrap();
        let report = |id, task, kind, note: &str| Report {
            id,
            task,
            kind,
            note: note.into(),
        };
        let mut req = want(0);
        req.reports = vec![
            report(1, gold.task, ReportKind::Contest, "it is a hammer"),
            report(2, plain.task, ReportKind::Flag(FlagReason::Unclear), ""),
            // Not scored on this one as gold: acknowledged, not queued.
            report(3, plain.task, ReportKind::Contest, "why"),
            // Never given to this worker.
            report(4, 12_345, ReportKind::Flag(FlagReason::Other), "x"),
        ];
        let reply = store.sync(&amina, req.clone(), NOW).unwrap();
        assert_eq!(reply.reports_done, [1, 2, 3, 4]);
        // Sent again (a lost reply): still one item each.
        store.sync(&amina, req, NOW + 5).unwrap();
        let items = store.review_list(&ReviewFilter::default()).unwrap();
        let mut got: Vec<(ReviewReason, Option<String>)> =
            items.iter().map(|i| (i.reason, i.note.clone())).collect();
        got.sort_by_key(|(r, _)| r.as_str());
        assert_eq!(
            got,
            [
                (ReviewReason::Contest, Some("it is a hammer".into())),
                (ReviewReason::Flag, Some("unclear".into())),
            ],
            "{}",
            backend.url
        );
        assert!(items.iter().all(|i| i.worker == Some(amina.user_id)));
    });
}

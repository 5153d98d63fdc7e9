//! The review queue on every backend: queueing once per task, reason and worker;
//! listings by project, reason and state; leases that never give one item to two
//! reviewers; verdicts with their audit; role and assignment refusals.

use std::collections::HashSet;

use super::*;
use kazi::server::scheduler::review::{
    REVIEW_LEASE_SECS, ReviewDecision, ReviewRefusal, ReviewTake,
};
use kazi::server::store::review::{
    NewReviewItem, ReviewFilter, ReviewReason, ReviewState, VerdictKind,
};

/// A logged-in user of any role.
fn user(store: &dyn Store, name: &str, role: Role) -> Principal {
    let code = hash(name, 1);
    store
        .put_user(name, role, &code, NOW + 86_400, NOW)
        .unwrap();
    let token = hash(name, 2);
    store
        .redeem_enrolment(name, &code, "test device", &token, NOW)
        .unwrap();
    store.authenticate(&token).unwrap().expect("token known")
}

/// Store ids of the first `n` tasks of "shop", leased to a throwaway worker. Leases
/// carry public ids; the queue takes the store's, which the aggregator's input lists in
/// import order (the order leases are granted in).
fn task_ids(store: &dyn Store, n: u32) -> Vec<i64> {
    let w = worker(store, "lister");
    let reply = store.sync(&w, want(n), NOW).unwrap();
    let input = store.aggregation_input("shop").unwrap();
    let ids: Vec<i64> = input
        .tasks
        .iter()
        .take(n as usize)
        .map(|t| t.task)
        .collect();
    assert_eq!(ids.len(), reply.leases.len());
    ids
}

fn dispute(task: i64) -> NewReviewItem {
    NewReviewItem {
        reason: ReviewReason::Dispute,
        task,
        fields: Vec::new(),
        worker: None,
        note: None,
    }
}

fn next() -> ReviewTake {
    ReviewTake::Next(ReviewFilter::default())
}

fn pick(item: i64, label: &str, note: &str) -> ReviewDecision {
    ReviewDecision {
        item,
        kind: VerdictKind::Pick,
        value: Some(AnswerValue::Labels(vec![label.to_string()])),
        note: note.to_string(),
    }
}

#[test]
fn an_item_is_queued_once_and_listed_by_project_reason_and_state() {
    on_every_backend(|backend, store| {
        shop(store.as_ref(), 2, 3);
        let tasks = task_ids(store.as_ref(), 3);
        let first = store.review_enqueue(&dispute(tasks[0]), NOW).unwrap();
        assert!(first.is_some(), "{}", backend.url);
        assert_eq!(
            store.review_enqueue(&dispute(tasks[0]), NOW + 5).unwrap(),
            None,
            "the same dispute again is a no-op"
        );
        let flagger = worker(store.as_ref(), "amina");
        let flag = NewReviewItem {
            reason: ReviewReason::Flag,
            task: tasks[0],
            fields: Vec::new(),
            worker: Some(flagger.user_id),
            note: Some("the picture is of a hammer".into()),
        };
        assert!(store.review_enqueue(&flag, NOW + 10).unwrap().is_some());
        let fields = NewReviewItem {
            reason: ReviewReason::FieldDispute,
            task: tasks[1],
            fields: vec!["vendor".into(), "items[0].qty".into()],
            worker: None,
            note: None,
        };
        assert!(store.review_enqueue(&fields, NOW + 20).unwrap().is_some());

        let all = store.review_list(&ReviewFilter::default()).unwrap();
        assert_eq!(all.len(), 3, "{}", backend.url);
        assert_eq!(all[0].reason, ReviewReason::Dispute);
        assert_eq!(all[0].project, "shop");
        assert_eq!(all[0].task_ext, "t1");
        assert_eq!(all[0].created, NOW);
        assert_eq!(all[0].state, ReviewState::Open);
        assert_eq!(all[1].worker, Some(flagger.user_id));
        assert_eq!(all[1].note.as_deref(), Some("the picture is of a hammer"));
        assert_eq!(all[2].fields, ["vendor", "items[0].qty"]);

        let flags = store
            .review_list(&ReviewFilter {
                reason: Some(ReviewReason::Flag),
                ..ReviewFilter::default()
            })
            .unwrap();
        assert_eq!(flags.len(), 1);
        let elsewhere = store
            .review_list(&ReviewFilter {
                project: Some("other".into()),
                ..ReviewFilter::default()
            })
            .unwrap();
        assert!(elsewhere.is_empty());
        let limited = store
            .review_list(&ReviewFilter {
                limit: Some(2),
                ..ReviewFilter::default()
            })
            .unwrap();
        assert_eq!(limited.len(), 2);
    });
}

#[test]
fn two_reviewers_never_hold_the_same_item() {
    on_every_backend(|backend, store| {
        shop(store.as_ref(), 2, 4);
        let tasks = task_ids(store.as_ref(), 4);
        for &t in &tasks {
            store.review_enqueue(&dispute(t), NOW).unwrap();
        }
        let reviewers: Vec<Principal> = (0..4)
            .map(|i| {
                let r = user(store.as_ref(), &format!("rev{i}"), Role::Reviewer);
                store.assign_reviewer(&r.user, "shop", NOW).unwrap();
                r
            })
            .collect();
        // All at once, from threads: on PostgreSQL these are concurrent transactions.
        let taken: Vec<i64> = std::thread::scope(|s| {
            let handles: Vec<_> = reviewers
                .iter()
                .map(|r| {
                    let store = store.clone();
                    s.spawn(move || store.review_take(r, &next(), NOW).unwrap().unwrap())
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap().expect("an item for each").item.id)
                .collect()
        });
        let distinct: HashSet<i64> = taken.iter().copied().collect();
        assert_eq!(distinct.len(), 4, "{}: {taken:?}", backend.url);

        // Nothing is left free; asking again gives a reviewer back their own item.
        let again = store
            .review_take(&reviewers[0], &next(), NOW + 1)
            .unwrap()
            .unwrap();
        assert_eq!(again.map(|t| t.item.id), Some(taken[0]));
        let other = store
            .review_take(&reviewers[1], &ReviewTake::Item(taken[0]), NOW + 1)
            .unwrap();
        assert_eq!(other, Err(ReviewRefusal::HeldByOther(taken[0])));

        // A lease that ran out frees the item; a released one is free at once.
        let later = NOW + 1 + REVIEW_LEASE_SECS;
        let freed = store
            .review_take(&reviewers[1], &ReviewTake::Item(taken[0]), later)
            .unwrap()
            .unwrap();
        assert_eq!(freed.map(|t| t.item.id), Some(taken[0]));
        store
            .review_release(&reviewers[2], taken[2], later)
            .unwrap()
            .unwrap();
        let reused = store
            .review_take(&reviewers[3], &ReviewTake::Item(taken[2]), later)
            .unwrap()
            .unwrap();
        assert!(reused.is_some());
    });
}

#[test]
fn a_verdict_is_kept_with_who_when_what_and_why() {
    on_every_backend(|backend, store| {
        shop(store.as_ref(), 2, 2);
        let tasks = task_ids(store.as_ref(), 2);
        let id = store
            .review_enqueue(&dispute(tasks[0]), NOW)
            .unwrap()
            .unwrap();
        let zawadi = user(store.as_ref(), "zawadi", Role::Reviewer);
        store.assign_reviewer("zawadi", "shop", NOW).unwrap();

        let untaken = store
            .review_decide(&zawadi, &pick(id, "food", ""), NOW)
            .unwrap();
        assert_eq!(untaken, Err(ReviewRefusal::NotHeld(id)));
        store
            .review_take(&zawadi, &ReviewTake::Item(id), NOW)
            .unwrap()
            .unwrap();
        let bad = store
            .review_decide(&zawadi, &pick(id, "cars", ""), NOW)
            .unwrap();
        assert!(matches!(bad, Err(ReviewRefusal::Invalid(_))), "{bad:?}");
        let reject = ReviewDecision {
            kind: VerdictKind::Reject,
            value: None,
            ..pick(id, "food", "")
        };
        assert_eq!(
            store.review_decide(&zawadi, &reject, NOW).unwrap(),
            Err(ReviewRefusal::NotAClaim),
            "a dispute needs an answer"
        );

        let decided = store
            .review_decide(&zawadi, &pick(id, "food", "it is bread"), NOW + 30)
            .unwrap()
            .unwrap();
        assert_eq!(decided.item.state, ReviewState::Decided);
        let listed = store
            .review_list(&ReviewFilter {
                state: Some(ReviewState::Decided),
                ..ReviewFilter::default()
            })
            .unwrap();
        assert_eq!(listed.len(), 1, "{}", backend.url);
        let verdict = listed[0].verdict.clone().expect("kept");
        assert_eq!(verdict.kind, VerdictKind::Pick);
        assert_eq!(
            verdict.value,
            Some(AnswerValue::Labels(vec!["food".into()]))
        );
        assert_eq!((verdict.by, verdict.at), (zawadi.user_id, NOW + 30));
        assert_eq!(verdict.note, "it is bread");
        assert_eq!(listed[0].lease, None);

        assert_eq!(
            store
                .review_decide(&zawadi, &pick(id, "toys", ""), NOW + 40)
                .unwrap(),
            Err(ReviewRefusal::Decided(id)),
            "a verdict is final"
        );
        assert_eq!(
            store.review_take(&zawadi, &next(), NOW + 40).unwrap(),
            Ok(None),
            "a decided item is not handed out again"
        );
        assert_eq!(
            store.review_enqueue(&dispute(tasks[0]), NOW + 50).unwrap(),
            None,
            "a decided dispute is not queued again when the task is decided again"
        );
    });
}

#[test]
fn only_assigned_reviewers_and_admins_review() {
    on_every_backend(|_, store| {
        shop(store.as_ref(), 2, 1);
        let tasks = task_ids(store.as_ref(), 1);
        let id = store
            .review_enqueue(&dispute(tasks[0]), NOW)
            .unwrap()
            .unwrap();
        let amina = worker(store.as_ref(), "amina");
        assert_eq!(
            store.review_take(&amina, &next(), NOW).unwrap(),
            Err(ReviewRefusal::Role)
        );
        let outsider = user(store.as_ref(), "baraka", Role::Reviewer);
        assert_eq!(
            store.review_take(&outsider, &next(), NOW).unwrap(),
            Ok(None),
            "items of projects not assigned are not offered"
        );
        assert_eq!(
            store
                .review_take(&outsider, &ReviewTake::Item(id), NOW)
                .unwrap(),
            Err(ReviewRefusal::NotAssigned("shop".into())),
            "nor taken by id"
        );
        let filtered = ReviewTake::Next(ReviewFilter {
            project: Some("shop".into()),
            ..ReviewFilter::default()
        });
        assert_eq!(
            store.review_take(&outsider, &filtered, NOW).unwrap(),
            Err(ReviewRefusal::NotAssigned("shop".into()))
        );
        let admin = user(store.as_ref(), "root", Role::Admin);
        let item = store.review_take(&admin, &next(), NOW).unwrap().unwrap();
        assert_eq!(
            item.map(|t| t.item.id),
            Some(id),
            "admins review everywhere"
        );

        assert!(store.assign_reviewer("baraka", "shop", NOW).unwrap());
        assert!(!store.assign_reviewer("baraka", "shop", NOW).unwrap());
        assert!(matches!(
            store.assign_reviewer("nobody", "shop", NOW),
            Err(StoreError::NoUser(_))
        ));
        assert!(matches!(
            store.assign_reviewer("baraka", "nowhere", NOW),
            Err(StoreError::NoProject(_))
        ));
    });
}

#[test]
fn three_workers_disagreeing_make_a_dispute_and_agreeing_ones_none() {
    on_every_backend(|backend, store| {
        shop(store.as_ref(), 3, 2);
        let names = ["amina", "baraka", "chiku"];
        let workers: Vec<Principal> = names.iter().map(|n| worker(store.as_ref(), n)).collect();
        let mut leases = Vec::new();
        for w in &workers {
            leases = store.sync(w, want(2), NOW).unwrap().leases;
        }
        assert_eq!(leases.len(), 2);
        let tasks = tasks_of(&leases);
        // "item N" is task tN.
        let split_task = format!("t{}", &leases[0].text["item ".len()..]);
        let split = ["food", "toys", "tools"];
        for (i, w) in workers.iter().enumerate() {
            let list = vec![
                labels(1, tasks[0], &[split[i]]),
                labels(2, tasks[1], &["food"]),
            ];
            send(store.as_ref(), w, list, NOW + 60);
        }
        let queue = store.review_list(&ReviewFilter::default()).unwrap();
        assert_eq!(queue.len(), 1, "{}: {queue:?}", backend.url);
        assert_eq!(queue[0].reason, ReviewReason::Dispute);
        assert_eq!(queue[0].task_ext, split_task);
        assert_eq!(queue[0].created, NOW + 60);
        // `kazi admin project list` counts it in the project's disputes.
        let counts = store.project_counts().unwrap();
        let shop = counts.iter().find(|c| c.project.name == "shop").unwrap();
        assert_eq!(shop.disputes, 1, "{}", backend.url);
    });
}

#[test]
fn a_gold_task_is_scored_never_disputed_or_spot_checked() {
    on_every_backend(|backend, store| {
        // Every accepted task would be spot-checked; gold is leased like any task here
        // (no gold rate), so it is answered and decided too.
        let mut shop = harness::project(3);
        shop.review.spot_check = 1.0;
        assert_eq!(store.put_project(&shop, NOW).unwrap(), ProjectAdded::New);
        let gold = kazi::model::gold::Gold {
            answer: kazi::model::gold::GoldAnswer::Labels(vec![vec!["food".into()]]),
            explanation: "bread is food".into(),
        };
        let mut tasks = (1..=2).map(|i| {
            let mut t = new_task(i, &format!("item {i}"));
            if i == 1 {
                t.gold = Some(vec!["food".into()]);
                t.gold_spec = Some(serde_json::to_string(&gold).unwrap());
            }
            Ok(t)
        });
        store.import_tasks("shop", &mut tasks).unwrap();
        let names = ["amina", "baraka", "chiku"];
        let split = ["food", "toys", "tools"];
        for (i, name) in names.iter().enumerate() {
            let w = worker(store.as_ref(), name);
            let leases = store.sync(&w, want(2), NOW).unwrap().leases;
            assert_eq!(leases.len(), 2, "{}", backend.url);
            let list = leases
                .iter()
                .enumerate()
                .map(|(j, l)| {
                    let label = if l.text == "item 1" { split[i] } else { "food" };
                    labels(j as u64 + 1, l.task, &[label])
                })
                .collect();
            send(store.as_ref(), &w, list, NOW + 60);
        }
        let queue = store.review_list(&ReviewFilter::default()).unwrap();
        let tasks: Vec<(&str, ReviewReason)> = queue
            .iter()
            .map(|i| (i.task_ext.as_str(), i.reason))
            .collect();
        assert_eq!(
            tasks,
            vec![("t2", ReviewReason::SpotCheck)],
            "{}: the gold task t1 split three ways and is not queued",
            backend.url
        );
    });
}

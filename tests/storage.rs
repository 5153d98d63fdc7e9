//! One storage test suite for every server backend, driven through `open_store(url)` and
//! the `Store` trait alone: enrolment, projects, import, leases and overlap, expiry, late
//! answers, resends, conflicts, corrections, skips, slot books, resent leases,
//! aggregation and export, revoked devices, the background aggregator's reads and
//! writes. SQLite runs in a temp dir; `KAZI_TEST_PG=postgres://...`
//! adds PostgreSQL, each test in a schema of its own, and without it the suite says
//! loudly that it skipped.
//! The project and request fixtures are the HTTP tests' (`support/server_harness.rs`).

#[path = "support/backends.rs"]
mod backends;
#[path = "support/server_harness.rs"]
mod harness;

use backends::{Backend, on_every_backend};
use std::collections::{BTreeMap, HashMap, HashSet};

use harness::{answer, project};
use kazi::model::{AnswerValue, Role};
use kazi::protocol::{AckStatus, AnswerUpload, Lease, SyncRequest, SyncResponse};
use kazi::quality::{Decision, Method};
use kazi::server::store::{
    ImportCounts, NewTask, Principal, PriorAnswer, ProjectAdded, SecretHash, TaskRecord, UserPut,
};
use kazi::server::{Store, StoreError};

const LEASE_SECS: i64 = 3600;
/// Server time of the checks: fixed, so nothing depends on the wall clock.
const NOW: i64 = 1_800_000_000;

/// Project "shop" with the given overlap and tasks t1..tn ("item N").
fn shop(store: &dyn Store, overlap: u32, n: usize) {
    assert_eq!(
        store.put_project(&project(overlap), NOW).unwrap(),
        ProjectAdded::New
    );
    let counts = import(store, "shop", n).unwrap();
    assert_eq!(counts.added, n as u64);
}

fn import(store: &dyn Store, project: &str, n: usize) -> Result<ImportCounts, StoreError> {
    let mut tasks = (1..=n).map(|i| Ok(new_task(i, &format!("item {i}"))));
    store.import_tasks(project, &mut tasks)
}

fn new_task(i: usize, text: &str) -> NewTask {
    NewTask {
        id: format!("t{i}"),
        text: text.into(),
        suggestion: None,
        gold: None,
        gold_spec: None,
        prior: Vec::new(),
    }
}

fn hash(seed: &str, salt: u8) -> SecretHash {
    let mut h = [salt; 32];
    for (i, b) in seed.bytes().enumerate().take(31) {
        h[i + 1] = b;
    }
    h
}

/// A logged-in worker: user, redeemed code, known device token.
fn worker(store: &dyn Store, name: &str) -> Principal {
    let code = hash(name, 1);
    store
        .put_user(name, Role::Worker, &code, NOW + 86_400, NOW)
        .unwrap();
    let token = hash(name, 2);
    store
        .redeem_enrolment(name, &code, "test device", &token, NOW)
        .unwrap();
    store.authenticate(&token).unwrap().expect("token known")
}

/// Ask for `count` tasks of "shop".
fn want(count: u32) -> SyncRequest {
    harness::want("shop", count)
}

fn labels(id: u64, task: i64, ids: &[&str]) -> AnswerUpload {
    AnswerUpload {
        id,
        task,
        value: AnswerValue::Labels(ids.iter().map(|l| l.to_string()).collect()),
        ago: 0,
        replaces: None,
    }
}

fn send(store: &dyn Store, who: &Principal, list: Vec<AnswerUpload>, now: i64) -> SyncResponse {
    let request = SyncRequest {
        answers: list,
        ..SyncRequest::default()
    };
    store.sync(who, request, now).unwrap()
}

fn tasks_of(leases: &[Lease]) -> Vec<i64> {
    leases.iter().map(|l| l.task).collect()
}

fn export(store: &dyn Store) -> Vec<TaskRecord> {
    let mut records = Vec::new();
    store
        .export("shop", &mut |t| {
            records.push(t);
            Ok(())
        })
        .unwrap();
    records
}

/// The books themselves, read with SQL on either backend: open_slots = overlap -
/// counted answers - live leases.
fn assert_books(backend: &Backend) {
    const DRIFTED: &str = "SELECT COUNT(*) FROM tasks t JOIN projects p ON p.id = t.project_id \
         WHERE t.open_slots != p.overlap - t.counted \
           - (SELECT COUNT(*) FROM leases l WHERE l.task_id = t.id AND l.live = {TRUE})";
    let bad: i64 = match (&backend.schema, backend.url.strip_prefix("sqlite:")) {
        (Some(schema), _) => schema.count(&DRIFTED.replace("{TRUE}", "TRUE")),
        (None, Some(path)) => rusqlite::Connection::open(path)
            .unwrap()
            .query_row(&DRIFTED.replace("{TRUE}", "1"), [], |r| r.get(0))
            .unwrap(),
        (None, None) => unreachable!("every backend is SQLite or PostgreSQL"),
    };
    assert_eq!(bad, 0, "{}: open_slots drifted", backend.url);
}

#[test]
fn enrolment_codes_are_single_use_and_tokens_authenticate() {
    on_every_backend(|_, store| {
        let code = hash("amina", 1);
        assert_eq!(
            store
                .put_user("amina", Role::Worker, &code, NOW + 60, NOW)
                .unwrap(),
            UserPut::Created
        );
        let token = hash("amina", 2);
        let wrong = store.redeem_enrolment("amina", &hash("x", 1), "d", &token, NOW);
        assert!(matches!(wrong, Err(StoreError::BadEnrolment)), "{wrong:?}");
        let late = store.redeem_enrolment("amina", &code, "d", &token, NOW + 60);
        assert!(matches!(late, Err(StoreError::BadEnrolment)), "expired");
        assert_eq!(
            store
                .redeem_enrolment("amina", &code, "d", &token, NOW)
                .unwrap(),
            Role::Worker
        );
        let again = store.redeem_enrolment("amina", &code, "d2", &hash("a2", 2), NOW);
        assert!(matches!(again, Err(StoreError::BadEnrolment)), "used");

        let who = store.authenticate(&token).unwrap().expect("known token");
        assert_eq!((who.user.as_str(), who.role), ("amina", Role::Worker));
        assert_eq!(store.authenticate(&hash("nobody", 2)).unwrap(), None);

        // A new code for an existing user changes the role and keeps the device.
        let renewed = store
            .put_user("amina", Role::Trainer, &hash("amina", 3), NOW + 60, NOW)
            .unwrap();
        assert_eq!(
            renewed,
            UserPut::Renewed {
                old_role: Role::Worker
            }
        );
        let who = store.authenticate(&token).unwrap().expect("still known");
        assert_eq!(who.role, Role::Trainer);
    });
}

#[test]
fn projects_are_added_updated_and_read_back() {
    on_every_backend(|_, store| {
        let p = project(2);
        assert_eq!(store.put_project(&p, NOW).unwrap(), ProjectAdded::New);
        assert_eq!(store.put_project(&p, NOW).unwrap(), ProjectAdded::Unchanged);
        let mut changed = p.clone();
        changed.title = "Shop items, v2".into();
        assert_eq!(
            store.put_project(&changed, NOW).unwrap(),
            ProjectAdded::Updated
        );
        assert_eq!(store.project("shop").unwrap(), Some(changed));
        assert_eq!(store.project("nope").unwrap(), None);
    });
}

#[test]
fn imports_are_idempotent_and_all_or_nothing() {
    on_every_backend(|_, store| {
        shop(&*store, 1, 3);
        let again = import(&*store, "shop", 3).unwrap();
        assert_eq!((again.added, again.already_present), (0, 3));

        // A new task beside one that clashes: nothing of this import is stored.
        let mut clash = vec![Ok(new_task(4, "item 4")), Ok(new_task(1, "changed"))].into_iter();
        let err = store.import_tasks("shop", &mut clash).unwrap_err();
        assert!(
            matches!(&err, StoreError::TaskClash { id, .. } if id == "t1"),
            "{err:?}"
        );
        let mut aborted = vec![Ok(new_task(5, "item 5")), Err("line 2 is bad".into())].into_iter();
        let err = store.import_tasks("shop", &mut aborted).unwrap_err();
        assert!(matches!(err, StoreError::Aborted(_)), "{err:?}");
        let ids: Vec<String> = export(&*store).into_iter().map(|t| t.id).collect();
        assert_eq!(ids, ["t1", "t2", "t3"]);

        let err = import(&*store, "nope", 1).unwrap_err();
        assert!(matches!(err, StoreError::NoProject(_)), "{err:?}");
    });
}

#[test]
fn no_task_is_over_assigned_when_workers_ask_at_once() {
    on_every_backend(|backend, store| {
        shop(&*store, 2, 5);
        let workers: Vec<Principal> = (1..=3).map(|i| worker(&*store, &format!("w{i}"))).collect();
        let granted: Vec<Vec<i64>> = std::thread::scope(|scope| {
            let handles: Vec<_> = workers
                .iter()
                .map(|w| {
                    let store = store.clone();
                    scope.spawn(move || tasks_of(&store.sync(w, want(5), NOW).unwrap().leases))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut per_task: HashMap<i64, usize> = HashMap::new();
        let mut held: Vec<HashSet<i64>> = vec![HashSet::new(); workers.len()];
        let mut take = |i: usize, tasks: &[i64]| {
            for t in tasks {
                assert!(held[i].insert(*t), "a worker got one task twice");
                *per_task.entry(*t).or_default() += 1;
            }
        };
        for (i, tasks) in granted.iter().enumerate() {
            take(i, tasks);
        }
        // Rows another sync holds are skipped (SKIP LOCKED on PostgreSQL), so a worker
        // may get fewer than are open; asking again must hand out the rest, never more.
        loop {
            let mut more = 0;
            for (i, w) in workers.iter().enumerate() {
                let tasks = tasks_of(&store.sync(w, want(5), NOW).unwrap().leases);
                more += tasks.len();
                take(i, &tasks);
            }
            if more == 0 {
                break;
            }
        }
        assert!(per_task.values().all(|&n| n <= 2), "{per_task:?}");
        assert_eq!(per_task.values().sum::<usize>(), 10, "5 tasks x overlap 2");
        assert_books(backend);
    });
}

#[test]
fn expired_leases_go_back_and_late_answers_are_credited() {
    on_every_backend(|backend, store| {
        shop(&*store, 1, 1);
        let (amina, baraka) = (worker(&*store, "amina"), worker(&*store, "baraka"));
        let held = store.sync(&amina, want(5), NOW).unwrap().leases;
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].expires, NOW + LEASE_SECS);
        let task = held[0].task;
        assert!(store.sync(&baraka, want(5), NOW).unwrap().leases.is_empty());

        let later = NOW + LEASE_SECS;
        let retaken = store.sync(&baraka, want(5), later).unwrap().leases;
        assert_eq!(tasks_of(&retaken), [task], "expired at its time");
        let b = send(&*store, &baraka, vec![answer(1, task, "toys")], later);
        assert_eq!(b.acks[0].status, AckStatus::Ok);
        let mut late = answer(1, task, "toys");
        late.ago = 60;
        let a = send(&*store, &amina, vec![late], later + 100);
        assert_eq!(a.acks[0].status, AckStatus::Ok, "late work is accepted");
        assert_eq!(a.done_today, 1, "and credited");
        assert_books(backend);

        let record = &export(&*store)[0];
        let who: Vec<(&str, i64)> = record
            .answers
            .iter()
            .map(|a| (a.worker.as_str(), a.at))
            .collect();
        assert_eq!(who, [("baraka", later), ("amina", later + 40)]);
        assert_eq!(record.decided.as_deref(), Some("toys"));
        let w3 = worker(&*store, "w3");
        assert!(store.sync(&w3, want(5), later).unwrap().leases.is_empty());
    });
}

#[test]
fn a_resend_is_a_dup_and_a_reused_id_a_conflict() {
    on_every_backend(|_, store| {
        shop(&*store, 1, 2);
        let amina = worker(&*store, "amina");
        let tasks = tasks_of(&store.sync(&amina, want(2), NOW).unwrap().leases);
        let first = send(&*store, &amina, vec![answer(1, tasks[0], "food")], NOW);
        assert_eq!(
            (&first.acks[0].status, first.done_today),
            (&AckStatus::Ok, 1)
        );
        let again = send(&*store, &amina, vec![answer(1, tasks[0], "food")], NOW);
        assert_eq!(
            (&again.acks[0].status, again.done_today),
            (&AckStatus::Dup, 1)
        );
        let reused = send(
            &*store,
            &amina,
            vec![answer(1, tasks[0], "toys"), answer(1, tasks[1], "food")],
            NOW,
        );
        assert!(
            reused
                .acks
                .iter()
                .all(|a| matches!(a.status, AckStatus::Conflict(_))),
            "{:?}",
            reused.acks
        );
        let records = export(&*store);
        assert_eq!(records[0].answers.len(), 1);
        assert_eq!(records[0].decided.as_deref(), Some("food"));
        assert!(records[1].answers.is_empty());
    });
}

#[test]
fn a_correction_replaces_the_answer_and_redecides() {
    on_every_backend(|backend, store| {
        shop(&*store, 2, 1);
        let (amina, baraka) = (worker(&*store, "amina"), worker(&*store, "baraka"));
        let task = store.sync(&amina, want(1), NOW).unwrap().leases[0].task;
        store.sync(&baraka, want(1), NOW).unwrap();
        send(&*store, &amina, vec![answer(1, task, "food")], NOW);
        send(&*store, &baraka, vec![answer(1, task, "toys")], NOW);
        let tie = &export(&*store)[0];
        assert_eq!((tie.decided.as_deref(), tie.agreement), (None, Some(0.5)));

        let mut fix = answer(2, task, "toys");
        fix.replaces = Some(1);
        let reply = send(&*store, &amina, vec![fix], NOW);
        assert_eq!(
            (&reply.acks[0].status, reply.done_today),
            (&AckStatus::Ok, 1)
        );
        let fixed = &export(&*store)[0];
        assert_eq!(
            (fixed.decided.as_deref(), fixed.agreement),
            (Some("toys"), Some(1.0))
        );
        let superseded: Vec<bool> = fixed.answers.iter().map(|a| a.superseded).collect();
        assert_eq!(superseded, [true, false, false], "kept for provenance");
        assert_books(backend);
    });
}

#[test]
fn a_skipped_task_goes_to_others_and_never_back_to_the_skipper() {
    on_every_backend(|backend, store| {
        shop(&*store, 1, 3);
        let (amina, baraka) = (worker(&*store, "amina"), worker(&*store, "baraka"));
        let held = tasks_of(&store.sync(&amina, want(2), NOW).unwrap().leases);
        let mut skip = want(5);
        skip.released = vec![held[0]];
        let after = tasks_of(&store.sync(&amina, skip, NOW).unwrap().leases);
        assert_eq!(after.len(), 1, "only the third task");
        assert!(!after.contains(&held[0]));
        assert_books(backend);
        let other = tasks_of(&store.sync(&baraka, want(5), NOW).unwrap().leases);
        assert_eq!(other, [held[0]], "the skipped task went back");

        let much_later = NOW + 2 * LEASE_SECS;
        let again = tasks_of(&store.sync(&amina, want(5), much_later).unwrap().leases);
        assert!(!again.contains(&held[0]), "{again:?}");
        assert_books(backend);
    });
}

/// The slot books, seen from outside: after answers, a skip, a late answer and expiry,
/// fresh workers get exactly the slots that are left.
#[test]
fn slot_books_stay_consistent() {
    on_every_backend(|backend, store| {
        shop(&*store, 2, 4);
        let x = worker(&*store, "x");
        let leases = store.sync(&x, want(3), NOW).unwrap().leases;
        let texts: Vec<&str> = leases.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["item 1", "item 2", "item 3"], "import order");
        let held = tasks_of(&leases);
        let mut req = want(0);
        req.answers = vec![answer(1, held[0], "food")];
        req.released = vec![held[1]];
        store.sync(&x, req, NOW).unwrap();
        assert_books(backend);
        // Slots left per task: t1 1, t2 2, t3 1 (x holds one), t4 2.
        let count = |name: &str, at: i64| {
            let w = worker(&*store, name);
            store.sync(&w, want(10), at).unwrap().leases.len()
        };
        assert_eq!(count("y", NOW), 4, "one of each");
        assert_eq!(count("z", NOW), 2, "t2 and t4");
        assert_eq!(count("w", NOW), 0);
        assert_books(backend);

        // Every lease expires; x's late answer to t3 takes a slot of its own.
        let later = NOW + LEASE_SECS;
        let late = send(&*store, &x, vec![answer(2, held[2], "food")], later);
        assert_eq!(late.acks[0].status, AckStatus::Ok);
        assert_books(backend);
        // Left: t1 1, t2 2, t3 1, t4 2.
        assert_eq!(count("v", later), 4);
        assert_eq!(count("u", later), 2);
        assert_eq!(count("s", later), 0);
        assert_books(backend);
    });
}

#[test]
fn leases_of_a_reply_the_device_never_saw_are_sent_again() {
    on_every_backend(|_, store| {
        shop(&*store, 1, 5);
        let amina = worker(&*store, "amina");
        let mut first = want(2);
        first.seen = Some(0);
        let lost = store.sync(&amina, first.clone(), NOW).unwrap();
        assert_eq!(lost.leases.len(), 2);
        assert!(lost.reply > 0);

        // The reply was lost: the device still says it saw reply 0.
        let again = store.sync(&amina, first, NOW + 5).unwrap();
        // Resent in public-id order, which says nothing of import order.
        let sorted = |leases: &[Lease]| {
            let mut ids = tasks_of(leases);
            ids.sort_unstable();
            ids
        };
        assert_eq!(sorted(&again.leases), sorted(&lost.leases));
        assert!(again.reply > lost.reply, "a new reply number");
        assert_eq!(again.leases[0].expires, lost.leases[0].expires);

        let mut next = want(2);
        next.seen = Some(again.reply);
        let fresh = store.sync(&amina, next, NOW + 10).unwrap();
        let fresh_tasks = tasks_of(&fresh.leases);
        assert_eq!(fresh_tasks.len(), 2);
        assert!(
            fresh_tasks
                .iter()
                .all(|t| !tasks_of(&lost.leases).contains(t))
        );
        // A reply that carries nothing and asks nothing gets no number.
        let quiet = store
            .sync(
                &amina,
                SyncRequest {
                    seen: Some(fresh.reply),
                    ..SyncRequest::default()
                },
                NOW + 20,
            )
            .unwrap();
        assert_eq!((quiet.reply, quiet.leases.len()), (0, 0));
    });
}

#[test]
fn a_task_is_decided_once_it_has_all_its_answers() {
    on_every_backend(|_, store| {
        shop(&*store, 3, 1);
        let names = ["a1", "a2", "a3"];
        let workers: Vec<Principal> = names.iter().map(|n| worker(&*store, n)).collect();
        let mut task = 0;
        for w in &workers {
            task = store.sync(w, want(1), NOW).unwrap().leases[0].task;
        }
        for (w, label) in workers.iter().zip(["food", "toys", "food"]) {
            let before = &export(&*store)[0];
            assert_eq!((before.decided.as_deref(), before.agreement), (None, None));
            send(&*store, w, vec![answer(1, task, label)], NOW);
        }
        let decided = &export(&*store)[0];
        assert_eq!(decided.decided.as_deref(), Some("food"));
        let agreement = decided.agreement.expect("decided");
        assert!((agreement - 2.0 / 3.0).abs() < 1e-9, "{agreement}");
    });
}

#[test]
fn multi_label_answers_are_one_vote_in_any_order() {
    on_every_backend(|_, store| {
        let mut multi = project(2);
        multi.multi_label = true;
        store.put_project(&multi, NOW).unwrap();
        import(&*store, "shop", 1).unwrap();
        let (amina, baraka) = (worker(&*store, "amina"), worker(&*store, "baraka"));
        let task = store.sync(&amina, want(1), NOW).unwrap().leases[0].task;
        store.sync(&baraka, want(1), NOW).unwrap();
        let a = send(
            &*store,
            &amina,
            vec![labels(1, task, &["toys", "food"])],
            NOW,
        );
        assert_eq!(a.acks[0].status, AckStatus::Ok);
        let resend = send(
            &*store,
            &amina,
            vec![labels(1, task, &["food", "toys"])],
            NOW,
        );
        assert_eq!(resend.acks[0].status, AckStatus::Dup);
        send(
            &*store,
            &baraka,
            vec![labels(1, task, &["food", "toys"])],
            NOW,
        );
        let record = &export(&*store)[0];
        assert_eq!(
            (record.decided.as_deref(), record.agreement),
            (Some("food|toys"), Some(1.0))
        );
    });
}

#[test]
fn export_lists_tasks_in_import_order_with_every_answer() {
    on_every_backend(|_, store| {
        shop(&*store, 1, 3);
        let (amina, baraka) = (worker(&*store, "amina"), worker(&*store, "baraka"));
        let a = tasks_of(&store.sync(&amina, want(2), NOW).unwrap().leases);
        let b = tasks_of(&store.sync(&baraka, want(1), NOW).unwrap().leases);
        send(&*store, &amina, vec![answer(1, a[1], "toys")], NOW + 30);
        send(&*store, &baraka, vec![answer(1, b[0], "food")], NOW + 60);

        let records = export(&*store);
        let summary: BTreeMap<&str, Vec<(&str, String, i64)>> = records
            .iter()
            .map(|t| {
                let answers = t
                    .answers
                    .iter()
                    .map(|x| (x.worker.as_str(), x.value.to_compact(), x.at))
                    .collect();
                (t.id.as_str(), answers)
            })
            .collect();
        let ids: Vec<&str> = records.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["t1", "t2", "t3"]);
        assert!(summary["t1"].is_empty());
        assert_eq!(summary["t2"], [("amina", "toys".to_string(), NOW + 30)]);
        assert_eq!(summary["t3"], [("baraka", "food".to_string(), NOW + 60)]);
        assert_eq!(records[1].text, "item 2");

        let mut none = |_: TaskRecord| Ok(());
        let err = store.export("nope", &mut none).unwrap_err();
        assert!(matches!(err, StoreError::NoProject(_)), "{err:?}");
    });
}

/// Answers a task brought from another tool (Label Studio, Prodigy): kept with their
/// annotator, listed first in the export, counted towards overlap and in the decision,
/// never a Kazi worker's; a task is the same on re-import only with the same ones.
#[test]
fn prior_answers_count_towards_overlap_but_are_nobodys_work() {
    on_every_backend(|backend, store| {
        store.put_project(&project(2), NOW).unwrap();
        let prior = |who: &str, label: &str| PriorAnswer {
            annotator: who.into(),
            value: AnswerValue::Labels(vec![label.into()]),
            at: NOW - 100,
        };
        let with = |i: usize, answers: Vec<PriorAnswer>| NewTask {
            prior: answers,
            ..new_task(i, &format!("item {i}"))
        };
        let tasks = || {
            vec![
                with(1, vec![prior("ls-anna", "food"), prior("ls-ben", "food")]),
                with(2, vec![prior("ls-anna", "toys")]),
                with(3, vec![]),
            ]
        };
        let mut stream = tasks().into_iter().map(Ok);
        assert_eq!(store.import_tasks("shop", &mut stream).unwrap().added, 3);
        let done = &export(&*store)[0];
        assert_eq!(done.decided.as_deref(), Some("food"), "decided at import");
        let first: Vec<_> = done
            .answers
            .iter()
            .map(|a| (a.worker.as_str(), a.imported))
            .collect();
        assert_eq!(first, [("ls-anna", true), ("ls-ben", true)]);

        let amina = worker(&*store, "amina");
        let reply = store.sync(&amina, want(5), NOW).unwrap();
        assert_eq!(reply.leases.len(), 2, "t1 has all its answers");
        assert_eq!(reply.done_today, 0);
        let t2 = reply.leases[0].task;
        let baraka = worker(&*store, "baraka");
        assert_eq!(
            tasks_of(&store.sync(&baraka, want(5), NOW).unwrap().leases).len(),
            1,
            "t2's one open slot is amina's"
        );
        let reply = send(&*store, &amina, vec![answer(1, t2, "toys")], NOW);
        assert_eq!(reply.done_today, 1);
        let t2 = &export(&*store)[1];
        assert_eq!(
            (t2.decided.as_deref(), t2.agreement),
            (Some("toys"), Some(1.0))
        );
        let order: Vec<_> = t2
            .answers
            .iter()
            .map(|a| (a.worker.as_str(), a.imported))
            .collect();
        assert_eq!(order, [("ls-anna", true), ("amina", false)]);
        assert_books(backend);

        let mut again = tasks().into_iter().map(Ok);
        assert_eq!(
            store
                .import_tasks("shop", &mut again)
                .unwrap()
                .already_present,
            3
        );
        let mut changed = tasks();
        changed[1].prior[0] = prior("ls-anna", "tools");
        let mut changed = changed.into_iter().map(Ok);
        let err = store.import_tasks("shop", &mut changed).unwrap_err();
        assert!(
            matches!(err, StoreError::TaskClash { ref id, .. } if id == "t2"),
            "{err:?}"
        );
    });
}

/// A revoked device's token stops working at once and the tasks it held go back to the
/// pool; the admin's list shows when it last synced and when it was revoked.
#[test]
fn a_revoked_device_no_longer_authenticates_and_its_leases_go_back() {
    on_every_backend(|backend, store| {
        shop(&*store, 1, 3);
        let amina = worker(&*store, "amina");
        let held = tasks_of(&store.sync(&amina, want(2), NOW).unwrap().leases);
        assert_eq!(held.len(), 2);
        let baraka = worker(&*store, "baraka");
        let third = tasks_of(&store.sync(&baraka, want(5), NOW).unwrap().leases);
        assert_eq!(third.len(), 1, "amina holds the other two");

        let users = store.users().unwrap();
        let names: Vec<_> = users.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["amina", "baraka"]);
        let device = &users[0].devices[..];
        assert_eq!(device.len(), 1);
        assert_eq!(
            (device[0].id, device[0].last_sync, device[0].revoked),
            (amina.device_id, Some(NOW), None)
        );

        assert_eq!(store.revoke_devices("amina", None, NOW + 1).unwrap(), 1);
        assert_eq!(store.authenticate(&hash("amina", 2)).unwrap(), None);
        assert!(store.authenticate(&hash("baraka", 2)).unwrap().is_some());
        let revoked = store.users().unwrap()[0].devices[0].revoked;
        assert_eq!(revoked, Some(NOW + 1));
        assert_eq!(
            store
                .revoke_devices("amina", Some(amina.device_id), NOW + 2)
                .unwrap(),
            0,
            "already revoked"
        );
        assert_books(backend);
        let back = tasks_of(&store.sync(&baraka, want(5), NOW + 3).unwrap().leases);
        assert_eq!(back, held, "amina's tasks went back to the pool");

        let err = store.revoke_devices("nobody", None, NOW).unwrap_err();
        assert!(
            matches!(err, StoreError::NoUser(ref u) if u == "nobody"),
            "{err:?}"
        );
        let err = store
            .revoke_devices("baraka", Some(amina.device_id), NOW)
            .unwrap_err();
        assert!(
            matches!(err, StoreError::NoDevice { device, .. } if device == amina.device_id),
            "{err:?}"
        );
        assert_eq!(
            store
                .revoke_devices("baraka", Some(baraka.device_id), NOW + 4)
                .unwrap(),
            1
        );
        assert_books(backend);
        assert_eq!(store.authenticate(&hash("baraka", 2)).unwrap(), None);
    });
}

/// What the background aggregator reads (every task's counted answers, by worker) and
/// writes back (decisions with method and confidence, only on tasks with all their
/// answers).
#[test]
fn the_aggregators_decisions_round_trip_on_complete_tasks_only() {
    on_every_backend(|_, store| {
        shop(&*store, 2, 3);
        assert_eq!(store.latest_answer_id().unwrap(), 0);
        let (amina, baraka) = (worker(&*store, "amina"), worker(&*store, "baraka"));
        let tasks = tasks_of(&store.sync(&amina, want(2), NOW).unwrap().leases);
        store.sync(&baraka, want(1), NOW).unwrap();
        let (t1, t2) = (tasks[0], tasks[1]);
        send(
            &*store,
            &amina,
            vec![answer(1, t1, "food"), answer(2, t2, "toys")],
            NOW,
        );
        send(&*store, &baraka, vec![answer(1, t1, "tools")], NOW);
        assert_eq!(store.project_names().unwrap(), ["shop"]);

        let input = store.aggregation_input("shop").unwrap();
        assert_eq!(input.project.name, "shop");
        assert_eq!(input.latest_answer, store.latest_answer_id().unwrap());
        assert!(input.latest_answer > 0);
        // The aggregator works on the store's own task ids (the wire's are public ids),
        // in import order.
        let (t1, t2) = (input.tasks[0].task, input.tasks[1].task);
        let seen: Vec<_> = input
            .tasks
            .iter()
            .map(|t| (t.task, t.counted, t.answers.clone()))
            .collect();
        let label = |l: &str| AnswerValue::Labels(vec![l.into()]);
        assert_eq!(input.tasks.len(), 3);
        assert_eq!(
            seen[..2],
            [
                (
                    t1,
                    2,
                    vec![
                        (amina.user_id, label("food")),
                        (baraka.user_id, label("tools"))
                    ]
                ),
                (t2, 1, vec![(amina.user_id, label("toys"))]),
            ]
        );
        assert_eq!((seen[2].1, seen[2].2.len()), (0, 0));

        let ds = |value: &str| Decision {
            value: Some(value.into()),
            agreement: 0.5,
            confidence: 0.875,
            method: Method::DawidSkene,
        };
        store
            .record_decisions(&[(t2, ds("toys")), (t1, ds("tools"))])
            .unwrap();
        let records = export(&*store);
        let outcome: Vec<_> = records
            .iter()
            .map(|r| (r.decided.as_deref(), r.method.as_deref(), r.confidence))
            .collect();
        assert_eq!(
            outcome,
            [
                (Some("tools"), Some("ds"), Some(0.875)),
                (None, None, None),
                (None, None, None)
            ],
            "t2 still wants an answer"
        );
        let err = store.aggregation_input("nope").unwrap_err();
        assert!(matches!(err, StoreError::NoProject(_)), "{err:?}");
    });
}

#[path = "storage/review.rs"]
mod review;

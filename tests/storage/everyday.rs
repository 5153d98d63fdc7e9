//! The storage suite's part for the everyday admin commands, on every backend: a
//! disabled user's devices stop and come back on enable, a removed user's answers stay,
//! and projects and tasks are counted and listed by state.

use super::*;
use kazi::server::store::{TaskState, TokenStanding, UserRemoved};

#[test]
fn a_disabled_user_is_shut_out_until_enabled_and_keeps_their_devices() {
    on_every_backend(|backend, store| {
        shop(&*store, 1, 3);
        let amina = worker(&*store, "amina");
        let held = tasks_of(&store.sync(&amina, want(2), NOW).unwrap().leases);
        assert_eq!(held.len(), 2);
        assert!(store.set_user_disabled("amina", true, NOW + 1).unwrap());
        assert!(
            !store.set_user_disabled("amina", true, NOW + 2).unwrap(),
            "already"
        );
        assert_eq!(store.authenticate(&hash("amina", 2)).unwrap(), None);
        assert_eq!(
            store.token_standing(&hash("amina", 2)).unwrap(),
            TokenStanding::Disabled,
            "told apart from a signed-out device"
        );
        assert_eq!(
            store.token_standing(&hash("nobody", 2)).unwrap(),
            TokenStanding::Unknown
        );
        assert_eq!(store.users().unwrap()[0].disabled, Some(NOW + 1));
        assert_books(backend);
        let baraka = worker(&*store, "baraka");
        let got = tasks_of(&store.sync(&baraka, want(5), NOW + 3).unwrap().leases);
        assert_eq!(got.len(), 3, "amina's tasks went back to the queue");

        // A fresh code does not get round it; the right code is told why.
        let code = hash("amina-again", 1);
        store
            .put_user("amina", Role::Worker, &code, NOW + 86_400, NOW)
            .unwrap();
        let err = store
            .redeem_enrolment("amina", &code, "d2", &hash("amina-again", 2), NOW + 4)
            .unwrap_err();
        assert!(
            matches!(err, StoreError::UserDisabled(ref u) if u == "amina"),
            "{err:?}"
        );
        let err = store
            .redeem_enrolment("amina", &hash("wrong", 1), "d2", &hash("x", 2), NOW + 4)
            .unwrap_err();
        assert!(
            matches!(err, StoreError::BadEnrolment),
            "a wrong code learns nothing"
        );

        assert!(store.set_user_disabled("amina", false, NOW + 5).unwrap());
        assert!(!store.set_user_disabled("amina", false, NOW + 6).unwrap());
        let back = store.authenticate(&hash("amina", 2)).unwrap();
        assert_eq!(
            back.map(|p| p.device_id),
            Some(amina.device_id),
            "the same device"
        );
        // The code kept while disabled works now.
        store
            .redeem_enrolment("amina", &code, "d2", &hash("amina-again", 2), NOW + 7)
            .unwrap();
        store.revoke_devices("amina", None, NOW + 8).unwrap();
        assert_eq!(
            store.token_standing(&hash("amina", 2)).unwrap(),
            TokenStanding::Revoked
        );
        let err = store.set_user_disabled("nobody", true, NOW).unwrap_err();
        assert!(matches!(err, StoreError::NoUser(_)), "{err:?}");
    });
}

#[test]
fn a_removed_user_is_gone_or_kept_only_for_their_answers() {
    on_every_backend(|backend, store| {
        shop(&*store, 1, 4);
        // Never answered: nothing is kept and the name is free again.
        let typo = worker(&*store, "aminaa");
        assert_eq!(store.sync(&typo, want(1), NOW).unwrap().leases.len(), 1);
        assert_eq!(
            store.remove_user("aminaa", NOW + 1).unwrap(),
            UserRemoved::Deleted
        );
        assert!(store.users().unwrap().is_empty());
        assert_books(backend);
        worker(&*store, "aminaa");
        assert_eq!(
            store.remove_user("aminaa", NOW + 1).unwrap(),
            UserRemoved::Deleted
        );

        let amina = worker(&*store, "amina");
        let leases = store.sync(&amina, want(2), NOW).unwrap().leases;
        send(
            &*store,
            &amina,
            vec![answer(1, leases[0].task, "food")],
            NOW + 1,
        );
        assert_eq!(
            store.remove_user("amina", NOW + 2).unwrap(),
            UserRemoved::Retired { answers: 1 }
        );
        assert_eq!(store.authenticate(&hash("amina", 2)).unwrap(), None);
        assert_eq!(
            store.token_standing(&hash("amina", 2)).unwrap(),
            TokenStanding::Removed,
            "removed, though the device was revoked too"
        );
        assert_books(backend);
        let users = store.users().unwrap();
        assert_eq!(users[0].removed, Some(NOW + 2));
        assert!(users[0].devices.iter().all(|d| d.revoked.is_some()));
        let kept: Vec<String> = export(&*store)
            .iter()
            .flat_map(|t| t.answers.iter().map(|a| a.worker.clone()))
            .collect();
        assert_eq!(kept, ["amina"], "the answer keeps its author");
        let code = hash("new amina", 1);
        let err = store
            .put_user("amina", Role::Worker, &code, NOW + 86_400, NOW + 3)
            .unwrap_err();
        assert!(matches!(err, StoreError::UserRemoved(_)), "{err:?}");
        for err in [
            store.remove_user("amina", NOW + 4).unwrap_err(),
            store.set_user_disabled("amina", true, NOW + 4).unwrap_err(),
            store.revoke_devices("amina", None, NOW + 4).unwrap_err(),
        ] {
            assert!(matches!(err, StoreError::NoUser(_)), "{err:?}");
        }
    });
}

#[test]
fn projects_and_tasks_are_counted_and_listed_by_state() {
    on_every_backend(|_, store| {
        shop(&*store, 2, 5);
        let amina = worker(&*store, "amina");
        let baraka = worker(&*store, "baraka");
        let a = tasks_of(&store.sync(&amina, want(2), NOW).unwrap().leases);
        let b = tasks_of(&store.sync(&baraka, want(1), NOW).unwrap().leases);
        assert_eq!(a.len(), 2);
        assert_eq!(b, [a[0]], "baraka gets t1's second slot");
        // t1 gets two answers that agree: done and decided. t2 stays leased by amina.
        send(&*store, &amina, vec![answer(1, a[0], "food")], NOW + 1);
        send(&*store, &baraka, vec![answer(1, a[0], "food")], NOW + 1);

        let counts = store.project_counts().unwrap();
        assert_eq!(counts.len(), 1);
        let c = &counts[0];
        assert_eq!(c.project.name, "shop");
        assert_eq!(
            (c.total, c.waiting, c.leased, c.done, c.decided),
            (5, 4, 1, 1, 1),
            "t2 has a free slot beside amina's lease; t3-t5 wait"
        );

        let ids = |state, limit| -> (Vec<String>, u64) {
            let list = store.task_list("shop", state, limit).unwrap();
            assert_eq!(list.overlap, 2);
            (
                list.tasks.iter().map(|t| t.id.clone()).collect(),
                list.matching,
            )
        };
        assert_eq!(ids(Some(TaskState::Decided), 50), (vec!["t1".into()], 1));
        assert_eq!(ids(Some(TaskState::Done), 50), (vec!["t1".into()], 1));
        assert_eq!(ids(Some(TaskState::Leased), 50), (vec!["t2".into()], 1));
        assert_eq!(
            ids(Some(TaskState::Waiting), 2),
            (vec!["t2".into(), "t3".into()], 4),
            "bounded, with how many there are"
        );
        assert_eq!(ids(None, 50).1, 5);
        let list = store.task_list("shop", None, 1).unwrap();
        let t1 = &list.tasks[0];
        assert_eq!(
            (t1.counted, t1.live_leases, t1.decided.as_deref()),
            (2, 0, Some("food"))
        );
        let err = store.task_list("nope", None, 10).unwrap_err();
        assert!(matches!(err, StoreError::NoProject(_)), "{err:?}");
    });
}

/// What the picker shows: the tasks a worker could still be given, counted by the
/// server when asked — neither those they hold or answered, nor gold.
#[test]
fn the_server_counts_the_tasks_waiting_for_each_worker_when_asked() {
    on_every_backend(|_, store| {
        shop(&*store, 2, 5);
        let waiting = |who: &Principal, mut request: SyncRequest| {
            request.counts = true;
            let reply = store.sync(who, request, NOW).unwrap();
            (reply.waiting, reply.leases)
        };
        let amina = worker(&*store, "amina");
        let (counted, _) = waiting(&amina, SyncRequest::default());
        let shop_waits = |tasks| {
            vec![kazi::protocol::Waiting {
                project: "shop".into(),
                tasks,
            }]
        };
        assert_eq!(counted, shop_waits(5), "the schema sent now is counted");
        let (counted, leases) = waiting(&amina, want(2));
        assert_eq!(
            counted,
            [kazi::protocol::Waiting {
                project: "shop".into(),
                tasks: 3
            }]
        );
        send(
            &*store,
            &amina,
            vec![answer(1, leases[0].task, "food")],
            NOW,
        );
        let known = SyncRequest {
            known: [("shop".to_string(), project(2).version())].into(),
            ..SyncRequest::default()
        };
        assert_eq!(
            waiting(&amina, known.clone()).0[0].tasks,
            3,
            "held or answered"
        );
        let baraka = worker(&*store, "baraka");
        assert_eq!(waiting(&baraka, known.clone()).0[0].tasks, 5, "overlap 2");
        // Not asked: not counted (the count is work the server does only for the picker).
        let reply = store.sync(&baraka, known, NOW).unwrap();
        assert!(reply.waiting.is_empty());
    });
}

//! The everyday admin commands through the real binary: disable and enable a worker whose
//! device is logged in (the same device works again), remove users, projects and tasks by
//! state, every refusal one line; and the agreement `project list` shows, worked by hand,
//! from the server's own answers on every backend.

#[path = "support/binary.rs"]
mod binary;
#[path = "support/server_harness.rs"]
mod harness;
#[path = "support/ungated.rs"]
mod ungated;

use std::path::Path;

use binary::{enrolment_code, kazi, ok, refused};
use harness::{answer, answers, every_backend, project};
use kazi::model::Role;
use kazi::server::admin;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/projects")
        .join(name)
        .display()
        .to_string()
}

/// The row of `project` in `project list`'s table, split into its columns.
fn row(list: &str, project: &str) -> Vec<String> {
    list.lines()
        .find(|l| l.split_whitespace().next() == Some(project))
        .unwrap_or_else(|| panic!("no row for {project} in\n{list}"))
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn disable_enable_remove_and_the_lists_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let db = format!("sqlite:{}", dir.path().join("centre.db").display());
    let admin = |args: &[&str]| {
        let mut all = vec!["admin", "--db", db.as_str()];
        all.extend_from_slice(args);
        kazi(&all, &home)
    };
    ok(admin(&["init"]));
    ok(admin(&[
        "project",
        "add",
        ungated::products().to_str().unwrap(),
    ]));
    ok(admin(&[
        "tasks",
        "import",
        "products",
        &fixture("products.jsonl"),
    ]));
    let code = enrolment_code(&ok(admin(&["user", "add", "amina", "--role", "worker"])));
    let server = binary::serve(&db, &[], std::process::Stdio::null());
    ok(kazi(
        &[
            "login",
            "--server",
            &server.url,
            "--user",
            "amina",
            "--code",
            &code,
        ],
        &home,
    ));
    ok(kazi(&["sync", "--project", "products"], &home));

    let list = ok(admin(&["project", "list"]));
    let products = row(&list, "products");
    assert_eq!(products[1], "classify");
    let (tasks, waiting, leased): (u64, u64, u64) = (
        products[2].parse().unwrap(),
        products[3].parse().unwrap(),
        products[4].parse().unwrap(),
    );
    assert!(leased > 0 && tasks >= waiting, "{list}");
    assert_eq!(&products[5..], ["0", "0", "0", "—", "—"], "{list}");
    assert!(list.lines().all(|l| l.chars().count() <= 80), "{list}");

    let leased_list = ok(admin(&[
        "tasks", "list", "products", "--state", "leased", "--limit", "2",
    ]));
    let lines: Vec<&str> = leased_list.lines().collect();
    assert_eq!(
        lines.len(),
        4,
        "header, 2 tasks, how many more:\n{leased_list}"
    );
    assert!(
        lines[1].starts_with("prod-0001") && lines[1].contains("0/3"),
        "{leased_list}"
    );
    assert!(
        lines[3].contains(&format!("first 2 of {leased} leased tasks")),
        "{leased_list}"
    );

    // Disabled: the logged-in device stops at once and its tasks go back.
    let said = ok(admin(&["user", "disable", "amina"]));
    assert!(said.contains("amina is disabled"), "{said}");
    assert!(ok(admin(&["user", "disable", "amina"])).contains("already disabled"));
    // The worker is told they are paused, not signed out: the same login works again.
    let paused = refused(kazi(&["sync"], &home));
    assert!(paused.contains(kazi::protocol::ACCOUNT_PAUSED), "{paused}");
    assert!(!paused.contains("signed out"), "{paused}");
    assert!(ok(admin(&["user", "list"])).contains("disabled since"));
    assert_eq!(row(&ok(admin(&["project", "list"])), "products")[4], "0");
    // Enabled: the same device syncs again, no new code.
    assert!(ok(admin(&["user", "enable", "amina"])).contains("amina is enabled"));
    let synced = ok(kazi(&["sync", "--project", "products"], &home));
    assert!(synced.starts_with("Synced"), "{synced}");

    // Removed without answers: gone, and the name is free again.
    assert!(ok(admin(&["user", "remove", "amina"])).contains("nothing of them is kept"));
    assert!(!ok(admin(&["user", "list"])).contains("amina"));
    let removed = refused(kazi(&["sync"], &home));
    assert!(removed.contains("signed out"), "{removed}");
    ok(admin(&["user", "add", "amina", "--role", "worker"]));

    for (args, says) in [
        (&["tasks", "list", "nope"][..], "no project 'nope'"),
        (
            &["tasks", "list", "products", "--limit", "0"],
            "--limit must be 1-1000",
        ),
        (&["user", "remove", "nobody"], "no user 'nobody'"),
        (&["user", "disable", "no body"], "user name 'no body'"),
        (&["user", "enable", "nobody"], "no user 'nobody'"),
    ] {
        let err = refused(admin(args));
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let err =
        String::from_utf8_lossy(&admin(&["tasks", "list", "products", "--state", "lost"]).stderr)
            .into_owned();
    assert!(err.contains("waiting, leased, done, decided"), "{err}");
}

/// Two workers on three tasks of overlap 2: (food, food), (food, toys), (toys, toys).
/// By hand: Krippendorff's alpha = 1 - 2 / 3.6 = 0.444; Fleiss' kappa = (2/3 - 1/2) /
/// (1/2) = 0.333.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_list_agreement_is_alpha_and_kappa_of_the_servers_answers() {
    for s in every_backend("the agreement of project list", |_| {}).await {
        s.add_project(&project(2));
        s.import_numbered("shop", 3);
        let a = s.enrol("amina", Role::Worker).await;
        let b = s.enrol("baraka", Role::Worker).await;
        let tasks: Vec<i64> = s
            .want(&a, "shop", 3)
            .await
            .leases
            .iter()
            .map(|l| l.task)
            .collect();
        assert_eq!(s.want(&b, "shop", 3).await.leases.len(), 3);
        let given = |labels: [&str; 3]| {
            answers(
                tasks
                    .iter()
                    .zip(labels)
                    .enumerate()
                    .map(|(i, (&t, l))| answer(i as u64 + 1, t, l))
                    .collect(),
            )
        };
        s.sync(&a, &given(["food", "food", "toys"])).await;
        s.sync(&b, &given(["food", "toys", "toys"])).await;
        let overview = s.blocking(|| admin::project_overview(&*s.store)).unwrap();
        let shop = &overview[0];
        assert_eq!(
            (shop.counts.done, shop.counts.decided),
            (3, 2),
            "{}",
            s.backend()
        );
        let alpha = shop.alpha.expect("alpha defined");
        let kappa = shop.kappa.expect("kappa defined");
        assert!(
            (alpha - 4.0 / 9.0).abs() < 1e-9,
            "{}: alpha {alpha}",
            s.backend()
        );
        assert!(
            (kappa - 1.0 / 3.0).abs() < 1e-9,
            "{}: kappa {kappa}",
            s.backend()
        );
    }
}

//! `kazi train` through the real binary against a real server: a worker is refused with
//! one clear line, and a trainer's plain sync brings the lessons it presents (and no
//! tasks: a trainer leases none to present).

#[path = "support/binary.rs"]
mod binary;
#[path = "support/ungated.rs"]
mod ungated;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use binary::{enrolment_code, kazi, ok, refused, serve};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/projects")
        .join(name)
}

/// A centre with products, its tasks and lessons, and `user` of `role` logged in under
/// the profile of the same name.
fn centre(dir: &Path, users: &[(&str, &str)]) -> (PathBuf, binary::Server) {
    let home = dir.join("home");
    let db = format!("sqlite:{}", dir.join("server.db").display());
    let admin = |args: &[&str]| kazi(&[&["admin", "--db", &db][..], args].concat(), &home);
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
        fixture("products.jsonl").to_str().unwrap(),
    ]));
    ok(admin(&[
        "lessons",
        "import",
        "products",
        fixture("products.lessons.jsonl").to_str().unwrap(),
    ]));
    let server = serve(&db, &[], Stdio::null());
    for (user, role) in users {
        let code = enrolment_code(&ok(admin(&["user", "add", user, "--role", role])));
        let out = ok(kazi(
            &[
                "login",
                "--server",
                &server.url,
                "--user",
                user,
                "--code",
                &code,
                "--profile",
                user,
            ],
            &home,
        ));
        if *role == "trainer" {
            assert!(out.contains("Next: kazi train --profile"), "{out}");
        }
    }
    (home, server)
}

#[test]
fn a_worker_is_refused_kazi_train_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let (home, _server) = centre(dir.path(), &[("amina", "worker")]);
    let err = refused(kazi(&["train", "--profile", "amina"], &home));
    assert!(
        err.contains("amina is a worker: only trainers and admins present lessons"),
        "{err}"
    );
    assert!(err.contains("ask your admin for the trainer role"), "{err}");
}

#[test]
fn a_trainers_sync_brings_the_lessons_and_no_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let (home, _server) = centre(dir.path(), &[("tom", "trainer")]);
    // The first sync brings the projects, the next their lessons (the screen's sync
    // engine asks again at once when new projects arrive).
    ok(kazi(&["sync", "--profile", "tom"], &home));
    ok(kazi(&["sync", "--profile", "tom"], &home));
    let profile = kazi::client::Profile::load(&home, "tom").unwrap();
    let store = kazi::client::LocalStore::open(&profile.db_path()).unwrap();
    let book = store.training().unwrap();
    let lessons = book.lessons.get("products").expect("the products lessons");
    assert_eq!(lessons.len(), 12, "{lessons:?}");
    assert!(!lessons[0].gold.explanation.is_empty());
    assert_eq!(
        store.counts(Some("products")).unwrap().queued,
        0,
        "no task leased"
    );
}

#[test]
fn kazi_train_help_has_an_example() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(kazi(&["train", "--help"], dir.path()));
    assert!(
        out.contains("Example: kazi train --project products"),
        "{out}"
    );
}

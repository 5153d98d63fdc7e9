//! A first week at a centre through the real `kazi` binary: a sync says whether the server
//! answered, an unknown project is refused, new projects arrive with a plain sync, admin
//! commands never create a database by accident or change a project's meaning quietly.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn kazi(args: &[&str], home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kazi"))
        .args(args)
        .env("KAZI_HOME", home)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("kazi runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Succeeds; returns stdout.
fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    stdout(&o)
}

/// Fails with one clear `kazi: ...` line on stderr: no panic, no backtrace.
fn refused(o: &Output) -> String {
    let err = stderr(o);
    assert!(!o.status.success(), "expected failure: {}", stdout(o));
    assert!(err.starts_with("kazi: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    err
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/projects")
        .join(name)
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kazi"))
        .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("first line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server { child, url }
}

/// A centre with the products project and worker amina logged in on `home`.
fn centre(dir: &Path) -> (String, PathBuf, Server) {
    let home = dir.join("home");
    let db = format!("sqlite:{}", dir.join("server.db").display());
    let admin = |args: &[&str]| kazi(&[&["admin", "--db", &db][..], args].concat(), &home);
    ok(admin(&["init"]));
    ok(admin(&[
        "project",
        "add",
        fixture("products.toml").to_str().unwrap(),
    ]));
    ok(admin(&[
        "tasks",
        "import",
        "products",
        fixture("products.jsonl").to_str().unwrap(),
    ]));
    let out = ok(admin(&["user", "add", "amina", "--role", "worker"]));
    let code = out
        .split("enrolment code: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a code is printed")
        .to_string();
    let server = serve(&db);
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
    (db, home, server)
}

#[test]
fn a_sync_that_did_not_reach_the_server_says_so_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, home, server) = centre(dir.path());
    // Nothing to send and nothing wanted: still the server is asked.
    let out = ok(kazi(&["sync"], &home));
    assert!(out.starts_with("Synced: 0 answers sent"), "{out}");
    drop(server);
    let err = refused(&kazi(&["sync"], &home));
    assert!(err.contains("sync failed (0 answers saved here"), "{err}");
    assert!(!stdout(&kazi(&["sync"], &home)).contains("Synced"));
}

#[test]
fn a_sync_for_a_project_the_server_does_not_have_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, home, _server) = centre(dir.path());
    let err = refused(&kazi(&["sync", "--project", "nope"], &home));
    assert!(
        err.contains("the server has no project 'nope' (projects: products)"),
        "{err}"
    );
    let out = ok(kazi(&["sync", "--project", "products"], &home));
    assert!(out.contains("70 new tasks"), "{out}");
}

#[test]
fn a_plain_sync_picks_up_projects_added_since() {
    let dir = tempfile::tempdir().unwrap();
    let (db, home, _server) = centre(dir.path());
    ok(kazi(&["sync"], &home));
    let status = ok(kazi(&["status"], &home));
    assert!(!status.contains("project shop"), "{status}");
    let shop = dir.path().join("shop.toml");
    std::fs::write(
        &shop,
        "name = \"shop\"\ntitle = \"Shop\"\nkind = \"classify\"\n\n\
         [[labels]]\nid = \"a\"\nname = \"A\"\nkey = \"1\"\n\n\
         [[labels]]\nid = \"b\"\nname = \"B\"\nkey = \"2\"\n",
    )
    .unwrap();
    ok(kazi(
        &[
            "admin",
            "--db",
            &db,
            "project",
            "add",
            shop.to_str().unwrap(),
        ],
        &home,
    ));
    ok(kazi(&["sync"], &home));
    let status = ok(kazi(&["status"], &home));
    assert!(status.contains("project shop: 0 tasks cached"), "{status}");
}

#[test]
fn admin_commands_refuse_a_database_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let path = dir.path().join("centre.db");
    let typo = format!("sqlite:{}", dir.path().join("centr.db").display());
    for args in [
        vec!["user", "add", "amina", "--role", "worker"],
        vec!["user", "list"],
        vec!["project", "add", fixture("products.toml").to_str().unwrap()],
        vec!["tasks", "import", "products", "x.jsonl"],
    ] {
        let err = refused(&kazi(
            &[&["admin", "--db", &typo][..], &args].concat(),
            &home,
        ));
        assert!(
            err.contains(&format!(
                "no database at {0}; create it with kazi admin --db sqlite:{0} init",
                dir.path().join("centr.db").display()
            )),
            "{args:?}: {err}"
        );
    }
    let err = refused(&kazi(&["export", "--db", &typo, "products"], &home));
    assert!(err.contains("no database at"), "{err}");
    assert!(!dir.path().join("centr.db").exists(), "nothing was created");

    let db = format!("sqlite:{}", path.display());
    let out = ok(kazi(&["admin", "--db", &db, "init"], &home));
    assert!(out.contains("ready"), "{out}");
    assert!(
        out.contains(&format!("kazi admin --db {db} project add FILE.toml")),
        "{out}"
    );
    let out = ok(kazi(&["admin", "--db", &db, "user", "list"], &home));
    assert!(out.contains("No users yet"), "{out}");
}

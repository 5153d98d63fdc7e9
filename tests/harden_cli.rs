//! Revocation and safe exports as admins and workers meet them, through the real `kazi`
//! binary and a real `kazi serve`: `user list` and `user revoke`, a signed-out device
//! that keeps its unsent answers for the next login, and exports that are byte-exact in a
//! pipe and inert on a terminal. Revocation runs on PostgreSQL too when
//! `KAZI_TEST_PG` is set.

#[path = "support/ungated.rs"]
mod ungated;

#[path = "support/pg.rs"]
mod pg;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use kazi::server::admin::{self, ExportFormat, ExportTarget};

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

/// Fails with one clear line on stderr: no panic, no backtrace.
fn refused(o: &Output) -> String {
    let err = stderr(o);
    assert!(!o.status.success(), "expected failure: {}", stdout(o));
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    err
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
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
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server(child, url)
}

fn code_of(out: &str) -> String {
    out.split("enrolment code: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a code is printed")
        .to_string()
}

const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J \u{9b}31m \u{202e}txet";

#[test]
fn a_revoked_device_is_signed_out_and_keeps_its_unsent_answers() {
    let dir = tempfile::tempdir().unwrap();
    signed_out_on(
        &dir,
        &format!("sqlite:{}", dir.path().join("server.db").display()),
    );
    if let Some(base) = pg::test_database("kazi admin user revoke") {
        let schema = pg::PgSchema::create(&base);
        signed_out_on(&tempfile::tempdir().unwrap(), &schema.url);
    }
}

fn signed_out_on(dir: &tempfile::TempDir, db: &str) {
    let home = dir.path().join("home");
    kazi::server::open_store(db).expect("a fresh database");
    let admin_cmd = |args: &[&str]| kazi(&[&["admin", "--db", db][..], args].concat(), &home);
    let products = ungated::products();
    ok(admin_cmd(&["project", "add", products.to_str().unwrap()]));
    let tasks = dir.path().join("tasks.jsonl");
    let hostile = serde_json::json!({"id": "evil", "text": HOSTILE});
    std::fs::write(
        &tasks,
        format!("{hostile}\n{{\"id\":\"ok\",\"text\":\"Rice 5kg\"}}\n"),
    )
    .unwrap();
    ok(admin_cmd(&[
        "tasks",
        "import",
        "products",
        tasks.to_str().unwrap(),
    ]));
    let code = code_of(&ok(admin_cmd(&[
        "user", "add", "amina", "--role", "worker",
    ])));
    let server = serve(db);
    let login = |code: &str| {
        kazi(
            &[
                "login", "--server", &server.1, "--user", "amina", "--code", code,
            ],
            &home,
        )
    };
    ok(login(&code));
    ok(kazi(&["sync", "--project", "products"], &home));

    let list = ok(admin_cmd(&["user", "list"]));
    assert!(
        list.contains("amina (worker): 1 device(s) signed in"),
        "{list}"
    );
    assert!(list.contains("device 1 "), "{list}");
    assert!(
        !list.contains("last sync never"),
        "the sync is shown: {list}"
    );

    // Amina answers one task; it is saved here, not yet sent.
    {
        let mut store = kazi::client::LocalStore::open(&home.join("default/client.db")).unwrap();
        let label = store.projects().unwrap()[0].labels[0].id.clone();
        let task = store.queued_tasks("products", 0, 1).unwrap().0.remove(0);
        store
            .record_answer(&task, &kazi::model::AnswerValue::Labels(vec![label]))
            .unwrap();
    }
    let out = ok(admin_cmd(&["user", "revoke", "amina"]));
    assert!(out.contains("1 device(s) of amina signed out"), "{out}");
    let list = ok(admin_cmd(&["user", "list"]));
    assert!(
        list.contains("amina (worker): 0 device(s) signed in"),
        "{list}"
    );
    assert!(list.contains("signed out 20"), "{list}");

    let err = refused(&kazi(&["sync"], &home));
    assert!(
        err.contains("this device was signed out \u{2014} ask your admin for a new code"),
        "{err}"
    );
    let status = ok(kazi(&["status"], &home));
    assert!(status.contains("Unsent answers: 1"), "{status}");

    // A new code, the same user on the same profile: the answer goes out, counted.
    let again = code_of(&ok(admin_cmd(&[
        "user", "add", "amina", "--role", "worker",
    ])));
    ok(login(&again));
    let out = ok(kazi(&["sync"], &home));
    assert!(out.contains("1 answers sent, 0 refused"), "{out}");
    let csv = ok(kazi(
        &[
            "export",
            "--db",
            db,
            "products",
            "--format",
            "csv",
            "--with-names",
        ],
        &home,
    ));
    assert_eq!(csv.matches("amina=").count(), 1, "{csv}");

    // Bad revocations are one line each.
    let err = refused(&admin_cmd(&["user", "revoke", "amina", "--device", "999"]));
    assert!(err.contains("user 'amina' has no device 999"), "{err}");
    let err = refused(&admin_cmd(&["user", "revoke", "nobody"]));
    assert!(err.contains("no user 'nobody'"), "{err}");
    let out = ok(admin_cmd(&["user", "revoke", "amina", "--device", "1"]));
    assert!(out.contains("already signed out"), "{out}");

    // Into a pipe the export is the data byte for byte, hostile bytes and all.
    let raw = ok(kazi(
        &[
            "export",
            "--db",
            db,
            "products",
            "--format",
            "csv",
            "--with-names",
        ],
        &home,
    ));
    assert!(raw.contains(HOSTILE), "{raw:?}");
    let jsonl = ok(kazi(
        &["export", "--db", db, "products", "--with-names"],
        &home,
    ));
    let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(first["text"], HOSTILE);
}

#[test]
fn an_export_for_a_terminal_shows_every_control_inert() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.db").display());
    kazi::server::open_store(&db).expect("a fresh database");
    let store = kazi::server::open_store(&db).unwrap();
    let products = ungated::products();
    let text = std::fs::read_to_string(&products).unwrap();
    let project = kazi::model::Project::from_toml("products.toml", &text).unwrap();
    admin::add_project(&*store, &project).unwrap();
    let tasks = dir.path().join("tasks.jsonl");
    let hostile = serde_json::json!({"id": "evil", "text": HOSTILE});
    std::fs::write(&tasks, format!("{hostile}\n")).unwrap();
    admin::import_tasks(&*store, "products", &tasks, &mut |_, _| {}).unwrap();
    for format in [ExportFormat::Csv, ExportFormat::Jsonl] {
        let mut shown = Vec::new();
        admin::export_to(
            &*store,
            "products",
            format,
            ExportTarget::Terminal,
            &mut shown,
        )
        .unwrap();
        let shown = String::from_utf8(shown).unwrap();
        let drives_a_terminal =
            |c: char| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c);
        assert!(
            !shown.chars().any(drives_a_terminal),
            "{format:?}: {shown:?}"
        );
        assert!(
            shown.contains('\u{241b}'),
            "ESC shows as a visible symbol: {shown:?}"
        );
        let mut exact = Vec::new();
        admin::export(&*store, "products", format, &mut exact).unwrap();
        assert_ne!(exact, shown.as_bytes(), "a file gets the raw data");
    }
}

/// What the worker's screen hears from its sync engine once the device is revoked: the
/// link is down, the reason is the one line to act on, and the unsent answer is counted.
#[test]
fn the_sync_engine_of_a_signed_out_device_says_so_and_keeps_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let db = format!("sqlite:{}", dir.path().join("server.db").display());
    kazi::server::open_store(&db).expect("a fresh database");
    let admin_cmd = |args: &[&str]| kazi(&[&["admin", "--db", &db][..], args].concat(), &home);
    let products = ungated::products();
    let tasks = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/projects/products.jsonl");
    ok(admin_cmd(&["project", "add", products.to_str().unwrap()]));
    ok(admin_cmd(&[
        "tasks",
        "import",
        "products",
        tasks.to_str().unwrap(),
    ]));
    let code = code_of(&ok(admin_cmd(&[
        "user", "add", "amina", "--role", "worker",
    ])));
    let server = serve(&db);
    ok(kazi(
        &[
            "login", "--server", &server.1, "--user", "amina", "--code", &code,
        ],
        &home,
    ));
    ok(kazi(&["sync", "--project", "products"], &home));
    {
        let mut store = kazi::client::LocalStore::open(&home.join("default/client.db")).unwrap();
        let label = store.projects().unwrap()[0].labels[0].id.clone();
        let task = store.queued_tasks("products", 0, 1).unwrap().0.remove(0);
        store
            .record_answer(&task, &kazi::model::AnswerValue::Labels(vec![label]))
            .unwrap();
    }
    ok(admin_cmd(&["user", "revoke", "amina"]));

    let profile = kazi::client::Profile::load(&home, "default").unwrap();
    let (tx, statuses) = std::sync::mpsc::channel();
    let engine =
        kazi::client::SyncEngine::start(&profile, kazi::client::SyncConfig::default(), move |s| {
            let _ = tx.send(s);
        })
        .unwrap();
    let status = loop {
        let status = statuses
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("a status arrives");
        if status.message.is_some() {
            break status;
        }
    };
    engine.shutdown(std::time::Duration::from_secs(1));
    assert_eq!(status.link, kazi::client::Link::Offline);
    assert_eq!(status.message.as_deref(), Some(kazi::protocol::SIGNED_OUT));
    assert_eq!(status.counts.map(|c| c.unsent), Some(1));
}

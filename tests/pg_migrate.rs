//! `kazi admin migrate` from a SQLite centre to PostgreSQL with the real binary: the
//! centre's data arrives whole (the export of both databases is the same), a target that
//! already holds a centre is refused unless `--replace`, and a worker's device, logged
//! in against the SQLite server, goes on against a PostgreSQL server at the same address
//! without logging in again: its held lease and its unsent answer still count.
//!
//! Needs `KAZI_TEST_PG` (`.ci/run` sets it); without it, it says loudly that it skipped.

#[path = "support/server_harness.rs"]
mod harness;
#[path = "support/crash_kit.rs"]
mod kit;

use harness::pg;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use kazi::client::{LocalStore, Profile};
use kazi::model::AnswerValue;

fn start_server(db: &str, addr: SocketAddr) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_kazi"))
        .args(["serve", "--db", db, "--listen", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start kazi serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "kazi serve did not come up on {addr}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn kazi_output(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kazi"))
        .args(args)
        .output()
        .expect("run kazi")
}

/// Answer the first `n` cached tasks on the device, as the worker screen does.
fn answer_cached(home: &Path, profile: &str, n: usize, label: &str) {
    let profile_dir = Profile::load(home, profile).expect("profile");
    let mut store = LocalStore::open(&profile_dir.db_path()).expect("client store");
    let (tasks, _) = store.queued_tasks("shop", 0, n).expect("cached tasks");
    assert_eq!(tasks.len(), n, "{profile}: tasks cached");
    for task in tasks {
        store
            .record_answer(&task, &AnswerValue::Labels(vec![label.into()]))
            .expect("answer saved");
    }
}

/// Two tasks brought from Label Studio with their annotators' answers: t102 arrives
/// decided by them (overlap 2), t101 still wants one answer.
const PRIOR_TASKS: &str = r#"[
  {"id": 1, "data": {"id": "t101", "text": "item 101"},
   "annotations": [{"id": 11, "created_username": "wanjiru", "created_at": "2026-10-02T08:15:30Z",
     "result": [{"from_name": "category", "to_name": "text", "type": "choices",
                 "value": {"choices": ["food"]}}]}]},
  {"id": 2, "data": {"id": "t102", "text": "item 102"},
   "annotations": [
     {"id": 12, "created_username": "otieno", "created_at": "2026-10-02T09:00:00Z",
      "result": [{"from_name": "category", "to_name": "text", "type": "choices",
                  "value": {"choices": ["tools"]}}]},
     {"id": 13, "created_username": "wanjiru", "created_at": "2026-10-02T09:10:00Z",
      "result": [{"from_name": "category", "to_name": "text", "type": "choices",
                  "value": {"choices": ["tools"]}}]}]}
]"#;

fn export(db: &str) -> String {
    kit::kazi(&["export", "--db", db, "shop", "--format", "jsonl"], None)
}

/// The export with user names, to count one worker's answers.
fn export_with_names(db: &str) -> String {
    kit::kazi(
        &[
            "export",
            "--db",
            db,
            "shop",
            "--format",
            "jsonl",
            "--with-names",
        ],
        None,
    )
}

#[test]
fn a_centre_moves_to_postgres_and_its_devices_keep_working() {
    let Some(base) = pg::test_database("kazi admin migrate") else {
        return;
    };
    let schema = pg::PgSchema::create(&base);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite:{}", dir.path().join("centre.db").display());
    let project_file = dir.path().join("shop.toml");
    std::fs::write(&project_file, harness::PROJECT_TOML).unwrap();
    let tasks = kit::write_tasks(dir.path(), 30);
    // The centre as an admin sets one up: `init` first (nothing else creates a database).
    kit::kazi(&["admin", "--db", &sqlite, "init"], None);
    kit::kazi(
        &[
            "admin",
            "--db",
            &sqlite,
            "project",
            "add",
            path(&project_file),
        ],
        None,
    );
    kit::kazi(
        &[
            "admin",
            "--db",
            &sqlite,
            "tasks",
            "import",
            "shop",
            path(&tasks),
        ],
        None,
    );
    let codes: Vec<(String, String)> = ["amina", "baraka"]
        .iter()
        .map(|name| {
            let out = kit::kazi(
                &[
                    "admin", "--db", &sqlite, "user", "add", name, "--role", "worker",
                ],
                None,
            );
            (name.to_string(), kit::enrolment_code(&out))
        })
        .collect();

    // A day on SQLite: both log in and answer; amina keeps one answer unsent and more
    // tasks leased when the centre moves.
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    let url = format!("http://{addr}");
    let home = tempfile::tempdir().unwrap();
    let server = start_server(&sqlite, addr);
    for (name, code) in &codes {
        kit::kazi(
            &[
                "login",
                "--server",
                &url,
                "--user",
                name,
                "--code",
                code,
                "--profile",
                name,
            ],
            Some(home.path()),
        );
        kit::kazi(
            &["sync", "--profile", name, "--project", "shop"],
            Some(home.path()),
        );
        answer_cached(home.path(), name, 3, "food");
        let out = kit::kazi(
            &["sync", "--profile", name, "--project", "shop"],
            Some(home.path()),
        );
        assert!(out.contains("3 answers sent"), "{out}");
    }
    answer_cached(home.path(), "amina", 1, "toys");
    stop(server);
    // Answers brought from another tool move too, and the decision they made.
    let prior = dir.path().join("prior.ls.json");
    std::fs::write(&prior, PRIOR_TASKS).unwrap();
    kit::kazi(
        &[
            "admin",
            "--db",
            &sqlite,
            "tasks",
            "import",
            "shop",
            path(&prior),
            "--format",
            "ls",
        ],
        None,
    );
    // An export before the move makes the centre's pseudonym key, which moves with the
    // centre: the same workers keep the same pseudonyms after.
    let before = export(&sqlite);

    let out = kazi_output(&["admin", "migrate", "--from", &sqlite, "--to", &schema.url]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("counts and checksums match"), "{stdout}");
    assert!(
        stdout.contains("answers") && stdout.contains("devices"),
        "{stdout}"
    );
    assert_eq!(before, export(&sqlite), "exports are stable");
    assert_eq!(
        export(&schema.url),
        export(&sqlite),
        "the centre arrived whole"
    );
    assert_eq!(schema.count("SELECT COUNT(*) FROM answers"), 6);
    assert_eq!(schema.count("SELECT COUNT(*) FROM prior_answers"), 3);
    let moved = export(&schema.url);
    assert!(
        moved.contains(r#""id":"t102","text":"item 102","final":"tools""#)
            && moved.contains(r#""method":"mv""#)
            && moved.contains(r#""worker":"otieno","value":"tools""#),
        "{moved}"
    );

    // Twice is refused: the target holds a centre now. --replace starts it afresh.
    let again = kazi_output(&["admin", "migrate", "--from", &sqlite, "--to", &schema.url]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success());
    assert!(
        stderr.starts_with("kazi: ") && stderr.contains("add --replace"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    let replaced = kazi_output(&[
        "admin",
        "--db",
        &sqlite,
        "migrate",
        "--to",
        &schema.url,
        "--replace",
    ]);
    assert!(
        replaced.status.success(),
        "{}",
        String::from_utf8_lossy(&replaced.stderr)
    );
    assert_eq!(export(&schema.url), export(&sqlite));

    // The same address now serves PostgreSQL: amina's device sends what it kept and
    // gets new work with the token it already has; new rows take fresh ids.
    let server = start_server(&schema.url, addr);
    let out = kit::kazi(
        &["sync", "--profile", "amina", "--project", "shop"],
        Some(home.path()),
    );
    assert!(
        out.contains("1 answers sent") && out.contains("0 unsent"),
        "{out}"
    );
    answer_cached(home.path(), "amina", 2, "tools");
    let out = kit::kazi(
        &["sync", "--profile", "amina", "--project", "shop"],
        Some(home.path()),
    );
    assert!(out.contains("2 answers sent"), "{out}");
    let out = kit::kazi(
        &["sync", "--profile", "baraka", "--project", "shop"],
        Some(home.path()),
    );
    assert!(out.contains("Synced"), "{out}");
    stop(server);
    let answers = kit::parse_export(&export_with_names(&schema.url));
    let amina: usize = answers
        .values()
        .map(|a| a.iter().filter(|a| a.worker == "amina").count())
        .sum();
    assert_eq!(amina, 6, "3 before the move, 1 kept across it, 2 after");
    assert_eq!(
        schema.count("SELECT COUNT(DISTINCT id) FROM answers"),
        schema.count("SELECT COUNT(*) FROM answers")
    );
}

#[test]
fn migrate_refuses_what_it_cannot_move() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("sqlite:{}", dir.path().join("none.db").display());
    let out = kazi_output(&[
        "admin",
        "migrate",
        "--from",
        &missing,
        "--to",
        "postgres://x@127.0.0.1:1/db",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("no SQLite database at"), "{stderr}");
    assert!(
        !dir.path().join("none.db").exists(),
        "no empty centre was made"
    );

    let out = kazi_output(&[
        "admin",
        "migrate",
        "--from",
        "postgres://a/b",
        "--to",
        "postgres://c/d",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--from must be sqlite:PATH"));

    let Some(base) = pg::test_database("kazi admin migrate (unknown tables)") else {
        return;
    };
    let schema = pg::PgSchema::create(&base);
    let sqlite_path = dir.path().join("centre.db");
    let sqlite = format!("sqlite:{}", sqlite_path.display());
    drop(kazi::server::open_store(&sqlite).unwrap());
    rusqlite::Connection::open(&sqlite_path)
        .unwrap()
        .execute_batch("CREATE TABLE gold_reviews (id INTEGER PRIMARY KEY)")
        .unwrap();
    let out = kazi_output(&["admin", "migrate", "--from", &sqlite, "--to", &schema.url]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("cannot move (gold_reviews)"), "{stderr}");
    assert_eq!(schema.count("SELECT COUNT(*) FROM users"), 0);
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

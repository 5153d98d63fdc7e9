//! The `kazi` binary as an admin and a worker use it: a real `kazi serve` process, the
//! admin commands, login, headless sync, status and export; and every kind of bad input
//! refused with one clear line, a non-zero exit, and no panic or backtrace.

#[path = "support/ungated.rs"]
mod ungated;

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

/// Runs kazi with standard output a pipe whose reading end is already closed.
fn kazi_into_closed_pipe(args: &[&str], home: &Path) -> Output {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    // SAFETY: both descriptors are fresh from pipe(2) and owned here alone.
    let (reader, writer) = unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    };
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_kazi"))
        .args(args)
        .env("KAZI_HOME", home)
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
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
    assert!(
        !o.status.success(),
        "expected failure, got success: {}",
        stdout(o)
    );
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
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
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server { child, url }
}

#[test]
fn a_centre_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let db = format!("sqlite:{}", dir.path().join("server.db").display());
    // The set-up starts with `init`: no other admin command creates a database.
    let out = kazi(&["admin", "--db", &db, "init"], &home);
    assert!(stdout(&out).contains("ready"), "{}", stderr(&out));
    let products = ungated::products();
    let out = kazi(
        &[
            "admin",
            "--db",
            &db,
            "project",
            "add",
            products.to_str().unwrap(),
        ],
        &home,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Project products (10 labels, overlap 3): added."),
        "{}",
        stdout(&out)
    );
    let tasks = fixture("products.jsonl");
    let out = kazi(
        &[
            "admin",
            "--db",
            &db,
            "tasks",
            "import",
            "products",
            tasks.to_str().unwrap(),
        ],
        &home,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let imported = stdout(&out);
    assert!(
        imported.contains("Imported 381 new tasks into products"),
        "{imported}"
    );
    // Importing the same file again changes nothing.
    let out = kazi(
        &[
            "admin",
            "--db",
            &db,
            "tasks",
            "import",
            "products",
            tasks.to_str().unwrap(),
        ],
        &home,
    );
    assert!(
        stdout(&out).contains("Imported 0 new tasks into products (381 were already there)"),
        "{}",
        stdout(&out)
    );

    let out = kazi(
        &[
            "admin", "--db", &db, "user", "add", "amina", "--role", "worker",
        ],
        &home,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let code = text
        .split("enrolment code: ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();

    let server = serve(&db);
    let out = kazi(
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
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Logged in as amina (worker)"),
        "{}",
        stdout(&out)
    );

    let out = kazi(&["sync", "--project", "products"], &home);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("0 answers sent, 0 refused, 70 new tasks"),
        "{}",
        stdout(&out)
    );
    let out = kazi(&["status"], &home);
    let status = stdout(&out);
    assert!(
        status.contains("project products: 70 tasks cached"),
        "{status}"
    );
    assert!(status.contains("Unsent answers: 0"), "{status}");
    // A reader that went away (`kazi status | head -1`) ends the output: exit 0, nothing
    // on stderr, no panic. The pipe is closed before kazi starts, so every write fails.
    for args in [
        vec!["status"],
        vec!["export", "--db", &db, "products"],
        vec!["export", "--db", &db, "products", "--format", "csv"],
    ] {
        let out = kazi_into_closed_pipe(&args, &home);
        assert!(
            out.status.success(),
            "{args:?}: {:?} {}",
            out.status,
            stderr(&out)
        );
        assert_eq!(stderr(&out), "", "{args:?}");
    }

    // A centre can keep more tasks on a device for long offline stretches.
    let profile_file = home.join("default/profile.toml");
    let text = std::fs::read_to_string(&profile_file).unwrap();
    assert!(text.contains("prefetch = 50"), "{text}");
    let text = text.replace("prefetch = 50", "prefetch = 100");
    std::fs::write(&profile_file, &text).unwrap();
    let out = kazi(&["sync", "--project", "products"], &home);
    assert!(
        stdout(&out).contains("50 new tasks; 0 unsent, 120 tasks cached"),
        "{}",
        stdout(&out)
    );
    std::fs::write(
        &profile_file,
        text.replace("prefetch = 100", "prefetch = 0"),
    )
    .unwrap();
    let err = refused(&kazi(&["sync"], &home));
    assert!(err.contains("prefetch must be between 1 and"), "{err}");

    let out = kazi(
        &["export", "--db", &db, "products", "--format", "csv"],
        &home,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = stdout(&out);
    assert_eq!(
        csv.lines().next(),
        Some("id,text,final,agreement,method,confidence,answers")
    );
    assert_eq!(csv.lines().count(), 382);
    let out_file = dir.path().join("out.jsonl");
    let out = kazi(
        &[
            "export",
            "--db",
            &db,
            "products",
            "--out",
            out_file.to_str().unwrap(),
        ],
        &home,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap().lines().count(),
        381
    );
}

#[test]
fn bad_project_file_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(ungated::products())
        .unwrap()
        .replacen("key = \"2\"", "key = \"1\"", 1);
    std::fs::write(&bad, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("key = \"1\"") && !l.is_empty())
        .unwrap();
    let second = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "key = \"1\"")
        .nth(1)
        .unwrap()
        .0
        + 1;
    let db = format!("sqlite:{}", dir.path().join("s.db").display());
    kazi::server::open_store(&db).expect("a fresh database");
    let err = refused(&kazi(
        &[
            "admin",
            "--db",
            &db,
            "project",
            "add",
            bad.to_str().unwrap(),
        ],
        dir.path(),
    ));
    assert!(
        err.contains(&format!(
            "bad.toml:{second}: key '1' is already the key of label"
        )),
        "{err} (first at {line})"
    );
}

/// A label keyed like a built-in action (`?` is help) could never be pressed as a label:
/// `project add` refuses it with the line of that key, and the database gets nothing.
#[test]
fn label_key_of_a_builtin_action_is_refused_at_project_add() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("clash.toml");
    let text = std::fs::read_to_string(ungated::products())
        .unwrap()
        .replacen("key = \"3\"", "key = \"?\"", 1);
    std::fs::write(&bad, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l.trim() == "key = \"?\"")
        .expect("the fixture has a label keyed 3")
        + 1;
    let db = format!("sqlite:{}", dir.path().join("s.db").display());
    kazi::server::open_store(&db).expect("a fresh database");
    let err = refused(&kazi(
        &[
            "admin",
            "--db",
            &db,
            "project",
            "add",
            bad.to_str().unwrap(),
        ],
        dir.path(),
    ));
    assert!(
        err.contains(&format!(
            "clash.toml:{line}: label key '?' is the key of 'help'"
        )),
        "{err}"
    );
    let list = kazi(
        &[
            "admin",
            "--db",
            &db,
            "project",
            "add",
            ungated::products().to_str().unwrap(),
        ],
        dir.path(),
    );
    assert!(
        stdout(&list).contains(": added."),
        "the clashing file left nothing behind: {}",
        stdout(&list)
    );
}

#[test]
fn bad_import_line_is_reported_and_nothing_imported() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("s.db").display());
    kazi::server::open_store(&db).expect("a fresh database");
    let products = ungated::products();
    assert!(
        kazi(
            &[
                "admin",
                "--db",
                &db,
                "project",
                "add",
                products.to_str().unwrap()
            ],
            dir.path()
        )
        .status
        .success()
    );
    let bad = dir.path().join("tasks.jsonl");
    std::fs::write(&bad, "{\"id\":\"a\",\"text\":\"Rice 5kg\"}\n{\"id\":\"b\",\"text\":\"Soap\",\"gold\":\"soap\"}\n").unwrap();
    let err = refused(&kazi(
        &[
            "admin",
            "--db",
            &db,
            "tasks",
            "import",
            "products",
            bad.to_str().unwrap(),
        ],
        dir.path(),
    ));
    assert!(
        err.contains("tasks.jsonl:2:") && err.contains("soap"),
        "{err}"
    );
    let out = kazi(&["export", "--db", &db, "products"], dir.path());
    assert_eq!(stdout(&out), "", "nothing imported");
}

#[test]
fn bad_keymap_is_refused_before_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("keys.toml");
    std::fs::write(
        &bad,
        "[classify]\n\"ctrl-z\" = \"undo\"\n\"f5\" = \"explode\"\n",
    )
    .unwrap();
    let err = refused(&kazi(
        &["work", "--keymap", bad.to_str().unwrap()],
        dir.path(),
    ));
    assert!(
        err.contains("keys.toml:3:") && err.contains("explode"),
        "{err}"
    );
}

#[test]
fn every_command_refuses_bad_input_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let db = format!("sqlite:{}", dir.path().join("s.db").display());
    kazi::server::open_store(&db).expect("a fresh database");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "admin",
                "--db",
                "mysql://x",
                "user",
                "add",
                "a",
                "--role",
                "worker",
            ],
            "database URL must start with sqlite: or postgres://",
        ),
        (
            vec![
                "admin",
                "--db",
                &db,
                "user",
                "add",
                "bad name!",
                "--role",
                "worker",
            ],
            "name",
        ),
        (
            vec![
                "admin",
                "--db",
                &db,
                "project",
                "add",
                "/nonexistent/p.toml",
            ],
            "cannot read /nonexistent/p.toml",
        ),
        (
            vec![
                "admin",
                "--db",
                &db,
                "tasks",
                "import",
                "nope",
                "/nonexistent/t.jsonl",
            ],
            "nope",
        ),
        (vec!["export", "--db", &db, "nope"], "nope"),
        (vec!["work", "--profile", "ghost"], "no profile 'ghost'"),
        (vec!["sync", "--profile", "ghost"], "log in first"),
        (vec!["status", "--profile", "../etc"], "profile name"),
        (
            vec!["login", "--server", "ftp://x", "--user", "a", "--code", "c"],
            "must start with http:// or https://",
        ),
        (
            vec![
                "login",
                "--server",
                "http://127.0.0.1:9",
                "--user",
                "a",
                "--code",
                "c",
            ],
            "no connection to the server",
        ),
    ];
    for (args, expected) in cases {
        let err = refused(&kazi(&args, home));
        assert!(err.contains(expected), "kazi {args:?}: {err}");
    }
}

/// `kazi admin user add`: the one-time enrolment code it prints.
fn enrol(db: &str, user: &str, home: &Path) -> String {
    let out = kazi(
        &["admin", "--db", db, "user", "add", user, "--role", "worker"],
        home,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .split("enrolment code: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a code is printed")
        .to_string()
}

#[test]
fn login_as_another_user_never_takes_unsent_answers_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let db = format!("sqlite:{}", dir.path().join("server.db").display());
    kazi::server::open_store(&db).expect("a fresh database");
    let products = ungated::products();
    let tasks = fixture("products.jsonl");
    for args in [
        vec!["project", "add", products.to_str().unwrap()],
        vec!["tasks", "import", "products", tasks.to_str().unwrap()],
    ] {
        let out = kazi(&[&["admin", "--db", &db][..], &args].concat(), &home);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let amina = enrol(&db, "amina", &home);
    let baraka = enrol(&db, "baraka", &home);
    let server = serve(&db);
    let login = |user: &str, code: &str| {
        kazi(
            &[
                "login",
                "--server",
                &server.url,
                "--user",
                user,
                "--code",
                code,
            ],
            &home,
        )
    };
    let out = login("amina", &amina);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = kazi(&["sync", "--project", "products"], &home);
    assert!(out.status.success(), "{}", stderr(&out));

    // Amina answers one task; it is saved here, not yet sent.
    {
        let mut store = kazi::client::LocalStore::open(&home.join("default/client.db")).unwrap();
        let label = store.projects().unwrap()[0].labels[0].id.clone();
        let task = store.queued_tasks("products", 0, 1).unwrap().0.remove(0);
        store
            .record_answer(&task, &kazi::model::AnswerValue::Labels(vec![label]))
            .unwrap();
    }

    let err = refused(&login("baraka", &baraka));
    assert!(
        err.contains("profile 'default' holds 1 unsent answer(s) of amina"),
        "{err}"
    );
    assert!(err.contains("kazi sync --profile default"), "{err}");
    assert!(err.contains("--profile NAME"), "{err}");

    // Amina logging in again keeps her answer.
    let again = enrol(&db, "amina", &home);
    let out = login("amina", &again);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&kazi(&["status"], &home)).contains("Unsent answers: 1"));
    let out = kazi(&["sync"], &home);
    assert!(
        stdout(&out).contains("1 answers sent, 0 refused"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );

    // With nothing unsent, Baraka takes the profile (his code was not spent by the
    // refusal) and finds none of Amina's tasks.
    let out = login("baraka", &baraka);
    assert!(out.status.success(), "{}", stderr(&out));
    let status = stdout(&kazi(&["status"], &home));
    assert!(status.contains("Profile default — baraka"), "{status}");
    assert!(!status.contains("tasks cached"), "{status}");
    assert!(status.contains("Unsent answers: 0"), "{status}");
    assert!(status.contains("Last sync: never"), "{status}");
    let out = kazi(&["sync", "--project", "products"], &home);
    assert!(
        stdout(&out).contains("0 answers sent, 0 refused, 70 new tasks"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// A server of a newer protocol version, as the client meets it: every request gets a
/// 426 with the line a newer `kazi serve` sends. Returns its URL.
fn newer_server() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            // The request is not needed; read what came so the client sees a clean reply.
            let mut buf = [0u8; 65536];
            let _ = conn.read(&mut buf);
            let body = r#"{"error":"this server speaks Kazi protocol 3 and this Kazi speaks 1; update Kazi on this computer"}"#;
            let _ = write!(
                conn,
                "HTTP/1.1 426 Upgrade Required\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn sync_with_a_server_of_another_protocol_says_what_to_update_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let profile = home.join("default");
    std::fs::create_dir_all(&profile).unwrap();
    std::fs::write(
        profile.join("profile.toml"),
        format!(
            "server = \"{}\"\nuser = \"amina\"\nrole = \"worker\"\n",
            newer_server()
        ),
    )
    .unwrap();
    std::fs::write(profile.join("token"), "token").unwrap();
    let err = refused(&kazi(&["sync"], &home));
    assert!(
        err.trim_end().ends_with(
            "this server speaks Kazi protocol 3 and this Kazi speaks 1; update Kazi on this computer"
        ),
        "{err}"
    );
}

#[test]
fn login_is_refused_while_the_work_screen_is_open_on_the_profile() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join("default")).unwrap();
    // What an open `kazi work` holds.
    let lock = std::fs::File::create(home.join("default/work.lock")).unwrap();
    lock.try_lock().unwrap();
    let args = [
        "login",
        "--server",
        "http://127.0.0.1:9",
        "--user",
        "amina",
        "--code",
        "c",
    ];
    let err = refused(&kazi(&args, &home));
    assert!(
        err.contains("kazi work is open on profile 'default'; quit it"),
        "{err}"
    );
    drop(lock);
    // Closed: the login goes on (and here meets no server).
    let err = refused(&kazi(&args, &home));
    assert!(!err.contains("kazi work is open"), "{err}");
}

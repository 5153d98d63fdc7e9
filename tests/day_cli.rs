//! A first week at a centre through the real `kazi` binary: a sync says whether the server
//! answered, an unknown project is refused, new projects arrive with a plain sync, admin
//! commands never create a database by accident or change a project's meaning quietly.

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
        ungated::products().to_str().unwrap(),
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
        vec!["project", "add", ungated::products().to_str().unwrap()],
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

#[test]
fn a_csv_with_an_unclosed_quote_is_refused_at_the_quote() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let db = format!("sqlite:{}", dir.path().join("c.db").display());
    let admin = |args: &[&str]| kazi(&[&["admin", "--db", &db][..], args].concat(), &home);
    ok(admin(&["init"]));
    ok(admin(&[
        "project",
        "add",
        ungated::products().to_str().unwrap(),
    ]));
    let bad = dir.path().join("tasks.csv");
    std::fs::write(
        &bad,
        "id,text\na,Soap 100g\nb,\"Rice 5kg\nc,Sugar 2kg\nd,Cooking oil 1l\n",
    )
    .unwrap();
    let err = refused(&admin(&[
        "tasks",
        "import",
        "products",
        bad.to_str().unwrap(),
    ]));
    assert!(
        err.contains("tasks.csv:3: a quote opens here and never closes"),
        "{err}"
    );
    let out = ok(kazi(&["export", "--db", &db, "products"], &home));
    assert_eq!(out, "", "nothing imported");

    // A line break inside a quoted field, as Windows writes it, reaches workers as a
    // plain line break, not as a control symbol.
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "id,text\r\na,\"Rice 5kg\r\nlong grain\"\r\n").unwrap();
    let out = ok(admin(&[
        "tasks",
        "import",
        "products",
        good.to_str().unwrap(),
    ]));
    assert!(out.contains("Imported 1 new tasks"), "{out}");
    let out = ok(kazi(&["export", "--db", &db, "products"], &home));
    assert!(out.contains(r#""text":"Rice 5kg\nlong grain""#), "{out}");
}

#[test]
fn project_add_refuses_to_change_what_given_answers_mean_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let (db, home, _server) = centre(dir.path());
    ok(kazi(&["sync", "--project", "products"], &home));
    let answered = {
        let mut store = kazi::client::LocalStore::open(&home.join("default/client.db")).unwrap();
        let project = store.projects().unwrap().remove(0);
        let label = project.labels[0].id.clone();
        let task = store.queued_tasks("products", 0, 1).unwrap().0.remove(0);
        store
            .record_answer(
                &task,
                &kazi::model::AnswerValue::Labels(vec![label.clone()]),
            )
            .unwrap();
        label
    };
    let out = ok(kazi(&["sync"], &home));
    assert!(out.contains("1 answers sent"), "{out}");

    let text = std::fs::read_to_string(ungated::products()).unwrap();
    let changed = dir.path().join("products.toml");
    let add = |force: bool| {
        let mut args = vec!["admin", "--db", &db, "project", "add"];
        args.push(changed.to_str().unwrap());
        if force {
            args.push("--force");
        }
        kazi(&args, &home)
    };
    // The answered label removed (its table cut out of the file).
    let start = text.find(&format!("id = \"{answered}\"")).unwrap();
    let table = text[..start].rfind("[[labels]]").unwrap();
    let end = text[start..].find("[[labels]]").unwrap() + start;
    std::fs::write(&changed, format!("{}{}", &text[..table], &text[end..])).unwrap();
    let err = refused(&add(false));
    assert!(
        err.contains(&format!(
            "project 'products': this update removes label(s) {answered} that answers already use"
        )),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    // Switched to several labels per answer.
    std::fs::write(
        &changed,
        text.replace("multi_label = false", "multi_label = true"),
    )
    .unwrap();
    let err = refused(&add(false));
    assert!(
        err.contains("switches to several labels per answer"),
        "{err}"
    );
    // With --force the admin means it.
    let out = ok(add(true));
    assert!(out.contains(": updated."), "{out}");
    // A change answers survive goes through without --force.
    std::fs::write(&changed, text.replace("Product categories", "Products")).unwrap();
    let out = ok(add(false));
    assert!(out.contains(": updated."), "{out}");
}

#[test]
fn a_reviewer_is_told_plainly_that_kazi_work_has_no_tasks_for_them() {
    let dir = tempfile::tempdir().unwrap();
    let (db, home, server) = centre(dir.path());
    let out = ok(kazi(
        &[
            "admin", "--db", &db, "user", "add", "rose", "--role", "reviewer",
        ],
        &home,
    ));
    let code = out
        .split("enrolment code: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_string();
    let out = ok(kazi(
        &[
            "login",
            "--server",
            &server.url,
            "--user",
            "rose",
            "--code",
            &code,
            "--profile",
            "rose",
        ],
        &home,
    ));
    assert!(!out.contains("Next: kazi work"), "{out}");
    assert!(
        out.contains("The reviewer role does not take tasks"),
        "{out}"
    );
    let err = refused(&kazi(&["work", "--profile", "rose"], &home));
    assert!(
        err.contains("rose is a reviewer: that role does not take tasks"),
        "{err}"
    );
}

#[test]
fn completions_and_the_manual_page_come_from_the_commands_themselves() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef kazi"),
        ("fish", "complete -c kazi"),
    ] {
        let out = ok(kazi(&["completions", shell], home));
        assert!(out.contains(marker), "{shell}: {out}");
        for sub in ["login", "sync", "admin", "init", "completions"] {
            assert!(out.contains(sub), "{shell} completes {sub}");
        }
    }
    let err = stderr(&kazi(&["completions", "powershell"], home));
    assert!(err.contains("invalid value 'powershell'"), "{err}");
    let man = ok(kazi(&["man"], home));
    assert!(man.starts_with(".ie") || man.contains(".TH kazi"), "{man}");
    assert!(
        man.contains("Keyboard\\-driven terminal workstation"),
        "{man}"
    );
    assert!(man.contains("completions"), "{man}");
    // --help gives each command's example.
    let help = ok(kazi(&["admin", "init", "--help"], home));
    assert!(help.contains("Example: kazi admin --db sqlite:"), "{help}");
}

#[test]
fn logout_is_refused_while_answers_are_unsent_then_clears_the_profile() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, home, _server) = centre(dir.path());
    ok(kazi(&["sync", "--project", "products"], &home));
    {
        let mut store = kazi::client::LocalStore::open(&home.join("default/client.db")).unwrap();
        let label = store.projects().unwrap()[0].labels[0].id.clone();
        let task = store.queued_tasks("products", 0, 1).unwrap().0.remove(0);
        store
            .record_answer(&task, &kazi::model::AnswerValue::Labels(vec![label]))
            .unwrap();
    }
    let err = refused(&kazi(&["logout"], &home));
    assert!(
        err.contains("profile 'default' holds 1 unsent answer(s); send them first (kazi sync --profile default)"),
        "{err}"
    );
    assert!(home.join("default/token").exists(), "nothing removed");
    ok(kazi(&["sync"], &home));
    let out = ok(kazi(&["logout"], &home));
    assert!(
        out.contains("Logged amina out of profile 'default'"),
        "{out}"
    );
    assert!(!home.join("default").exists());
    let err = refused(&kazi(&["status"], &home));
    assert!(err.contains("no profile 'default'"), "{err}");
}

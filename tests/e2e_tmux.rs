//! The real binary in a real terminal (tmux, 80x24): `kazi demo` shows a task, keys
//! answer, undo takes back, quit sends and restores the terminal, and the answers are in
//! the server's export; a second run continues. Hostile task text cannot drive the
//! terminal. Skipped with a loud message where tmux is missing (.ci/run installs it).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    /// A private tmux server running `cmd` in an 80x24 window, or None without tmux.
    fn start(cmd: &str) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            // Straight to stderr: the harness swallows eprintln! of a passing test, and a
            // skip must never pass silently.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"\n*** SKIPPED: tmux is not installed; the real-terminal test did not run ***\n",
            );
            return None;
        }
        let socket = format!(
            "kazi-test-{}-{}",
            std::process::id(),
            getrandom::u32().unwrap_or(0)
        );
        let ok = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "80",
                "-y",
                "24",
                cmd,
            ])
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR")
            .status()
            .expect("tmux runs")
            .success();
        assert!(ok, "tmux session starts");
        Some(Tmux { socket })
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn title(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "display-message", "-p", "#{pane_title}"])
            .output()
            .expect("display-message");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["-L", self.socket.as_str(), "send-keys"];
        args.extend_from_slice(keys);
        assert!(Command::new("tmux").args(&args).status().unwrap().success());
    }

    /// Wait until the screen satisfies `pred`; panics with the screen after 30 s.
    fn wait(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// The task text: the first non-blank line inside the task box.
fn task_text(screen: &str) -> String {
    screen
        .lines()
        .skip(2)
        .map(|l| l.trim_matches(|c| c == '│' || c == '|' || c == ' '))
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

fn demo_cmd(dir: &Path, extra: &str) -> String {
    format!(
        "{} demo --data-dir {} --project products {extra}; echo KAZI-EXIT=$?; sleep 60",
        env!("CARGO_BIN_EXE_kazi"),
        dir.display()
    )
}

fn export(dir: &Path) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_kazi"))
        .args([
            "export",
            "--db",
            &format!("sqlite:{}", dir.join("server.db").display()),
            "products",
            "--with-names",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// (task text, label) of every answer by the demo worker.
fn worker_answers(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for rec in export(dir) {
        for a in rec["answers"].as_array().unwrap() {
            if a["worker"] == "worker" && a.get("superseded").is_none_or(|s| s == false) {
                out.push((
                    rec["text"].as_str().unwrap().to_string(),
                    a["value"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    out
}

#[test]
fn demo_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let Some(tmux) = Tmux::start(&demo_cmd(dir.path(), "")) else {
        return;
    };
    let first = tmux.wait("the first task", |s| {
        s.contains("Product categories") && s.contains("cached 70")
    });
    assert!(first.contains("1 Electronics & phones"), "{first}");
    assert!(first.contains("online"), "link state is a word: {first}");
    assert!(first.contains("? help"), "where help is: {first}");
    assert_eq!(first.lines().count(), 24, "fits 80x24");
    assert!(first.lines().all(|l| l.chars().count() <= 80));

    // A second screen on the same profile is refused: it would answer the same tasks.
    let second = Command::new(env!("CARGO_BIN_EXE_kazi"))
        .args(["work", "--profile", "worker"])
        .env("KAZI_HOME", dir.path().join("client"))
        .output()
        .unwrap();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("kazi work is already running for profile 'worker'"),
        "{err}"
    );

    // Answer three tasks: 1 (electronics), 6 (food), 3 (home-kitchen).
    let mut seen = vec![task_text(&first)];
    for key in ["1", "6", "3"] {
        let before = seen.last().unwrap().clone();
        tmux.keys(&[key]);
        let s = tmux.wait("the next task", |s| task_text(s) != before);
        seen.push(task_text(&s));
    }
    let s = tmux.wait("three unsent", |s| s.contains("done today 3"));
    assert!(s.contains("unsent 3"), "{s}");

    // Undo brings the third task back with its answer marked; 9 replaces it.
    tmux.keys(&["BSpace"]);
    let s = tmux.wait("the undone task", |s| task_text(s) == seen[2]);
    assert!(s.contains("done today 2"), "{s}");
    tmux.keys(&["9"]);
    tmux.wait("the task after", |s| task_text(s) == seen[3]);

    // The help overlay comes from the keymap.
    tmux.keys(&["?"]);
    let help = tmux.wait("help", |s| s.contains("closes this help"));
    for line in [
        "undo: take back the last answer",
        "skip: leave this task",
        "quit: send what is unsent",
    ] {
        assert!(help.contains(line), "{help}");
    }
    tmux.keys(&["Escape"]);
    tmux.wait("help closed", |s| {
        !s.contains("closes this help") && task_text(s) == seen[3]
    });

    tmux.keys(&["C-q"]);
    let end = tmux.wait("exit", |s| s.contains("KAZI-EXIT="));
    assert!(end.contains("KAZI-EXIT=0"), "{end}");
    assert!(
        end.contains("All answers sent."),
        "quit sends unsent answers: {end}"
    );
    assert!(
        !end.contains("Product categories"),
        "terminal restored (alternate screen left): {end}"
    );

    let mut answers = worker_answers(dir.path());
    answers.sort();
    let mut expected = vec![
        (seen[0].clone(), "electronics".to_string()),
        (seen[1].clone(), "food".to_string()),
        (seen[2].clone(), "sports-outdoors".to_string()),
    ];
    expected.sort();
    // Screen lines may be cut at the box edge: compare by prefix.
    assert_eq!(answers.len(), 3, "{answers:?}");
    for ((text, label), (shown, want)) in answers.iter().zip(&expected) {
        assert!(
            text.starts_with(shown.trim_end_matches('…')),
            "{text} vs {shown}"
        );
        assert_eq!(label, want);
    }
    drop(tmux);

    // Running again with the same data dir continues where the worker left off.
    let Some(tmux) = Tmux::start(&demo_cmd(dir.path(), "")) else {
        return;
    };
    let s = tmux.wait("the second run", |s| {
        s.contains("done today 3") && s.contains("Product categories")
    });
    assert_eq!(
        task_text(&s),
        seen[3],
        "the next unanswered task comes first"
    );
    tmux.keys(&["C-q"]);
    tmux.wait("exit", |s| s.contains("KAZI-EXIT=0"));
}

#[test]
fn hostile_task_text_cannot_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let kazi = env!("CARGO_BIN_EXE_kazi");
    let db = format!("sqlite:{}", dir.path().join("server.db").display());
    kazi::server::open_store(&db).expect("a fresh database");
    let project = dir.path().join("p.toml");
    std::fs::write(&project, "name = \"evil\"\ntitle = \"Evil \\u001b[31mred\"\nkind = \"classify\"\n[[labels]]\nid = \"a\"\nname = \"A\\u001b]0;LABEL-HACK\\u0007\"\nkey = \"1\"\n").unwrap();
    let tasks = dir.path().join("t.jsonl");
    // Set the window title, clear the screen, move the cursor, ring the bell.
    std::fs::write(&tasks, "{\"id\":\"x\",\"text\":\"Shoe \\u001b]0;TITLE-HACK\\u0007\\u001b[2J\\u001b[H\\u0007 size 42\"}\n").unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(kazi)
            .args(args)
            .env("KAZI_HOME", &home)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&[
        "admin",
        "--db",
        &db,
        "project",
        "add",
        project.to_str().unwrap(),
    ]);
    run(&[
        "admin",
        "--db",
        &db,
        "tasks",
        "import",
        "evil",
        tasks.to_str().unwrap(),
    ]);
    let added = run(&["admin", "--db", &db, "user", "add", "w", "--role", "worker"]);
    let code = added
        .split("enrolment code: ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();

    let mut server = Command::new(kazi)
        .args(["serve", "--db", &db, "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    run(&["login", "--server", &url, "--user", "w", "--code", &code]);

    let cmd = format!(
        "KAZI_HOME={} {kazi} work --project evil; sleep 60",
        home.display()
    );
    if let Some(tmux) = Tmux::start(&cmd) {
        let s = tmux.wait("the hostile task", |s| s.contains("size 42"));
        assert!(
            s.contains("Shoe ␛]0;TITLE-HACK␇␛[2J␛[H␇ size 42"),
            "shown inert:\n{s}"
        );
        assert!(s.contains("A␛]0;LABEL-HACK␇"), "label shown inert:\n{s}");
        let title = tmux.title();
        assert!(
            !title.contains("HACK"),
            "the pane title was changed to {title:?}"
        );
        assert!(s.contains("Evil ␛[31mred"), "{s}");
    }
    let _ = server.kill();
    let _ = server.wait();
}

/// The pid of the `kazi` process the pane's shell started.
fn kazi_pid(tmux: &Tmux) -> i32 {
    let out = Command::new("tmux")
        .args(["-L", &tmux.socket, "display-message", "-p", "#{pane_pid}"])
        .output()
        .expect("display-message");
    let shell: i32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": the command name may hold spaces, so split after ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let ppid: Option<i32> = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(shell) && head.ends_with("(kazi") {
            return pid;
        }
    }
    panic!("no kazi process under the pane's shell {shell}");
}

/// Answers by the demo worker: (unsent in the client store, in the server's export).
fn kept_answers(dir: &Path) -> (u32, usize) {
    let out = Command::new(env!("CARGO_BIN_EXE_kazi"))
        .args(["status", "--profile", "worker"])
        .env("KAZI_HOME", dir.join("client"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let unsent = text
        .lines()
        .find_map(|l| l.strip_prefix("Unsent answers: "))
        .unwrap_or_else(|| panic!("no unsent count in {text}"))
        .trim()
        .parse()
        .unwrap();
    (unsent, worker_answers(dir).len())
}

/// Start the demo, answer one task, send `signal` to kazi; the screen after the shell
/// took over again.
fn signalled(dir: &Path, signal: i32) -> Option<String> {
    let cmd = format!(
        "echo BEFORE-KAZI; {} demo --data-dir {} --project products; echo KAZI-EXIT=$?; \
         echo \"STTY:$(stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e echo -e -icanon \
         -e -echo | tr '\\n' ' ')END\"; sleep 60",
        env!("CARGO_BIN_EXE_kazi"),
        dir.display()
    );
    let tmux = Tmux::start(&cmd)?;
    let first = tmux.wait("the first task", |s| {
        s.contains("Product categories") && s.contains("cached 70")
    });
    assert!(!first.contains("BEFORE-KAZI"), "on the alternate screen");
    tmux.keys(&["1"]);
    tmux.wait("the answer", |s| s.contains("done today 1"));
    let pid = kazi_pid(&tmux);
    // SAFETY: kill(2) with a pid we just found and a plain signal number.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "signal sent");
    Some(tmux.wait("exit", |s| s.contains("KAZI-EXIT=") && s.contains("END")))
}

/// Where the shell is after kazi ended: the alternate screen left, the cooked tty back.
fn assert_terminal_restored(end: &str) {
    assert!(
        end.contains("BEFORE-KAZI"),
        "the alternate screen was left: text from before is back\n{end}"
    );
    assert!(!end.contains("Product categories"), "{end}");
    let modes = end
        .lines()
        .find_map(|l| l.strip_prefix("STTY:"))
        .and_then(|l| l.strip_suffix("END"))
        .unwrap_or_default();
    assert_eq!(modes.trim(), "icanon echo", "stty after kazi:\n{end}");
}

#[test]
fn sigterm_restores_the_terminal_and_sends_unsent_answers() {
    let dir = tempfile::tempdir().unwrap();
    let Some(end) = signalled(dir.path(), libc::SIGTERM) else {
        return;
    };
    assert_terminal_restored(&end);
    assert!(end.contains("asked to stop (SIGTERM)"), "{end}");
    assert!(
        end.contains("All answers sent."),
        "the bounded send ran: {end}"
    );
    assert_eq!(kept_answers(dir.path()), (0, 1));
}

#[test]
fn sighup_restores_the_terminal_and_keeps_unsent_answers() {
    let dir = tempfile::tempdir().unwrap();
    let Some(end) = signalled(dir.path(), libc::SIGHUP) else {
        return;
    };
    assert_terminal_restored(&end);
    // Sent already by the engine or kept for the next start: never lost.
    let (unsent, sent) = kept_answers(dir.path());
    assert_eq!(unsent as usize + sent, 1, "unsent {unsent}, sent {sent}");
}

/// `kazi export` straight to a terminal: the hostile title and screen-clearing escape are
/// shown as symbols and the pane title stays; the same export into a pipe is byte-exact.
#[test]
fn an_export_to_a_terminal_cannot_drive_it() {
    let dir = tempfile::tempdir().unwrap();
    let kazi = env!("CARGO_BIN_EXE_kazi");
    let db = format!("sqlite:{}", dir.path().join("server.db").display());
    kazi::server::open_store(&db).expect("a fresh database");
    let project = dir.path().join("p.toml");
    std::fs::write(
        &project,
        "name = \"evil\"\ntitle = \"Evil\"\nkind = \"classify\"\n[[labels]]\nid = \"a\"\nname = \"A\"\nkey = \"1\"\n",
    )
    .unwrap();
    let tasks = dir.path().join("t.jsonl");
    std::fs::write(
        &tasks,
        "{\"id\":\"x\",\"text\":\"Shoe \\u001b]0;EXPORT-HACK\\u0007\\u001b[2J\\u009b1m\\u202e size 42\"}\n",
    )
    .unwrap();
    for args in [
        vec![
            "admin",
            "--db",
            &db,
            "project",
            "add",
            project.to_str().unwrap(),
        ],
        vec![
            "admin",
            "--db",
            &db,
            "tasks",
            "import",
            "evil",
            tasks.to_str().unwrap(),
        ],
    ] {
        let out = Command::new(kazi).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let piped = Command::new(kazi)
        .args(["export", "--db", &db, "evil", "--format", "csv"])
        .output()
        .unwrap();
    let piped = String::from_utf8(piped.stdout).unwrap();
    assert!(
        piped.contains("Shoe \u{1b}]0;EXPORT-HACK\u{7}\u{1b}[2J\u{9b}1m\u{202e} size 42"),
        "a pipe gets the bytes: {piped:?}"
    );

    let cmd = format!("{kazi} export --db {db} evil --format csv; echo EXPORT-DONE; sleep 60");
    if let Some(tmux) = Tmux::start(&cmd) {
        let s = tmux.wait("the export", |s| s.contains("EXPORT-DONE"));
        assert!(s.contains("Shoe ␛]0;EXPORT-HACK␇␛[2J"), "shown inert:\n{s}");
        assert!(
            s.contains("id,text,final,agreement,method,confidence,answers"),
            "{s}"
        );
        let title = tmux.title();
        assert!(
            !title.contains("HACK"),
            "the pane title was changed to {title:?}"
        );
    }
}

//! The built-in SSH server with the real OpenSSH client (`ssh -tt` inside tmux) against
//! the real `kazi serve`: a worker logs in by key, the screen appears, keys answer (the
//! answers are in the export), a resize redraws and a 40-column window stays usable;
//! unknown keys, passwords and commands are refused; a removed key ends its session; 20
//! sessions at once with one client that stops reading, and the others keep working. A
//! reviewer (and an admin) gets the review screen and decides disputes, at 80 and at 40
//! columns, within the session limit `kazi serve` was given. A trainer gets the lessons
//! picker, the presentation and a class with its join code, at 80 and at 40 columns.
//! Skipped loudly where ssh or tmux is missing (.ci/run installs them).

#[path = "support/ssh_centre.rs"]
mod ssh_centre;
#[path = "support/tmux.rs"]
mod tmux;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ssh_centre::{Centre, export_records, have, kazi, keygen, skip};
use tmux::{Tmux, task_text};

/// A centre for a test that drives ssh inside tmux; None (after a loud skip) without them.
fn centre(users: &[(&str, &str)]) -> Option<Centre> {
    centre_with(users, &[])
}

/// As `centre`, with more `kazi serve` arguments.
fn centre_with(users: &[(&str, &str)], serve_args: &[&str]) -> Option<Centre> {
    if !have("tmux", "-V") {
        skip("tmux is not installed; the SSH tests did not run");
        return None;
    }
    Centre::start_with(users, serve_args)
}

/// Tasks the export says a reviewer decided: (verdict, decided_by, final).
fn reviewed(centre: &Centre) -> Vec<(String, String, String)> {
    export_records(&centre.db)
        .iter()
        .filter(|r| r["provenance"] == "review")
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (text("verdict"), text("decided_by"), text("final"))
        })
        .collect()
}

fn fits(s: &str, cols: usize) -> bool {
    s.lines().all(|l| l.chars().count() <= cols)
}

#[test]
fn a_reviewer_decides_disputes_over_ssh_at_80_and_40_columns() {
    let users = [
        ("w1", "worker"),
        ("w2", "worker"),
        ("w3", "worker"),
        ("rehema", "reviewer"),
        ("root", "admin"),
    ];
    let Some(centre) = centre_with(&users, &["--ssh-sessions-per-user", "1"]) else {
        return;
    };
    kazi(&[
        "admin", "--db", &centre.db, "user", "assign", "rehema", "products",
    ]);
    let disputes = centre.seed_disputes(&["w1", "w2", "w3"], 6);
    assert!(disputes >= 2, "{disputes} disputes");

    let tmux = Tmux::start(&centre.ssh_in_tmux("rehema")).expect("tmux checked");
    let queue = tmux.wait("the review queue", |s| {
        s.contains("Review queue") && s.contains("dispute") && s.contains("online")
    });
    assert!(queue.contains(&format!("queue {disputes}")), "{queue}");
    assert!(fits(&queue, 80), "{queue}");
    tmux.keys(&["Enter"]);
    let item = tmux.wait("the item with every answer", |s| {
        s.contains("Aggregate:") && s.contains("1-3 pick")
    });
    assert_eq!(item.matches(" w-").count(), 3, "three pseudonyms: {item}");
    assert!(!item.contains("w1") && !item.contains("rehema"), "{item}");
    tmux.keys(&["1"]);
    tmux.wait("the verdict and the queue again", |s| {
        s.contains("Review queue") && s.contains("decided 1")
    });
    let decided = reviewed(&centre);
    assert_eq!(decided.len(), 1, "{decided:?}");
    assert_eq!(decided[0].0, "pick");
    assert!(decided[0].1.starts_with("w-"), "the reviewer, by pseudonym");
    assert_eq!(decided[0].2, "electronics", "w1's answer, the first");

    // 40 columns, a phone's SSH app: redrawn to fit, and still decides.
    tmux.resize(40, 24);
    let narrow = tmux.wait("the 40-column queue", |s| {
        fits(s, 40) && s.contains("Review queue") && s.contains("prod-")
    });
    assert!(narrow.contains("dispute"), "{narrow}");
    tmux.keys(&["Enter"]);
    tmux.wait("the item at 40 columns", |s| {
        fits(s, 40) && s.contains("1-3 pick") && s.contains("esc back")
    });
    tmux.keys(&["2"]);
    tmux.wait("the second verdict", |s| {
        fits(s, 40) && s.contains("decided 2")
    });
    let decided = reviewed(&centre);
    assert_eq!(decided.len(), 2, "{decided:?}");
    assert!(decided.iter().any(|d| d.2 == "computers"), "{decided:?}");

    // --ssh-sessions-per-user 1: a second session of hers is told why and closed.
    let out = centre.ssh_output("rehema", &centre.key("rehema"), &["-tt"], &[]);
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("already has 1 Kazi session(s) open"),
        "{said}"
    );
    tmux.keys(&["C-q"]);
    let end = tmux.wait("ssh ended", |s| s.contains("SSH-EXIT="));
    assert!(end.contains("SSH-EXIT=0"), "{end}");

    // An admin may review too: every project's queue, no assignment needed.
    let admin = Tmux::start(&centre.ssh_in_tmux("root")).expect("tmux checked");
    admin.wait("the admin's review queue", |s| {
        s.contains("Review queue") && s.contains(&format!("queue {}", disputes - 2))
    });
    admin.keys(&["C-q"]);
    admin.wait("ssh ended", |s| s.contains("SSH-EXIT=0"));
}

fn on_task_screen(s: &str) -> bool {
    s.contains("Product categories") && !task_text(s).is_empty()
}

#[test]
fn a_worker_works_over_ssh_in_a_real_terminal() {
    let Some(centre) = centre(&[("amina", "worker")]) else {
        return;
    };
    // The host key was made on first start, private to the server, its fingerprint told.
    let host_key = centre.dir.path().join("host_key");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&host_key).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let listed = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(&host_key)
        .output()
        .unwrap();
    let fingerprint = String::from_utf8_lossy(&listed.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    assert!(
        centre.said.iter().any(|l| l.contains(&fingerprint)),
        "{fingerprint} in {:?}",
        centre.said
    );

    let tmux = Tmux::start(&centre.ssh_in_tmux("amina")).expect("tmux checked");
    let first = tmux.wait("the first task over SSH", on_task_screen);
    assert!(first.contains("1 Electronics & phones"), "{first}");
    assert!(first.contains("? help"), "{first}");
    assert!(first.lines().all(|l| l.chars().count() <= 80));
    let mut seen = vec![task_text(&first)];

    tmux.keys(&["1"]);
    let s = tmux.wait("the next task", |s| {
        on_task_screen(s) && task_text(s) != seen[0]
    });
    seen.push(task_text(&s));
    tmux.wait("done today 1", |s| s.contains("done today 1"));

    // 40 columns: the screen is redrawn to fit, the task and the labels' keys are there.
    tmux.resize(40, 24);
    let narrow = tmux.wait("the 40-column screen", |s| {
        s.lines().all(|l| l.chars().count() <= 40) && on_task_screen(s) && s.contains("1 ")
    });
    assert!(
        seen[1].starts_with(task_text(&narrow).trim_end_matches('…')),
        "the same task, cut to fit: {narrow}"
    );
    tmux.keys(&["2"]);
    let s = tmux.wait("the task after, at 40 columns", |s| {
        on_task_screen(s) && !seen[1].starts_with(task_text(s).trim_end_matches('…'))
    });
    assert!(s.lines().all(|l| l.chars().count() <= 40), "{s}");
    tmux.wait("done today 2", |s| s.contains("done today 2"));

    tmux.resize(80, 24);
    let wide = tmux.wait("the 80-column screen again", |s| {
        s.contains("1 Electronics & phones") && s.contains("done today 2")
    });
    seen.push(task_text(&wide));

    tmux.keys(&["C-q"]);
    let end = tmux.wait("ssh ended", |s| s.contains("SSH-EXIT="));
    assert!(end.contains("SSH-EXIT=0"), "{end}");
    assert!(!end.contains("Product categories"), "screen left: {end}");

    let answers = centre.answers_of("amina");
    assert_eq!(answers.len(), 2, "{answers:?}");
    let label_of = |shown: &str| {
        answers
            .iter()
            .find(|(text, _)| text.starts_with(shown.trim_end_matches('…')))
            .map(|(_, l)| l.as_str())
    };
    assert_eq!(label_of(&seen[0]), Some("electronics"));
    assert_eq!(label_of(&seen[1]), Some("computers"));
}

#[test]
fn unknown_keys_passwords_and_commands_are_refused() {
    let Some(centre) = centre(&[("amina", "worker"), ("rehema", "reviewer")]) else {
        return;
    };
    let stranger = keygen(centre.dir.path(), "stranger");
    let out = centre.ssh_output("amina", &stranger, &["-T"], &[]);
    assert_eq!(out.status.code(), Some(255));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Permission denied (publickey)"));

    // amina's key, but another user's name.
    let out = centre.ssh_output("rehema", &centre.key("amina"), &["-T"], &[]);
    assert_eq!(out.status.code(), Some(255), "{out:?}");

    let password = [
        "-o",
        "PubkeyAuthentication=no",
        "-o",
        "PreferredAuthentications=password,keyboard-interactive",
        "-T",
    ];
    let out = centre.ssh_output("amina", &centre.key("amina"), &password, &[]);
    assert_eq!(out.status.code(), Some(255));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Permission denied (publickey)"),
        "only keys are offered: {out:?}"
    );

    let out = centre.ssh_output(
        "amina",
        &centre.key("amina"),
        &["-T"],
        &["cat", "/etc/passwd"],
    );
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("screens only"),
        "{out:?}"
    );

    let out = centre.ssh_output("amina", &centre.key("amina"), &["-T", "-s"], &["sftp"]);
    assert_ne!(out.status.code(), Some(0), "{out:?}");

    // A removed key ends its session at once, with a line saying why.
    let tmux = Tmux::start(&centre.ssh_in_tmux("amina")).expect("tmux checked");
    tmux.wait("amina's screen", on_task_screen);
    let listed = kazi(&["admin", "--db", &centre.db, "user", "key", "list", "amina"]);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    let fingerprint = listed.split_whitespace().next().unwrap().to_string();
    assert!(fingerprint.starts_with("SHA256:"), "{listed}");
    kazi(&[
        "admin",
        "--db",
        &centre.db,
        "user",
        "key",
        "remove",
        "amina",
        &fingerprint,
    ]);
    let end = tmux.wait("the session ended", |s| s.contains("SSH-EXIT="));
    assert!(end.contains("signed out"), "{end}");
    assert!(!end.contains("Product categories"), "{end}");
    let out = centre.ssh_output("amina", &centre.key("amina"), &["-T"], &[]);
    assert_eq!(
        out.status.code(),
        Some(255),
        "the removed key no longer signs in"
    );

    // At most 3 sessions per user: a fourth is told why and closed.
    let open: Vec<std::process::Child> = (0..3)
        .map(|_| {
            let mut args = centre.ssh_args("rehema", &centre.key("rehema"));
            args.insert(0, "-tt".into());
            Command::new("ssh")
                .args(&args)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let refused = loop {
        let out = centre.ssh_output("rehema", &centre.key("rehema"), &["-tt"], &[]);
        let said = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        if said.contains("already has 3 Kazi session(s) open") {
            break out;
        }
        // The three may still be signing in: the fourth got a screen and left on EOF.
        assert!(std::time::Instant::now() < deadline, "{said}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_ne!(refused.status.code(), Some(0), "{refused:?}");
    for mut child in open {
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[test]
fn twenty_sessions_and_one_client_that_stops_reading() {
    let names: Vec<String> = (1..=20).map(|i| format!("w{i:02}")).collect();
    let users: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "worker")).collect();
    let Some(centre) = centre(&users) else {
        return;
    };
    // w01 asks for screens and never reads them: its ssh blocks on a full pipe.
    let mut args = centre.ssh_args("w01", &centre.key("w01"));
    args.insert(0, "-tt".into());
    let mut stalled = Command::new("ssh")
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut keys = stalled.stdin.take().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let typing = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            // Help open, help closed: a new screen every few milliseconds.
            while !stop.load(Ordering::Relaxed) {
                if keys.write_all(b"?").and_then(|()| keys.flush()).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(3));
            }
        })
    };
    // Long enough for its output to fill the pipe and the SSH window.
    std::thread::sleep(Duration::from_secs(3));

    let others: Vec<Tmux> = names[1..]
        .iter()
        .map(|n| Tmux::start(&centre.ssh_in_tmux(n)).expect("tmux checked"))
        .collect();
    let firsts: Vec<String> = others
        .iter()
        .map(|t| task_text(&t.wait("a task", on_task_screen)))
        .collect();
    for t in &others {
        t.keys(&["1"]);
    }
    for (t, first) in others.iter().zip(&firsts) {
        t.wait("the next task and the count", |s| {
            on_task_screen(s) && task_text(s) != *first && s.contains("done today 1")
        });
    }
    // The HTTP API answers meanwhile.
    let addr = centre.http.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).expect("the HTTP API accepts");
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: kazi\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    let _ = std::io::Read::read_to_string(&mut conn, &mut reply);
    assert!(reply.starts_with("HTTP/1.1 200"), "healthz: {reply}");
    for n in &names[1..] {
        assert_eq!(centre.answers_of(n).len(), 1, "{n}'s answer is stored");
    }
    stop.store(true, Ordering::Relaxed);
    let _ = typing.join();
    let _ = stalled.kill();
    let _ = stalled.wait();
}

/// Whether a styled capture sets any foreground or background colour (SGR 30-37,
/// 40-47, 90-97, 100-107, or 38/48 for 256 colours).
fn coloured(styled: &str) -> bool {
    let colour = |p: &str| {
        matches!(
            p.parse::<u16>(),
            Ok(30..=38 | 40..=48 | 90..=97 | 100..=107)
        )
    };
    styled.split('\x1b').any(|seq| {
        seq.strip_prefix('[')
            .and_then(|rest| rest.split_once('m'))
            .is_some_and(|(params, _)| params.split(';').any(colour))
    })
}

#[test]
fn no_color_and_term_come_from_the_session() {
    let Some(centre) = centre(&[("amina", "worker")]) else {
        return;
    };
    let plain = Tmux::start(&centre.ssh_in_tmux("amina")).expect("tmux checked");
    plain.wait("the screen", on_task_screen);
    assert!(
        coloured(&plain.screen_styled()),
        "{}",
        plain.screen_styled()
    );
    plain.keys(&["C-q"]);
    plain.wait("ssh ended", |s| s.contains("SSH-EXIT=0"));

    let cmd = centre
        .ssh_in_tmux("amina")
        .replacen("ssh -tt", "ssh -tt -o SetEnv=NO_COLOR=1", 1);
    let mono = Tmux::start(&cmd).expect("tmux checked");
    let s = mono.wait("the screen without colour", on_task_screen);
    assert!(s.contains("1 Electronics & phones"), "{s}");
    assert!(!coloured(&mono.screen_styled()), "{}", mono.screen_styled());

    // TERM=linux without a UTF-8 locale: ASCII frames.
    let cmd = format!(
        "env TERM=linux LANG=C LC_ALL= {}",
        centre.ssh_in_tmux("amina")
    )
    .replacen("ssh -tt", "ssh -tt -o SetEnv=LANG=C", 1);
    let ascii = Tmux::start(&cmd).expect("tmux checked");
    let s = ascii.wait("the ASCII screen", on_task_screen);
    assert!(!s.contains('│') && !s.contains('─'), "{s}");
}

/// The join code the trainer's class pane shows ("... then type KX7M4P").
fn join_code(s: &str) -> Option<String> {
    let rest = &s[s.find("then type ")? + "then type ".len()..];
    let code: String = rest
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    (code.len() == 6).then_some(code)
}

#[test]
fn a_trainer_presents_lessons_and_starts_a_class_over_ssh() {
    let Some(centre) = centre(&[("tumaini", "trainer")]) else {
        return;
    };
    let admin = |args: &[&str]| {
        let mut all = vec!["admin", "--db", &centre.db];
        all.extend_from_slice(args);
        kazi(&all)
    };
    // Two projects with lessons: the picker asks which (one alone opens by itself).
    admin(&["project", "add", &ssh_centre::fixture("sentiment.toml")]);
    for (project, lessons) in [("products", "products"), ("reviews", "sentiment")] {
        let file = ssh_centre::fixture(&format!("{lessons}.lessons.jsonl"));
        admin(&["lessons", "import", project, &file]);
    }

    let tmux = Tmux::start(&centre.ssh_in_tmux("tumaini")).expect("tmux checked");
    let picker = tmux.wait("the lessons picker", |s| {
        s.contains("Which project's lessons do you want to present?") && s.contains("reviews")
    });
    assert!(picker.contains("12 lessons"), "{picker}");
    tmux.keys(&["Enter"]);
    tmux.wait("the first lesson", |s| {
        s.contains("Lesson 1 of 12") && s.contains("Lessons: Product categories")
    });
    tmux.keys(&["Right"]);
    tmux.wait("the second lesson", |s| s.contains("Lesson 2 of 12"));
    tmux.keys(&["F7"]);
    let class = tmux.wait("the class and its code", |s| join_code(s).is_some());
    assert!(class.contains("0 students"), "{class}");
    let code = join_code(&class).unwrap();
    // The class is in the server's store: the admin reads its report there.
    let report = admin(&["class", "report", &code]);
    assert!(!report.stdout.is_empty(), "a report of {code}");

    // 40 columns, a phone's SSH app: the code still shows, and the class ends.
    tmux.resize(40, 24);
    let narrow = tmux.wait("the class at 40 columns", |s| {
        fits(s, 40) && s.contains(&format!("type {code}")) && s.contains("0 students")
    });
    assert!(narrow.contains("step 2/12"), "the step whole: {narrow}");
    tmux.keys(&["C-e"]);
    tmux.wait("the end", |s| {
        fits(s, 40) && s.contains("The class has ended.")
    });
    tmux.keys(&["C-q"]);
    let end = tmux.wait("ssh ended", |s| s.contains("SSH-EXIT="));
    assert!(end.contains("SSH-EXIT=0"), "{end}");
}

//! The real binary in a real terminal (tmux, 80x24): `kazi demo` starts the worker on the
//! lessons and exam of products (which requires qualification), passing it opens the
//! work; a task shows, keys answer, undo takes back, quit sends and restores the terminal, and the answers are in
//! the server's export; a second run continues. Hostile task text cannot drive the
//! terminal. Skipped with a loud message where tmux is missing (.ci/run installs it).

#[path = "support/binary.rs"]
mod binary;

use std::path::Path;
use std::process::Command;

#[path = "support/tmux.rs"]
mod tmux;

use tmux::{Tmux, task_text};

/// Go through the demo's products training in the terminal: every lesson answered (with
/// its feedback), then the exam answered right from the trainer's file, graded by the
/// demo's server; enter opens the work.
fn pass_training(tmux: &Tmux) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/projects");
    let text = std::fs::read_to_string(dir.join("products.toml")).unwrap();
    let project = kazi::model::Project::from_toml("products.toml", &text).unwrap();
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("products.lessons.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let lessons = rows.iter().filter(|r| r["exam"] != true).count();
    let exam: Vec<(String, String)> = rows
        .iter()
        .filter(|r| r["exam"] == true)
        .map(|r| {
            let gold = r["gold"].as_str().unwrap();
            let key = project.label(gold).unwrap().key.to_string();
            (r["text"].as_str().unwrap().to_string(), key)
        })
        .collect();
    for i in 1..=lessons {
        let header = format!("Lesson {i} of {lessons}");
        tmux.wait("a lesson", |s| s.contains(&header) && !s.contains("RIGHT"));
        tmux.keys(&["1"]);
        let s = tmux.wait("the lesson's feedback", |s| s.contains("RIGHT"));
        assert!(s.contains("Why: "), "the explanation: {s}");
        tmux.keys(&["Enter"]);
    }
    tmux.wait("the lessons done", |s| s.contains("You went through all"));
    tmux.keys(&["Enter"]);
    let size = project.exam.unwrap().size;
    for n in 1..=size {
        let header = format!("Exam: task {n} of {size}");
        let s = tmux.wait("an exam task", |s| s.contains(&header));
        let (_, key) = exam
            .iter()
            .find(|(text, _)| s.contains(&text[..text.len().min(40)]))
            .unwrap_or_else(|| panic!("an exam task from the trainer's file: {s}"));
        tmux.keys(&[key]);
    }
    let s = tmux.wait("the exam graded", |s| s.contains("PASSED"));
    assert!(
        s.contains("you are qualified for Product categories"),
        "{s}"
    );
    tmux.keys(&["Enter"]);
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
    // The lessons come with the sync after the schema's (the server answers about the
    // projects a request names).
    let training = tmux.wait("the training", |s| {
        s.contains("Training: Product categories") && s.contains("Lesson 1 of")
    });
    assert!(
        training.contains("Lesson 1 of"),
        "starts on the lessons: {training}"
    );
    pass_training(&tmux);
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
        err.contains("is already running for profile 'worker'"),
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

/// `kazi demo --as reviewer` opens the review screen with disputes ready: its seeded
/// workers pass the products exam like anyone, then disagree three ways.
#[test]
fn the_reviewer_demo_has_disputes_ready() {
    let dir = tempfile::tempdir().unwrap();
    let Some(tmux) = Tmux::start(&demo_cmd(dir.path(), "--as reviewer")) else {
        return;
    };
    let queue = tmux.wait("the review queue", |s| {
        s.contains("Review queue") && s.contains("dispute")
    });
    let disputes = queue
        .lines()
        .filter(|l| l.contains("dispute") && l.contains("products"))
        .count();
    assert!(disputes >= 3, "{queue}");
    tmux.keys(&["Enter"]);
    let item = tmux.wait("a dispute", |s| s.contains("Aggregate:"));
    assert!(item.contains("a tie"), "{item}");
    tmux.keys(&["Escape"]);
    tmux.wait("the queue again", |s| s.contains("Review queue"));
    tmux.keys(&["C-q"]);
    tmux.wait("exit", |s| s.contains("KAZI-EXIT=0"));
}

#[test]
fn hostile_task_text_cannot_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let project = "name = \"evil\"\ntitle = \"Evil \\u001b[31mred\"\nkind = \"classify\"\n[[labels]]\nid = \"a\"\nname = \"A\\u001b]0;LABEL-HACK\\u0007\"\nkey = \"1\"\n";
    // Set the window title, clear the screen, move the cursor, ring the bell.
    let tasks = "{\"id\":\"x\",\"text\":\"Shoe \\u001b]0;TITLE-HACK\\u0007\\u001b[2J\\u001b[H\\u0007 size 42\"}\n";
    let centre = Centre::start(dir.path(), "evil", project, tasks);
    if let Some(tmux) = Tmux::start(&centre.work_cmd()) {
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
}

/// A centre of one project on its own database, with `kazi serve` running and worker
/// `w` logged in on the profile under `home`.
struct Centre {
    home: std::path::PathBuf,
    project: String,
    _server: binary::Server,
}

impl Centre {
    fn start(dir: &Path, project: &str, toml: &str, tasks: &str) -> Centre {
        let home = dir.join("home");
        let kazi = env!("CARGO_BIN_EXE_kazi");
        let db = format!("sqlite:{}", dir.join("server.db").display());
        kazi::server::open_store(&db).expect("a fresh database");
        let project_file = dir.join("p.toml");
        std::fs::write(&project_file, toml).unwrap();
        let tasks_file = dir.join("t.jsonl");
        std::fs::write(&tasks_file, tasks).unwrap();
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
        let project_path = project_file.to_str().unwrap();
        run(&["admin", "--db", &db, "project", "add", project_path]);
        let tasks_path = tasks_file.to_str().unwrap();
        run(&["admin", "--db", &db, "tasks", "import", project, tasks_path]);
        let added = run(&["admin", "--db", &db, "user", "add", "w", "--role", "worker"]);
        let code = binary::enrolment_code(&added);
        let server = binary::serve(&db, &[], std::process::Stdio::null());
        run(&[
            "login",
            "--server",
            &server.url,
            "--user",
            "w",
            "--code",
            &code,
        ]);
        Centre {
            home,
            project: project.to_string(),
            _server: server,
        }
    }

    /// The shell command that opens the worker screen on the project.
    fn work_cmd(&self) -> String {
        format!(
            "KAZI_HOME={} {} work --project {}; sleep 60",
            self.home.display(),
            env!("CARGO_BIN_EXE_kazi"),
            self.project
        )
    }
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
    pass_training(&tmux);
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

/// Characters of the scripts in the test's task, to tell a fragment of the task from the
/// help's own text.
fn from_the_task(c: char) -> bool {
    matches!(c as u32, 0x0900..=0x097f | 0x1f1e6..=0x1f1ff | 0x1f300..=0x1faff | 0x4e00..=0x9fff)
}

/// (display column, character) of each character of a captured line, columns counted as
/// the terminal counts them (a combining mark at the column after its base).
fn columns(line: &str) -> Vec<(usize, char)> {
    line.char_indices()
        .map(|(i, c)| (kazi::model::text_width(&line[..i]), c))
        .collect()
}

/// The box around the help: its top and bottom rows and its left and right columns.
fn help_box(screen: &str) -> Option<(usize, usize, usize, usize)> {
    let lines: Vec<&str> = screen.lines().collect();
    let top = lines.iter().position(|l| l.contains("┌─ help"))?;
    let cols = columns(lines[top]);
    let left = cols.iter().find(|(_, c)| *c == '┌')?.0;
    let right = cols.iter().rev().find(|(_, c)| *c == '┐')?.0;
    let bottom = (top + 1..lines.len()).find(|&row| columns(lines[row]).contains(&(left, '└')))?;
    Some((top, bottom, left, right))
}

/// The screen once `pred` holds and two captures 300 ms apart agree: a capture can land
/// between the writes of one frame, and half a frame is not what the screen kept.
fn settled(tmux: &Tmux, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let mut last = tmux.wait(what, &pred);
    for _ in 0..300 {
        std::thread::sleep(std::time::Duration::from_millis(300));
        let now = tmux.screen();
        if now == last && pred(&now) {
            return now;
        }
        last = now;
    }
    panic!("the screen never settled for {what}:\n{last}");
}

/// The screen without its status line, which changes with the link by itself.
fn above_status(screen: &str) -> String {
    screen.lines().take(23).collect::<Vec<_>>().join("\n")
}

/// The real terminal shows what Kazi drew, cell for cell, for text whose graphemes
/// terminals lay out differently from one cluster per cell: Devanagari vowel signs and
/// conjuncts, a flag, a ZWJ emoji sequence and wide CJK characters. The help box over
/// such text has its edges on every row with nothing of the task inside, closing it
/// gives back the screen as it was, and neither answer nor undo leaves a fragment on the
/// next task. Every state also equals a full redraw (a resize), so nothing is left over.
#[test]
fn scripts_and_emoji_draw_cleanly_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let project = "name = \"shop\"\ntitle = \"Shop\"\nkind = \"classify\"\n[[labels]]\nid = \"a\"\nname = \"Food\"\nkey = \"1\"\n[[labels]]\nid = \"b\"\nname = \"Other\"\nkey = \"2\"\n";
    let words = "बासमती चावल 5 किलो क्षत्रिय स्त्री 🇰🇪 👩\u{200d}💻 电视机 हिन्दी किताबें";
    let text = [words; 8].join(" ");
    let tasks = format!(
        "{{\"id\":\"t1\",\"text\":\"{text}\"}}\n{{\"id\":\"t2\",\"text\":\"Plain next task\"}}\n"
    );
    let centre = Centre::start(dir.path(), "shop", project, &tasks);
    let Some(tmux) = Tmux::start(&centre.work_cmd()) else {
        return;
    };
    let full_redraw = |before: &str| {
        // Wider first, then back: ratatui clears and draws every cell again.
        let want = above_status(before);
        tmux_cmd(&tmux, &["resize-window", "-x", "81"]);
        // The top line's "? help" moves one column right.
        tmux.wait("the screen at 81 columns", |s| above_status(s) != want);
        tmux_cmd(&tmux, &["resize-window", "-x", "80"]);
        let what = format!("a full redraw the same as what the screen kept:\n{before}");
        tmux.wait(&what, |s| above_status(s) == want);
    };
    let first = settled(&tmux, "the task", |s| s.contains("बासमती"));
    // The task's frame closes at the last column on every line: widths agree.
    for line in first.lines().filter(|l| l.contains("बासमती")) {
        let last = *columns(line).last().unwrap();
        assert_eq!(last, (79, '│'), "line ends off the frame: {line}");
    }
    full_redraw(&first);

    tmux.keys(&["?"]);
    let help = tmux.wait("the help", |s| s.contains("┌─ help"));
    let (top, bottom, left, right) = help_box(&help).expect("a help box");
    for (row, line) in help.lines().enumerate().take(bottom).skip(top + 1) {
        let cols = columns(line);
        let at = |x: usize| cols.iter().find(|(c, _)| *c == x).map(|(_, ch)| *ch);
        assert_eq!(
            at(left),
            Some('│'),
            "left edge missing on row {row}:\n{help}"
        );
        assert_eq!(
            at(right),
            Some('│'),
            "right edge missing on row {row}:\n{help}"
        );
        let inside: String = cols
            .iter()
            .filter(|(x, c)| (left..=right).contains(x) && from_the_task(*c))
            .map(|(_, c)| *c)
            .collect();
        assert!(
            inside.is_empty(),
            "the task shows through the help on row {row}: {inside:?}\n{help}"
        );
    }
    full_redraw(&help);

    tmux.keys(&["Escape"]);
    let want = above_status(&first);
    let what = format!("the screen as it was before the help:\n{first}");
    tmux.wait(&what, |s| above_status(s) == want);

    for round in 0..2 {
        tmux.keys(&["1"]);
        let next = settled(&tmux, "the next task", |s| s.contains("Plain next task"));
        let left_over: String = next.chars().filter(|c| from_the_task(*c)).collect();
        assert!(
            left_over.is_empty(),
            "round {round}: {left_over:?} stayed:\n{next}"
        );
        full_redraw(&next);
        tmux.keys(&["BSpace"]);
        let back = settled(&tmux, "the task back", |s| s.contains("बासमती"));
        full_redraw(&back);
    }
}

fn tmux_cmd(tmux: &Tmux, args: &[&str]) {
    let mut all = vec!["-L", tmux.socket.as_str()];
    all.extend_from_slice(args);
    assert!(Command::new("tmux").args(&all).status().unwrap().success());
}

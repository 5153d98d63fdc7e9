//! The whole contest loop with a real `kazi serve` process and a real client store: a
//! worker misses gold (whose answer is in fact wrong), contests it with a note on the
//! feedback screen, the contest reaches the review queue (`kazi admin review list`), a
//! reviewer upholds it through the review API, the gold is corrected and the worker's
//! accuracy recomputed on the server, and after the worker's next sync their own screen
//! shows the corrected feedback and the new accuracy.

#[path = "support/crash_kit.rs"]
mod kit;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kazi::client::{self, LocalStore, PlanConfig, Profile, Remote, SyncConfig, SyncEngine};
use kazi::model::AnswerValue;
use kazi::protocol::{FeedbackKind, ReviewRequest, ReviewResponse};
use kazi::tui::local::LocalSession;
use kazi::tui::{Event, Key, KeyCode, Keymap, ScreenId, Theme, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const PATIENCE: Duration = Duration::from_secs(30);

/// Half of every worker's tasks are gold (the most a project may mix), so the first two
/// leases hold one at least.
const PROJECT: &str = r#"name = "shop"
title = "Shop items"
kind = "classify"
instructions = "Pick the category."
overlap = 1
lease = "1h"
gold_rate = 0.5

[[labels]]
id = "food"
name = "Food"
key = "1"

[[labels]]
id = "toys"
name = "Toys"
key = "2"

[[labels]]
id = "tools"
name = "Tools"
key = "3"
"#;

/// Six production items and four gold tasks whose gold ("food") is wrong: they are toys.
fn tasks() -> String {
    let mut lines: Vec<String> = (1..=6)
        .map(|i| format!(r#"{{"id":"item-{i}","text":"item {i}"}}"#))
        .collect();
    for i in 1..=4 {
        lines.push(format!(
            r#"{{"id":"gold-{i}","text":"toy car {i}","gold":"food","explanation":"it is eaten"}}"#
        ));
    }
    lines.join("\n") + "\n"
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn fast_sync() -> SyncConfig {
    SyncConfig {
        plan: PlanConfig {
            prefetch: 20,
            batch: 10,
        },
        send_after_answers: 1,
        send_after: Duration::from_millis(100),
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(300),
        exhausted_retry: Duration::from_millis(300),
    }
}

/// Feed sync reports to the session until `done` holds (or fail after PATIENCE).
fn pump(
    session: &mut LocalSession<'_>,
    statuses: &mpsc::Receiver<kazi::client::SyncStatus>,
    what: &str,
    mut done: impl FnMut(&kazi::tui::App) -> bool,
) {
    let deadline = Instant::now() + PATIENCE;
    while !done(session.app()) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; screen {:?}, message {:?}",
            session.app().screen(),
            session.app().message()
        );
        if let Ok(status) = statuses.recv_timeout(Duration::from_millis(100)) {
            session.notice(status.into());
        }
    }
}

fn key(code: KeyCode) -> Event {
    Event::Key(Key::new(code))
}

fn screen_text(app: &kazi::tui::App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| render(app, f)).unwrap();
    format!("{}", terminal.backend())
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        kit::sigkill(&mut self.0);
    }
}

#[test]
fn a_contest_upheld_by_a_reviewer_corrects_gold_and_the_workers_screen_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.db").display());
    let admin = |args: &[&str]| {
        let mut all = vec!["admin", "--db", &db];
        all.extend_from_slice(args);
        kit::kazi(&all, None)
    };
    let toml = dir.path().join("shop.toml");
    std::fs::write(&toml, PROJECT).unwrap();
    let jsonl = dir.path().join("shop.jsonl");
    std::fs::write(&jsonl, tasks()).unwrap();
    admin(&["init"]);
    admin(&["project", "add", path(&toml)]);
    admin(&["tasks", "import", "shop", path(&jsonl)]);
    let amina_code = kit::enrolment_code(&admin(&["user", "add", "amina", "--role", "worker"]));
    let zawadi_code = kit::enrolment_code(&admin(&["user", "add", "zawadi", "--role", "reviewer"]));
    admin(&["user", "assign", "zawadi", "shop"]);
    let addr: SocketAddr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    let _server = Server(kit::start_server(&db, addr));
    let base = format!("http://{addr}");

    let home = tempfile::tempdir().unwrap();
    let profile: Profile = client::login(home.path(), "w", &base, "amina", &amina_code).unwrap();
    let (tx, statuses) = mpsc::channel();
    let engine = SyncEngine::start(&profile, fast_sync(), move |s| {
        let _ = tx.send(s);
    })
    .unwrap();
    let mut store = LocalStore::open(&profile.db_path()).unwrap();
    let projects = store.projects().unwrap();
    let mut session = kazi::tui::local::session(
        &mut store,
        &engine,
        Keymap::default(),
        Theme {
            color: false,
            ascii: false,
        },
        Some("shop".into()),
        projects,
    );
    let watch = LocalStore::open(&profile.db_path()).unwrap();

    // Every task answered "toys" (key 2): right for the toy cars, a miss by their gold.
    pump(&mut session, &statuses, "the first tasks", |app| {
        app.classify().is_some_and(|c| c.current().is_some())
    });
    let mut answered = 0;
    while session
        .app()
        .classify()
        .is_some_and(|c| c.current().is_some())
    {
        session.feed(Event::Key(Key::char('2')));
        answered += 1;
        assert!(answered <= 10, "more tasks than imported");
    }
    // Every answer acknowledged first: each reply brings the gold scores of its answers,
    // so the accuracy read below is the final one, not that of the first reply.
    pump(&mut session, &statuses, "gold feedback", |_| {
        watch.counts(None).unwrap().unsent == 0
            && watch
                .recent_feedback(50)
                .unwrap()
                .iter()
                .any(|f| f.kind == FeedbackKind::Gold && !f.correct)
    });
    let before = watch.accuracy().unwrap();
    let before = before
        .iter()
        .find(|a| a.project == "shop")
        .expect("accuracy");
    assert_eq!(before.all_correct, 0, "every gold answer missed");
    let golds = before.all_total;
    assert!(golds >= 1);

    // The worker contests the miss marked on the feedback screen, with a note.
    session.feed(key(KeyCode::F(6)));
    assert_eq!(session.app().screen(), ScreenId::Feedback);
    session.feed(key(KeyCode::F(8)));
    for c in "a toy car is a toy".chars() {
        session.feed(Event::Key(Key::char(c)));
    }
    session.feed(key(KeyCode::Enter));
    let contested = watch.unsent_reports(10).unwrap();
    assert_eq!(contested.len(), 1, "the contest is kept to send");
    let task = contested[0].task;
    pump(&mut session, &statuses, "the contest sent", |_| {
        watch.unsent_reports(10).unwrap().is_empty()
    });

    // It is in the review queue, as the admin lists it.
    let queue = admin(&["review", "list", "--reason", "contest"]);
    assert!(
        queue.contains("contest") && queue.contains("gold-"),
        "{queue}"
    );

    // A reviewer upholds it: toys is the answer.
    let reviewer = client::login(home.path(), "r", &base, "zawadi", &zawadi_code).unwrap();
    let remote = Remote::new(&base, &reviewer.token).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ReviewResponse::Queue { items } = rt
        .block_on(remote.review(&ReviewRequest::Queue {
            project: None,
            reason: Some("contest".into()),
        }))
        .unwrap()
    else {
        panic!("a queue")
    };
    assert_eq!(items.len(), 1, "{items:?}");
    let ReviewResponse::Take { case: Some(case) } = rt
        .block_on(remote.review(&ReviewRequest::Take {
            item: Some(items[0].item),
            project: None,
            reason: None,
        }))
        .unwrap()
    else {
        panic!("the contest is taken")
    };
    assert!(
        case.task.starts_with("gold-"),
        "the contested gold task: {}",
        case.task
    );
    let decided = rt
        .block_on(remote.review(&ReviewRequest::Decide {
            item: case.item,
            verdict: "uphold".into(),
            value: Some(AnswerValue::Labels(vec!["toys".into()])),
            note: "a toy car is a toy, not food".into(),
        }))
        .unwrap();
    assert!(
        matches!(decided, ReviewResponse::Decide { feedback_given, .. } if feedback_given >= 1),
        "{decided:?}"
    );

    // The worker's next sync brings the correction: feedback and accuracy on their screen.
    session.feed(key(KeyCode::F(5)));
    pump(&mut session, &statuses, "the corrected accuracy", |_| {
        watch
            .accuracy()
            .unwrap()
            .iter()
            .any(|a| a.project == "shop" && a.all_correct == 1)
    });
    let feedback = watch.recent_feedback(50).unwrap();
    let corrected = feedback
        .iter()
        .find(|f| f.kind == FeedbackKind::GoldCorrected)
        .expect("a correction item");
    assert_eq!(corrected.task, task, "the contested task");
    assert!(corrected.correct, "the worker's answer is now right");
    let after = watch.accuracy().unwrap();
    let after = after.iter().find(|a| a.project == "shop").unwrap();
    assert_eq!((after.all_correct, after.all_total), (1, golds));

    // The feedback screen, opened again, shows it from the store.
    session.feed(key(KeyCode::Esc));
    session.feed(key(KeyCode::F(6)));
    assert_eq!(session.app().screen(), ScreenId::Feedback);
    let text = screen_text(session.app());
    assert!(text.contains("corrected, now right"), "{text}");
    assert!(
        text.contains(&format!("all time 1/{golds}")),
        "the new accuracy: {text}"
    );
    drop(session);
    let _ = engine.shutdown(Duration::from_secs(2));
}

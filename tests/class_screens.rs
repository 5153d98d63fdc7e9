//! A class through the screens on real clients against a real `kazi serve`: the trainer's
//! `kazi train` session starts a class on the products lessons, three students' `kazi
//! work` sessions join with f12 and the code, answer the trainer's step (one right, two
//! wrong), the trainer's class view shows each row's answers as the server scored them,
//! the trainer moves on and every student's screen follows, and ending the class sends
//! the students back to their projects.

#[path = "support/crash_kit.rs"]
mod kit;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kazi::client::{
    self, ClassConfig, ClassLink, LocalStore, PlanConfig, Profile, SyncConfig, SyncEngine,
};
use kazi::tui::local::{LocalExecutor, LocalNotice, LocalSession};
use kazi::tui::{App, Event, Key, Keymap, ScreenId, Theme};

const PATIENCE: Duration = Duration::from_secs(30);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/projects")
        .join(name)
}

fn fast_sync() -> SyncConfig {
    SyncConfig {
        plan: PlanConfig {
            prefetch: 5,
            batch: 5,
        },
        send_after_answers: 1,
        send_after: Duration::from_millis(100),
        backoff_min: Duration::from_millis(50),
        backoff_max: Duration::from_millis(300),
        exhausted_retry: Duration::from_millis(300),
    }
}

/// One participant's machine: store, sync engine, class link, and their reports.
struct Machine {
    store: LocalStore,
    engine: SyncEngine,
    link: ClassLink,
    notices: mpsc::Receiver<LocalNotice>,
}

impl Machine {
    fn new(profile: &Profile) -> Machine {
        let (tx, notices) = mpsc::channel();
        let sync_tx = tx.clone();
        let engine = SyncEngine::start(profile, fast_sync(), move |s| {
            let _ = sync_tx.send(LocalNotice::Sync(s));
        })
        .unwrap();
        let class_tx = std::sync::Mutex::new(tx);
        let config = ClassConfig {
            every: Duration::from_millis(200),
            backoff_max: Duration::from_millis(300),
            view_wait: 2,
        };
        let link = ClassLink::start(profile, config, move |n| {
            if let Ok(tx) = class_tx.lock() {
                let _ = tx.send(LocalNotice::Class(n));
            }
        })
        .unwrap();
        Machine {
            store: LocalStore::open(&profile.db_path()).unwrap(),
            engine,
            link,
            notices,
        }
    }
}

fn session(m: &mut Machine, app: App) -> (LocalSession<'_>, &mpsc::Receiver<LocalNotice>) {
    let projects = m.store.projects().unwrap();
    let mut executor = LocalExecutor::new(&mut m.store, &m.engine, None, projects);
    executor.set_class_link(&m.link);
    (LocalSession::new(app, executor), &m.notices)
}

/// Feed the machine's reports to its session until `done` (or fail after PATIENCE).
fn pump(
    session: &mut LocalSession<'_>,
    notices: &mpsc::Receiver<LocalNotice>,
    what: &str,
    done: impl Fn(&App) -> bool,
) {
    let deadline = Instant::now() + PATIENCE;
    while !done(session.app()) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; screen {:?}, message {:?}",
            session.app().screen(),
            session.app().message()
        );
        if let Ok(n) = notices.recv_timeout(Duration::from_millis(50)) {
            session.notice(n);
        }
    }
}

fn press(session: &mut LocalSession<'_>, keys: &str) {
    for k in keys.split(' ') {
        session.feed(Event::Key(Key::parse(k).unwrap()));
    }
}

fn plain() -> Theme {
    Theme {
        color: false,
        ascii: false,
    }
}

#[test]
fn a_trainer_and_three_students_run_a_class_through_their_screens() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.db").display());
    let admin = |args: &[&str]| {
        let mut all = vec!["admin", "--db", &db];
        all.extend_from_slice(args);
        kit::kazi(&all, None)
    };
    let path = |p: PathBuf| p.to_str().unwrap().to_string();
    admin(&["init"]);
    admin(&["project", "add", &path(fixture("products.toml"))]);
    admin(&[
        "lessons",
        "import",
        "products",
        &path(fixture("products.lessons.jsonl")),
    ]);
    let users = [
        ("tom", "trainer"),
        ("amina", "worker"),
        ("baraka", "worker"),
        ("chao", "worker"),
    ];
    let codes: Vec<String> = users
        .iter()
        .map(|(u, r)| kit::enrolment_code(&admin(&["user", "add", u, "--role", r])))
        .collect();
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    let mut server = kit::start_server(&db, addr);
    let home = tempfile::tempdir().unwrap();
    let url = format!("http://{addr}");
    let profiles: Vec<Profile> = users
        .iter()
        .zip(&codes)
        .map(|((u, _), code)| client::login(home.path(), u, &url, u, code).unwrap())
        .collect();
    let mut machines: Vec<Machine> = profiles.iter().map(Machine::new).collect();
    let (trainer_m, students_m) = machines.split_first_mut().unwrap();

    // The trainer's lessons arrive with the sync; f7 starts a class.
    let app = App::train(Keymap::default(), plain(), Some("products".into()));
    let (mut trainer, t_notices) = session(trainer_m, app);
    pump(&mut trainer, t_notices, "the lessons", |a| {
        a.present().and_then(|p| p.step()).is_some()
    });
    press(&mut trainer, "f7");
    pump(&mut trainer, t_notices, "the class", |a| {
        a.present().and_then(|p| p.class()).is_some()
    });
    let code = trainer
        .app()
        .present()
        .unwrap()
        .class()
        .unwrap()
        .state
        .code
        .clone();
    let gold = trainer.app().present().unwrap().lessons()[0]
        .gold
        .expected();
    let project = trainer.app().present().unwrap().project().clone();
    let right = match &gold {
        kazi::model::AnswerValue::Labels(ids) => project.label(&ids[0]).unwrap().key,
        other => panic!("a label lesson: {other:?}"),
    };
    let wrong = project.labels.iter().find(|l| l.key != right).unwrap().key;

    // Each student joins from the picker with f12 and the code (typed in lower case).
    let mut students: Vec<_> = students_m
        .iter_mut()
        .map(|m| session(m, App::new(Keymap::default(), plain(), None)))
        .collect();
    for (i, (s, n)) in students.iter_mut().enumerate() {
        pump(s, n, "the projects", |a| !a.picker().projects().is_empty());
        if s.app().screen() != ScreenId::Picker {
            press(s, "f3");
        }
        let typed: Vec<String> = code.to_lowercase().chars().map(String::from).collect();
        press(s, &format!("f12 {} enter", typed.join(" ")));
        pump(s, n, "joining", |a| a.screen() == ScreenId::ClassSeat);
        let key = if i == 0 { right } else { wrong };
        s.feed(Event::Key(Key::char(key)));
    }

    // The trainer's class view: three rows, one right answer, two wrong.
    pump(&mut trainer, t_notices, "three answered rows", |a| {
        let rows = a
            .present()
            .and_then(|p| p.class())
            .map(|c| c.students().to_vec());
        rows.is_some_and(|r| r.len() == 3 && r.iter().all(|r| r.answered == 1))
    });
    let class = trainer.app().present().unwrap().class().unwrap().clone();
    let right_rows: Vec<&str> = class
        .students()
        .iter()
        .filter(|r| r.correct == 1)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(right_rows, ["amina"]);

    // The trainer moves on: every student's screen follows.
    press(&mut trainer, "f7 right");
    for (s, n) in students.iter_mut() {
        pump(s, n, "the next step", |a| {
            a.class_seat().is_some_and(|c| c.state().step == 1)
        });
    }
    // Ending the class sends the students back to their projects.
    press(&mut trainer, "ctrl-e");
    for (s, n) in students.iter_mut() {
        pump(s, n, "the end of the class", |a| {
            a.screen() != ScreenId::ClassSeat
        });
        assert!(
            s.app()
                .message()
                .unwrap_or("")
                .contains("the class has ended")
        );
    }
    kit::sigkill(&mut server);
}

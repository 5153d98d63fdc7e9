//! A class end to end on real clients against a real `kazi serve` process: a trainer
//! and three students, each with a profile, a local store, a sync engine and a class
//! link under the local executor and the App (the runtime's `Session`). The trainer
//! starts a class and follows its view; the students join by code (typed loosely),
//! follow the trainer's steps and answer; answers and accuracy appear in the trainer's
//! view. The server is killed mid-class: a student answers offline, the server comes
//! back, and the student catches up. A student cannot start a class. The report comes
//! from `kazi admin class report`, as a table and as CSV.

#[path = "support/crash_kit.rs"]
mod kit;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kazi::client::{
    self, ClassConfig, ClassLink, ClassNotice, LocalStore, PlanConfig, Profile, SyncConfig,
    SyncEngine,
};
use kazi::model::AnswerValue;
use kazi::protocol::{ClassState, ClassView, LessonSet};
use kazi::tui::class::{ClassEffect, ClassEvent};
use kazi::tui::local::{LocalNotice, LocalSession};
use kazi::tui::runtime::Executor;
use kazi::tui::{Effect, Keymap, Theme};

const PATIENCE: Duration = Duration::from_secs(30);

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/projects")
        .join(name)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

struct Centre {
    _dir: tempfile::TempDir,
    db: String,
    addr: SocketAddr,
    server: Option<std::process::Child>,
    home: tempfile::TempDir,
}

impl Centre {
    fn new() -> Centre {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite:{}", dir.path().join("server.db").display());
        let centre = Centre {
            addr: TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .unwrap(),
            _dir: dir,
            db,
            server: None,
            home: tempfile::tempdir().unwrap(),
        };
        centre.admin(&["init"]);
        centre.admin(&["project", "add", path(&fixture("products.toml"))]);
        let lessons = fixture("products.lessons.jsonl");
        centre.admin(&["lessons", "import", "products", path(&lessons)]);
        centre
    }

    fn admin(&self, args: &[&str]) -> String {
        let mut all = vec!["admin", "--db", &self.db];
        all.extend_from_slice(args);
        kit::kazi(&all, None)
    }

    fn start(&mut self) {
        self.stop();
        self.server = Some(kit::start_server(&self.db, self.addr));
    }

    fn stop(&mut self) {
        if let Some(mut s) = self.server.take() {
            kit::sigkill(&mut s);
        }
    }

    fn profile(&self, name: &str, role: &str) -> Profile {
        let code = kit::enrolment_code(&self.admin(&["user", "add", name, "--role", role]));
        client::login(
            self.home.path(),
            name,
            &format!("http://{}", self.addr),
            name,
            &code,
        )
        .expect("login")
    }
}

impl Drop for Centre {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What one participant's machine runs: store, sync engine, class link.
struct Machine {
    store: LocalStore,
    engine: SyncEngine,
    link: ClassLink,
    notices: mpsc::Receiver<ClassNotice>,
}

impl Machine {
    fn new(profile: &Profile) -> Machine {
        let sync = SyncConfig {
            plan: PlanConfig {
                prefetch: 5,
                batch: 5,
            },
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_millis(500),
            ..SyncConfig::default()
        };
        let engine = SyncEngine::start(profile, sync, |_| {}).unwrap();
        let (tx, notices) = mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let config = ClassConfig {
            every: Duration::from_millis(250),
            backoff_max: Duration::from_millis(500),
            view_wait: 2,
        };
        let link = ClassLink::start(profile, config, move |n| {
            let _ = tx.lock().unwrap().send(n);
        })
        .unwrap();
        Machine {
            store: LocalStore::open(&profile.db_path()).unwrap(),
            engine,
            link,
            notices,
        }
    }

    fn seat(&mut self) -> Seat<'_> {
        let Machine {
            store,
            engine,
            link,
            notices,
        } = self;
        // The App opens a class on a project it holds: wait for the first sync's schemas.
        let deadline = Instant::now() + PATIENCE;
        while store.projects().unwrap().is_empty() {
            assert!(
                Instant::now() < deadline,
                "no projects came with the first sync"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let projects = store.projects().unwrap();
        let theme = Theme {
            color: false,
            ascii: false,
        };
        let mut session =
            kazi::tui::local::session(store, engine, Keymap::default(), theme, None, projects);
        session.executor_mut().set_class_link(link);
        Seat {
            session,
            notices,
            last_view: None,
            pending: Vec::new(),
        }
    }
}

/// A participant's App and executor, and where its class link reports.
struct Seat<'a> {
    session: LocalSession<'a>,
    notices: &'a mpsc::Receiver<ClassNotice>,
    /// The latest class view that came: a view waited for may have come meanwhile.
    last_view: Option<ClassView>,
    /// Class events that came and were not waited for yet, in order.
    pending: Vec<ClassEvent>,
}

impl Seat<'_> {
    fn act(&mut self, effect: ClassEffect) -> Vec<ClassEvent> {
        let events = self.session.executor_mut().execute(Effect::Class(effect));
        let class = class_events(&events);
        for e in events {
            self.session.feed(e);
        }
        class
    }

    /// The class events that come (through the executor, fed to the App) until one
    /// satisfies `done`; that one.
    fn until(&mut self, what: &str, done: impl Fn(&ClassEvent) -> bool) -> ClassEvent {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(i) = self.pending.iter().position(&done) {
                return self.pending.remove(i);
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            let Ok(notice) = self.notices.recv_timeout(Duration::from_millis(100)) else {
                continue;
            };
            let events = self
                .session
                .executor_mut()
                .notice(LocalNotice::Class(notice));
            let class = class_events(&events);
            for e in events {
                self.session.feed(e);
            }
            if let Some(ClassEvent::View(v)) = class
                .iter()
                .rev()
                .find(|e| matches!(e, ClassEvent::View(_)))
            {
                self.last_view = Some(v.clone());
            }
            self.pending.extend(class);
        }
    }

    fn view_until(&mut self, what: &str, done: impl Fn(&ClassView) -> bool) -> ClassView {
        if let Some(v) = self.last_view.as_ref().filter(|v| done(v)) {
            return v.clone();
        }
        match self.until(what, |e| matches!(e, ClassEvent::View(v) if done(v))) {
            ClassEvent::View(v) => v,
            _ => unreachable!(),
        }
    }

    fn state_until(&mut self, what: &str, done: impl Fn(&ClassState) -> bool) -> ClassState {
        match self.until(what, |e| matches!(e, ClassEvent::State(s) if done(s))) {
            ClassEvent::State(s) => s,
            _ => unreachable!(),
        }
    }
}

fn class_events(events: &[kazi::tui::Event]) -> Vec<ClassEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            kazi::tui::Event::Class(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

fn right(lessons: &LessonSet, step: usize) -> AnswerValue {
    lessons.tasks[step].gold.expected()
}

/// A label of the project other than the lesson's gold.
fn wrong(lessons: &LessonSet, step: usize) -> AnswerValue {
    let AnswerValue::Labels(gold) = right(lessons, step) else {
        panic!("a classify lesson");
    };
    let other = ["food", "toys", "tools", "clothing", "electronics"]
        .into_iter()
        .find(|l| !gold.iter().any(|g| g == l))
        .unwrap();
    AnswerValue::Labels(vec![other.into()])
}

fn row<'v>(view: &'v ClassView, name: &str) -> Option<&'v kazi::protocol::ClassRow> {
    view.students.iter().find(|r| r.name == name)
}

#[test]
fn a_class_with_a_trainer_and_three_students_survives_a_server_outage() {
    let mut centre = Centre::new();
    centre.start();
    let tess = centre.profile("tess", "trainer");
    let names = ["amina", "baraka", "chiku"];
    let students: Vec<Profile> = names.iter().map(|n| centre.profile(n, "worker")).collect();

    let mut tess_machine = Machine::new(&tess);
    let mut machines: Vec<Machine> = students.iter().map(Machine::new).collect();
    let mut trainer = tess_machine.seat();
    let mut seats: Vec<Seat<'_>> = machines.iter_mut().map(Machine::seat).collect();

    // A student cannot start a class.
    seats[0].act(ClassEffect::Start {
        project: "products".into(),
    });
    let refused = seats[0].until("the refusal", |e| matches!(e, ClassEvent::Failed(_)));
    let ClassEvent::Failed(why) = refused else {
        unreachable!()
    };
    assert!(why.contains("only trainers and admins"), "{why}");

    trainer.act(ClassEffect::Start {
        project: "products".into(),
    });
    let started = trainer.until("the class", |e| matches!(e, ClassEvent::Started { .. }));
    let ClassEvent::Started { state, lessons } = started else {
        unreachable!()
    };
    let lessons = lessons.expect("the lessons come with the class");
    assert!(lessons.tasks.len() >= 3);
    let code = state.code.clone();
    trainer.act(ClassEffect::Watch { code: code.clone() });
    trainer.view_until("the empty class view", |v| v.students.is_empty());

    // Join with the code as a student might type it: lower case, a space in the middle.
    let typed = format!("{} {}", code[..3].to_lowercase(), &code[3..]);
    for seat in &mut seats {
        assert!(
            seat.act(ClassEffect::Join {
                code: "nope".into()
            })
            .iter()
            .any(|e| matches!(e, ClassEvent::Failed(w) if w.contains("not a class code")))
        );
        seat.act(ClassEffect::Join {
            code: typed.clone(),
        });
        let joined = seat.until("joined", |e| matches!(e, ClassEvent::Joined { .. }));
        let ClassEvent::Joined { state, lessons: l } = joined else {
            unreachable!()
        };
        assert_eq!(state.code, code);
        assert_eq!(l.expect("lessons on join").tasks.len(), lessons.tasks.len());
    }
    let view = trainer.view_until("three students", |v| v.students.len() == 3);
    let mut shown: Vec<&str> = view.students.iter().map(|r| r.name.as_str()).collect();
    shown.sort();
    assert_eq!(shown, names);

    // Step 1 (0-based): every student's screen follows.
    trainer.act(ClassEffect::Step {
        code: code.clone(),
        step: 1,
        revealed: false,
    });
    trainer.state_until("the step", |s| s.step == 1);
    for seat in &mut seats {
        seat.state_until("the trainer's step", |s| s.step == 1 && !s.revealed);
        seat.act(ClassEffect::At { step: 1 });
    }
    // Amina right twice, Baraka right then wrong, Chiku right on step 0 only.
    let plan: [&[(u32, bool)]; 3] = [
        &[(0, true), (1, true)],
        &[(0, true), (1, false)],
        &[(0, true)],
    ];
    for (seat, answers) in seats.iter_mut().zip(plan) {
        for &(step, good) in answers {
            let value = if good {
                right(&lessons, step as usize)
            } else {
                wrong(&lessons, step as usize)
            };
            assert!(
                seat.act(ClassEffect::Answer {
                    step,
                    value,
                    took: 3
                })
                .is_empty(),
                "the answer is kept without a word"
            );
            let scored = seat.until(
                "the score",
                |e| matches!(e, ClassEvent::Scored(s) if s.iter().any(|a| a.step == step)),
            );
            let ClassEvent::Scored(s) = scored else {
                unreachable!()
            };
            assert_eq!(s.iter().find(|a| a.step == step).unwrap().correct, good);
        }
    }
    let view = trainer.view_until("answers and accuracy", |v| {
        v.students.iter().map(|r| r.answered).sum::<u32>() == 5
    });
    let counts = |v: &ClassView, n: &str| row(v, n).map(|r| (r.answered, r.correct, r.step));
    assert_eq!(counts(&view, "amina"), Some((2, 2, 1)));
    assert_eq!(counts(&view, "baraka"), Some((2, 1, 1)));
    assert_eq!(counts(&view, "chiku"), Some((1, 1, 1)));

    // The server dies mid-class: Chiku answers step 1 offline; it is kept on her machine.
    centre.stop();
    seats[2].act(ClassEffect::Answer {
        step: 1,
        value: right(&lessons, 1),
        took: 9,
    });
    let offline = seats[2].until("offline", |e| matches!(e, ClassEvent::Offline { .. }));
    assert_eq!(offline, ClassEvent::Offline { unsent: 1 });
    centre.start();
    // Back: the trainer moves on and reveals; Chiku catches up with the step and her answer.
    let deadline = Instant::now() + PATIENCE;
    loop {
        trainer.act(ClassEffect::Step {
            code: code.clone(),
            step: 2,
            revealed: true,
        });
        let reply = trainer.until("the step after the outage", |e| {
            matches!(e, ClassEvent::State(_) | ClassEvent::Failed(_))
        });
        if matches!(reply, ClassEvent::State(ref s) if s.step == 2) {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not come back");
        std::thread::sleep(Duration::from_millis(200));
    }
    seats[2].until(
        "chiku's answer after the outage",
        |e| matches!(e, ClassEvent::Scored(s) if s.iter().any(|a| a.step == 1 && a.correct)),
    );
    seats[2].state_until("the step after the outage", |s| s.step == 2 && s.revealed);
    let view = trainer.view_until("chiku caught up", |v| {
        row(v, "chiku").is_some_and(|r| r.answered == 2)
    });
    assert_eq!(counts(&view, "chiku"), Some((2, 2, 1)));

    trainer.act(ClassEffect::End { code: code.clone() });
    trainer.state_until("the end", |s| s.ended.is_some());
    for seat in &mut seats {
        seat.state_until("the end of the class", |s| s.ended.is_some());
    }
    trainer.act(ClassEffect::Report { code: code.clone() });
    let report = trainer.until("the report", |e| matches!(e, ClassEvent::Report(_)));
    let ClassEvent::Report(report) = report else {
        unreachable!()
    };
    assert_eq!(report.students.len(), 3);
    drop(seats);
    drop(trainer);

    let table = centre.admin(&["class", "report", &code.to_lowercase()]);
    assert!(table.contains(&format!("Class {code}")), "{table}");
    let line = |name: &str| {
        table
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no line for {name}: {table}"))
            .to_string()
    };
    assert!(line("amina").contains("100%"), "{table}");
    assert!(line("baraka").contains("50%"), "{table}");
    assert!(line("chiku").contains("not passed"), "{table}");
    let csv = centre.admin(&["class", "report", &code, "--format", "csv"]);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows[0],
        "class,project,student,step,answers,first_right,seconds,accuracy,mean_seconds,exam_passed"
    );
    // Five answers before the outage and Chiku's after it: one row per student and step.
    assert_eq!(rows.len(), 1 + 6, "{csv}");
    assert!(
        rows.iter()
            .any(|r| r.starts_with(&format!("{code},products,chiku,2,")) && r.contains(",true,9,")),
        "{csv}"
    );

    for m in machines {
        assert_eq!(m.store.unsent_class_count(&code).unwrap(), 0);
        let _ = m.link.shutdown(Duration::from_secs(1));
        let _ = m.engine.shutdown(Duration::from_secs(1));
    }
    let _ = tess_machine.engine.shutdown(Duration::from_secs(1));
}

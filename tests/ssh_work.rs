//! The worker's executor of an SSH session, driven with keys on the App over a real
//! SQLite store: answers, undo and correction, skip and the lease cap go through the
//! scheduler exactly as over HTTP, and a key removed mid-session answers nothing more.

mod tui_common;

use std::sync::Arc;

use kazi::model::Role;
use kazi::server::store::{NewSshKey, NewTask, Principal, SshKeyAdded};
use kazi::server::{Clock, Store, open_store};
use kazi::ssh::work::WorkExecutor;
use kazi::tui::runtime::Session;
use kazi::tui::{App, Event, Keymap, Theme};
use tui_common::{key, products};

const FP: &str = "SHA256:amina-laptop";

fn centre() -> (tempfile::TempDir, Arc<dyn Store>, Principal) {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&format!("sqlite:{}", dir.path().join("c.db").display())).unwrap();
    let now = Clock::system().now();
    store.put_project(&products(), now).unwrap();
    let mut tasks = (1..=30).map(|i| {
        Ok(NewTask {
            id: format!("t{i}"),
            text: format!("item {i}"),
            suggestion: None,
            gold: None,
            gold_spec: None,
            clip: None,
            prior: Vec::new(),
        })
    });
    store.import_tasks("products", &mut tasks).unwrap();
    store
        .put_user("amina", Role::Worker, &[1; 32], now + 86_400, now)
        .unwrap();
    let key = NewSshKey {
        fingerprint: FP.into(),
        public_key: "ssh-ed25519 AAAA".into(),
        comment: "laptop".into(),
    };
    let added = store.add_ssh_key("amina", &key, &[2; 32], now).unwrap();
    assert!(matches!(added, SshKeyAdded::New { .. }));
    let who = store.ssh_principal(FP).unwrap().unwrap();
    (dir, store, who)
}

fn session(store: &Arc<dyn Store>, who: &Principal) -> Session<WorkExecutor> {
    let work = WorkExecutor::new(store.clone(), who.clone(), FP.into(), Clock::system());
    let mut session = Session::new(App::new(Keymap::default(), Theme::default(), None), work);
    session.feed(Event::Resize(80, 24));
    session
}

/// The number of the task on screen ("item N"): the wire's ids are random public ids.
fn shown(session: &Session<WorkExecutor>) -> Option<i64> {
    let current = session.app().classify()?.current()?;
    current.task.text.strip_prefix("item ")?.parse().ok()
}

/// (task id, label, superseded) of every answer stored, in export order.
fn stored(store: &dyn Store) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    store
        .export("products", &mut |t| {
            for a in t.answers {
                let label = a.value.labels().unwrap_or_default().join("+");
                out.push((t.id.clone(), label, a.superseded));
            }
            Ok(())
        })
        .unwrap();
    out
}

#[test]
fn answers_undo_and_skip_go_through_the_scheduler() {
    let (_dir, store, who) = centre();
    let mut s = session(&store, &who);
    assert_eq!(
        shown(&s),
        Some(1),
        "the only project opens with its first task"
    );
    s.feed(key("1"));
    assert_eq!(shown(&s), Some(2));
    s.feed(key("2"));
    // Undo brings task 2 back; 3 replaces its answer on the server.
    s.feed(key("backspace"));
    assert_eq!(shown(&s), Some(2));
    s.feed(key("3"));
    assert_eq!(shown(&s), Some(3));
    s.feed(key("tab"));
    assert_eq!(shown(&s), Some(4), "skipped");
    let labels = |id: &str| {
        stored(&*store)
            .into_iter()
            .filter(|(t, _, superseded)| t == id && !superseded)
            .map(|(_, l, _)| l)
            .collect::<Vec<_>>()
    };
    assert_eq!(labels("t1"), ["food"]);
    assert_eq!(labels("t2"), ["beauty"], "{:?}", stored(&*store));
    assert_eq!(
        stored(&*store).len(),
        3,
        "the corrected answer is kept, superseded"
    );
    assert!(labels("t3").is_empty());
    assert!(
        s.app()
            .status()
            .counts
            .is_some_and(|c| c.done_today == 2 && c.unsent == 0)
    );

    // A new session of the same key gets back the tasks the first one held.
    drop(s);
    let s = session(&store, &who);
    // Resent in the order of their public ids, which are random: any held one, never
    // one answered (1, 2) or skipped (3).
    let first = shown(&s).expect("a task on screen");
    assert!(
        first >= 4,
        "the held leases come back first, got item {first}"
    );
}

#[test]
fn a_removed_key_answers_nothing_more() {
    let (_dir, store, who) = centre();
    let mut s = session(&store, &who);
    s.feed(key("1"));
    store
        .remove_ssh_key("amina", FP, Clock::system().now())
        .unwrap();
    s.feed(key("2"));
    assert_eq!(stored(&*store).len(), 1, "{:?}", stored(&*store));
    assert!(
        s.app().message().is_some_and(|m| m.contains("signed out")),
        "{:?}",
        s.app().message()
    );
}

/// Over SSH the session runs beside the server's records: the progress view's figures
/// are computed when it opens, and count the answers just given.
#[test]
fn the_progress_view_over_ssh_shows_the_servers_figures() {
    let (_dir, store, who) = centre();
    let mut s = session(&store, &who);
    for k in ["1", "2", "1"] {
        s.feed(key(k));
    }
    s.feed(key("f9"));
    assert_eq!(s.app().screen(), kazi::tui::ScreenId::Progress);
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| kazi::tui::render(s.app(), f)).unwrap();
    let text = format!("{}", terminal.backend());
    assert!(text.contains("(server time)"), "{text}");
    // The three answers are this week's (or, across midnight on a Sunday, last week's).
    assert!(
        text.contains("this week 3 (") || text.contains("last week 3"),
        "{text}"
    );
    assert!(text.contains("Product categories"), "{text}");
    assert!(text.contains("Qualifications: none yet"), "{text}");
}

//! The worker session (App + local store + sync engine, no terminal): an answer is in the
//! store when the key's handling returns, and an answer the store could not save brings
//! its task back instead of being silently lost.

use kazi::client::{DEFAULT_PREFETCH, LocalStore, Profile, SyncConfig, SyncEngine};
use kazi::model::{AnswerValue, Project, Role};
use kazi::protocol::{Lease, SyncRequest, SyncResponse};
use kazi::tui::local::LocalSession as Session;
use kazi::tui::{Event, Key, Keymap, Theme, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const PROJECT: &str = r#"
name = "p"
title = "P"
kind = "classify"
[[labels]]
id = "a"
name = "A"
key = "1"
[[labels]]
id = "b"
name = "B"
key = "2"
"#;

/// A profile whose server is a port nothing listens on: the engine stays offline.
fn offline_profile(dir: &std::path::Path) -> Profile {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    Profile {
        name: "t".into(),
        dir: dir.join("t"),
        server: format!("http://{closed}"),
        user: "amina".into(),
        role: Role::Worker,
        token: "unused".into(),
        prefetch: DEFAULT_PREFETCH,
    }
}

/// The profile's store holding project "p" (multi-label or not) and tasks 1..=n.
fn filled_store(profile: &Profile, multi_label: bool, n: i64) -> LocalStore {
    let mut store = LocalStore::open(&profile.db_path()).unwrap();
    let mut project = Project::from_toml("p.toml", PROJECT).unwrap();
    project.multi_label = multi_label;
    let response = SyncResponse {
        now: 1,
        projects: vec![project],
        leases: (1..=n)
            .map(|id| Lease {
                task: id,
                project: "p".into(),
                text: format!("task {id}"),
                suggestion: None,
                expires: 9,
                clip: None,
            })
            .collect(),
        ..SyncResponse::default()
    };
    store.apply(&SyncRequest::default(), &response).unwrap();
    store
}

/// The worker screen on `project`, as `kazi work --project p` opens it.
fn open<'a>(store: &'a mut LocalStore, engine: &'a SyncEngine) -> Session<'a> {
    let projects = store.projects().unwrap();
    kazi::tui::local::session(
        store,
        engine,
        Keymap::default(),
        Theme::default(),
        Some("p".into()),
        projects,
    )
}

fn shown(session: &Session) -> Option<i64> {
    session
        .app()
        .classify()
        .and_then(|c| c.current())
        .map(|c| c.task.id)
}

#[test]
fn an_answer_is_stored_before_the_key_returns() {
    let dir = tempfile::tempdir().unwrap();
    let profile = offline_profile(dir.path());
    let mut store = filled_store(&profile, false, 3);
    let engine = SyncEngine::start(&profile, SyncConfig::default(), |_| {}).unwrap();
    let mut session = open(&mut store, &engine);
    assert_eq!(shown(&session), Some(1));
    assert!(!session.feed(Event::Key(Key::char('2'))));
    assert_eq!(shown(&session), Some(2));
    // Another connection, as after a power cut, sees the answer already.
    let other = LocalStore::open(&profile.db_path()).unwrap();
    let unsent = other.local_state(None).unwrap().unsent;
    assert_eq!(unsent.len(), 1);
    assert_eq!(unsent[0].upload.task, 1);
    assert_eq!(
        unsent[0].upload.value,
        AnswerValue::Labels(vec!["b".into()])
    );
    assert_eq!(
        session.app().status().unsent(),
        Some(1),
        "the status line counts it"
    );
    assert!(session.feed(Event::Key(Key::ctrl('q'))), "ctrl-q quits");
}

#[test]
fn an_answer_that_could_not_be_saved_brings_its_task_back() {
    let dir = tempfile::tempdir().unwrap();
    let profile = offline_profile(dir.path());
    let mut store = filled_store(&profile, false, 3);
    let engine = SyncEngine::start(&profile, SyncConfig::default(), |_| {}).unwrap();
    let mut session = open(&mut store, &engine);
    assert_eq!(shown(&session), Some(1));
    // The task vanishes from the store underneath the screen: saving it must fail.
    let conn = rusqlite::Connection::open(profile.db_path()).unwrap();
    conn.execute("DELETE FROM tasks WHERE id = 1", []).unwrap();
    session.feed(Event::Key(Key::char('2')));
    let current = session
        .app()
        .classify()
        .and_then(|c| c.current())
        .expect("a task on screen");
    assert_eq!(current.task.id, 1, "the unsaved task is back on screen");
    assert_eq!(
        current.selected,
        vec![false, true],
        "with the choice marked"
    );
    let message = session.app().message().unwrap_or_default().to_string();
    assert!(message.contains("NOT SAVED"), "{message}");
}

#[test]
fn multi_label_choices_are_kept_as_drafts_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let profile = offline_profile(dir.path());
    let mut store = filled_store(&profile, true, 2);
    let engine = SyncEngine::start(&profile, SyncConfig::default(), |_| {}).unwrap();
    {
        let mut session = open(&mut store, &engine);
        session.feed(Event::Key(Key::char('2')));
        assert_eq!(
            session
                .app()
                .classify()
                .and_then(|c| c.current())
                .unwrap()
                .selected,
            vec![false, true]
        );
        // The worker walks away without pressing enter; the power goes.
    }
    assert_eq!(
        store.draft(1).unwrap(),
        Some(AnswerValue::Labels(vec!["b".into()]))
    );
    let mut session = open(&mut store, &engine);
    let current = session.app().classify().and_then(|c| c.current()).unwrap();
    assert_eq!(current.task.id, 1);
    assert_eq!(current.selected, vec![false, true], "the choice is back");
    session.feed(Event::Key(Key::char('1')));
    session.feed(Event::Key(Key::new(kazi::tui::KeyCode::Enter)));
    assert_eq!(shown(&session), Some(2));
    let unsent = store_unsent(&profile);
    assert_eq!(
        unsent,
        vec![(1, AnswerValue::Labels(vec!["a".into(), "b".into()]))]
    );
}

fn store_unsent(profile: &Profile) -> Vec<(i64, AnswerValue)> {
    let other = LocalStore::open(&profile.db_path()).unwrap();
    other
        .local_state(None)
        .unwrap()
        .unsent
        .into_iter()
        .map(|u| (u.upload.task, u.upload.value))
        .collect()
}

#[test]
fn an_unreadable_store_shows_unsent_as_unknown_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let profile = offline_profile(dir.path());
    let mut store = filled_store(&profile, false, 3);
    let engine = SyncEngine::start(&profile, SyncConfig::default(), |_| {}).unwrap();
    let mut session = open(&mut store, &engine);
    assert_eq!(session.app().status().unsent(), Some(0));
    // The counts can no longer be read (a damaged row), the answers still can be saved.
    let conn = rusqlite::Connection::open(profile.db_path()).unwrap();
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('done_today', 'garbled')",
        [],
    )
    .unwrap();
    session.feed(Event::Key(Key::char('2')));
    assert_eq!(shown(&session), Some(2), "the answer itself was saved");
    assert_eq!(session.app().status().unsent(), None, "not a reassuring 0");
    let message = session.app().message().unwrap_or_default().to_string();
    assert!(message.starts_with("unsent count unknown: "), "{message}");
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| render(session.app(), f)).unwrap();
    let buf = terminal.backend().buffer();
    let status: String = (0..80).map(|x| buf[(x, 23)].symbol()).collect();
    assert!(status.contains("unsent ?"), "{status}");
    assert!(!status.contains("unsent 0"), "{status}");
}

#[test]
fn a_draft_that_cannot_be_read_is_said_when_its_task_shows() {
    let dir = tempfile::tempdir().unwrap();
    let profile = offline_profile(dir.path());
    let mut store = filled_store(&profile, true, 3);
    let b = AnswerValue::Labels(vec!["b".into()]);
    store.save_draft(1, &b).unwrap();
    store.save_draft(2, &b).unwrap();
    // Both kept choices are damaged on disk: they cannot be read back.
    let conn = rusqlite::Connection::open(profile.db_path()).unwrap();
    conn.execute("UPDATE drafts SET value = X'00ff'", [])
        .unwrap();
    let engine = SyncEngine::start(&profile, SyncConfig::default(), |_| {}).unwrap();
    let mut session = open(&mut store, &engine);
    assert_eq!(shown(&session), Some(1));
    let message = session.app().message().unwrap_or_default().to_string();
    assert!(
        message.starts_with("a kept choice for this task could not be read"),
        "{message}"
    );
    assert!(message.ends_with("choose again"), "{message}");
    // The worker keeps going; the next task's lost choice is said when it shows.
    session.feed(Event::Key(Key::char('1')));
    session.feed(Event::Key(Key::new(kazi::tui::KeyCode::Enter)));
    assert_eq!(shown(&session), Some(2));
    let message = session.app().message().unwrap_or_default().to_string();
    assert!(
        message.starts_with("a kept choice for this task could not be read"),
        "{message}"
    );
    assert_eq!(
        store_unsent(&profile),
        vec![(1, AnswerValue::Labels(vec!["a".into()]))]
    );
}

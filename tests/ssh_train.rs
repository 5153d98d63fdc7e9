//! The trainer's executor of an SSH session, driven with keys on the App over a real
//! SQLite store: the lessons come from the server's lesson sets, f7 opens a class in the
//! store, and the class view is asked for again on each tick of the session's input, the
//! App hearing of it only when it changed (a student joined).

mod tui_common;

use std::sync::Arc;

use kazi::model::{Project, Role};
use kazi::protocol::ClassRequest;
use kazi::server::store::{NewSshKey, Principal};
use kazi::server::{Clock, Store, admin::import_lessons, open_store};
use kazi::ssh::train::{Tick, TrainExecutor};
use kazi::tui::runtime::{Executor, Session};
use kazi::tui::{App, Keymap, Theme};
use tui_common::key;

/// A user with an SSH key, as the session would find them.
fn user(store: &dyn Store, name: &str, role: Role, n: u8) -> (String, Principal) {
    let now = Clock::system().now();
    store
        .put_user(name, role, &[n; 32], now + 86_400, now)
        .unwrap();
    let fingerprint = format!("SHA256:{name}-laptop");
    let key = NewSshKey {
        fingerprint: fingerprint.clone(),
        public_key: "ssh-ed25519 AAAA".into(),
        comment: "laptop".into(),
    };
    store.add_ssh_key(name, &key, &[n + 1; 32], now).unwrap();
    let who = store.ssh_principal(&fingerprint).unwrap().unwrap();
    (fingerprint, who)
}

#[test]
fn the_trainer_presents_the_servers_lessons_and_follows_the_class() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&format!("sqlite:{}", dir.path().join("c.db").display())).unwrap();
    let store: Arc<dyn Store> = store;
    let fixtures = format!("{}/fixtures/projects", env!("CARGO_MANIFEST_DIR"));
    let toml = std::fs::read_to_string(format!("{fixtures}/products.toml")).unwrap();
    let products = Project::from_toml("products.toml", &toml).unwrap();
    store.put_project(&products, Clock::system().now()).unwrap();
    let lessons = format!("{fixtures}/products.lessons.jsonl");
    import_lessons(store.as_ref(), "products", lessons.as_ref()).unwrap();
    let (fingerprint, trainer) = user(store.as_ref(), "tumaini", Role::Trainer, 1);
    let (_, student) = user(store.as_ref(), "amina", Role::Worker, 3);

    let executor = TrainExecutor::new(store.clone(), trainer, fingerprint, Clock::system());
    let app = App::train(Keymap::default(), Theme::default(), None);
    let mut session = Session::new(app, executor);
    session.feed(kazi::tui::Event::Resize(80, 24));
    // The only project opens by itself, on its lessons as the server holds them.
    let present = session.app().present().expect("the presentation");
    assert_eq!(present.lessons().len(), 12);

    session.feed(key("right"));
    session.feed(key("f7"));
    let class = session.app().present().unwrap().class().expect("a class");
    let code = class.state.code.clone();
    assert!(class.students().is_empty());
    assert_eq!(class.state.step, 1, "the class starts where the trainer is");

    // Nothing changed: a tick tells the App nothing.
    assert!(session.executor_mut().notice(Tick).is_empty());
    let now = Clock::system().now();
    let joined = store
        .class(&student, &ClassRequest::Join { code: code.clone() }, now)
        .unwrap();
    assert!(joined.is_ok(), "{joined:?}");
    session.notice(Tick);
    let class = session.app().present().unwrap().class().unwrap();
    assert_eq!(
        class.students().len(),
        1,
        "the view after the student joined"
    );
    assert!(session.executor_mut().notice(Tick).is_empty());
}

//! The worker's progress through the real client against a real server on 127.0.0.1:0:
//! the sync after the first brings the figures (none kept yet), later syncs within the hour do not
//! ask again, opening the view asks with a round trip of its own, and after the server is
//! stopped the figures kept in the local store are still there and drawn with the
//! server time they were computed at.

#[path = "support/server_harness.rs"]
mod harness;

use kazi::client::{self, LocalStore, PlanConfig, Remote, SyncOutcome};
use kazi::model::{AnswerValue, Role};
use kazi::server::admin;
use kazi::tui::screen::progress::ProgressEvent;
use kazi::tui::{App, Event, Keymap, Link, ScreenId, Status, Theme, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const PLAN: PlanConfig = PlanConfig {
    prefetch: 10,
    batch: 0,
};

fn sync(rt: &tokio::runtime::Runtime, remote: &Remote, store: &mut LocalStore) -> SyncOutcome {
    rt.block_on(client::sync_once(remote, store, Some("shop"), PLAN))
        .expect("sync")
}

#[test]
fn progress_comes_when_due_or_asked_and_stays_readable_offline() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(harness::start());
    // Noon (UTC) on the server's clock: every answer of the test falls on its "today".
    let now = server.clock.now();
    server
        .clock
        .advance(now.div_euclid(86_400) * 86_400 + 43_200 - now);
    server.add_project(&harness::project(1));
    server.import_numbered("shop", 30);
    let home = tempfile::tempdir().unwrap();
    let code = admin::add_user(&*server.store, "amina", Role::Worker, &server.clock).unwrap();
    let profile = client::login(home.path(), "amina", &server.base, "amina", &code).unwrap();
    let mut store = LocalStore::open(&profile.db_path()).unwrap();
    let remote = Remote::new(&profile.server, &profile.token).unwrap();

    // The first sync after login carries no figures (login to first task stays lean);
    // with none kept, the next one asks, and its reply brings them.
    assert!(store.progress().unwrap().is_none());
    assert!(!store.local_state(Some("shop")).unwrap().progress_due);
    let SyncOutcome::Synced { applied, .. } = sync(&rt, &remote, &mut store) else {
        panic!("the first sync goes out");
    };
    assert!(!applied.progress);
    assert!(store.local_state(Some("shop")).unwrap().progress_due);
    let answer = |store: &mut LocalStore, n: usize| {
        for _ in 0..n {
            let task = store.queued_tasks("shop", 0, 1).unwrap().0.remove(0);
            store
                .record_answer(&task, &AnswerValue::Labels(vec!["food".into()]))
                .unwrap();
        }
    };
    answer(&mut store, 5);
    let before = server.clock.now();
    let SyncOutcome::Synced { applied, .. } = sync(&rt, &remote, &mut store) else {
        panic!("answers go out");
    };
    assert_eq!(applied.stored, 5);
    assert!(applied.progress, "none kept: the reply carries progress");
    let first = store.progress().unwrap().expect("figures kept");
    assert!(first.as_of >= before && first.as_of <= server.clock.now());
    assert_eq!(first.today().unwrap().tasks, 5);

    // Two more answers go out; the figures are fresh, so this sync does not ask.
    answer(&mut store, 2);
    let state = store.local_state(Some("shop")).unwrap();
    assert!(!state.progress_due && !state.progress_asked);
    let SyncOutcome::Synced { applied, .. } = sync(&rt, &remote, &mut store) else {
        panic!("answers go out");
    };
    assert_eq!(applied.stored, 2);
    assert!(!applied.progress, "not asked within the hour");
    assert_eq!(store.progress().unwrap().unwrap().today().unwrap().tasks, 5);

    // Opening the view asks: worth a round trip by itself, and it brings today's seven.
    store.ask_progress().unwrap();
    assert!(store.local_state(Some("shop")).unwrap().progress_asked);
    let SyncOutcome::Synced { applied, .. } = sync(&rt, &remote, &mut store) else {
        panic!("an asked-for progress is worth a sync");
    };
    assert!(applied.progress);
    let fresh = store.progress().unwrap().unwrap();
    assert_eq!(fresh.today().unwrap().tasks, 7);
    assert_eq!(fresh.this_week().unwrap().tasks, 7);
    assert_eq!(fresh.projects[0].tasks(), 7);
    assert!(!store.local_state(Some("shop")).unwrap().progress_asked);

    // The server stops. A sync now fails; the figures kept are the same, as of the same
    // server time, and the view draws them.
    drop(server);
    store.ask_progress().unwrap();
    let offline = rt.block_on(client::sync_once(&remote, &mut store, Some("shop"), PLAN));
    assert!(offline.is_err(), "the server is gone");
    drop(store);
    let store = LocalStore::open(&profile.db_path()).unwrap();
    let kept = store.progress().unwrap().expect("kept for offline viewing");
    assert_eq!(kept, fresh);

    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Status(Status {
        link: Link::Offline,
        counts: None,
    }));
    app.handle(Event::Projects(vec![harness::project(1)]));
    app.handle(Event::Key(kazi::tui::Key::parse("f9").unwrap()));
    assert_eq!(app.screen(), ScreenId::Progress);
    app.handle(Event::Progress(ProgressEvent::Loaded(Some(kept.clone()))));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| render(&app, f)).unwrap();
    let text = format!("{}", terminal.backend());
    let shown = kazi::model::format_utc(kept.as_of);
    assert!(
        text.contains(&format!("as of {} {} UTC", &shown[..10], &shown[11..16])),
        "{text}"
    );
    assert!(text.contains("today 7 tasks"), "{text}");
    assert!(text.contains("offline"), "{text}");
}

//! A scripted worker on a thin, flaky link: the worker screen (`Session`) and the sync
//! engine run against a real server through the hostile link proxy (20 kbit/s, 500 ms
//! round trips, stalls, resets, then a full cut for a while). Proves that every answer
//! reaches the server exactly once, that a key press shows the next task at once while
//! the cache holds one, and that the status line shows offline and unsent truthfully.

#[path = "support/server_harness.rs"]
mod harness;
#[path = "support/crash_kit.rs"]
mod kit;
#[path = "support/link.rs"]
mod link;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kazi::client::{self, LocalStore, PlanConfig, SyncConfig, SyncEngine, SyncStatus};
use kazi::model::Role;
use kazi::server::admin::{self, ExportFormat};
use kazi::tui::local::LocalSession;
use kazi::tui::{Event, Key, Keymap, Link, Theme};
use link::{Faults, HostileLink};

const TASKS: usize = 500;
/// Answers given before the line is cut, and at most while it is cut.
const BEFORE_CUT: usize = 200;
const DURING_CUT: usize = 60;
/// Longest a script may take before it is called stuck.
const PATIENCE: Duration = Duration::from_secs(90);

/// A real server with `tasks` tasks of project "shop" (overlap 1), and `user` logged in
/// as profile "w"; `upstream` is the server's address, for a link to stand in front of.
struct Centre {
    rt: tokio::runtime::Runtime,
    server: harness::TestServer,
    home: tempfile::TempDir,
    profile: client::Profile,
    upstream: SocketAddr,
}

fn centre(tasks: usize, user: &str) -> Centre {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = rt.block_on(harness::start());
    server.add_project(&harness::project(1));
    server.import_numbered("shop", tasks);
    let code = admin::add_user(&*server.store, user, Role::Worker, &server.clock).unwrap();
    let home = tempfile::tempdir().unwrap();
    let profile = client::login(home.path(), "w", &server.base, user, &code).unwrap();
    let upstream: SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    Centre {
        rt,
        server,
        home,
        profile,
        upstream,
    }
}

fn sync_config() -> SyncConfig {
    SyncConfig {
        plan: PlanConfig {
            prefetch: 100,
            batch: 60,
        },
        send_after_answers: 10,
        send_after: Duration::from_secs(1),
        backoff_min: Duration::from_millis(200),
        backoff_max: Duration::from_secs(2),
        exhausted_retry: Duration::from_secs(2),
    }
}

/// Answers the server stored, read from its database file.
fn stored_answers(db: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open server db");
    conn.query_row("SELECT count(*) FROM answers", [], |r| r.get(0))
        .expect("count answers")
}

/// Live leases the server holds for `user`, read from its database file.
fn live_leases(db: &std::path::Path, user: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open server db");
    conn.query_row(
        "SELECT count(*) FROM leases l JOIN users u ON u.id = l.user_id \
         WHERE u.name = ?1 AND l.live = 1",
        [user],
        |r| r.get(0),
    )
    .expect("count leases")
}

/// The worker's script, with what it saw.
struct Script<'s, 'a> {
    session: LocalSession<'a>,
    statuses: &'s mpsc::Receiver<SyncStatus>,
    /// Item number -> label id chosen.
    chosen: BTreeMap<u64, &'static str>,
    rng: kit::Rng,
    /// Key presses made while the cache held a further task.
    presses_with_cache: usize,
    server_db: std::path::PathBuf,
    /// The whole script must be done by then (statuses keep coming while the engine
    /// retries, so a per-wait timeout alone would never fire).
    deadline: Instant,
}

impl Script<'_, '_> {
    /// Take in every status the engine reported so far.
    fn drain(&mut self) {
        while let Ok(status) = self.statuses.try_recv() {
            self.session.notice(status.into());
        }
    }

    /// Block until the engine reports something (or panic past the deadline).
    fn wait_for_sync(&mut self, what: &str) {
        let left = self.deadline.saturating_duration_since(Instant::now());
        match self.statuses.recv_timeout(left) {
            Ok(status) => {
                self.session.notice(status.into());
            }
            Err(_) => panic!(
                "stuck waiting for {what}: {} answered, status {:?}, server holds {} leases \
                 for this worker",
                self.chosen.len(),
                self.session.app().status(),
                live_leases(&self.server_db, "amina")
            ),
        }
        self.drain();
    }

    /// Answer the task on screen (waiting for sync while nothing is cached). Checks that
    /// the next task is on screen as soon as the key press returns whenever the cache
    /// held another one.
    fn answer_one(&mut self) {
        self.drain();
        while self
            .session
            .app()
            .classify()
            .and_then(|c| c.current())
            .is_none()
        {
            self.wait_for_sync("tasks");
        }
        let app = self.session.app();
        let screen = app.classify().expect("the classify screen");
        let current = screen.current().expect("a task on screen");
        let (task, n) = (current.task.id, kit::item_number(&current.task.text));
        // `cached` counts the task on screen too.
        let more_cached =
            app.status().cached().is_some_and(|n| n >= 2) || !screen.queue().is_empty();
        let (key, label) = kit::LABELS[self.rng.below(3) as usize];
        assert!(
            self.chosen.insert(n, label).is_none(),
            "item {n} shown again after it was answered"
        );
        // A quick worker: a key every few milliseconds, so syncs overlap the answering.
        std::thread::sleep(Duration::from_millis(self.rng.between(2, 12)));
        let quit = self.session.feed(Event::Key(Key::char(key)));
        assert!(!quit);
        // The screen confirms an answer only when it is saved.
        if let Some(message) = self.session.app().message() {
            panic!("after answering item {n}: {message}");
        }
        if more_cached {
            self.presses_with_cache += 1;
            let next = self
                .session
                .app()
                .classify()
                .and_then(|c| c.current())
                .unwrap_or_else(|| {
                    panic!(
                        "after answering item {n} with tasks cached, no next task on screen \
                     (status {:?})",
                        self.session.app().status()
                    )
                });
            assert_ne!(next.task.id, task, "the answered task is still on screen");
        }
    }
}

#[test]
fn worker_answers_500_tasks_over_a_thin_link_with_a_cut() {
    let started = Instant::now();
    let seed = kit::seed("thin_link");
    eprintln!("thin_link: {TASKS} tasks, cut after {BEFORE_CUT}, up to {DURING_CUT} while cut");
    let Centre {
        rt: _rt,
        server,
        home: _home,
        mut profile,
        upstream,
    } = centre(TASKS, "amina");
    let link = HostileLink::start(
        upstream,
        Faults {
            seed,
            ..Faults::thin()
        },
    );
    profile.set_server(&link.url()).unwrap();

    let (tx, statuses) = mpsc::channel();
    let engine = SyncEngine::start(&profile, sync_config(), move |s| {
        let _ = tx.send(s);
    })
    .unwrap();
    let mut store = LocalStore::open(&profile.db_path()).unwrap();
    let projects = store.projects().unwrap();
    let theme = Theme {
        color: false,
        ascii: false,
    };
    let session = kazi::tui::local::session(
        &mut store,
        &engine,
        Keymap::default(),
        theme,
        Some("shop".into()),
        projects,
    );
    let mut script = Script {
        session,
        statuses: &statuses,
        chosen: BTreeMap::new(),
        rng: kit::Rng::new(seed),
        presses_with_cache: 0,
        server_db: server.dir.path().join("server.db"),
        deadline: Instant::now() + PATIENCE,
    };

    for _ in 0..BEFORE_CUT {
        script.answer_one();
    }

    // The line goes down. The worker goes on from the cache; the engine notices at its
    // next attempt (answers waiting force one within `send_after`).
    link.cut();
    let mut during_cut = 0;
    while script.session.app().status().link != Link::Offline {
        if during_cut < DURING_CUT
            && script
                .session
                .app()
                .status()
                .cached()
                .is_some_and(|n| n >= 2)
        {
            script.answer_one();
            during_cut += 1;
        } else {
            script.wait_for_sync("the engine to notice the cut");
        }
    }
    // From here the count of unsent answers only grows, by one per answer.
    let unsent_at_offline = script
        .session
        .app()
        .status()
        .unsent()
        .expect("unsent known");
    let mut since_offline = 0;
    while during_cut < DURING_CUT
        && script
            .session
            .app()
            .status()
            .cached()
            .is_some_and(|n| n >= 2)
    {
        script.answer_one();
        during_cut += 1;
        since_offline += 1;
        let status = script.session.app().status();
        assert_eq!(status.link, Link::Offline, "link shown while cut");
        assert_eq!(
            status.unsent(),
            Some(unsent_at_offline + since_offline),
            "unsent shown while cut"
        );
    }
    assert!(
        since_offline > 0,
        "the cache ran dry before any answer was given offline; raise prefetch"
    );
    eprintln!(
        "thin_link: {during_cut} answers while cut, {since_offline} of them shown offline, \
         {:?} unsent at the end of the cut",
        script.session.app().status().unsent()
    );

    // The line comes back: everything unsent drains without the worker doing anything.
    link.restore();
    while script.session.app().status().unsent() != Some(0)
        || script.session.app().status().link == Link::Offline
    {
        script.wait_for_sync("unsent answers to drain after restore");
    }

    while script.chosen.len() < TASKS {
        script.answer_one();
    }
    while script.session.app().status().unsent() != Some(0) {
        script.wait_for_sync("the last answers to be sent");
    }
    let presses_with_cache = script.presses_with_cache;
    let chosen = std::mem::take(&mut script.chosen);
    drop(script);
    let left = engine
        .shutdown(Duration::from_secs(10))
        .expect("engine stops");
    assert_eq!(left.unsent, 0);

    // On the server: each of the 500 tasks answered exactly once, with the chosen label.
    let export = kit::parse_export(&server.export("shop", ExportFormat::Jsonl));
    assert_eq!(export.len(), TASKS);
    for (n, answers) in &export {
        assert_eq!(answers.len(), 1, "item {n}: {answers:?}");
        assert_eq!(answers[0].worker, "amina");
        assert_eq!(
            Some(&answers[0].value.as_str()),
            chosen.get(n),
            "item {n}: value on the server"
        );
    }
    // And no lease is left held by the server that the worker never received.
    let db = server.dir.path().join("server.db");
    assert_eq!(
        live_leases(&db, "amina"),
        0,
        "leases stranded on the server"
    );

    eprintln!(
        "thin_link: {} answers; {presses_with_cache} key presses with tasks cached all showed \
         the next task at once; link: {} B up, {} B down, {} connections, {} killed; {:.1} s",
        chosen.len(),
        link.bytes_up(),
        link.bytes_down(),
        link.connections(),
        link.resets(),
        started.elapsed().as_secs_f64()
    );
}

/// A reply lost on its way back (the server granted leases, the link died before the
/// client had them) must not leave those tasks held on the server for the whole lease,
/// out of every worker's reach: the next sync brings them.
#[test]
fn leases_in_a_lost_reply_reach_the_worker_at_the_next_sync() {
    let Centre {
        rt,
        server,
        home: _home,
        mut profile,
        upstream,
    } = centre(100, "baraka");
    // A long one-way delay and nothing else: a wide, sure window between the server
    // committing the leases and the client receiving them.
    let slow = Faults {
        latency: Duration::from_millis(1500),
        ..Faults::clean()
    };
    let link = HostileLink::start(upstream, slow);
    profile.set_server(&link.url()).unwrap();
    let db = server.dir.path().join("server.db");
    let remote = client::Remote::new(&profile.server, &profile.token).unwrap();
    let mut store = LocalStore::open(&profile.db_path()).unwrap();
    let config = PlanConfig {
        prefetch: 20,
        batch: 10,
    };

    // First sync: schemas and 30 tasks, delivered.
    rt.block_on(client::sync_once(&remote, &mut store, Some("shop"), config))
        .expect("first sync");
    assert_eq!(store.counts(Some("shop")).unwrap().queued, 30);
    // Answer most of them, so the next sync asks for more.
    let (tasks, _) = store.queued_tasks("shop", 0, 25).unwrap();
    for task in &tasks {
        let value = kazi::model::AnswerValue::Labels(vec!["food".into()]);
        store.record_answer(task, &value).unwrap();
    }

    // Second sync: the server stores the answers and grants leases; the reply is lost.
    let lost = std::thread::spawn({
        let remote = remote.clone();
        let path = profile.db_path();
        move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let mut store = LocalStore::open(&path).unwrap();
            rt.block_on(client::sync_once(&remote, &mut store, Some("shop"), config))
        }
    });
    let deadline = Instant::now() + PATIENCE;
    // The round is one transaction: once its answers are in, so are its leases.
    while stored_answers(&db) < 25 {
        assert!(
            Instant::now() < deadline,
            "the server never granted the leases"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    link.cut();
    let outcome = lost.join().unwrap();
    assert!(
        outcome.is_err(),
        "the reply was meant to be lost: {outcome:?}"
    );
    let held = live_leases(&db, "baraka");
    assert_eq!(store.counts(Some("shop")).unwrap().queued, 5);
    assert!(held > 5, "server holds {held} leases");

    // The line returns; the next sync must bring what the lost reply carried.
    link.restore();
    link.set_faults(Faults::clean());
    rt.block_on(client::sync_once(&remote, &mut store, Some("shop"), config))
        .expect("sync after the cut");
    let queued = store.counts(Some("shop")).unwrap().queued;
    assert_eq!(
        live_leases(&db, "baraka"),
        i64::from(queued),
        "every lease the server holds for this worker is in the worker's cache"
    );
    // The answers of the lost round trip were stored once (resent, acknowledged as dups).
    let export = kit::parse_export(&server.export("shop", ExportFormat::Jsonl));
    let answered: usize = export.values().map(Vec::len).sum();
    assert_eq!(answered, 25);
    assert_eq!(store.counts(None).unwrap().unsent, 0);
}

/// Quitting sends unsent answers within a bounded wait: a link that is down when the
/// worker quits and back a moment later still gets them, instead of one failed attempt
/// ending the wait.
#[test]
fn quitting_keeps_trying_within_its_wait() {
    let Centre {
        rt: _rt,
        server,
        home: _home,
        mut profile,
        upstream,
    } = centre(20, "dalila");
    let link = std::sync::Arc::new(HostileLink::start(upstream, Faults::clean()));
    profile.set_server(&link.url()).unwrap();
    // Answers wait to be sent until quit: nothing sends them earlier.
    let config = SyncConfig {
        send_after_answers: 1000,
        send_after: Duration::from_secs(3600),
        ..sync_config()
    };
    let (tx, statuses) = mpsc::channel();
    let engine = SyncEngine::start(&profile, config, move |s| {
        let _ = tx.send(s);
    })
    .unwrap();
    engine.set_project(Some("shop".into()));
    let deadline = Instant::now() + PATIENCE;
    while statuses
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .expect("tasks arrive")
        .counts
        .is_none_or(|c| c.queued == 0)
    {}
    let mut store = LocalStore::open(&profile.db_path()).unwrap();
    let (tasks, _) = store.queued_tasks("shop", 0, 3).unwrap();
    for task in &tasks {
        let value = kazi::model::AnswerValue::Labels(vec!["toys".into()]);
        store.record_answer(task, &value).unwrap();
    }

    link.cut();
    let back = std::thread::spawn({
        let link = link.clone();
        move || {
            std::thread::sleep(Duration::from_millis(1500));
            link.restore();
        }
    });
    let left = engine
        .shutdown(Duration::from_secs(20))
        .expect("engine stops");
    back.join().unwrap();
    assert_eq!(left.unsent, 0, "answers left behind on quit");
    let export = kit::parse_export(&server.export("shop", ExportFormat::Jsonl));
    assert_eq!(export.values().map(Vec::len).sum::<usize>(), 3);
}

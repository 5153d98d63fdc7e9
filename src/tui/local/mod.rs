//! The local adapter: `kazi work` on this computer's terminal. Crossterm keys and the
//! sync engine's reports arrive on one channel (the `InputSource`), SIGTERM and SIGHUP
//! too; a `LocalExecutor` carries out effects against the client store. On the way out
//! the terminal is restored first, then unsent answers are sent with a bounded wait.

mod executor;
pub mod review;

use std::io::{self, Write};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::client::{ClassConfig, ClassLink, LocalStore, Profile, SyncConfig, SyncEngine};
use crate::model::Project;

use super::app::{App, Event, Seat};
use super::key::Key;
use super::keymap::Keymap;
use super::runtime::{Exit, Input, InputSource, Runtime};
use super::terminal;
use super::theme::Theme;

pub use executor::{LocalExecutor, LocalNotice, LocalSession};

/// How long quitting waits for unsent answers to reach the server.
const QUIT_WAIT: Duration = Duration::from_secs(5);

/// The worker session on `store` without a terminal, as `kazi work` opens it: tests and
/// benchmarks drive it with scripted keys and sync reports.
pub fn session<'a>(
    store: &'a mut LocalStore,
    engine: &'a SyncEngine,
    keymap: Keymap,
    theme: Theme,
    project: Option<String>,
    projects: Vec<Project>,
) -> LocalSession<'a> {
    let executor = LocalExecutor::new(store, engine, project.clone(), projects);
    LocalSession::new(App::new(keymap, theme, project), executor)
}

/// Keys, resizes, sync reports and signals, in the order they arrived.
struct LocalInput(mpsc::Receiver<Input<LocalNotice>>);

impl InputSource for LocalInput {
    type Notice = LocalNotice;

    fn next(&mut self) -> Input<LocalNotice> {
        self.0.recv().unwrap_or(Input::Closed)
    }

    fn try_next(&mut self) -> Option<Input<LocalNotice>> {
        self.0.try_recv().ok()
    }
}

/// Run the worker screen for `profile` until the worker quits (or a signal ends it).
pub fn work(profile: &Profile, project: Option<String>, keymap: Keymap) -> Result<()> {
    run(profile, project, keymap, Seat::Worker)
}

/// Run the trainer's screens (`kazi train`) for `profile`: the same store and sync as
/// `kazi work` (the lessons come with each sync), but a project opens its lessons on the
/// presentation screen and no tasks are fetched.
pub fn train(profile: &Profile, project: Option<String>, keymap: Keymap) -> Result<()> {
    run(profile, project, keymap, Seat::Trainer)
}

fn run(profile: &Profile, project: Option<String>, keymap: Keymap, seat: Seat) -> Result<()> {
    // One screen per profile: two would show the same tasks and answer them twice.
    let lock_path = profile.dir.join("work.lock");
    let lock = std::fs::File::create(&lock_path)
        .with_context(|| format!("cannot create {}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        anyhow::bail!(
            "kazi work or kazi train is already running for profile '{}' on this computer; use that window",
            profile.name
        );
    }
    let mut store = LocalStore::open(&profile.db_path())?;
    let projects = store.projects()?;
    if let Some(name) = &project
        && !projects.is_empty()
        && !projects.iter().any(|p| &p.name == name)
    {
        let names: Vec<&str> = projects.iter().map(|p| p.name.as_str()).collect();
        anyhow::bail!(
            "no project '{name}' on this device; projects: {}",
            names.join(", ")
        );
    }

    let (tx, rx) = mpsc::channel::<Input<LocalNotice>>();
    // Before the terminal is set up: a signal from now on ends the screen cleanly.
    watch_signals(tx.clone()).context("cannot watch for SIGTERM and SIGHUP")?;
    let sync_tx = tx.clone();
    let engine = SyncEngine::start(profile, SyncConfig::for_profile(profile), move |status| {
        let _ = sync_tx.send(Input::Notice(LocalNotice::Sync(status)));
    })?;

    let class_tx = std::sync::Mutex::new(tx.clone());
    let class_link = ClassLink::start(profile, ClassConfig::default(), move |notice| {
        if let Ok(tx) = class_tx.lock() {
            let _ = tx.send(Input::Notice(LocalNotice::Class(notice)));
        }
    })?;
    let player_tx = std::sync::Mutex::new(tx.clone());
    let mut guard = terminal::enter().context("cannot set up the terminal")?;
    std::thread::Builder::new()
        .name("kazi-keys".into())
        .spawn(move || read_keys(&tx))?;

    let size = guard.terminal().size()?;
    // The trainer's engine fetches no tasks: `--project` only picks the lessons.
    let engine_project = project.clone().filter(|_| seat == Seat::Worker);
    let mut executor = LocalExecutor::new(&mut store, &engine, engine_project, projects);
    executor.set_class_link(&class_link);
    executor.set_player_notify(Arc::new(move |n| {
        if let Ok(tx) = player_tx.lock() {
            let _ = tx.send(Input::Notice(LocalNotice::Player(n)));
        }
    }));
    let app = match seat {
        Seat::Worker => App::new(keymap, Theme::from_env(), project),
        Seat::Trainer => App::train(keymap, Theme::from_env(), project),
    };
    let mut session = LocalSession::new(app, executor);
    session.feed(Event::Resize(size.width, size.height));
    let mut runtime = Runtime {
        terminal: guard.terminal(),
        input: LocalInput(rx),
        session,
    };
    let result = runtime.run();
    drop(runtime);
    drop(guard);

    let exit = match &result {
        Ok(exit) => *exit,
        // The terminal is broken: leave as on a hang-up, answers kept.
        Err(_) => Exit::InputClosed,
    };
    send_unsent(&store, engine, exit);
    send_class_answers(class_link, exit);
    result.map(|_| ()).context("the terminal failed")
}

/// Crossterm's events as our inputs; a terminal that cannot be read is closed input.
pub(super) fn read_keys<N>(tx: &mpsc::Sender<Input<N>>) {
    loop {
        let input = match crossterm::event::read() {
            Ok(crossterm::event::Event::Key(k)) => match Key::try_from(k) {
                Ok(key) => Input::Key(key),
                Err(_) => continue,
            },
            Ok(crossterm::event::Event::Resize(w, h)) => Input::Resize(w, h),
            Ok(crossterm::event::Event::Paste(text)) => Input::Paste(text),
            Ok(_) => continue,
            Err(_) => Input::Closed,
        };
        let closed = matches!(input, Input::Closed);
        if tx.send(input).is_err() || closed {
            return;
        }
    }
}

/// SIGTERM asks to stop (as quit); SIGHUP says the terminal is gone. Both are taken
/// from the default action (die with the terminal raw) into the input channel.
pub(super) fn watch_signals<N: Send + 'static>(tx: mpsc::Sender<Input<N>>) -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    let (mut term, mut hup) = {
        let _entered = rt.enter();
        (
            signal(SignalKind::terminate())?,
            signal(SignalKind::hangup())?,
        )
    };
    std::thread::Builder::new()
        .name("kazi-signals".into())
        .spawn(move || {
            rt.block_on(async move {
                loop {
                    let input = tokio::select! {
                        _ = term.recv() => Input::Stop,
                        _ = hup.recv() => Input::Closed,
                    };
                    if tx.send(input).is_err() {
                        return;
                    }
                }
            })
        })?;
    Ok(())
}

/// After the sync engine: a class's answers not yet sent go within `QUIT_WAIT` (not after
/// a hang-up); those left are sent by the next `kazi work`.
fn send_class_answers(link: ClassLink, exit: Exit) {
    let wait = if exit == Exit::InputClosed {
        Duration::ZERO
    } else {
        QUIT_WAIT
    };
    if let Some(left) = link.shutdown(wait).filter(|n| *n > 0) {
        let _ = writeln!(
            io::stdout(),
            "{left} class answer(s) are saved on this computer and will be sent next time (kazi work)."
        );
    }
}

/// After the terminal is restored: send unsent answers within `QUIT_WAIT` (on quit and
/// SIGTERM), and say what stays on this computer. After a hang-up nobody reads the
/// screen and the answers stay saved for the next start.
fn send_unsent(store: &LocalStore, engine: SyncEngine, exit: Exit) {
    // The terminal may be gone: a failed write must not end us before the engine stops.
    let say = |line: String| {
        let _ = writeln!(io::stdout(), "{line}");
    };
    if exit == Exit::InputClosed {
        let _ = engine.shutdown(Duration::ZERO);
        return;
    }
    if exit == Exit::Stopped {
        say("Kazi was asked to stop (SIGTERM).".into());
    }
    let unsent = match store.counts(None) {
        Ok(c) => Some(c.unsent),
        Err(e) => {
            say(format!(
                "Cannot count unsent answers ({e}); trying to send them."
            ));
            None
        }
    };
    if unsent.is_none_or(|n| n > 0) {
        let n = unsent.map_or_else(|| "any".to_string(), |n| n.to_string());
        say(format!(
            "Sending {n} unsent answer(s) (waiting up to {} s)...",
            QUIT_WAIT.as_secs()
        ));
    }
    match engine.shutdown(QUIT_WAIT).map(|c| c.unsent).or(unsent) {
        Some(0) if unsent.is_none_or(|n| n > 0) => say("All answers sent.".into()),
        Some(0) => {}
        Some(left) => say(format!(
            "{left} answer(s) are saved on this computer and will be sent next time (kazi work or kazi sync)."
        )),
        None => say(
            "Answers not yet sent stay saved on this computer and will be sent next time (kazi work or kazi sync)."
                .into(),
        ),
    }
}

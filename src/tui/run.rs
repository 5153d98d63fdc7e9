//! The runtime of the worker screen: joins the pure `App` to a local terminal, the local
//! store and the sync engine. It carries out effects (an answer is committed and fsynced
//! before the next frame is drawn), feeds results back as events, and draws only when
//! the App says something visible changed.

use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::client::{self, LocalStore, Profile, SyncConfig, SyncEngine, SyncStatus};
use crate::model::Project;

use super::app::{App, Effect, Event, Link, Status};
use super::key::Key;
use super::keymap::Keymap;
use super::terminal;
use super::view::{Theme, render};

/// How long quitting waits for unsent answers to reach the server.
const QUIT_WAIT: Duration = Duration::from_secs(5);
/// Tasks loaded from the store into the App at a time.
const PAGE: usize = 30;

enum Input {
    Terminal(crossterm::event::Event),
    Sync(SyncStatus),
}

/// Run the worker screen for `profile` until the worker quits.
pub fn work(profile: &Profile, project: Option<String>, keymap: Keymap) -> Result<()> {
    // One screen per profile: two would show the same tasks and answer them twice.
    let lock_path = profile.dir.join("work.lock");
    let lock = std::fs::File::create(&lock_path)
        .with_context(|| format!("cannot create {}", lock_path.display()))?;
    if lock.try_lock().is_err() {
        anyhow::bail!(
            "kazi work is already running for profile '{}' on this computer; use that window",
            profile.name
        );
    }
    let mut store = LocalStore::open(&profile.db_path())?;
    let projects = store.projects()?;
    check_keymap(&keymap, &projects)?;
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

    let (tx, rx) = mpsc::channel::<Input>();
    let sync_tx = tx.clone();
    let engine = SyncEngine::start(profile, SyncConfig::for_profile(profile), move |status| {
        let _ = sync_tx.send(Input::Sync(status));
    })?;

    let mut guard = terminal::enter().context("cannot set up the terminal")?;
    std::thread::Builder::new()
        .name("kazi-keys".into())
        .spawn(move || {
            while let Ok(event) = crossterm::event::read() {
                if tx.send(Input::Terminal(event)).is_err() {
                    break;
                }
            }
        })?;

    let size = guard.terminal().size()?;
    let mut runtime = Session::new(
        &mut store,
        &engine,
        keymap,
        Theme::from_env(),
        project,
        projects,
    );
    runtime.feed(Event::Resize(size.width, size.height));

    let result = (|| -> Result<()> {
        loop {
            if runtime.app.take_redraw() {
                guard.terminal().draw(|f| render(&runtime.app, f))?;
            }
            let Ok(input) = rx.recv() else { return Ok(()) };
            if runtime.input(input)? {
                return Ok(());
            }
            // Take in whatever else is already waiting before drawing once.
            while let Ok(input) = rx.try_recv() {
                if runtime.input(input)? {
                    return Ok(());
                }
            }
        }
    })();
    drop(guard);

    let unsent = store.counts(None).map(|c| c.unsent).unwrap_or(0);
    if unsent > 0 {
        println!(
            "Sending {unsent} unsent answer(s) (waiting up to {} s)...",
            QUIT_WAIT.as_secs()
        );
    }
    let left = engine
        .shutdown(QUIT_WAIT)
        .map(|c| c.unsent)
        .unwrap_or(unsent);
    if left > 0 {
        println!(
            "{left} answer(s) are saved on this computer and will be sent next time (kazi work or kazi sync)."
        );
    } else if unsent > 0 {
        println!("All answers sent.");
    }
    result
}

/// Refuse before the screen opens if a label key of any project clashes with the keymap.
fn check_keymap(keymap: &Keymap, projects: &[Project]) -> Result<()> {
    for p in projects {
        keymap
            .check_labels(p)
            .with_context(|| format!("project '{}' and the keymap disagree", p.name))?;
    }
    Ok(())
}

/// One worker's session without the terminal: the App, the store it writes to and the
/// engine it tells. The terminal loop above drives it with keys; tests and benchmarks
/// drive it with scripted keys.
pub struct Session<'a> {
    app: App,
    store: &'a mut LocalStore,
    engine: &'a SyncEngine,
    keymap: Keymap,
    active: Option<String>,
    /// The project the sync engine fetches tasks for.
    engine_project: Option<String>,
    /// The store's arrival number of the last task handed to the App.
    last_seq: i64,
    link: Link,
}

impl<'a> Session<'a> {
    pub fn new(
        store: &'a mut LocalStore,
        engine: &'a SyncEngine,
        keymap: Keymap,
        theme: Theme,
        project: Option<String>,
        projects: Vec<Project>,
    ) -> Session<'a> {
        // The engine may fetch the preferred project's tasks with its very first sync,
        // before the App has the schema to choose it.
        engine.set_project(project.clone());
        let mut session = Session {
            engine_project: project.clone(),
            app: App::new(keymap.clone(), theme, project),
            store,
            engine,
            keymap,
            active: None,
            last_seq: 0,
            link: Link::Syncing,
        };
        session.feed(Event::Projects(projects));
        session.refresh_status();
        session
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    pub fn app_mut(&mut self) -> &mut App {
        &mut self.app
    }

    /// Handle one input; true when the worker quit.
    fn input(&mut self, input: Input) -> Result<bool> {
        match input {
            Input::Terminal(crossterm::event::Event::Key(k)) => match Key::try_from(k) {
                Ok(key) => Ok(self.feed(Event::Key(key))),
                Err(_) => Ok(false),
            },
            Input::Terminal(crossterm::event::Event::Resize(w, h)) => {
                Ok(self.feed(Event::Resize(w, h)))
            }
            Input::Terminal(_) => Ok(false),
            Input::Sync(status) => {
                self.on_sync(status)?;
                Ok(false)
            }
        }
    }

    /// Give the App an event and carry out its effects; true on quit.
    pub fn feed(&mut self, event: Event) -> bool {
        let mut pending = vec![event];
        while let Some(event) = pending.pop() {
            for effect in self.app.handle(event) {
                match self.carry_out(effect) {
                    // Reversed onto the stack, so they are taken in order.
                    Ok(next) => pending.extend(next.into_iter().rev()),
                    Err(Quit) => return true,
                }
            }
        }
        false
    }

    fn carry_out(&mut self, effect: Effect) -> Result<Vec<Event>, Quit> {
        Ok(match effect {
            Effect::Quit => return Err(Quit),
            Effect::ChooseProject(name) => {
                self.active = Some(name.clone());
                self.last_seq = 0;
                if self.engine_project.as_ref() != Some(&name) {
                    self.engine_project = Some(name.clone());
                    self.engine.set_project(Some(name));
                }
                Vec::new()
            }
            Effect::WantTasks { project, .. } => self.load_tasks(&project),
            Effect::Save { task, value } => {
                // Committed and fsynced here, before the frame with the next task is drawn.
                match self.store.record_answer(&task, &value) {
                    Ok(_) => {
                        self.engine.changed();
                        self.refresh_status();
                        Vec::new()
                    }
                    Err(e) => {
                        // The screen moved on too early: bring the task back, with the
                        // choice marked, so the worker can press the key again.
                        vec![
                            Event::Undone(Some((task, value))),
                            Event::Message(format!("NOT SAVED, press the key again: {e}")),
                        ]
                    }
                }
            }
            Effect::SaveDraft { task, value } => match self.store.save_draft(task, &value) {
                Ok(()) => Vec::new(),
                Err(e) => vec![Event::Message(format!("choice not kept: {e}"))],
            },
            Effect::Undo { project } => match self.store.undo_last(&project) {
                Ok(undone) => {
                    self.refresh_status();
                    vec![Event::Undone(undone.map(|u| (u.task, u.previous)))]
                }
                Err(e) => vec![Event::Message(format!("cannot undo: {e}"))],
            },
            Effect::Skip { task } => match self.store.skip(task.id) {
                Ok(()) => {
                    self.engine.changed();
                    self.refresh_status();
                    Vec::new()
                }
                Err(e) => vec![Event::Message(format!("cannot skip: {e}"))],
            },
        })
    }

    /// The next page of queued tasks, and the drafts kept for them.
    fn load_tasks(&mut self, project: &str) -> Vec<Event> {
        if self.active.as_deref() != Some(project) {
            return Vec::new();
        }
        match self.store.queued_tasks(project, self.last_seq, PAGE) {
            Ok((tasks, last)) => {
                self.last_seq = last;
                let drafts: Vec<Event> = tasks
                    .iter()
                    .filter_map(|t| {
                        let value = self.store.draft(t.id).ok()??;
                        Some(Event::Draft { task: t.id, value })
                    })
                    .collect();
                let mut events = vec![Event::Tasks(tasks)];
                events.extend(drafts);
                events
            }
            Err(e) => vec![Event::Message(e.to_string())],
        }
    }

    /// Take in a report of the sync engine.
    pub fn on_sync(&mut self, status: SyncStatus) -> Result<()> {
        self.link = match status.link {
            client::Link::Online => Link::Online,
            client::Link::Offline => Link::Offline,
            client::Link::Syncing => Link::Syncing,
        };
        if status.new_tasks > 0
            || status
                .counts
                .as_ref()
                .is_some_and(|c| c.last_sync.is_some())
        {
            // Schemas may have arrived or changed.
            let projects = self.store.projects()?;
            if projects.len() != self.app.projects().len()
                || projects
                    .iter()
                    .zip(self.app.projects())
                    .any(|(a, b)| a != b)
            {
                check_keymap(&self.keymap, &projects)?;
                self.feed(Event::Projects(projects));
            }
        }
        if status.new_tasks > 0
            && let Some(project) = self.active.clone()
        {
            for event in self.load_tasks(&project) {
                self.feed(event);
            }
        }
        if let Some(message) = status.message {
            self.feed(Event::Message(message));
        }
        self.refresh_status();
        Ok(())
    }

    /// Tell the App the status line's figures, fresh from the store.
    fn refresh_status(&mut self) {
        let counts = self
            .store
            .counts(self.active.as_deref())
            .unwrap_or_default();
        self.feed(Event::Status(Status {
            link: self.link,
            unsent: counts.unsent,
            done_today: counts.done_today,
            cached: counts.queued,
        }));
    }
}

/// The worker asked to quit.
struct Quit;

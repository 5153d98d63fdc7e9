//! The local executor: carries out the App's effects against the client's SQLite store
//! and tells the sync engine. An answer is committed and fsynced before the next frame
//! is drawn; the sync engine's reports come back as events (schemas, tasks, status).

mod class;

use std::sync::Arc;
use std::time::Instant;

use crate::client::player::{FeedNotice, Notify, Player, PlayerCommand, PlayerConfig, find_player};
use crate::client::{
    self, ClassLink, ClassNotice, LocalStore, SyncEngine, SyncStatus, TrainingBook,
};
use crate::model::Project;
use crate::tui::app::{Effect, Event, Link, Status, Tally};
use crate::tui::runtime::{Executor, Session};
use crate::tui::screen::feedback::{FEEDBACK_SHOWN, FeedbackEffect, FeedbackEvent};
use crate::tui::screen::progress::{ProgressEffect, ProgressEvent};
use crate::tui::screen::training::{TrainingEffect, TrainingEvent};

/// Tasks loaded from the store into the App at a time.
const PAGE: usize = 30;

/// The local worker session: the App over a `LocalExecutor`.
pub type LocalSession<'a> = Session<LocalExecutor<'a>>;

pub struct LocalExecutor<'a> {
    store: &'a mut LocalStore,
    engine: &'a SyncEngine,
    /// The projects last given to the App, to tell a schema update from a repeat.
    projects: Vec<Project>,
    active: Option<String>,
    /// The project the sync engine fetches tasks for.
    engine_project: Option<String>,
    /// The store's arrival number of the last task handed to the App.
    last_seq: i64,
    link: Link,
    /// Started on the first player command: most sessions never play audio.
    player: Option<Player>,
    /// Where the player's feeding thread reports (the session's input channel).
    player_notify: Notify,
    /// The training book last given to the App, to send only changes.
    training: Option<TrainingBook>,
    /// The sync engine's count of syncs that changed training, as last read.
    training_syncs: u64,
    /// The sync engine's count of syncs that brought progress figures, as last read.
    progress_syncs: u64,
    /// Carries class requests; without one, class effects are refused with a word.
    class_link: Option<&'a ClassLink>,
    /// The class this student joined (answers are kept under its code).
    class_code: Option<String>,
    /// The class step on the student's screen and when it appeared: an answer's `took`
    /// is timed here (the App has no clock).
    class_at: Option<(u32, Instant)>,
}

/// What reaches the local session besides keys: the sync engine's reports and the
/// player's (a second played, the clip ended, the player failed).
#[derive(Debug, Clone, PartialEq)]
pub enum LocalNotice {
    Sync(SyncStatus),
    Player(FeedNotice),
    Class(ClassNotice),
}

impl From<SyncStatus> for LocalNotice {
    fn from(status: SyncStatus) -> Self {
        LocalNotice::Sync(status)
    }
}

impl<'a> LocalExecutor<'a> {
    /// `project` is the `--project NAME` of the command line; `projects` the store's.
    pub fn new(
        store: &'a mut LocalStore,
        engine: &'a SyncEngine,
        project: Option<String>,
        projects: Vec<Project>,
    ) -> LocalExecutor<'a> {
        // The engine may fetch the preferred project's tasks with its very first sync,
        // before the App has the schema to choose it.
        engine.set_project(project.clone());
        LocalExecutor {
            store,
            engine,
            projects,
            active: None,
            engine_project: project,
            last_seq: 0,
            link: Link::Syncing,
            player: None,
            player_notify: Arc::new(|_| {}),
            training: None,
            training_syncs: 0,
            progress_syncs: 0,
            class_link: None,
            class_code: None,
            class_at: None,
        }
    }

    /// Where class requests go (`kazi work` and `kazi train` start one link per profile).
    pub fn set_class_link(&mut self, link: &'a ClassLink) {
        self.class_link = Some(link);
    }

    /// Where the player reports while it plays; without it, the position bar moves on
    /// the worker's keys only.
    pub fn set_player_notify(&mut self, notify: Notify) {
        self.player_notify = notify;
    }

    fn play(&mut self, command: PlayerCommand) -> Vec<Event> {
        let now = Instant::now();
        let notify = self.player_notify.clone();
        let player = self.player.get_or_insert_with(|| {
            let program = find_player(
                std::env::var("KAZI_PLAYER").ok().as_deref(),
                std::env::var("PATH").ok().as_deref(),
            );
            Player::new(PlayerConfig::default(), program, notify)
        });
        let status = match &command {
            // The clip comes from the cache; one not there (yet) is shown as missing.
            PlayerCommand::Load(clip) => {
                // Timings are the project's: each load takes those of the one on screen.
                let active = self.active.as_deref();
                let config = self
                    .projects
                    .iter()
                    .find(|p| Some(p.name.as_str()) == active)
                    .and_then(|p| p.transcribe.as_deref())
                    .map_or_else(PlayerConfig::default, |rules| rules.player);
                player.configure(config);
                let wire = self.store.clip_cache().get(clip);
                player.load(clip, wire.as_deref(), now)
            }
            other => player.apply(other, now),
        };
        vec![Event::Player(status)]
    }

    /// The next page of queued tasks, and the drafts kept for them.
    fn load_tasks(&mut self, project: &str) -> Vec<Event> {
        if self.active.as_deref() != Some(project) {
            return Vec::new();
        }
        match self.store.queued_tasks(project, self.last_seq, PAGE) {
            Ok((tasks, last)) => {
                self.last_seq = last;
                let mut drafts = Vec::new();
                for t in &tasks {
                    match self.store.draft(t.id) {
                        Ok(Some(value)) => drafts.push(Event::Draft { task: t.id, value }),
                        Ok(None) => {}
                        Err(e) => drafts.push(Event::DraftUnreadable {
                            task: t.id,
                            why: e.to_string(),
                        }),
                    }
                }
                let mut events = vec![Event::Tasks(tasks)];
                events.extend(drafts);
                events
            }
            Err(e) => vec![Event::Message(e.to_string())],
        }
    }

    /// The picker's figures: tasks waiting here per project. Not on the keystroke path:
    /// at start, after syncs and when the picker comes back.
    fn waiting(&self) -> Vec<Event> {
        match self.store.waiting_by_project() {
            Ok(waiting) => vec![Event::Waiting(waiting)],
            Err(e) => vec![Event::Message(format!(
                "cannot count the waiting tasks: {e}"
            ))],
        }
    }

    /// Lessons and exams from the store when they changed since last given (`always`:
    /// even when not, as the answer to an exam answer).
    fn training(&mut self, always: bool) -> Vec<Event> {
        match self.store.training() {
            Ok(book) if always || self.training.as_ref() != Some(&book) => {
                self.training = Some(book.clone());
                vec![Event::Training(TrainingEvent::Book(book))]
            }
            Ok(_) => Vec::new(),
            Err(e) => vec![Event::Message(format!(
                "cannot read the lessons and exams: {e}"
            ))],
        }
    }

    /// Save an exam answer (fsynced before the next task is drawn); the last of an
    /// attempt is sent for grading at once. Keep the place in the lessons.
    fn training_effect(&mut self, effect: TrainingEffect) -> Vec<Event> {
        match effect {
            TrainingEffect::ExamAnswer {
                attempt,
                item,
                value,
                ..
            } => {
                let mut events = match self.store.record_exam_answer(attempt, item, &value) {
                    Ok(whole) => {
                        if whole {
                            self.engine.kick();
                        }
                        Vec::new()
                    }
                    Err(e) => vec![Event::Message(format!(
                        "NOT SAVED, answer this exam task again: {e}"
                    ))],
                };
                // The fresh book shows the answer saved, or brings the task back.
                events.extend(self.training(true));
                events.extend(self.status());
                events
            }
            TrainingEffect::LessonPlace { project, place } => {
                match self.store.keep_lesson_place(&project, place) {
                    Ok(()) => {
                        if let Some(book) = self.training.as_mut() {
                            // The screen knows already; no book needs to follow.
                            book.places.insert(project, place);
                        }
                        Vec::new()
                    }
                    Err(e) => vec![Event::Message(format!(
                        "your place in the lessons is not kept (they open at the first next time): {e}"
                    ))],
                }
            }
        }
    }

    /// The status line's figures, fresh from the store; unknown (and why) when the
    /// store cannot be read.
    fn status(&self) -> Vec<Event> {
        match self.store.counts(self.active.as_deref()) {
            Ok(c) => vec![Event::Status(Status {
                link: self.link,
                counts: Some(Tally {
                    unsent: c.unsent,
                    done_today: c.done_today,
                    cached: c.queued,
                }),
            })],
            Err(e) => vec![
                Event::Status(Status {
                    link: self.link,
                    counts: None,
                }),
                Event::Message(format!("unsent count unknown: {e}")),
            ],
        }
    }
}

impl Executor for LocalExecutor<'_> {
    type Notice = LocalNotice;

    fn start(&mut self) -> Vec<Event> {
        // The book first: the picker decides from it whether a project opens on training.
        let mut events = self.training(true);
        events.push(Event::Projects(self.projects.clone()));
        events.extend(self.waiting());
        events.extend(self.status());
        events
    }

    fn execute(&mut self, effect: Effect) -> Vec<Event> {
        match effect {
            // The runtime ends on quit before asking; nothing to carry out.
            Effect::Quit => Vec::new(),
            // The worker's terminal has no review screen: `kazi review` runs its own
            // executor (`local::review`).
            Effect::Review(_) => Vec::new(),
            Effect::Feedback(FeedbackEffect::Load) => {
                let read = self
                    .store
                    .recent_feedback(FEEDBACK_SHOWN)
                    .and_then(|items| self.store.accuracy().map(|accuracy| (items, accuracy)));
                match read {
                    Ok((items, accuracy)) => {
                        vec![Event::Feedback(FeedbackEvent::Loaded { items, accuracy })]
                    }
                    Err(e) => vec![Event::Message(format!("cannot read your feedback: {e}"))],
                }
            }
            Effect::Feedback(FeedbackEffect::Report { task, kind, note }) => {
                match self.store.record_report(task, kind, &note) {
                    Ok(_) => Vec::new(),
                    Err(e) => vec![Event::Message(format!("NOT KEPT, try again: {e}"))],
                }
            }
            Effect::Progress(ProgressEffect::Load) => {
                // Fresh figures are asked for with a round trip of their own; until they
                // come (or while offline), the view shows those kept here.
                let mut events = Vec::new();
                match self.store.ask_progress() {
                    Ok(()) => self.engine.kick(),
                    Err(e) => {
                        events.push(Event::Message(format!("cannot ask for fresh figures: {e}")))
                    }
                }
                events.push(progress_event(self.store));
                events
            }
            Effect::Training(effect) => self.training_effect(effect),
            Effect::Class(effect) => self.class_effect(effect),
            Effect::Refresh => {
                self.engine.refresh();
                Vec::new()
            }
            Effect::ShowProjects => {
                self.active = None;
                let mut events = self.waiting();
                events.extend(self.status());
                events
            }
            Effect::ChooseProject(name) => {
                self.active = Some(name.clone());
                self.last_seq = 0;
                if self.engine_project.as_ref() != Some(&name) {
                    self.engine_project = Some(name.clone());
                    self.engine.set_project(Some(name));
                }
                // "cached" counts the chosen project's tasks.
                self.status()
            }
            Effect::WantTasks { project, .. } => self.load_tasks(&project),
            Effect::Save { task, value } => {
                // Committed and fsynced here, before the frame with the next task is drawn.
                match self.store.record_answer(&task, &value) {
                    Ok(_) => {
                        self.engine.changed();
                        self.status()
                    }
                    // The screen moved on too early: bring the task back, with the
                    // choice marked, so the worker can press the key again.
                    Err(e) => vec![
                        Event::Undone(Some((task, value))),
                        Event::Message(format!("NOT SAVED, press the key again: {e}")),
                    ],
                }
            }
            Effect::SaveDraft { task, value } => match self.store.save_draft(task, &value) {
                Ok(()) => Vec::new(),
                Err(e) => vec![Event::Message(format!("choice not kept: {e}"))],
            },
            Effect::Undo { project } => match self.store.undo_last(&project) {
                Ok(undone) => {
                    let mut events = self.status();
                    events.push(Event::Undone(undone.map(|u| (u.task, u.previous))));
                    events
                }
                Err(e) => vec![Event::Message(format!("cannot undo: {e}"))],
            },
            Effect::Skip { task } => match self.store.skip(task.id) {
                Ok(()) => {
                    self.engine.changed();
                    self.status()
                }
                Err(e) => vec![Event::Message(format!("cannot skip: {e}"))],
            },
            Effect::Player(command) => self.play(command),
        }
    }

    fn notice(&mut self, notice: LocalNotice) -> Vec<Event> {
        let status = match notice {
            LocalNotice::Sync(status) => status,
            LocalNotice::Class(notice) => return self.class_notice(notice),
            LocalNotice::Player(feed) => {
                let now = Instant::now();
                return self
                    .player
                    .as_mut()
                    .and_then(|p| p.notice(feed, now))
                    .map(Event::Player)
                    .into_iter()
                    .collect();
            }
        };
        self.link = match status.link {
            client::Link::Online => Link::Online,
            client::Link::Offline => Link::Offline,
            client::Link::Syncing => Link::Syncing,
        };
        let mut events = Vec::new();
        let synced = status.counts.as_ref().and_then(|c| c.last_sync).is_some();
        if status.new_tasks > 0 || synced {
            // Schemas may have arrived or changed. Label keys are checked when a
            // project is opened, so one bad project never locks out the others.
            match self.store.projects() {
                Ok(projects) if projects != self.projects => {
                    self.projects = projects.clone();
                    events.push(Event::Projects(projects));
                }
                Ok(_) => {}
                Err(e) => events.push(Event::Message(format!("cannot read the projects: {e}"))),
            }
        }
        if status.training != self.training_syncs {
            self.training_syncs = status.training;
            events.extend(self.training(false));
        }
        if status.progress != self.progress_syncs {
            self.progress_syncs = status.progress;
            events.push(progress_event(self.store));
        }
        if status.new_tasks > 0
            && let Some(project) = self.active.clone()
        {
            events.extend(self.load_tasks(&project));
        }
        if status.new_tasks > 0 || synced {
            events.extend(self.waiting());
        }
        if let Some(message) = status.message {
            events.push(Event::Message(message));
        }
        events.extend(self.status());
        events
    }
}

/// The progress figures kept here, for the progress view.
fn progress_event(store: &LocalStore) -> Event {
    match store.progress() {
        Ok(progress) => Event::Progress(ProgressEvent::Loaded(progress)),
        Err(e) => Event::Message(format!("cannot read your progress: {e}")),
    }
}

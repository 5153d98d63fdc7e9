//! The worker's terminal as a pure state machine: `App::handle(Event) -> Vec<Effect>`.
//! No I/O, no clock, no terminal. The App routes between screens (the project picker at
//! the bottom, the open project's screen over it) and overlays (help), and holds only
//! what every screen shares: status, message, keymap, theme, size and the redraw flag.

use std::any::Any;

use super::class::{ClassEffect, ClassEvent};
use super::key::Key;
use super::keymap::{Action, Keymap, Mode};
use super::overlay::{Overlay, Taken, Typed};
use super::screen::feedback::{FeedbackEffect, FeedbackEvent};
use super::screen::progress::{ProgressEffect, ProgressEvent, ProgressView};
use super::screen::review::{Review, ReviewEffect, ReviewEvent};
use super::screen::training::{TrainingEffect, TrainingEvent};
use super::screen::{
    ClassSeat, Classify, Context, Entry, Feedback, Nav, Picker, Present, Screen, ScreenId, Shared,
    Training, Transcribe,
};
use super::theme::Theme;
use super::view;
use super::widgets::help;
use crate::client::player::{PlayerCommand, PlayerStatus};
use crate::model::{AnswerValue, Project, Task, TaskKind, sanitize_line};
use crate::protocol::{ClassState, LessonSet};

/// Something that happened, for the App to take in.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Key(Key),
    /// Text pasted as a whole: typed into the field of a screen that takes text, and
    /// otherwise refused (a pasted "1" must not choose a label).
    Paste(String),
    Resize(u16, u16),
    /// Tasks from the local store, appended to the queue. Ids already queued (or on
    /// screen) are ignored, as are tasks of another project than the chosen one. The
    /// runtime sends this after `WantTasks`, and also whenever a sync brought new tasks.
    Tasks(Vec<Task>),
    Status(Status),
    /// The answer to `Effect::Undo`: the task whose answer was taken back and that
    /// answer (shown preselected), or `None` when there was nothing to undo.
    Undone(Option<(Task, AnswerValue)>),
    /// The projects this worker may work on (again after a schema update).
    Projects(Vec<Project>),
    /// How many tasks of each project wait on this computer (a project not named has
    /// none), for the picker. Sent at start, after syncs, and on `Effect::ShowProjects`.
    Waiting(std::collections::BTreeMap<String, u32>),
    /// A line for the worker from the runtime ("server refused answer: ..."). It is
    /// sanitised when drawn.
    Message(String),
    /// A half-done answer kept in the store for this task (multi-label choices made before
    /// a crash or quit): shown as chosen when the task is on screen.
    Draft {
        task: i64,
        value: AnswerValue,
    },
    /// A half-done answer was kept for this task but cannot be read back: the worker is
    /// told when the task is on screen, and chooses again.
    DraftUnreadable {
        task: i64,
        why: String,
    },
    /// What a review effect came to (the review screen's own events).
    Review(ReviewEvent),
    /// For the feedback screen.
    Feedback(FeedbackEvent),
    /// For the progress view.
    Progress(ProgressEvent),
    /// What the player is doing, after a `Effect::Player` and at most once a second
    /// while it plays (never while paused): the screen redraws its position bar.
    Player(PlayerStatus),
    /// Lessons and exams (the training screen's, and the picker's "training first").
    Training(TrainingEvent),
    /// A class session's news (the trainer's and the student's class screens).
    Class(ClassEvent),
}

/// What the sync engine and local store report, shown on the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub link: Link,
    /// `None` when the local store could not be read: the counts are unknown (shown as
    /// `?`), and a message says why. Never a reassuring 0.
    pub counts: Option<Tally>,
}

impl Default for Status {
    fn default() -> Status {
        Status {
            link: Link::default(),
            counts: Some(Tally::default()),
        }
    }
}

impl Status {
    /// Answers saved locally, not yet acknowledged by the server, if known.
    pub fn unsent(&self) -> Option<u32> {
        self.counts.map(|c| c.unsent)
    }

    /// Tasks of the chosen project waiting in the local store, if known.
    pub fn cached(&self) -> Option<u32> {
        self.counts.map(|c| c.cached)
    }
}

/// The counts on the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Answers saved locally, not yet acknowledged by the server.
    pub unsent: u32,
    pub done_today: u32,
    /// Tasks of the chosen project waiting in the local store.
    pub cached: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Link {
    Online,
    Offline,
    /// A sync is under way (also the state before the first sync ended).
    #[default]
    Syncing,
}

impl Link {
    /// The word shown on the status line: colour is never the only carrier.
    pub fn word(self) -> &'static str {
        match self {
            Link::Online => "online",
            Link::Offline => "offline",
            Link::Syncing => "syncing",
        }
    }
}

/// What the runtime must do. Effects come out in the order to carry them out.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// The worker chose a project (or it was the only one / given on the command line).
    ChooseProject(String),
    /// The queue runs short: load more unanswered tasks of `project` from the store.
    /// `queued` tasks are already held (queue and screen); sending them again is harmless.
    WantTasks { project: String, queued: usize },
    /// A checked answer: store it durably (the next task is already on screen).
    Save { task: Task, value: AnswerValue },
    /// Take back the last answer in `project`; reply with `Event::Undone`.
    Undo { project: String },
    /// The worker skipped this task.
    Skip { task: Task },
    /// Keep the choices made so far on this task (multi-label), as they are made.
    SaveDraft { task: i64, value: AnswerValue },
    /// The worker asked for new work: ask the server now.
    Refresh,
    /// The project picker is on top again (the worker went back to it): no project is
    /// chosen; reply with `Event::Waiting`.
    ShowProjects,
    /// Send unsent answers (bounded wait), restore the terminal, exit.
    Quit,
    /// The review screen's requests (queue, take, decide, release).
    Review(ReviewEffect),
    /// The feedback screen's reads, and contests and flags to keep.
    Feedback(FeedbackEffect),
    /// The progress view's reads.
    Progress(ProgressEffect),
    /// Drive the audio player (load the task's clip, play/pause, jump, speed, loop);
    /// replied to with `Event::Player`.
    Player(PlayerCommand),
    /// Lessons and exams: what the training screen asks for.
    Training(TrainingEffect),
    /// Class sessions: what the trainer's and the student's class screens ask for.
    Class(ClassEffect),
}

/// The worker's terminal: screens, overlays and what they share.
#[derive(Debug)]
pub struct App {
    shared: Shared,
    /// The home screen, under every other.
    picker: Picker,
    /// Screens over the picker, the top one last (today at most the open project's).
    screens: Vec<Box<dyn Screen>>,
    /// Layers over the top screen, the top one last.
    overlays: Vec<Overlay>,
    /// Whose terminal this is: a picked project opens the worker's screens or the
    /// trainer's presentation.
    seat: Seat,
}

/// Whose terminal the App is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seat {
    /// `kazi work`: a project opens its work (or training first).
    Worker,
    /// `kazi train`: a project opens its lessons on the presentation screen; no tasks
    /// are asked for (a trainer's client leases none).
    Trainer,
}

impl App {
    /// `preferred_project` is the `--project NAME` of the command line, if any.
    pub fn new(keymap: Keymap, theme: Theme, preferred_project: Option<String>) -> App {
        App {
            shared: Shared {
                keymap,
                theme,
                status: Status::default(),
                message: None,
                size: (80, 24),
                dirty: true,
            },
            picker: Picker::new(preferred_project),
            screens: Vec::new(),
            overlays: Vec::new(),
            seat: Seat::Worker,
        }
    }

    /// The trainer's terminal (`kazi train`): the picker, whose projects open their
    /// lessons on the presentation screen.
    pub fn train(keymap: Keymap, theme: Theme, project: Option<String>) -> App {
        let mut app = App::new(keymap, theme, None);
        app.picker = Picker::for_trainer(project);
        app.seat = Seat::Trainer;
        app
    }

    pub fn seat(&self) -> Seat {
        self.seat
    }

    /// The reviewer's terminal (`kazi review`): the review screen over an empty picker.
    /// The executor's `start` brings the first queue.
    pub fn review(keymap: Keymap, theme: Theme, project: Option<String>) -> App {
        let mut app = App::new(keymap, theme, None);
        app.screens.push(Box::new(Review::open(project)));
        app
    }

    /// Take in one event; returns what the runtime must do, in order.
    pub fn handle(&mut self, event: Event) -> Vec<Effect> {
        let mut effects = Vec::new();
        let mut nav = Vec::new();
        let App {
            shared,
            picker,
            screens,
            overlays,
            seat,
        } = self;
        let mut cx = Context {
            shared,
            effects: &mut effects,
            nav: &mut nav,
        };
        match event {
            Event::Key(key) => {
                let top: &mut dyn Screen = match screens.last_mut() {
                    Some(s) => s.as_mut(),
                    None => picker,
                };
                on_key(top, overlays, *seat, key, &mut cx);
            }
            Event::Paste(text) => {
                let top: &mut dyn Screen = match screens.last_mut() {
                    Some(s) => s.as_mut(),
                    None => picker,
                };
                on_paste(top, overlays, &text, &mut cx);
            }
            Event::Resize(w, h) => {
                cx.shared.size = (w, h);
                cx.redraw();
            }
            Event::Status(status) => {
                if status != cx.shared.status {
                    cx.shared.status = status;
                    cx.redraw();
                }
            }
            Event::Message(text) => cx.say(text),
            Event::Class(ClassEvent::Joined { state, lessons })
                if *seat == Seat::Worker
                    && screens.last().is_none_or(|s| s.id() != ScreenId::ClassSeat) =>
            {
                nav.push(Nav::Class { state, lessons });
            }
            Event::Waiting(waiting) => picker.set_waiting(waiting, &mut cx),
            Event::Training(TrainingEvent::Book(book)) => {
                picker.set_training(book.clone(), &mut cx);
                for screen in screens.iter_mut() {
                    screen.on_event(Event::Training(TrainingEvent::Book(book.clone())), &mut cx);
                }
            }
            Event::Projects(projects) => {
                let showing = screens.is_empty();
                picker.set_projects(projects.clone(), showing, &mut cx);
                for screen in screens.iter_mut() {
                    screen.on_event(Event::Projects(projects.clone()), &mut cx);
                }
            }
            other => match screens.last_mut() {
                Some(s) => s.on_event(other, &mut cx),
                None => picker.on_event(other, &mut cx),
            },
        }
        self.navigate(nav, &mut effects);
        effects
    }

    /// Carry out the changes of screen that screens asked for, in order.
    fn navigate(&mut self, mut nav: Vec<Nav>, effects: &mut Vec<Effect>) {
        while !nav.is_empty() {
            let mut more = Vec::new();
            for step in nav {
                match step {
                    Nav::Open(project) => self.open(project, false, effects, &mut more),
                    Nav::Train(project) => self.open(project, true, effects, &mut more),
                    Nav::Close(why) => {
                        self.screens.pop();
                        self.overlays.clear();
                        self.shared.say(why);
                        self.shared.dirty = true;
                        if self.screens.is_empty() {
                            effects.push(Effect::ShowProjects);
                        }
                    }
                    Nav::Class { state, lessons } => self.join(state, lessons, effects, &mut more),
                    Nav::Feedback => {
                        let mut cx = Context {
                            shared: &mut self.shared,
                            effects,
                            nav: &mut more,
                        };
                        let screen = Feedback::open(&mut cx);
                        self.screens.push(Box::new(screen));
                        self.shared.dirty = true;
                    }
                    Nav::Progress => {
                        let mut cx = Context {
                            shared: &mut self.shared,
                            effects,
                            nav: &mut more,
                        };
                        let screen = ProgressView::open(&mut cx);
                        self.screens.push(Box::new(screen));
                        self.shared.dirty = true;
                    }
                }
            }
            nav = more;
        }
    }

    /// Open a project's screen over the picker (its training when `train`, or when the
    /// worker must qualify first; the presentation for a trainer), unless its label keys
    /// clash with the keymap: then stay, and say which key and what to do. Other projects
    /// keep working.
    fn open(
        &mut self,
        project: Project,
        train: bool,
        effects: &mut Vec<Effect>,
        nav: &mut Vec<Nav>,
    ) {
        let checked = match self.seat {
            Seat::Worker => self.shared.keymap.check_labels(&project),
            Seat::Trainer => self.shared.keymap.check_labels_in(&project, Mode::Present),
        };
        if let Err(e) = checked {
            return self.shared.say(e.to_string());
        }
        let book = self.picker.training();
        if train && book.lessons.get(&project.name).is_none_or(Vec::is_empty) {
            return self.shared.say(format!(
                "{} has no lessons on this computer; they come with a sync when the project has them",
                sanitize_line(&project.name)
            ));
        }
        self.screens.clear();
        self.overlays.clear();
        self.shared.message = None;
        self.shared.dirty = true;
        if self.seat == Seat::Worker {
            effects.push(Effect::ChooseProject(project.name.clone()));
        }
        let mut cx = Context {
            shared: &mut self.shared,
            effects,
            nav,
        };
        let screen: Box<dyn Screen> = match project.kind {
            _ if self.seat == Seat::Trainer => Box::new(Present::open(project, book, &mut cx)),
            // Production work waits for the exam where the project requires it (the
            // server refuses its leases meanwhile).
            _ if train || book.must_qualify(&project) => {
                Box::new(Training::open(project, book.clone(), &mut cx))
            }
            TaskKind::Classify => Box::new(Classify::open(project, &mut cx)),
            TaskKind::Entry => Box::new(Entry::open(project, &mut cx)),
            TaskKind::Transcribe => Box::new(Transcribe::open(project, &mut cx)),
        };
        self.screens.push(screen);
    }

    /// The student joined a class: its screen, on the class's lessons (or this
    /// computer's, when the server sent none), replaces the others.
    fn join(
        &mut self,
        state: ClassState,
        lessons: Option<LessonSet>,
        effects: &mut Vec<Effect>,
        nav: &mut Vec<Nav>,
    ) {
        let Some(project) = self
            .picker
            .projects()
            .iter()
            .find(|p| p.name == state.project)
            .cloned()
        else {
            effects.push(Effect::Class(ClassEffect::Leave));
            return self.shared.say(format!(
                "class {} is on project {}, which this computer does not have yet; \
                 wait for a sync and join again",
                sanitize_line(&state.code),
                sanitize_line(&state.project)
            ));
        };
        let lessons = match lessons.filter(|s| s.project == project.name) {
            Some(set) => set.tasks,
            None => self
                .picker
                .training()
                .lessons
                .get(&project.name)
                .cloned()
                .unwrap_or_default(),
        };
        if lessons.is_empty() {
            effects.push(Effect::Class(ClassEffect::Leave));
            return self.shared.say(
                "the class's lessons are not on this computer yet; wait for a sync and join again"
                    .to_string(),
            );
        }
        if let Err(e) = self.shared.keymap.check_labels(&project) {
            effects.push(Effect::Class(ClassEffect::Leave));
            return self.shared.say(e.to_string());
        }
        self.screens.clear();
        self.overlays.clear();
        self.shared.message = None;
        self.shared.dirty = true;
        let mut cx = Context {
            shared: &mut self.shared,
            effects,
            nav,
        };
        let screen = ClassSeat::open(state, project, lessons, &mut cx);
        self.screens.push(Box::new(screen));
    }

    /// The student's class screen, when it is the one on top.
    pub fn class_seat(&self) -> Option<&ClassSeat> {
        let top: &dyn Any = self.screens.last()?.as_ref();
        top.downcast_ref::<ClassSeat>()
    }

    /// True once after anything visible changed: the runtime redraws then, and only then
    /// (nothing on screen moves by itself).
    pub fn take_redraw(&mut self) -> bool {
        std::mem::take(&mut self.shared.dirty)
    }

    /// The screen on top (the picker when no project is open).
    pub fn active(&self) -> &dyn Screen {
        match self.screens.last() {
            Some(s) => s.as_ref(),
            None => &self.picker,
        }
    }

    pub fn screen(&self) -> ScreenId {
        self.active().id()
    }

    pub fn mode(&self) -> Mode {
        self.active().mode()
    }

    pub fn picker(&self) -> &Picker {
        &self.picker
    }

    /// The classify screen, when it is the one on top.
    pub fn classify(&self) -> Option<&Classify> {
        let top: &dyn Any = self.screens.last()?.as_ref();
        top.downcast_ref::<Classify>()
    }

    /// The training screen, when it is the one on top.
    pub fn training(&self) -> Option<&Training> {
        let top: &dyn Any = self.screens.last()?.as_ref();
        top.downcast_ref::<Training>()
    }

    /// The entry screen, when it is the one on top.
    pub fn entry(&self) -> Option<&Entry> {
        let top: &dyn Any = self.screens.last()?.as_ref();
        top.downcast_ref::<Entry>()
    }

    /// The review screen, when it is the one on top.
    pub fn review_screen(&self) -> Option<&Review> {
        let top: &dyn Any = self.screens.last()?.as_ref();
        top.downcast_ref::<Review>()
    }

    /// The presentation screen, when it is the one on top.
    pub fn present(&self) -> Option<&Present> {
        let top: &dyn Any = self.screens.last()?.as_ref();
        top.downcast_ref::<Present>()
    }

    /// The transcribe screen, when it is the one on top.
    pub fn transcribe(&self) -> Option<&Transcribe> {
        let top: &dyn Any = self.screens.last()?.as_ref();
        top.downcast_ref::<Transcribe>()
    }

    pub fn overlays(&self) -> &[Overlay] {
        &self.overlays
    }

    pub fn help_open(&self) -> bool {
        matches!(self.overlays.last(), Some(Overlay::Help { .. }))
    }

    pub fn status(&self) -> Status {
        self.shared.status
    }

    pub fn message(&self) -> Option<&str> {
        self.shared.message.as_deref()
    }

    pub fn keymap(&self) -> &Keymap {
        &self.shared.keymap
    }

    pub fn theme(&self) -> Theme {
        self.shared.theme
    }

    pub fn size(&self) -> (u16, u16) {
        self.shared.size
    }

    /// "? help" in the words of the active keymap ("f1 help" where typing goes to a
    /// field).
    pub fn help_key(&self) -> Option<Key> {
        let screen = self.active();
        self.shared
            .keymap
            .shown_key(screen.mode(), Action::Help, screen.takes_text())
    }
}

/// Pasted text is typed into a text field, one character at a time as if typed (line
/// breaks and tabs as spaces, other control characters dropped); anywhere else it is
/// refused with a word, since its characters would act as keys.
fn on_paste(screen: &mut dyn Screen, overlays: &[Overlay], text: &str, cx: &mut Context) {
    if !overlays.is_empty() || !screen.takes_text() {
        cx.say("pasting works only in a text field");
        return;
    }
    if screen.takes_paste() {
        screen.on_event(Event::Paste(text.to_string()), cx);
        return;
    }
    for c in text.chars() {
        let c = match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => continue,
            c => c,
        };
        screen.on_key(Key::char(c), None, cx);
    }
}

/// A key goes to the top overlay, else quit and help are the App's, else the screen's.
fn on_key(
    screen: &mut dyn Screen,
    overlays: &mut Vec<Overlay>,
    seat: Seat,
    key: Key,
    cx: &mut Context,
) {
    let action = cx.keymap().action(screen.mode(), key);
    if let Some(top) = overlays.last_mut() {
        let (rows, notes) = view::help_content(&*screen, cx.keymap());
        let max_scroll = help::max_scroll(cx.body(), &rows, &notes);
        let before = *top;
        match top.on_key(key, action, max_scroll) {
            Taken::Kept if *top != before => cx.redraw(),
            Taken::Kept => {}
            Taken::Close => {
                overlays.pop();
                cx.redraw();
            }
            Taken::Effect(effect) => cx.effect(effect),
            Taken::Say(text) => cx.say(text),
            Taken::CloseWith(effect) => {
                overlays.pop();
                cx.redraw();
                if matches!(&effect, Effect::Feedback(FeedbackEffect::Report { .. })) {
                    cx.say("flag kept: it goes to a reviewer with your next sync");
                }
                if let Effect::Class(ClassEffect::Join { code }) = &effect {
                    cx.say(format!("joining class {code}..."));
                }
                cx.effect(effect);
            }
        }
        return;
    }
    if screen.takes_text() && key.plain_char().is_some() {
        return screen.on_key(key, None, cx);
    }
    match action {
        Some(a) if screen.global_words(a).is_some() => screen.on_key(key, action, cx),
        Some(Action::Quit) => cx.effect(Effect::Quit),
        Some(Action::Refresh) => {
            cx.say("asking the server for new work...");
            cx.effect(Effect::Refresh);
        }
        Some(Action::Help) => {
            overlays.push(Overlay::Help { scroll: 0 });
            cx.redraw();
        }
        Some(Action::Projects) if screen.id() != ScreenId::Picker => {
            for effect in screen.leaving() {
                cx.effect(effect);
            }
            cx.close("pick a project: press its number");
        }
        // The trainer's screens have no answers to give feedback on.
        Some(Action::Feedback)
            if !matches!(screen.id(), ScreenId::Feedback | ScreenId::Present) =>
        {
            cx.nav.push(Nav::Feedback);
        }
        Some(Action::Lessons) if screen.work_project().is_some() => {
            if let Some(project) = screen.work_project() {
                cx.train(project.clone());
            }
        }
        Some(Action::Progress) if screen.id() != ScreenId::Progress => {
            cx.nav.push(Nav::Progress);
        }
        Some(Action::Join) if seat == Seat::Trainer => {
            cx.say("a trainer starts a class: open a project's lessons, then its class key");
        }
        Some(Action::Join) if screen.id() == ScreenId::ClassSeat => {
            cx.say("you are in the class already; the projects key leaves it");
        }
        Some(Action::Join) => {
            overlays.push(Overlay::Join {
                typed: Typed::default(),
            });
            cx.redraw();
        }
        Some(Action::Flag) if screen.current_task().is_some() => {
            if let Some(task) = screen.current_task() {
                overlays.push(Overlay::Flag { task });
                cx.redraw();
            }
        }
        _ => screen.on_key(key, action, cx),
    }
}

//! Screens: each is a module behind the `Screen` trait (its keymap mode, how it takes
//! keys and events, how it renders into a `Frame`, the help it adds). The App routes
//! between them; a screen asks for a change of screen through its `Context`, never by
//! reaching into the App. A new screen goes here and into `App::open`.

pub mod class_seat;
pub mod classify;
pub mod entry;
pub mod feedback;
pub mod held;
pub mod picker;
pub mod present;
pub mod progress;
mod queue;
pub mod review;
pub mod training;
pub mod transcribe;

pub use queue::{DraftShelf, TaskQueue, undone_here};

use std::any::Any;
use std::borrow::Cow;
use std::fmt;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::app::{Effect, Event, Status};
use super::key::Key;
use super::keymap::{Action, Keymap, Mode};
use super::theme::Theme;
use super::widgets::help::HelpRow;
use crate::model::Project;

pub use class_seat::ClassSeat;
pub use classify::{Classify, Current, Preselect};
pub use entry::Entry;
pub use feedback::Feedback;
pub use picker::Picker;
pub use present::Present;
pub use progress::ProgressView;
pub use training::Training;
pub use transcribe::Transcribe;

/// Which screen is showing (overlays are drawn on top of any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenId {
    /// Choosing among several projects.
    Picker,
    /// Tasks of a classification project (or the empty state while none are cached).
    Classify,
    /// Tasks of a data-entry project: a document beside its form.
    Entry,
    /// The reviewer's queue and the item under review.
    Review,
    /// Feedback on the worker's answers and their accuracy, over the work screen.
    Feedback,
    /// Tasks of a transcription project: a clip's player above a text area.
    Transcribe,
    /// A project's lessons and exam.
    Training,
    /// The worker's own progress, over the screen it was opened from.
    Progress,
    /// The trainer's presentation of a project's lessons.
    Present,
    /// A student in a trainer's class.
    ClassSeat,
}

/// One screen of the worker's terminal.
pub trait Screen: Any + Send + fmt::Debug {
    fn id(&self) -> ScreenId;
    /// The keymap table its keys are looked up in (falling back to `global`).
    fn mode(&self) -> Mode;
    /// The top line's title, sanitised.
    fn title(&self) -> Cow<'_, str>;
    /// A key the App did not take (quit and help are the App's). `action` is the key's
    /// action in this screen's mode, if any.
    fn on_key(&mut self, key: Key, action: Option<Action>, cx: &mut Context);
    /// An event for the screen (tasks, drafts, undo replies, schema updates); screens
    /// ignore what is not for them.
    fn on_event(&mut self, event: Event, cx: &mut Context);
    /// Draw into `body` (between the top line and the message line). A screen with a
    /// text area places the terminal cursor with `frame.set_cursor_position`.
    fn render(&self, frame: &mut Frame, body: Rect, view: &View);
    /// What the message line says when there is no message: a short guide in the words
    /// of the keymap, at most `width` columns.
    fn guide(&self, keymap: &Keymap, width: usize) -> Option<String>;
    /// Rows this screen adds to the help overlay (before the keymap's), and notes after.
    fn help(&self) -> ScreenHelp;
    /// Whether printable keys are typed into the screen (a form field) before any
    /// binding, global ones included: `?` is a character there, not help.
    fn takes_text(&self) -> bool {
        false
    }
    /// Whether a paste goes to the screen whole (`Event::Paste`, one edit with its line
    /// breaks, as in a text area) rather than typed key by key into a field.
    fn takes_paste(&self) -> bool {
        false
    }
    /// Counts of its own for the status line, in place of the worker's (unsent, done
    /// today, cached), most important first; None keeps the worker's.
    fn counts(&self) -> Option<Vec<String>> {
        None
    }

    /// What to carry out when the worker leaves this screen for the picker (`projects`):
    /// a class screen stops following or leaves its class.
    fn leaving(&self) -> Vec<Effect> {
        Vec::new()
    }
    /// The task on screen, which `flag` reports; None where there is none.
    fn current_task(&self) -> Option<i64> {
        None
    }
    /// The project whose production work is on screen, whose lessons `lessons` opens;
    /// None on screens of no one project's work.
    fn work_project(&self) -> Option<&Project> {
        None
    }
    /// What a global action (projects, feedback, progress, lessons) does on this screen
    /// when it is not the App's own: the screen then takes the key, and the help box says
    /// these words for it. None: the App's.
    fn global_words(&self, _action: Action) -> Option<&'static str> {
        None
    }
}

/// A screen's own part of the help overlay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScreenHelp {
    pub rows: Vec<HelpRow>,
    /// Shown below the keys (a project's instructions), sanitised.
    pub notes: String,
}

/// What a screen reads while drawing, besides itself.
pub struct View<'a> {
    pub theme: Theme,
    pub keymap: &'a Keymap,
    pub status: Status,
}

/// A change of screen a screen asks for; the App carries it out after the screen returns.
#[derive(Debug, Clone, PartialEq)]
pub enum Nav {
    /// Open the project's screen (its keys are checked against the keymap first).
    Open(Project),
    /// Leave this screen for the one under it, saying why.
    Close(String),
    /// Show the feedback screen over the one on top.
    Feedback,
    /// Open the project's training (its lessons, and the exam where there is one), asked
    /// for by the worker, whether the project requires it or not.
    Train(Project),
    /// Show the progress view over the one on top.
    Progress,
    /// In the trainer's class (the student joined): its screen replaces the others.
    Class {
        state: crate::protocol::ClassState,
        lessons: Option<crate::protocol::LessonSet>,
    },
}

/// What every screen shares, owned by the App: keymap, theme, status, message, size and
/// the redraw flag.
#[derive(Debug)]
pub struct Shared {
    pub keymap: Keymap,
    pub theme: Theme,
    pub status: Status,
    pub message: Option<String>,
    pub size: (u16, u16),
    pub dirty: bool,
}

impl Shared {
    pub fn say(&mut self, text: String) {
        if self.message.as_deref() != Some(text.as_str()) {
            self.message = Some(text);
            self.dirty = true;
        }
    }

    pub fn clear_message(&mut self) {
        if self.message.take().is_some() {
            self.dirty = true;
        }
    }
}

/// A screen's hands while it takes a key or an event: the shared state, the effects to
/// carry out (in order) and the change of screen to make.
pub struct Context<'a> {
    pub(crate) shared: &'a mut Shared,
    pub(crate) effects: &'a mut Vec<Effect>,
    pub(crate) nav: &'a mut Vec<Nav>,
}

impl Context<'_> {
    pub fn keymap(&self) -> &Keymap {
        &self.shared.keymap
    }

    pub fn status(&self) -> Status {
        self.shared.status
    }

    /// A line for the worker on the message line (sanitised when drawn).
    pub fn say(&mut self, text: impl Into<String>) {
        self.shared.say(text.into());
    }

    pub fn clear_message(&mut self) {
        self.shared.clear_message();
    }

    /// Something visible changed.
    pub fn redraw(&mut self) {
        self.shared.dirty = true;
    }

    pub fn effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    pub fn open(&mut self, project: Project) {
        self.nav.push(Nav::Open(project));
    }

    pub fn train(&mut self, project: Project) {
        self.nav.push(Nav::Train(project));
    }

    pub fn close(&mut self, why: impl Into<String>) {
        self.nav.push(Nav::Close(why.into()));
    }

    /// Where the screen draws at the terminal's present size.
    pub fn body(&self) -> Rect {
        let (w, h) = self.shared.size;
        crate::tui::view::body_area(Rect::new(0, 0, w, h), self.shared.message.as_deref())
    }

    /// "? help" in the words of the keymap, for messages; `takes_text` as the screen's
    /// `Screen::takes_text`.
    pub fn help_key(&self, mode: Mode, takes_text: bool) -> Option<Key> {
        self.shared.keymap.shown_key(mode, Action::Help, takes_text)
    }
}

//! The trainer's presentation of a project's lessons, made to be read from the back of a
//! room: one lesson at a time, large and high-contrast, stepped with `next`/`prev`, its
//! hint and its expected answer (`reveal`) shown on a key. Label keys show the answer they
//! stand for, and a key-echo line names each key pressed and what it did, so a class can
//! follow and copy. Nothing moves by itself: every redraw follows a key or an event.
//! Drawing is in `view`.

mod class;
mod view;

pub use class::{Class, Pane};

use std::borrow::Cow;
use std::collections::VecDeque;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Context, Screen, ScreenHelp, ScreenId, View};
use crate::client::{LessonTask, TrainingBook};
use crate::model::{Project, sanitize, sanitize_line};
use crate::tui::app::{Effect, Event};
use crate::tui::class::{ClassEffect, ClassEvent};
use crate::tui::key::Key;
use crate::tui::keymap::{Action, Keymap, Mode};
use crate::tui::screen::training::TrainingEvent;
use crate::tui::widgets::help::HelpRow;
use crate::tui::widgets::key_runs;

/// Keys the echo line keeps (the newest last).
const ECHOED: usize = 6;

/// One key the trainer pressed and what it did, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo {
    pub key: Key,
    pub did: String,
}

#[derive(Debug)]
pub struct Present {
    project: Project,
    lessons: Vec<LessonTask>,
    index: usize,
    revealed: bool,
    hint: bool,
    /// Labels the trainer pressed on this lesson (showing the class which key is which).
    shown: Vec<bool>,
    echo: VecDeque<Echo>,
    /// The class run from this screen, once started.
    class: Option<Class>,
    pane: Pane,
}

impl Present {
    pub fn open(project: Project, book: &TrainingBook, cx: &mut Context) -> Present {
        let lessons = book.lessons.get(&project.name).cloned().unwrap_or_default();
        let shown = vec![false; project.labels.len()];
        let screen = Present {
            project,
            lessons,
            index: 0,
            revealed: false,
            hint: false,
            shown,
            echo: VecDeque::new(),
            class: None,
            pane: Pane::Lesson,
        };
        // A class of these lessons left open (the trainer's screen was closed) is picked
        // up again.
        cx.effect(Effect::Class(ClassEffect::Open));
        if screen.lessons.is_empty() {
            cx.say(format!(
                "{} has no lessons on this computer yet: they come with the next sync \
                 (an admin imports them with kazi admin lessons import)",
                sanitize_line(&screen.project.name)
            ));
        }
        cx.redraw();
        screen
    }

    pub fn project(&self) -> &Project {
        &self.project
    }

    pub fn lessons(&self) -> &[LessonTask] {
        &self.lessons
    }

    /// The lesson on screen (its index), if there are lessons.
    pub fn step(&self) -> Option<usize> {
        (!self.lessons.is_empty()).then_some(self.index)
    }

    pub fn lesson(&self) -> Option<&LessonTask> {
        self.lessons.get(self.index)
    }

    pub fn revealed(&self) -> bool {
        self.revealed
    }

    pub fn hint_open(&self) -> bool {
        self.hint
    }

    /// The labels shown by their keys on this lesson, one flag per project label.
    pub fn shown(&self) -> &[bool] {
        &self.shown
    }

    /// The keys pressed, oldest first, with what each did.
    pub fn echo(&self) -> impl Iterator<Item = &Echo> {
        self.echo.iter()
    }

    pub fn class(&self) -> Option<&Class> {
        self.class.as_ref()
    }

    pub fn pane(&self) -> Pane {
        self.pane
    }

    /// Go to lesson `index`: hint, answer and shown labels start hidden again.
    fn go(&mut self, index: usize, cx: &mut Context) {
        self.index = index;
        self.revealed = false;
        self.hint = false;
        self.shown = vec![false; self.project.labels.len()];
        cx.redraw();
        self.push_step(cx);
    }

    /// The open class follows the lesson on screen (and whether its answer is shown).
    fn push_step(&self, cx: &mut Context) {
        if let Some(class) = self.class.as_ref().filter(|c| c.open()) {
            cx.effect(Effect::Class(ClassEffect::Step {
                code: class.state.code.clone(),
                step: self.index as u32,
                revealed: self.revealed,
            }));
        }
    }

    fn code(&self) -> Option<String> {
        self.class
            .as_ref()
            .filter(|c| c.open())
            .map(|c| c.state.code.clone())
    }

    /// `class`: start a class, or switch between the lesson and the class.
    fn class_key(&mut self, cx: &mut Context) -> String {
        match &self.class {
            Some(c) if c.open() => {
                self.pane = match self.pane {
                    Pane::Lesson => Pane::Class,
                    _ => Pane::Lesson,
                };
                cx.redraw();
                match self.pane {
                    Pane::Class => "class: the students".into(),
                    _ => "class: back to the lesson".into(),
                }
            }
            _ if self.lessons.is_empty() => "class: no lessons to run a class on".into(),
            _ => {
                cx.effect(Effect::Class(ClassEffect::Start {
                    project: self.project.name.clone(),
                }));
                "class: starting one on these lessons".into()
            }
        }
    }

    fn on_class(&mut self, event: ClassEvent, cx: &mut Context) {
        match event {
            ClassEvent::Started { state, lessons } => {
                if state.project != self.project.name {
                    return;
                }
                if let Some(set) = lessons.filter(|s| s.project == self.project.name)
                    && set.tasks != self.lessons
                {
                    // The class runs on the server's lessons: show the same ones.
                    self.lessons = set.tasks;
                    self.index = self.index.min(self.lessons.len().saturating_sub(1));
                }
                let code = state.code.clone();
                self.class = Some(Class::new(state));
                self.pane = Pane::Class;
                cx.effect(Effect::Class(ClassEffect::Watch { code }));
                if self.index != 0 || self.revealed {
                    self.push_step(cx);
                }
                cx.redraw();
            }
            ClassEvent::State(state) => {
                let Some(class) = self.class.as_mut().filter(|c| c.state.code == state.code) else {
                    return;
                };
                if class.state != state {
                    let ended = state.ended.is_some() && class.state.ended.is_none();
                    class.state = state;
                    cx.redraw();
                    if ended {
                        cx.effect(Effect::Class(ClassEffect::Unwatch));
                        cx.say("the class has ended; f9 shows its report");
                    }
                }
            }
            ClassEvent::View(view) => {
                let Some(class) = self
                    .class
                    .as_mut()
                    .filter(|c| c.state.code == view.state.code)
                else {
                    return;
                };
                // Only a changed row (or state) redraws.
                if class.view.as_ref() != Some(&view) {
                    if class.view.as_ref().map(|v| (&v.students, &v.state))
                        != Some((&view.students, &view.state))
                    {
                        cx.redraw();
                    }
                    class.state = view.state.clone();
                    class.view = Some(view);
                }
            }
            ClassEvent::Report(report) => {
                if let Some(class) = self
                    .class
                    .as_mut()
                    .filter(|c| c.state.code == report.state.code)
                {
                    class.report = Some(report);
                    self.pane = Pane::Report;
                    cx.redraw();
                }
            }
            ClassEvent::Open(classes) => {
                if self.class.is_some() {
                    return;
                }
                let Some(state) = classes
                    .into_iter()
                    .find(|c| c.project == self.project.name && c.ended.is_none())
                else {
                    return;
                };
                if (state.step as usize) < self.lessons.len() {
                    self.index = state.step as usize;
                    self.revealed = state.revealed;
                    self.hint = false;
                    self.shown = vec![false; self.project.labels.len()];
                }
                cx.say(format!(
                    "class {} is still open: picked up again at its step",
                    sanitize_line(&state.code)
                ));
                cx.effect(Effect::Class(ClassEffect::Watch {
                    code: state.code.clone(),
                }));
                self.class = Some(Class::new(state));
                cx.redraw();
            }
            ClassEvent::Failed(why) => cx.say(why),
            _ => {}
        }
    }

    fn echoed(&mut self, key: Key, did: impl Into<String>, cx: &mut Context) {
        if self.echo.len() == ECHOED {
            self.echo.pop_front();
        }
        self.echo.push_back(Echo {
            key,
            did: did.into(),
        });
        cx.redraw();
    }

    /// What a key does on the lesson; the words the echo line shows.
    fn act(&mut self, key: Key, action: Option<Action>, cx: &mut Context) -> String {
        let count = self.lessons.len();
        match action {
            Some(Action::Class) => return self.class_key(cx),
            Some(Action::Report) => {
                let Some(class) = &self.class else {
                    return "report: start a class first".into();
                };
                if self.pane == Pane::Report {
                    self.pane = Pane::Lesson;
                    cx.redraw();
                    return "report: back to the lesson".into();
                }
                cx.effect(Effect::Class(ClassEffect::Report {
                    code: class.state.code.clone(),
                }));
                self.pane = Pane::Report;
                cx.redraw();
                return "report: asked the server".into();
            }
            Some(Action::EndClass) => {
                let Some(code) = self.code() else {
                    return "end_class: no class is open".into();
                };
                cx.effect(Effect::Class(ClassEffect::End { code }));
                return "end_class: ending the class".into();
            }
            _ => {}
        }
        if count == 0 {
            return "nothing: no lessons yet".into();
        }
        match action {
            Some(Action::Next) if self.index + 1 < count => {
                self.go(self.index + 1, cx);
                format!("next: lesson {}", self.index + 1)
            }
            Some(Action::Next) => "next: this is the last lesson".into(),
            Some(Action::Prev) if self.index > 0 => {
                self.go(self.index - 1, cx);
                format!("prev: lesson {}", self.index + 1)
            }
            Some(Action::Prev) => "prev: this is the first lesson".into(),
            Some(Action::Reveal) => {
                self.revealed = !self.revealed;
                cx.redraw();
                self.push_step(cx);
                if self.revealed {
                    "reveal: the answer".into()
                } else {
                    "reveal: answer hidden".into()
                }
            }
            Some(Action::Hint) => {
                if self.lesson().is_none_or(|l| l.hint.is_empty()) {
                    return "hint: this lesson has none".into();
                }
                self.hint = !self.hint;
                cx.redraw();
                if self.hint {
                    "hint: shown"
                } else {
                    "hint: hidden"
                }
                .into()
            }
            Some(other) => format!("{other}: not on this screen"),
            None => self.label_key(key, cx),
        }
    }

    /// A label's key marks that label (in a multi-label project, toggles it).
    fn label_key(&mut self, key: Key, cx: &mut Context) -> String {
        let Some(c) = key.plain_char() else {
            return "nothing".into();
        };
        let Some(i) = self.project.labels.iter().position(|l| l.key == c) else {
            return "nothing: not a label's key".into();
        };
        if self.project.multi_label {
            self.shown[i] = !self.shown[i];
        } else {
            let on = !self.shown[i];
            self.shown.iter_mut().for_each(|s| *s = false);
            self.shown[i] = on;
        }
        cx.redraw();
        sanitize_line(&self.project.labels[i].name).into_owned()
    }

    /// Fresh lessons from a sync: the same lesson stays on screen where it still is.
    fn on_book(&mut self, book: &TrainingBook, cx: &mut Context) {
        let Some(lessons) = book.lessons.get(&self.project.name) else {
            return;
        };
        if *lessons == self.lessons {
            return;
        }
        let item = self.lesson().map(|l| l.item);
        let was_empty = self.lessons.is_empty();
        self.lessons = lessons.clone();
        let index = item
            .and_then(|item| self.lessons.iter().position(|l| l.item == item))
            .unwrap_or(0);
        if was_empty {
            cx.clear_message();
        }
        self.go(index, cx);
    }
}

impl Screen for Present {
    fn id(&self) -> ScreenId {
        ScreenId::Present
    }

    fn mode(&self) -> Mode {
        Mode::Present
    }

    fn title(&self) -> Cow<'_, str> {
        Cow::Owned(format!("Lessons: {}", sanitize_line(&self.project.title)))
    }

    fn on_key(&mut self, key: Key, action: Option<Action>, cx: &mut Context) {
        cx.clear_message();
        let did = self.act(key, action, cx);
        self.echoed(key, did, cx);
    }

    fn on_event(&mut self, event: Event, cx: &mut Context) {
        match event {
            Event::Training(TrainingEvent::Book(book)) => self.on_book(&book, cx),
            Event::Class(event) => self.on_class(event, cx),
            Event::Projects(projects) => {
                let Some(project) = projects.into_iter().find(|p| p.name == self.project.name)
                else {
                    return cx.close(format!(
                        "project {} is no longer available; pick another",
                        sanitize_line(&self.project.name)
                    ));
                };
                if project.labels.len() != self.shown.len() {
                    self.shown = vec![false; project.labels.len()];
                }
                self.project = project;
                cx.redraw();
            }
            _ => {}
        }
    }

    fn render(&self, frame: &mut Frame, body: Rect, view: &View) {
        view::render(self, frame, body, view);
    }

    fn leaving(&self) -> Vec<Effect> {
        // The class stays open on the server (students keep their step); only the
        // watching stops.
        match &self.class {
            Some(c) if c.open() => vec![Effect::Class(ClassEffect::Unwatch)],
            _ => Vec::new(),
        }
    }

    fn guide(&self, keymap: &Keymap, width: usize) -> Option<String> {
        Some(view::guide(self, keymap, width))
    }

    fn help(&self) -> ScreenHelp {
        let keys: Vec<char> = self.project.labels.iter().map(|l| l.key).collect();
        let mut rows = Vec::new();
        if !keys.is_empty() {
            rows.push(HelpRow::new(
                sanitize_line(&key_runs(&keys)),
                "labels: show the class that label (the key line names it)",
            ));
        }
        let about = "Presenting: one lesson at a time, for a projector. Nothing moves by \
                     itself; the line at the bottom names each key you press and what it \
                     did, so the class can follow and copy.";
        let instructions = sanitize(self.project.instructions.trim_end()).into_owned();
        let notes = if instructions.is_empty() {
            about.to_string()
        } else {
            format!("{about}\n\n{instructions}")
        };
        ScreenHelp { rows, notes }
    }
}

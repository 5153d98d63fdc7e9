//! The project picker: the home screen, under every other. It lists the projects this
//! worker may work on and opens one by number, or by arrows and enter; it opens the only
//! project, or the one asked for on the command line, by itself. Beside each project:
//! how many of its tasks wait on this computer. `projects` (f3) comes back here. A
//! project whose exam the worker must pass first says so, and opens on its training;
//! `lessons` (f7) opens any project's lessons.

use std::borrow::Cow;
use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;

use super::{Context, Screen, ScreenHelp, ScreenId, View};
use crate::client::TrainingBook;
use crate::model::{Project, TaskKind, sanitize_line};
use crate::protocol::MAX_WAITING_COUNT;
use crate::tui::app::Event;
use crate::tui::key::{Key, KeyCode};
use crate::tui::keymap::{Action, Keymap, Mode};
use crate::tui::widgets::Painter;
use crate::tui::widgets::help::HelpRow;

#[derive(Debug, Default)]
pub struct Picker {
    projects: Vec<Project>,
    cursor: usize,
    /// A project asked for on the command line, opened when the list names it.
    preferred: Option<String>,
    /// Tasks waiting on this computer per project, once the store has said.
    waiting: Option<BTreeMap<String, u32>>,
    /// Lessons and exam standings: which projects need training first.
    training: TrainingBook,
    /// The trainer's picker opens lessons, not work.
    lessons_only: bool,
}

impl Picker {
    pub fn new(preferred: Option<String>) -> Picker {
        Picker {
            preferred,
            ..Picker::default()
        }
    }

    /// The trainer's picker: its projects open their lessons.
    pub fn for_trainer(preferred: Option<String>) -> Picker {
        Picker {
            lessons_only: true,
            ..Picker::new(preferred)
        }
    }

    pub fn projects(&self) -> &[Project] {
        &self.projects
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The projects this worker may work on (again after a schema update). `showing`:
    /// the picker is the screen on top, so it may open a project by itself.
    pub fn set_projects(&mut self, projects: Vec<Project>, showing: bool, cx: &mut Context) {
        self.projects = projects;
        self.cursor = self.cursor.min(self.projects.len().saturating_sub(1));
        cx.redraw();
        if !showing || self.projects.is_empty() {
            // Nothing from the server yet: keep the preferred project for when it comes.
            return;
        }
        if let Some(name) = self.preferred.take() {
            match self.projects.iter().find(|p| p.name == name) {
                Some(p) => return cx.open(p.clone()),
                None => cx.say(format!(
                    "no project named {} here; pick one below",
                    sanitize_line(&name)
                )),
            }
        }
        if let [only] = &self.projects[..] {
            cx.open(only.clone());
        }
    }

    /// Tasks waiting on this computer per project (a project not named has none).
    pub fn set_waiting(&mut self, waiting: BTreeMap<String, u32>, cx: &mut Context) {
        if self.waiting.as_ref() != Some(&waiting) {
            self.waiting = Some(waiting);
            cx.redraw();
        }
    }

    /// Lessons and exam standings, fresh from the store.
    pub fn set_training(&mut self, book: TrainingBook, cx: &mut Context) {
        if book != self.training {
            self.training = book;
            cx.redraw();
        }
    }

    /// How many of the project's tasks wait here, if known.
    pub fn waiting(&self, project: &str) -> Option<u32> {
        let waiting = self.waiting.as_ref()?;
        Some(waiting.get(project).copied().unwrap_or(0))
    }

    /// Lessons and exam standings, as the store last said.
    pub fn training(&self) -> &TrainingBook {
        &self.training
    }

    /// Open the project's lessons (the App says so if there are none here).
    fn train_at(&self, index: usize, cx: &mut Context) {
        if let Some(p) = self.projects.get(index) {
            cx.train(p.clone());
        }
    }

    fn open_at(&self, index: usize, cx: &mut Context) {
        if let Some(p) = self.projects.get(index) {
            cx.open(p.clone());
        }
    }
}

impl Screen for Picker {
    fn id(&self) -> ScreenId {
        ScreenId::Picker
    }

    fn mode(&self) -> Mode {
        Mode::Global
    }

    fn title(&self) -> Cow<'_, str> {
        "Choose a project".into()
    }

    fn on_key(&mut self, key: Key, action: Option<Action>, cx: &mut Context) {
        if self.projects.is_empty() {
            return cx.say("no projects yet: waiting for the server");
        }
        let last = self.projects.len() - 1;
        match (action, key.code, key.plain_char()) {
            (Some(Action::Next), ..) | (None, KeyCode::Down, _) => {
                self.cursor = (self.cursor + 1).min(last);
                cx.redraw();
            }
            (Some(Action::Prev), ..) | (None, KeyCode::Up, _) => {
                self.cursor = self.cursor.saturating_sub(1);
                cx.redraw();
            }
            (Some(Action::Pick | Action::Submit), ..) | (None, KeyCode::Enter, _) => {
                self.open_at(self.cursor, cx)
            }
            (Some(Action::Lessons), ..) => self.train_at(self.cursor, cx),
            (None, _, Some(c @ '1'..='9')) if (c as usize - '1' as usize) <= last => {
                self.open_at(c as usize - '1' as usize, cx)
            }
            (None, KeyCode::Esc, _) => cx.clear_message(),
            _ => cx.say("choose a project: press its number, or arrows and enter"),
        }
    }

    fn on_event(&mut self, _event: Event, _cx: &mut Context) {}

    fn render(&self, frame: &mut Frame, body: Rect, view: &View) {
        let mut p = Painter::on(frame, view.theme);
        let x = body.x + 1;
        let width = body.width.saturating_sub(2);
        if self.projects.is_empty() {
            let text = "No projects yet: waiting for the server.";
            p.put(x, body.y, width, text, p.st.text);
            return;
        }
        let mut y = body.y;
        if body.height > self.projects.len() as u16 + 2 {
            let text = if self.lessons_only {
                "Which project's lessons do you want to present?"
            } else {
                "Which project do you want to work on?"
            };
            p.put(x, y, width, text, p.st.text);
            y += 2;
        }
        // Keep the cursor in view on short screens.
        let rows = usize::from(body.bottom().saturating_sub(y));
        let first = self.cursor.saturating_sub(rows.saturating_sub(1));
        for (i, project) in self.projects.iter().enumerate().skip(first).take(rows) {
            let chosen = i == self.cursor;
            let number = if i < 9 {
                format!("{}", i + 1)
            } else {
                " ".into()
            };
            // A trainer's computer holds no tasks: their count says nothing.
            let waiting = match self.waiting(&project.name) {
                _ if self.lessons_only => String::new(),
                Some(n) if n >= MAX_WAITING_COUNT => format!(" · {MAX_WAITING_COUNT}+ waiting"),
                Some(n) => format!(" · {n} waiting"),
                None => String::new(),
            };
            let first: String = if self.lessons_only {
                match self.training.lessons.get(&project.name).map(Vec::len) {
                    Some(n) => format!(" · {n} lessons"),
                    None => " · no lessons yet".into(),
                }
            } else if self.training.must_qualify(project) {
                " · exam first".into()
            } else {
                String::new()
            };
            // What matters first (the title), then what kind of work, then how much.
            let line = format!(
                "{} {number}  {} ({}, {}){first}{waiting}",
                if chosen { ">" } else { " " },
                sanitize_line(&project.title),
                sanitize_line(&project.name),
                kind_of_work(project)
            );
            let style = if chosen { p.st.selected } else { Style::new() };
            p.put(x, y, width, &line, style);
            y += 1;
        }
    }

    fn guide(&self, _keymap: &Keymap, _width: usize) -> Option<String> {
        None
    }

    fn help(&self) -> ScreenHelp {
        let mut rows = Vec::new();
        match self.projects.len().min(9) {
            0 => {}
            1 => rows.push(HelpRow::new("1", "open project 1")),
            n => rows.push(HelpRow::new(
                format!("1-{n}"),
                "open the project with that number",
            )),
        }
        rows.push(HelpRow::new("up, down", "move the marker"));
        rows.push(HelpRow::new("enter", "open the marked project"));
        ScreenHelp {
            rows,
            notes: String::new(),
        }
    }
}

/// The kind of work in a few words: "10 labels", "form of 9 fields", "audio".
fn kind_of_work(project: &Project) -> String {
    match project.kind {
        TaskKind::Classify => match project.labels.len() {
            1 => "1 label".into(),
            n => format!("{n} labels"),
        },
        TaskKind::Entry => match project.form.as_ref().map_or(0, |f| f.fields.len()) {
            1 => "form of 1 field".into(),
            n => format!("form of {n} fields"),
        },
        TaskKind::Transcribe => "audio to text".into(),
    }
}

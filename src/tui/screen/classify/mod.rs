//! The classify screen: one task at a time, one keystroke per label (single-label), or
//! label keys that toggle and a submit (multi-label). It owns the queue of tasks, the
//! selection, drafts and the preselected suggestion; drawing is in `view`.

pub(crate) mod view;

use std::borrow::Cow;
use std::collections::VecDeque;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Context, DraftShelf, Screen, ScreenHelp, ScreenId, TaskQueue, View, undone_here};
use crate::model::{AnswerValue, Project, Task, sanitize, sanitize_line};
use crate::tui::app::{Effect, Event};
use crate::tui::key::{Key, KeyCode};
use crate::tui::keymap::{Action, Keymap, Mode};
use crate::tui::widgets::help::HelpRow;
use crate::tui::widgets::key_runs;

/// When fewer tasks than this wait in the queue, ask the runtime for more.
pub const LOW_WATER: usize = 10;

/// Why a label is selected before the worker pressed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preselect {
    /// The task's model suggestion.
    Suggested,
    /// The worker's own answer, taken back with undo.
    Previous,
}

/// The task on screen and the labels selected for it (one flag per project label).
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    pub task: Task,
    pub selected: Vec<bool>,
    pub preselect: Option<Preselect>,
}

impl Current {
    fn new(task: Task, project: &Project) -> Current {
        let mut selected = vec![false; project.labels.len()];
        let mut preselect = None;
        if let Some(i) = task
            .suggestion
            .as_deref()
            .and_then(|s| project.labels.iter().position(|l| l.id == s))
        {
            selected[i] = true;
            preselect = Some(Preselect::Suggested);
        }
        Current {
            task,
            selected,
            preselect,
        }
    }

    /// Mark exactly the labels of `value`.
    fn mark(&mut self, project: &Project, value: &AnswerValue) {
        let ids: &[String] = match value {
            AnswerValue::Labels(ids) => ids,
            AnswerValue::Form(_) | AnswerValue::Transcript(_) => &[],
        };
        for (selected, label) in self.selected.iter_mut().zip(&project.labels) {
            *selected = ids.contains(&label.id);
        }
    }
}

#[derive(Debug)]
pub struct Classify {
    project: Project,
    tasks: TaskQueue,
    current: Option<Current>,
    /// Drafts of queued tasks, applied when the task comes on screen.
    drafts: DraftShelf<AnswerValue>,
    hints: bool,
    /// The first line of the task text shown (long texts scroll).
    scroll: usize,
}

impl Classify {
    /// The screen on `project`, asking the runtime for its first tasks.
    pub fn open(project: Project, cx: &mut Context) -> Classify {
        cx.effect(Effect::WantTasks {
            project: project.name.clone(),
            queued: 0,
        });
        Classify {
            project,
            tasks: TaskQueue::new(LOW_WATER),
            current: None,
            drafts: DraftShelf::new(unreadable_message),
            hints: false,
            scroll: 0,
        }
    }

    pub fn project(&self) -> &Project {
        &self.project
    }

    pub fn current(&self) -> Option<&Current> {
        self.current.as_ref()
    }

    /// Tasks waiting behind the one on screen.
    pub fn queue(&self) -> &VecDeque<Task> {
        &self.tasks.waiting
    }

    /// Whether label examples are shown (toggled by `hint`).
    pub fn hints_open(&self) -> bool {
        self.hints
    }

    /// The first line of the task text on screen.
    pub fn scroll(&self) -> usize {
        self.scroll
    }

    /// Move through a task text longer than its box, a page (less a line) at a time.
    fn scroll_by(&mut self, down: bool, cx: &mut Context) {
        let Some(current) = &self.current else {
            return cx.say("no task to scroll");
        };
        let (lines, room) = view::text_window(self, current, cx.body());
        let max = lines.saturating_sub(room);
        if max == 0 {
            return cx.say("the whole task text is on screen");
        }
        let step = room.saturating_sub(1).max(1);
        let scroll = if down {
            (self.scroll + step).min(max)
        } else {
            self.scroll.saturating_sub(step)
        };
        if scroll != self.scroll {
            self.scroll = scroll;
            cx.redraw();
        }
    }

    fn mode(&self) -> Mode {
        Mode::for_kind(self.project.kind)
    }

    fn on_projects(&mut self, projects: Vec<Project>, cx: &mut Context) {
        let Some(project) = projects.into_iter().find(|p| p.name == self.project.name) else {
            return cx.close(format!(
                "project {} is no longer available; pick another",
                sanitize_line(&self.project.name)
            ));
        };
        // A schema update may bring a label key that a key of the keymap already has.
        if let Err(e) = cx.keymap().check_labels(&project) {
            return cx.close(e.to_string());
        }
        // A schema update may change the labels: keep selections in step.
        if let Some(current) = &mut self.current {
            current.selected.resize(project.labels.len(), false);
        }
        self.project = project;
        cx.redraw();
    }

    fn on_tasks(&mut self, tasks: Vec<Task>, cx: &mut Context) {
        self.tasks.arrived(&self.project.name, tasks);
        if self.current.is_none() && !self.tasks.waiting.is_empty() {
            self.advance(cx);
        }
    }

    /// Show the next queued task, and ask for more when the queue runs short.
    fn advance(&mut self, cx: &mut Context) {
        cx.redraw();
        self.scroll = 0;
        self.current = self
            .tasks
            .waiting
            .pop_front()
            .map(|t| Current::new(t, &self.project));
        if let Some(id) = self.current.as_ref().map(|c| c.task.id)
            && let Some(value) = self.drafts.on_screen(id, cx)
        {
            self.apply_draft(&value);
        }
        self.tasks
            .ask_when_low(&self.project.name, self.current.is_some(), cx);
    }

    fn on_draft(&mut self, task: i64, value: AnswerValue, cx: &mut Context) {
        let showing = self.current.as_ref().map(|c| c.task.id);
        if let Some(value) = self.drafts.arrived(task, value, showing, &self.tasks) {
            self.apply_draft(&value);
            cx.redraw();
        }
    }

    fn on_draft_unreadable(&mut self, task: i64, why: String, cx: &mut Context) {
        let showing = self.current.as_ref().map(|c| c.task.id);
        self.drafts.unreadable(task, why, showing, &self.tasks, cx);
    }

    /// Mark a draft's labels on the task on screen.
    fn apply_draft(&mut self, value: &AnswerValue) {
        if let Some(current) = &mut self.current {
            current.mark(&self.project, value);
            current.preselect = None;
        }
    }

    fn on_undone(&mut self, undone: Option<(Task, AnswerValue)>, cx: &mut Context) {
        let Some((task, value)) = undone_here(undone, &self.project.name, cx) else {
            return;
        };
        // The task may have come back from the store already: never hold it twice.
        let undone_id = task.id;
        self.tasks.taken_back(undone_id);
        let mut current = Current::new(task, &self.project);
        current.mark(&self.project, &value);
        current.preselect = Some(Preselect::Previous);
        if let Some(shown) = self.current.replace(current)
            && shown.task.id != undone_id
        {
            self.tasks.waiting.push_front(shown.task);
        }
        self.scroll = 0;
        cx.say("answer taken back: answer this task again");
        cx.redraw();
    }

    fn unknown_key(&self, key: Key, cx: &mut Context) {
        let caps = key.plain_char().is_some_and(|c| {
            let other = if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            };
            self.project.label_by_key(other).is_some()
        });
        let help = cx
            .help_key(self.mode(), false)
            .map_or_else(String::new, |k| format!("; {k} shows help"));
        let text = if caps {
            format!("key {key} is not a label: is caps lock on?{help}")
        } else {
            format!("key {key} does nothing here{help}")
        };
        cx.say(text);
    }

    fn press_label(&mut self, index: usize, cx: &mut Context) {
        let Some(current) = &mut self.current else {
            return cx.say("no task to answer yet");
        };
        if self.project.multi_label {
            if let Some(s) = current.selected.get_mut(index) {
                *s = !*s;
                cx.redraw();
            }
            let task = current.task.id;
            let value = self.selected_value();
            return cx.effect(Effect::SaveDraft { task, value });
        }
        current.selected.iter_mut().for_each(|s| *s = false);
        if let Some(s) = current.selected.get_mut(index) {
            *s = true;
        }
        self.submit(cx);
    }

    /// The labels selected on the task on screen, as an answer.
    fn selected_value(&self) -> AnswerValue {
        let ids = match &self.current {
            Some(current) => self
                .project
                .labels
                .iter()
                .zip(&current.selected)
                .filter(|(_, s)| **s)
                .map(|(l, _)| l.id.clone())
                .collect(),
            None => Vec::new(),
        };
        AnswerValue::Labels(ids)
    }

    /// Send the selected labels, if they make a valid answer, and show the next task.
    fn submit(&mut self, cx: &mut Context) {
        let Some(current) = &self.current else {
            return cx.say("no task to answer yet");
        };
        if !self.project.multi_label && !current.selected.contains(&true) {
            return cx.say("press a label key to answer");
        }
        let value = self.selected_value();
        if let Err(e) = self.project.validate(&value) {
            return cx.say(e.to_string());
        }
        if let Some(current) = self.current.take() {
            self.tasks.held.remove(&current.task.id);
            cx.effect(Effect::Save {
                task: current.task,
                value,
            });
        }
        cx.clear_message();
        self.advance(cx);
    }
}

fn unreadable_message(why: &str) -> String {
    format!("a kept choice for this task could not be read ({why}); choose again")
}

impl Screen for Classify {
    fn work_project(&self) -> Option<&Project> {
        Some(&self.project)
    }

    fn id(&self) -> ScreenId {
        ScreenId::Classify
    }

    fn mode(&self) -> Mode {
        Classify::mode(self)
    }

    fn title(&self) -> Cow<'_, str> {
        sanitize_line(&self.project.title)
    }

    fn on_key(&mut self, key: Key, action: Option<Action>, cx: &mut Context) {
        match action {
            Some(Action::Undo) => cx.effect(Effect::Undo {
                project: self.project.name.clone(),
            }),
            Some(Action::Skip) => match self.current.take() {
                Some(current) => {
                    self.tasks.held.remove(&current.task.id);
                    cx.effect(Effect::Skip { task: current.task });
                    cx.clear_message();
                    self.advance(cx);
                }
                None => cx.say("no task to skip"),
            },
            Some(Action::Submit) => self.submit(cx),
            Some(Action::Hint) => {
                self.hints = !self.hints;
                cx.redraw();
            }
            Some(Action::ScrollDown) => self.scroll_by(true, cx),
            Some(Action::ScrollUp) => self.scroll_by(false, cx),
            Some(other) => cx.say(format!("{other} does nothing on this screen")),
            None => match key
                .plain_char()
                .and_then(|c| self.project.labels.iter().position(|l| l.key == c))
            {
                Some(index) => self.press_label(index, cx),
                // Esc is where people go when lost: it clears, it never scolds.
                None if key.code == KeyCode::Esc => cx.clear_message(),
                None => self.unknown_key(key, cx),
            },
        }
    }

    fn on_event(&mut self, event: Event, cx: &mut Context) {
        match event {
            Event::Tasks(tasks) => self.on_tasks(tasks, cx),
            Event::Undone(undone) => self.on_undone(undone, cx),
            Event::Draft { task, value } => self.on_draft(task, value, cx),
            Event::DraftUnreadable { task, why } => self.on_draft_unreadable(task, why, cx),
            Event::Projects(projects) => self.on_projects(projects, cx),
            Event::Key(_)
            | Event::Resize(..)
            | Event::Status(_)
            | Event::Message(_)
            | Event::Waiting(_)
            | Event::Paste(_)
            | Event::Feedback(_)
            | Event::Progress(_)
            | Event::Player(_)
            | Event::Training(_)
            | Event::Class(_)
            | Event::Review(_) => {}
        }
    }

    fn render(&self, frame: &mut Frame, body: Rect, view: &View) {
        view::render(self, frame, body, view);
    }

    fn guide(&self, keymap: &Keymap, width: usize) -> Option<String> {
        view::guide(self, keymap, width)
    }

    fn current_task(&self) -> Option<i64> {
        self.current().map(|c| c.task.id)
    }

    fn help(&self) -> ScreenHelp {
        let keys: Vec<char> = self.project.labels.iter().map(|l| l.key).collect();
        let what = if self.project.multi_label {
            "labels: choose or unchoose a label"
        } else {
            "labels: answer with that label"
        };
        // The project's instructions, then every label in full, which the grid has room
        // for only in part.
        let mut notes = self.project.instructions.trim_end().to_string();
        if !notes.is_empty() {
            notes.push_str("\n\n");
        }
        notes.push_str("Labels:");
        for label in &self.project.labels {
            notes.push_str(&format!("\n{} {}", label.key, label.name));
            if !label.description.is_empty() {
                notes.push_str(&format!(": {}", label.description));
            }
            if !label.examples.is_empty() {
                notes.push_str(&format!(" (e.g. {})", label.examples.join("; ")));
            }
        }
        ScreenHelp {
            rows: vec![HelpRow::new(sanitize_line(&key_runs(&keys)), what)],
            notes: sanitize(&notes).into_owned(),
        }
    }
}

//! The worker screen as a pure state machine: `App::handle(Event) -> Vec<Effect>`.
//! No I/O, no clock, no terminal: the runtime feeds events (keys, tasks from the local
//! store, link status), carries out the effects (store writes, undo, loading more
//! tasks), and redraws only when `take_redraw` says something visible changed.

use std::collections::{HashMap, HashSet, VecDeque};

use super::key::{Key, KeyCode};
use super::keymap::{Action, Keymap, Mode};
use super::view::Theme;
use crate::model::{AnswerValue, Project, Task};

/// When fewer tasks than this wait in the queue, ask the runtime for more.
pub const LOW_WATER: usize = 10;

/// Something that happened, for the App to take in.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Key(Key),
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
    /// A line for the worker from the runtime ("server refused answer: ..."). It is
    /// sanitised when drawn.
    Message(String),
    /// A half-done answer kept in the store for this task (multi-label choices made before
    /// a crash or quit): shown as chosen when the task is on screen.
    Draft {
        task: i64,
        value: AnswerValue,
    },
}

/// What the sync engine and local store report, shown on the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Status {
    pub link: Link,
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
    /// Send unsent answers (bounded wait), restore the terminal, exit.
    Quit,
}

/// Which screen is showing (the help overlay is drawn on top of either).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// Several projects and none chosen yet.
    Picker,
    /// Tasks of the chosen project (or the empty state while none are cached).
    Work,
}

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
}

/// The worker screen's whole state.
#[derive(Debug)]
pub struct App {
    keymap: Keymap,
    theme: Theme,
    /// A project asked for on the command line, chosen when `Projects` lists it.
    preferred: Option<String>,
    projects: Vec<Project>,
    chosen: Option<usize>,
    picker_cursor: usize,
    help: bool,
    hints: bool,
    queue: VecDeque<Task>,
    /// Ids in `queue` and on screen, so a reload never shows a task twice.
    held: HashSet<i64>,
    current: Option<Current>,
    /// A `WantTasks` is out and not yet answered by `Tasks`.
    wanting: bool,
    /// Drafts of queued tasks, applied when the task comes on screen.
    drafts: HashMap<i64, AnswerValue>,
    message: Option<String>,
    status: Status,
    size: (u16, u16),
    dirty: bool,
}

impl App {
    /// `preferred_project` is the `--project NAME` of the command line, if any.
    pub fn new(keymap: Keymap, theme: Theme, preferred_project: Option<String>) -> App {
        App {
            keymap,
            theme,
            preferred: preferred_project,
            projects: Vec::new(),
            chosen: None,
            picker_cursor: 0,
            help: false,
            hints: false,
            queue: VecDeque::new(),
            held: HashSet::new(),
            current: None,
            wanting: false,
            drafts: HashMap::new(),
            message: None,
            status: Status::default(),
            size: (80, 24),
            dirty: true,
        }
    }

    /// Take in one event; returns what the runtime must do, in order.
    pub fn handle(&mut self, event: Event) -> Vec<Effect> {
        let mut effects = Vec::new();
        match event {
            Event::Key(key) => self.on_key(key, &mut effects),
            Event::Resize(w, h) => {
                self.size = (w, h);
                self.dirty = true;
            }
            Event::Tasks(tasks) => self.on_tasks(tasks, &mut effects),
            Event::Status(status) => {
                if status != self.status {
                    self.status = status;
                    self.dirty = true;
                }
            }
            Event::Undone(undone) => self.on_undone(undone),
            Event::Projects(projects) => self.on_projects(projects, &mut effects),
            Event::Message(text) => self.set_message(text),
            Event::Draft { task, value } => self.on_draft(task, value),
        }
        effects
    }

    /// True once after anything visible changed: the runtime redraws then, and only then
    /// (nothing on screen moves by itself).
    pub fn take_redraw(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    pub fn screen(&self) -> Screen {
        if self.chosen.is_some() {
            Screen::Work
        } else {
            Screen::Picker
        }
    }

    pub fn mode(&self) -> Mode {
        match self.project() {
            Some(p) => Mode::for_kind(p.kind),
            None => Mode::Global,
        }
    }

    pub fn project(&self) -> Option<&Project> {
        self.chosen.and_then(|i| self.projects.get(i))
    }

    pub fn projects(&self) -> &[Project] {
        &self.projects
    }

    pub fn picker_cursor(&self) -> usize {
        self.picker_cursor
    }

    pub fn current(&self) -> Option<&Current> {
        self.current.as_ref()
    }

    /// Tasks waiting behind the one on screen.
    pub fn queue(&self) -> &VecDeque<Task> {
        &self.queue
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    pub fn help_open(&self) -> bool {
        self.help
    }

    /// Whether label examples are shown (toggled by `hint`).
    pub fn hints_open(&self) -> bool {
        self.hints
    }

    pub fn keymap(&self) -> &Keymap {
        &self.keymap
    }

    pub fn theme(&self) -> Theme {
        self.theme
    }

    pub fn size(&self) -> (u16, u16) {
        self.size
    }

    fn set_message(&mut self, text: String) {
        if self.message.as_deref() != Some(text.as_str()) {
            self.message = Some(text);
            self.dirty = true;
        }
    }

    fn clear_message(&mut self) {
        if self.message.take().is_some() {
            self.dirty = true;
        }
    }

    /// "? help" in the words of the active keymap.
    pub fn help_key(&self) -> Option<Key> {
        self.keymap
            .keys_for(self.mode(), Action::Help)
            .first()
            .copied()
    }

    fn on_projects(&mut self, projects: Vec<Project>, effects: &mut Vec<Effect>) {
        let chosen_name = self.project().map(|p| p.name.clone());
        self.projects = projects;
        self.dirty = true;
        self.picker_cursor = self
            .picker_cursor
            .min(self.projects.len().saturating_sub(1));
        if let Some(name) = chosen_name {
            match self.projects.iter().position(|p| p.name == name) {
                Some(i) => {
                    self.chosen = Some(i);
                    // A schema update may change the labels: keep selections in step.
                    let labels = self.projects[i].labels.len();
                    if let Some(current) = &mut self.current {
                        current.selected.resize(labels, false);
                    }
                }
                None => {
                    self.chosen = None;
                    self.drop_tasks();
                    self.set_message(format!(
                        "project {} is no longer available; pick another",
                        crate::model::sanitize_line(&name)
                    ));
                }
            }
            return;
        }
        if self.projects.is_empty() {
            // Nothing from the server yet: keep the preferred project for when it comes.
            return;
        }
        if let Some(name) = self.preferred.take() {
            match self.projects.iter().position(|p| p.name == name) {
                Some(i) => return self.choose(i, effects),
                None => self.set_message(format!(
                    "no project named {} here; pick one below",
                    crate::model::sanitize_line(&name)
                )),
            }
        }
        if self.projects.len() == 1 {
            self.choose(0, effects);
        }
    }

    fn drop_tasks(&mut self) {
        self.queue.clear();
        self.held.clear();
        self.current = None;
        self.wanting = false;
    }

    fn choose(&mut self, index: usize, effects: &mut Vec<Effect>) {
        let Some(project) = self.projects.get(index) else {
            return;
        };
        let name = project.name.clone();
        let collision = self.keymap.check_labels(project).err();
        self.chosen = Some(index);
        self.drop_tasks();
        self.help = false;
        self.dirty = true;
        self.message = collision.map(|e| e.to_string());
        self.wanting = true;
        effects.push(Effect::ChooseProject(name.clone()));
        effects.push(Effect::WantTasks {
            project: name,
            queued: 0,
        });
    }

    fn on_tasks(&mut self, tasks: Vec<Task>, effects: &mut Vec<Effect>) {
        self.wanting = false;
        let Some(project) = self.chosen.and_then(|i| self.projects.get(i)) else {
            return;
        };
        for task in tasks {
            if task.project == project.name && self.held.insert(task.id) {
                self.queue.push_back(task);
            }
        }
        if self.current.is_none() && !self.queue.is_empty() {
            self.advance(effects);
        }
    }

    /// Show the next queued task, and ask for more when the queue runs short.
    fn advance(&mut self, effects: &mut Vec<Effect>) {
        self.dirty = true;
        let Some(project) = self.chosen.and_then(|i| self.projects.get(i)) else {
            self.current = None;
            return;
        };
        let name = project.name.clone();
        self.current = self.queue.pop_front().map(|t| Current::new(t, project));
        if let Some(value) = self
            .current
            .as_ref()
            .and_then(|c| self.drafts.remove(&c.task.id))
        {
            self.on_draft_value(value);
        }
        if self.queue.len() < LOW_WATER && !self.wanting {
            self.wanting = true;
            effects.push(Effect::WantTasks {
                project: name,
                queued: self.queue.len() + usize::from(self.current.is_some()),
            });
        }
    }

    fn on_draft(&mut self, task: i64, value: AnswerValue) {
        if self.current.as_ref().is_some_and(|c| c.task.id == task) {
            self.on_draft_value(value);
        } else if self.held.contains(&task) {
            self.drafts.insert(task, value);
        }
    }

    /// Mark a draft's labels on the task on screen.
    fn on_draft_value(&mut self, value: AnswerValue) {
        let Some(project) = self.chosen.and_then(|i| self.projects.get(i)) else {
            return;
        };
        let Some(current) = &mut self.current else {
            return;
        };
        let AnswerValue::Labels(ids) = &value;
        for (selected, label) in current.selected.iter_mut().zip(&project.labels) {
            *selected = ids.contains(&label.id);
        }
        current.preselect = None;
        self.dirty = true;
    }

    fn on_undone(&mut self, undone: Option<(Task, AnswerValue)>) {
        let Some((task, value)) = undone else {
            self.set_message("nothing to undo".into());
            return;
        };
        let Some(project) = self.chosen.and_then(|i| self.projects.get(i)) else {
            return;
        };
        if task.project != project.name {
            let text = format!(
                "took back an answer in project {}",
                crate::model::sanitize_line(&task.project)
            );
            self.set_message(text);
            return;
        }
        // The task may have come back from the store already: never hold it twice.
        if self.held.contains(&task.id) {
            self.queue.retain(|t| t.id != task.id);
        }
        let undone_id = task.id;
        let mut current = Current::new(task, project);
        current.selected.iter_mut().for_each(|s| *s = false);
        let AnswerValue::Labels(ids) = &value;
        for id in ids {
            if let Some(i) = project.labels.iter().position(|l| &l.id == id) {
                current.selected[i] = true;
            }
        }
        current.preselect = Some(Preselect::Previous);
        self.held.insert(current.task.id);
        if let Some(shown) = self.current.replace(current)
            && shown.task.id != undone_id
        {
            self.queue.push_front(shown.task);
        }
        self.message = Some("answer taken back: answer this task again".into());
        self.dirty = true;
    }

    fn on_key(&mut self, key: Key, effects: &mut Vec<Effect>) {
        let action = self.keymap.action(self.mode(), key);
        if self.help {
            match action {
                Some(Action::Quit) => effects.push(Effect::Quit),
                Some(Action::Help) => self.toggle_help(),
                _ if key.code == KeyCode::Esc => self.toggle_help(),
                // Other keys do nothing while help covers the task: no blind answers.
                _ => {}
            }
            return;
        }
        match action {
            Some(Action::Quit) => return effects.push(Effect::Quit),
            Some(Action::Help) => return self.toggle_help(),
            _ => {}
        }
        match self.screen() {
            Screen::Picker => self.picker_key(key, action, effects),
            Screen::Work => self.work_key(key, action, effects),
        }
    }

    fn toggle_help(&mut self) {
        self.help = !self.help;
        self.dirty = true;
    }

    fn picker_key(&mut self, key: Key, action: Option<Action>, effects: &mut Vec<Effect>) {
        if self.projects.is_empty() {
            return self.set_message("no projects yet: waiting for the server".into());
        }
        let last = self.projects.len() - 1;
        match (action, key.code, key.plain_char()) {
            (Some(Action::Next), ..) | (None, KeyCode::Down, _) => {
                self.picker_cursor = (self.picker_cursor + 1).min(last);
                self.dirty = true;
            }
            (Some(Action::Prev), ..) | (None, KeyCode::Up, _) => {
                self.picker_cursor = self.picker_cursor.saturating_sub(1);
                self.dirty = true;
            }
            (Some(Action::Pick | Action::Submit), ..) | (None, KeyCode::Enter, _) => {
                self.choose(self.picker_cursor, effects)
            }
            (None, _, Some(c @ '1'..='9')) if (c as usize - '1' as usize) <= last => {
                self.choose(c as usize - '1' as usize, effects)
            }
            (None, KeyCode::Esc, _) => self.clear_message(),
            _ => self.set_message("choose a project: press its number, or arrows and enter".into()),
        }
    }

    fn work_key(&mut self, key: Key, action: Option<Action>, effects: &mut Vec<Effect>) {
        let Some(project) = self.project() else {
            return;
        };
        let project_name = project.name.clone();
        let label = key.plain_char().and_then(|c| {
            project
                .labels
                .iter()
                .position(|l| l.key == c)
                .map(|i| (i, c))
        });
        match action {
            Some(Action::Undo) => effects.push(Effect::Undo {
                project: project_name,
            }),
            Some(Action::Skip) => match self.current.take() {
                Some(current) => {
                    self.held.remove(&current.task.id);
                    effects.push(Effect::Skip { task: current.task });
                    self.clear_message();
                    self.advance(effects);
                }
                None => self.set_message("no task to skip".into()),
            },
            Some(Action::Submit) => self.submit(effects),
            Some(Action::Hint) => {
                self.hints = !self.hints;
                self.dirty = true;
            }
            Some(other) => self.set_message(format!("{other} does nothing on this screen")),
            None => match label {
                Some((index, _)) => self.press_label(index, effects),
                // Esc is where people go when lost: it clears, it never scolds.
                None if key.code == KeyCode::Esc => self.clear_message(),
                None => self.unknown_key(key),
            },
        }
    }

    fn unknown_key(&mut self, key: Key) {
        let project = self.project();
        let caps = key.plain_char().is_some_and(|c| {
            let other = if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            };
            project.is_some_and(|p| p.label_by_key(other).is_some())
        });
        let help = self
            .help_key()
            .map_or_else(String::new, |k| format!("; {k} shows help"));
        let text = if caps {
            format!("key {key} is not a label: is caps lock on?{help}")
        } else {
            format!("key {key} does nothing here{help}")
        };
        self.set_message(text);
    }

    fn press_label(&mut self, index: usize, effects: &mut Vec<Effect>) {
        let multi = self.project().is_some_and(|p| p.multi_label);
        let Some(current) = &mut self.current else {
            return self.set_message("no task to answer yet".into());
        };
        if multi {
            if let Some(s) = current.selected.get_mut(index) {
                *s = !*s;
                self.dirty = true;
            }
            let task = current.task.id;
            let value = self.selected_value();
            effects.push(Effect::SaveDraft { task, value });
            return;
        }
        current.selected.iter_mut().for_each(|s| *s = false);
        if let Some(s) = current.selected.get_mut(index) {
            *s = true;
        }
        self.submit(effects);
    }

    /// The labels selected on the task on screen, as an answer.
    fn selected_value(&self) -> AnswerValue {
        let ids = match (self.project(), &self.current) {
            (Some(project), Some(current)) => project
                .labels
                .iter()
                .zip(&current.selected)
                .filter(|(_, s)| **s)
                .map(|(l, _)| l.id.clone())
                .collect(),
            _ => Vec::new(),
        };
        AnswerValue::Labels(ids)
    }

    /// Send the selected labels, if they make a valid answer, and show the next task.
    fn submit(&mut self, effects: &mut Vec<Effect>) {
        let Some(project) = self.chosen.and_then(|i| self.projects.get(i)) else {
            return;
        };
        let Some(current) = &self.current else {
            return self.set_message("no task to answer yet".into());
        };
        if !project.multi_label && !current.selected.contains(&true) {
            return self.set_message("press a label key to answer".into());
        }
        let value = self.selected_value();
        if let Err(e) = project.validate(&value) {
            return self.set_message(e.to_string());
        }
        if let Some(current) = self.current.take() {
            self.held.remove(&current.task.id);
            effects.push(Effect::Save {
                task: current.task,
                value,
            });
        }
        self.clear_message();
        self.advance(effects);
    }
}

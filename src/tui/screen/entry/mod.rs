//! The entry screen: a source document above its form. It owns the queue of tasks, the
//! form being filled in (`filling`), drafts saved as typed (with the cursor) and the
//! document's scroll; drawing is in `view`.

mod filling;
mod view;

use std::borrow::Cow;
use std::collections::VecDeque;

use ratatui::Frame;
use ratatui::layout::Rect;

pub use filling::{Filling, Typed, field_at, is_picked, option_list, places};

use super::{Context, DraftShelf, Screen, ScreenHelp, ScreenId, TaskQueue, View, undone_here};
use crate::model::form::{Form, FormValues};
use crate::model::{AnswerValue, Project, Task, sanitize, sanitize_line, wrap_layout};
use crate::tui::app::{Effect, Event};
use crate::tui::key::{Key, KeyCode};
use crate::tui::keymap::{Action, Keymap, Mode};
use crate::tui::widgets::help::HelpRow;

/// When fewer tasks than this wait in the queue, ask the runtime for more.
const LOW_WATER: usize = 5;
/// Lines the document moves per scroll key.
const SCROLL_STEP: usize = 3;

#[derive(Debug)]
pub struct Entry {
    project: Project,
    form: Form,
    tasks: TaskQueue,
    current: Option<Filling>,
    /// Drafts of queued tasks, applied when the task comes on screen.
    drafts: DraftShelf<FormValues>,
    /// First document line shown.
    doc_top: usize,
    /// Terminal columns, to know how the document wraps when it scrolls.
    width: u16,
}

impl Entry {
    /// The screen on `project` (an entry project), asking for its first tasks.
    pub fn open(project: Project, cx: &mut Context) -> Entry {
        cx.effect(Effect::WantTasks {
            project: project.name.clone(),
            queued: 0,
        });
        // An entry project always has a form (the parser makes sure); an empty one is
        // the honest stand-in for a schema that somehow lacks it: nothing can be sent.
        let form = project.form.clone().unwrap_or_else(|| Form {
            date_format: Default::default(),
            fields: Vec::new(),
        });
        Entry {
            project,
            form,
            tasks: TaskQueue::new(LOW_WATER),
            current: None,
            drafts: DraftShelf::new(unreadable_message),
            doc_top: 0,
            width: cx.shared.size.0,
        }
    }

    pub fn project(&self) -> &Project {
        &self.project
    }

    pub fn form(&self) -> &Form {
        &self.form
    }

    /// The form on screen, if a task is.
    pub fn current(&self) -> Option<&Filling> {
        self.current.as_ref()
    }

    pub fn queue(&self) -> &VecDeque<Task> {
        &self.tasks.waiting
    }

    pub fn doc_top(&self) -> usize {
        self.doc_top
    }

    fn on_projects(&mut self, projects: Vec<Project>, cx: &mut Context) {
        let Some(project) = projects.into_iter().find(|p| p.name == self.project.name) else {
            return cx.close(format!(
                "project {} is no longer available; pick another",
                sanitize_line(&self.project.name)
            ));
        };
        if let Some(form) = &project.form {
            self.form = form.clone();
            // A changed form: keep the values, recheck them against the new fields.
            if let Some(f) = self.current.take() {
                let mut values = f.values;
                values.cursor = Some(f.at.to_string());
                self.current = Some(Filling::with_values(f.task, &self.form, values));
            }
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

    fn advance(&mut self, cx: &mut Context) {
        cx.redraw();
        self.doc_top = 0;
        self.current =
            self.tasks
                .waiting
                .pop_front()
                .map(|task| match self.drafts.on_screen(task.id, cx) {
                    Some(draft) => Filling::with_values(task, &self.form, draft),
                    None => Filling::new(task, &self.form),
                });
        self.tasks
            .ask_when_low(&self.project.name, self.current.is_some(), cx);
    }

    fn on_draft(&mut self, task: i64, value: AnswerValue, cx: &mut Context) {
        let AnswerValue::Form(values) = value else {
            return cx.say(unreadable_message("it is not a form"));
        };
        let showing = self.current_task();
        if let Some(values) = self.drafts.arrived(task, values, showing, &self.tasks)
            && let Some(current) = self.current.as_mut()
        {
            *current = Filling::with_values(current.task.clone(), &self.form, values);
            cx.redraw();
        }
    }

    fn on_undone(&mut self, undone: Option<(Task, AnswerValue)>, cx: &mut Context) {
        let Some((task, value)) = undone_here(undone, &self.project.name, cx) else {
            return;
        };
        let AnswerValue::Form(values) = value else {
            return cx.say("the answer taken back is not a form; fill the form again");
        };
        let id = task.id;
        self.tasks.taken_back(id);
        let back = Filling::with_values(task, &self.form, values);
        if let Some(shown) = self.current.replace(back)
            && shown.task.id != id
        {
            // The form on screen keeps its draft in the store: it comes back next.
            self.drafts.keep(shown.task.id, shown.draft());
            self.tasks.waiting.push_front(shown.task);
        }
        self.doc_top = 0;
        cx.say("answer taken back: change what you need and send it again");
        cx.redraw();
    }

    /// Keep the form as it is now (values and cursor) in the store.
    fn save_draft(&self, cx: &mut Context) {
        if let Some(f) = &self.current {
            cx.effect(Effect::SaveDraft {
                task: f.task.id,
                value: AnswerValue::Form(f.draft()),
            });
        }
    }

    /// Send the form if it is valid; else go to the first bad place and say why.
    fn submit(&mut self, cx: &mut Context) {
        let Some(current) = &mut self.current else {
            return cx.say("no task to answer yet");
        };
        let value = AnswerValue::Form(self.form.normalise(&current.values));
        if let Err(e) = self.project.validate(&value) {
            current.tried = true;
            if let crate::model::AnswerError::Field(issue) = &e {
                current.go_to_issue(&issue.path);
                let label = field_at(&self.form, &current.at)
                    .map(|f| sanitize_line(&f.label).into_owned())
                    .unwrap_or_else(|| issue.path.to_string());
                cx.say(format!("not sent: {label}: {}", issue.message));
            } else {
                cx.say(format!("not sent: {e}"));
            }
            self.save_draft(cx);
            return cx.redraw();
        }
        if let Some(done) = self.current.take() {
            self.tasks.held.remove(&done.task.id);
            cx.effect(Effect::Save {
                task: done.task,
                value,
            });
        }
        cx.clear_message();
        self.advance(cx);
    }

    fn scroll(&mut self, down: bool, cx: &mut Context) {
        let Some(current) = &self.current else { return };
        let width = usize::from(self.width.saturating_sub(4).max(1));
        let lines = wrap_layout(&sanitize(&current.task.text), width).len();
        let top = if down {
            (self.doc_top + SCROLL_STEP).min(lines.saturating_sub(1))
        } else {
            self.doc_top.saturating_sub(SCROLL_STEP)
        };
        if top != self.doc_top {
            self.doc_top = top;
            cx.redraw();
        }
    }

    /// A key that edits or moves inside the form.
    fn edit_key(&mut self, key: Key, cx: &mut Context) {
        let form = &self.form;
        let Some(current) = &mut self.current else {
            return cx.say("no task to answer yet");
        };
        let typed = match (key.code, key.plain_char()) {
            (_, Some(c)) => current.type_char(form, c),
            (KeyCode::Backspace, _) => current.backspace(form),
            (KeyCode::Delete, _) => current.delete(form),
            (KeyCode::Enter, _) => {
                if current.at_last() {
                    let send = cx.keymap().keys_for(Mode::Entry, Action::Submit);
                    let how = send
                        .first()
                        .map_or_else(String::new, |k| format!(": {k} sends it"));
                    cx.say(format!("that was the last field{how}"));
                } else {
                    current.next();
                    cx.clear_message();
                }
                cx.redraw();
                return self.save_draft(cx);
            }
            (KeyCode::Left, _) => {
                current.caret_left();
                return cx.redraw();
            }
            (KeyCode::Right, _) => {
                current.caret_right();
                return cx.redraw();
            }
            (KeyCode::Home, _) => {
                current.caret_home();
                return cx.redraw();
            }
            (KeyCode::End, _) => {
                current.caret_end();
                return cx.redraw();
            }
            // Esc is where people go when lost: it clears, it never scolds.
            (KeyCode::Esc, _) => return cx.clear_message(),
            _ => {
                let help = cx
                    .help_key(Mode::Entry, true)
                    .map_or_else(String::new, |k| format!("; {k} shows help"));
                return cx.say(format!("key {key} does nothing here{help}"));
            }
        };
        match typed {
            Typed::Changed => {
                cx.clear_message();
                cx.redraw();
                self.save_draft(cx);
            }
            Typed::Refused(why) if why.is_empty() => {}
            Typed::Refused(why) => cx.say(why),
        }
    }
}

fn unreadable_message(why: &str) -> String {
    format!("a kept draft of this form could not be read ({why}); fill it in again")
}

impl Screen for Entry {
    fn work_project(&self) -> Option<&Project> {
        Some(&self.project)
    }

    fn id(&self) -> ScreenId {
        ScreenId::Entry
    }

    fn mode(&self) -> Mode {
        Mode::Entry
    }

    fn title(&self) -> Cow<'_, str> {
        sanitize_line(&self.project.title)
    }

    fn takes_text(&self) -> bool {
        self.current.is_some()
    }

    fn on_key(&mut self, key: Key, action: Option<Action>, cx: &mut Context) {
        self.width = cx.shared.size.0;
        let moved_to = |s: &mut Entry, cx: &mut Context, step: fn(&mut Filling)| {
            if let Some(c) = &mut s.current {
                step(c);
                cx.clear_message();
                cx.redraw();
                s.save_draft(cx);
            }
        };
        match action {
            Some(Action::NextField) => moved_to(self, cx, Filling::next),
            Some(Action::PrevField) => moved_to(self, cx, Filling::prev),
            Some(Action::Submit) => self.submit(cx),
            Some(Action::ScrollDown) => self.scroll(true, cx),
            Some(Action::ScrollUp) => self.scroll(false, cx),
            Some(Action::AddRow | Action::RemoveRow) => {
                let form = &self.form;
                let Some(c) = &mut self.current else {
                    return cx.say("no task to answer yet");
                };
                let done = if action == Some(Action::AddRow) {
                    c.add_row(form)
                } else {
                    c.remove_row(form)
                };
                match done {
                    Ok(()) => {
                        cx.clear_message();
                        cx.redraw();
                        self.save_draft(cx);
                    }
                    Err(why) => cx.say(why),
                }
            }
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
            Some(other) => cx.say(format!("{other} does nothing on this screen")),
            None => self.edit_key(key, cx),
        }
    }

    fn on_event(&mut self, event: Event, cx: &mut Context) {
        match event {
            Event::Tasks(tasks) => self.on_tasks(tasks, cx),
            Event::Undone(undone) => self.on_undone(undone, cx),
            Event::Draft { task, value } => self.on_draft(task, value, cx),
            Event::DraftUnreadable { task, why } => {
                let showing = self.current_task();
                self.drafts.unreadable(task, why, showing, &self.tasks, cx)
            }
            Event::Projects(projects) => self.on_projects(projects, cx),
            Event::Resize(w, _) => self.width = w,
            // No audio here; a paste types into a text area, a form field takes keys one by one.
            Event::Key(_)
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
        self.current().map(|f| f.task.id)
    }

    fn help(&self) -> ScreenHelp {
        ScreenHelp {
            rows: vec![
                HelpRow::new("letters, digits", "type into the field you are on"),
                HelpRow::new(
                    "option keys",
                    "pick on a choice field (shown below the form)",
                ),
                HelpRow::new("enter", "go to the next field"),
                HelpRow::new("left, right", "move in the field; backspace deletes"),
            ],
            notes: sanitize(&self.project.instructions).into_owned(),
        }
    }
}

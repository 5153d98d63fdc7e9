//! The transcribe screen: a clip's player line and note above a text area pre-filled with
//! the machine draft. It owns the queue of tasks, the text being typed (saved as a draft
//! with its cursor on every keystroke), the empty-transcript confirmation and the style
//! hints; drawing is in `view`.

mod view;

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Context, DraftShelf, Screen, ScreenHelp, ScreenId, TaskQueue, View, undone_here};
use crate::client::player::{PlayerCommand, PlayerStatus};
use crate::model::transcript::{TranscribeRules, Transcript};
use crate::model::{AnswerValue, Project, Task, sanitize, sanitize_line};
use crate::tui::app::{Effect, Event};
use crate::tui::key::{Key, KeyCode};
use crate::tui::keymap::{Action, Keymap, Mode};
use crate::tui::widgets::help::HelpRow;
use crate::tui::widgets::text_area::{Edit, TextArea};

/// When fewer tasks than this wait in the queue, ask the runtime for more.
const LOW_WATER: usize = 3;

/// The task on screen and what has been typed for it.
#[derive(Debug)]
pub struct Typing {
    pub task: Task,
    pub area: TextArea,
    /// Submit was pressed on an empty transcript once: the next submit sends it.
    pub confirm_empty: bool,
}

impl Typing {
    fn new(task: Task, draft: Option<Transcript>) -> Typing {
        let area = match draft {
            Some(kept) => TextArea::with_cursor(&kept.text, kept.cursor.unwrap_or(usize::MAX)),
            None => TextArea::new(task.draft().unwrap_or("")),
        };
        Typing {
            task,
            area,
            confirm_empty: false,
        }
    }

    /// The text and cursor as a draft to keep.
    fn draft(&self) -> Transcript {
        Transcript {
            text: self.area.text().to_string(),
            cursor: Some(self.area.cursor()),
        }
    }
}

#[derive(Debug)]
pub struct Transcribe {
    project: Project,
    rules: TranscribeRules,
    tasks: TaskQueue,
    current: Option<Typing>,
    /// Drafts of queued tasks, applied when the task comes on screen.
    drafts: DraftShelf<Transcript>,
    /// The style hints are shown in place of the task's note.
    hints: bool,
    /// The player's last report; None until it has said anything.
    player: Option<PlayerStatus>,
    /// Terminal columns: home, end, up and down go by the rows the text takes there.
    width: u16,
}

/// The rules a transcribe project without any (a schema that somehow lacks them) is held
/// to: the defaults a bare `[transcribe]` table gives.
fn default_rules() -> TranscribeRules {
    TranscribeRules {
        style: Vec::new(),
        tags: Vec::new(),
        max_chars: crate::model::transcript::DEFAULT_TRANSCRIPT_CHARS,
        normalise: Default::default(),
        player: Default::default(),
    }
}

impl Transcribe {
    /// The screen on `project` (a transcribe project), asking for its first tasks.
    pub fn open(project: Project, cx: &mut Context) -> Transcribe {
        cx.effect(Effect::WantTasks {
            project: project.name.clone(),
            queued: 0,
        });
        let rules = project
            .transcribe
            .as_deref()
            .cloned()
            .unwrap_or_else(default_rules);
        Transcribe {
            project,
            rules,
            tasks: TaskQueue::new(LOW_WATER),
            current: None,
            drafts: DraftShelf::new(unreadable_message),
            hints: false,
            player: None,
            width: cx.shared.size.0,
        }
    }

    pub fn project(&self) -> &Project {
        &self.project
    }

    pub fn rules(&self) -> &TranscribeRules {
        &self.rules
    }

    /// The task on screen and its text, if a task is.
    pub fn current(&self) -> Option<&Typing> {
        self.current.as_ref()
    }

    pub fn hints_shown(&self) -> bool {
        self.hints
    }

    pub fn player(&self) -> Option<&PlayerStatus> {
        self.player.as_ref()
    }

    fn play(&mut self, command: PlayerCommand, cx: &mut Context) {
        if self.current.is_none() {
            return cx.say("no clip to play yet");
        }
        cx.effect(Effect::Player(command));
    }

    fn on_player(&mut self, status: PlayerStatus, cx: &mut Context) {
        if let Some(problem) = status.problem.as_ref().filter(|_| {
            self.player.as_ref().and_then(|p| p.problem.as_ref()) != status.problem.as_ref()
        }) {
            // Said once; typing goes on whether there is sound or not.
            cx.say(format!("no sound: {problem}; you can still type"));
        }
        if self.player.as_ref() != Some(&status) {
            self.player = Some(status);
            cx.redraw();
        }
    }

    /// Columns the text area draws its text in at the present width (see `view`).
    fn text_width(&self) -> usize {
        view::text_columns(self.width)
    }

    fn on_projects(&mut self, projects: Vec<Project>, cx: &mut Context) {
        let Some(project) = projects.into_iter().find(|p| p.name == self.project.name) else {
            return cx.close(format!(
                "project {} is no longer available; pick another",
                sanitize_line(&self.project.name)
            ));
        };
        if let Some(rules) = project.transcribe.as_deref() {
            self.rules = rules.clone();
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
        self.current = self.tasks.waiting.pop_front().map(|task| {
            let draft = self.drafts.on_screen(task.id, cx);
            Typing::new(task, draft)
        });
        // The clip is loaded as the task is shown, so the first play key sounds at once.
        if let Some(clip) = self.current.as_ref().and_then(|c| c.task.clip.clone()) {
            cx.effect(Effect::Player(PlayerCommand::Load(clip)));
        }
        self.tasks
            .ask_when_low(&self.project.name, self.current.is_some(), cx);
    }

    fn on_draft(&mut self, task: i64, value: AnswerValue, cx: &mut Context) {
        let AnswerValue::Transcript(kept) = value else {
            return cx.say(unreadable_message("it is not a transcript"));
        };
        let showing = self.current_task();
        if let Some(kept) = self.drafts.arrived(task, kept, showing, &self.tasks)
            && let Some(current) = self.current.as_mut()
        {
            *current = Typing::new(current.task.clone(), Some(kept));
            cx.redraw();
        }
    }

    fn on_undone(&mut self, undone: Option<(Task, AnswerValue)>, cx: &mut Context) {
        let Some((task, value)) = undone_here(undone, &self.project.name, cx) else {
            return;
        };
        let AnswerValue::Transcript(said) = value else {
            return cx.say("the answer taken back is not a transcript; type it again");
        };
        let id = task.id;
        self.tasks.taken_back(id);
        let back = Typing::new(task, Some(said));
        if let Some(shown) = self.current.replace(back)
            && shown.task.id != id
        {
            // The text on screen keeps its draft in the store: it comes back next.
            self.drafts.keep(shown.task.id, shown.draft());
            self.tasks.waiting.push_front(shown.task);
        }
        cx.say("answer taken back: change what you need and send it again");
        cx.redraw();
    }

    /// Keep the text and cursor as they are now in the store.
    fn save_draft(&self, cx: &mut Context) {
        if let Some(t) = &self.current {
            cx.effect(Effect::SaveDraft {
                task: t.task.id,
                value: AnswerValue::Transcript(t.draft()),
            });
        }
    }

    /// Send the transcript if it fits the project; an empty one only when submit is
    /// pressed twice.
    fn submit(&mut self, cx: &mut Context) {
        let send_key = key_name(cx.keymap(), Action::Submit);
        let Some(current) = &mut self.current else {
            return cx.say("no task to answer yet");
        };
        let value = self
            .project
            .normalise(&AnswerValue::Transcript(Transcript::new(
                current.area.text(),
            )));
        if let Err(e) = self.project.validate(&value) {
            return cx.say(format!("not sent: {e}"));
        }
        if TranscribeRules::is_empty(current.area.text()) && !current.confirm_empty {
            current.confirm_empty = true;
            let tag = self
                .rules
                .tags
                .iter()
                .find(|t| t.contains("speech"))
                .map_or_else(String::new, |t| format!(", or type {t}"));
            return cx.say(format!(
                "nothing typed: {send_key} again sends it empty{tag}"
            ));
        }
        if let Some(done) = self.current.take() {
            self.tasks.held.remove(&done.task.id);
            cx.effect(Effect::Player(PlayerCommand::Stop));
            cx.effect(Effect::Save {
                task: done.task,
                value,
            });
        }
        cx.clear_message();
        self.advance(cx);
    }

    /// Undo typing first; with none left on this task, take back the last answer.
    fn undo(&mut self, cx: &mut Context) {
        if let Some(current) = self.current.as_mut().filter(|c| c.area.can_undo()) {
            current.area.undo();
            current.confirm_empty = false;
            cx.clear_message();
            cx.redraw();
            return self.save_draft(cx);
        }
        cx.effect(Effect::Undo {
            project: self.project.name.clone(),
        });
    }

    fn paste(&mut self, text: &str, cx: &mut Context) {
        let Some(current) = &mut self.current else {
            return cx.say("no task to type for yet");
        };
        if current.area.paste(text) == Edit::Changed {
            current.confirm_empty = false;
            cx.clear_message();
            cx.redraw();
            self.save_draft(cx);
        }
    }

    /// A key that types or moves in the text.
    fn edit_key(&mut self, key: Key, cx: &mut Context) {
        let width = self.text_width();
        let Some(current) = &mut self.current else {
            return cx.say("no task to type for yet");
        };
        match current.area.key(key, width) {
            Edit::Changed => {
                current.confirm_empty = false;
                cx.clear_message();
                cx.redraw();
                self.save_draft(cx);
            }
            Edit::Moved => {
                cx.redraw();
                self.save_draft(cx);
            }
            Edit::Nothing => {}
            // Esc is where people go when lost: it clears, it never scolds.
            Edit::NotMine if key.code == KeyCode::Esc => cx.clear_message(),
            Edit::NotMine => {
                let help = cx
                    .help_key(Mode::Transcribe, true)
                    .map_or_else(String::new, |k| format!("; {k} shows help"));
                cx.say(format!("key {key} does nothing here{help}"));
            }
        }
    }
}

fn key_name(keymap: &Keymap, action: Action) -> String {
    keymap
        .keys_for(Mode::Transcribe, action)
        .first()
        .map_or_else(|| action.name().to_string(), |k| k.to_string())
}

fn unreadable_message(why: &str) -> String {
    format!("a kept draft of this transcript could not be read ({why}); type it again")
}

impl Screen for Transcribe {
    fn work_project(&self) -> Option<&Project> {
        Some(&self.project)
    }

    fn id(&self) -> ScreenId {
        ScreenId::Transcribe
    }

    fn mode(&self) -> Mode {
        Mode::Transcribe
    }

    fn title(&self) -> Cow<'_, str> {
        sanitize_line(&self.project.title)
    }

    fn takes_text(&self) -> bool {
        self.current.is_some()
    }

    fn on_key(&mut self, key: Key, action: Option<Action>, cx: &mut Context) {
        self.width = cx.shared.size.0;
        match action {
            Some(Action::Submit) => self.submit(cx),
            Some(Action::Undo) => self.undo(cx),
            Some(Action::Hint) => {
                self.hints = !self.hints;
                cx.redraw();
            }
            Some(Action::Skip) => match self.current.take() {
                Some(current) => {
                    self.tasks.held.remove(&current.task.id);
                    cx.effect(Effect::Player(PlayerCommand::Stop));
                    cx.effect(Effect::Skip { task: current.task });
                    cx.clear_message();
                    self.advance(cx);
                }
                None => cx.say("no task to skip"),
            },
            Some(Action::PlayPause) => self.play(PlayerCommand::PlayPause, cx),
            Some(Action::Back) => self.play(PlayerCommand::Back, cx),
            Some(Action::Forward) => self.play(PlayerCommand::Forward, cx),
            Some(Action::Slower) => self.play(PlayerCommand::Slower, cx),
            Some(Action::Faster) => self.play(PlayerCommand::Faster, cx),
            Some(Action::Loop) => self.play(PlayerCommand::Loop, cx),
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
            Event::Paste(text) => self.paste(&text, cx),
            Event::Player(status) => self.on_player(status, cx),
            Event::Resize(w, _) => self.width = w,
            Event::Key(_)
            | Event::Status(_)
            | Event::Message(_)
            | Event::Waiting(_)
            | Event::Feedback(_)
            | Event::Progress(_)
            | Event::Training(_)
            | Event::Class(_)
            | Event::Review(_) => {}
        }
    }

    fn takes_paste(&self) -> bool {
        true
    }

    /// The task on screen, for a flag (broken audio, unclear, ...).
    fn current_task(&self) -> Option<i64> {
        self.current.as_ref().map(|c| c.task.id)
    }

    fn render(&self, frame: &mut Frame, body: Rect, view: &View) {
        view::render(self, frame, body, view);
    }

    fn guide(&self, keymap: &Keymap, width: usize) -> Option<String> {
        view::guide(self, keymap, width)
    }

    fn help(&self) -> ScreenHelp {
        let mut notes = sanitize(&self.project.instructions).into_owned();
        if !self.rules.style.is_empty() {
            notes.push_str("\n\nStyle:");
            for rule in &self.rules.style {
                notes.push_str("\n- ");
                notes.push_str(&sanitize_line(rule));
            }
        }
        if !self.rules.tags.is_empty() {
            notes.push_str("\n\nTags: ");
            notes.push_str(&sanitize_line(&self.rules.tags.join(" ")));
        }
        notes.push_str("\n\n");
        notes.push_str(&self.rules.player.describe());
        ScreenHelp {
            rows: vec![
                HelpRow::new("letters, enter", "type the transcript; enter starts a line"),
                HelpRow::new(
                    "left, right",
                    "move by one character; ctrl with them by word",
                ),
                HelpRow::new("up, down, home, end", "move by line on screen"),
                HelpRow::new("backspace, delete", "delete a character; ctrl-w a word"),
                HelpRow::new("ctrl-y", "redo typing taken back by undo"),
            ],
            notes: notes.trim().to_string(),
        }
    }
}

//! The reviewer's screen (`kazi review`, and over SSH): the queue of open items, then one
//! item with every answer side by side under its worker's pseudonym, accuracy and time
//! taken, the aggregate and its confidence, a word diff (transcripts) or a field diff
//! (forms). A digit picks an answer as the verdict in one key; `edit` writes one in the
//! workers' own screen (`edit`); a flag or contest is upheld or rejected; `note` writes
//! why first. Its effects are `Effect::Review`, carried out by the review executor
//! (`tui::review_link`) over HTTP locally or over the store in an SSH session.

mod edit;
mod view;

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Context, Screen, ScreenHelp, ScreenId, View};
use crate::client::player::{PlayState, PlayerCommand, PlayerStatus};
use crate::model::{AnswerValue, Task, sanitize_line};
use crate::protocol::{MAX_QUEUE_ENTRIES, QueueEntry, ReviewCase, VerdictKind};
use crate::tui::app::{Effect, Event};
use crate::tui::key::{Key, KeyCode};
use crate::tui::keymap::{Action, Keymap, Mode};
use crate::tui::widgets::help::HelpRow;
use edit::{Edited, Editor};

/// Longest note the screen lets a reviewer type (the server's limit).
const MAX_NOTE: usize = crate::protocol::MAX_REVIEW_NOTE_CHARS;

/// What the review screen asks the executor to do.
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewEffect {
    /// The open items of the reviewer's projects (optionally one project).
    Queue { project: Option<String> },
    /// Hold this item and show it.
    Take { item: i64 },
    /// The verdict, for this reason: `value` is the final answer (none for a reject).
    Decide {
        item: i64,
        verdict: VerdictKind,
        value: Option<AnswerValue>,
        note: String,
    },
    /// Put the item back undecided.
    Release { item: i64 },
}

/// What comes back.
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewEvent {
    Queue(Vec<QueueEntry>),
    /// `None`: the item went to someone else or was decided meanwhile.
    Case(Option<Box<ReviewCase>>),
    Decided {
        item: i64,
        told: u64,
    },
    /// The server refused or could not be reached: shown, nothing lost.
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Typing {
    No,
    Note,
}

/// A verdict sent and not answered yet.
#[derive(Debug)]
enum Pending {
    /// A pick, an uphold with a shown answer, a reject.
    Verdict,
    /// The editor's answer: back into the editor if the verdict is refused.
    Written(Task, AnswerValue),
}

#[derive(Debug)]
pub struct Review {
    project: Option<String>,
    queue: Vec<QueueEntry>,
    cursor: usize,
    case: Option<Box<ReviewCase>>,
    /// The answer marked in the item (also the base of the word diff).
    marked: usize,
    note: String,
    typing: Typing,
    /// The reviewer's own answer to the open item, kept while it is open.
    editor: Option<Editor>,
    /// The editor is on screen (esc shows the answers again, the editor kept).
    editing: bool,
    pending: Option<Pending>,
    /// Items decided on this screen since it opened.
    decided: u32,
    /// The player's last report on the open item's clip.
    player: Option<PlayerStatus>,
    /// The projects seen in the queue, for `projects` to step through.
    projects: Vec<String>,
}

impl Review {
    /// The screen, empty until the first `ReviewEvent::Queue` (the executor's start).
    pub fn open(project: Option<String>) -> Review {
        Review {
            project,
            queue: Vec::new(),
            cursor: 0,
            case: None,
            marked: 0,
            note: String::new(),
            typing: Typing::No,
            editor: None,
            editing: false,
            pending: None,
            decided: 0,
            player: None,
            projects: Vec::new(),
        }
    }

    /// The item open on screen, if any.
    pub fn case(&self) -> Option<&ReviewCase> {
        self.case.as_deref()
    }

    /// The player's last report on the open item's clip.
    pub fn player(&self) -> Option<&PlayerStatus> {
        self.player.as_ref()
    }

    /// The project the queue is filtered by (`--project`, or chosen with `projects`).
    pub fn project(&self) -> Option<&str> {
        self.project.as_deref()
    }

    /// The editor is on screen.
    pub fn editing(&self) -> bool {
        self.editing && self.editor.is_some()
    }

    fn refresh(&self, cx: &mut Context) {
        cx.effect(Effect::Review(ReviewEffect::Queue {
            project: self.project.clone(),
        }));
    }

    fn is_claim(case: &ReviewCase) -> bool {
        matches!(case.reason.as_str(), "flag" | "contest")
    }

    fn decide(
        &mut self,
        verdict: VerdictKind,
        value: Option<AnswerValue>,
        pending: Pending,
        cx: &mut Context,
    ) {
        let Some(case) = &self.case else { return };
        cx.effect(Effect::Review(ReviewEffect::Decide {
            item: case.item,
            verdict,
            value,
            note: self.note.clone(),
        }));
        self.pending = Some(pending);
    }

    fn pick(&mut self, index: usize, cx: &mut Context) {
        let Some(case) = &self.case else { return };
        let Some(answer) = case.answers.get(index) else {
            return cx.say(format!("there is no answer {}", index + 1));
        };
        let (value, of) = (answer.value.clone(), case.answers.len());
        self.decide(VerdictKind::Pick, Some(value), Pending::Verdict, cx);
        cx.say(format!("answer {} of {of} sent as the verdict", index + 1));
    }

    /// Open the editor (or go back to the one kept), starting from the marked answer.
    fn edit(&mut self, verdict: VerdictKind, cx: &mut Context) {
        let Some(case) = &self.case else { return };
        if let Err(e) = cx.keymap().check_labels(&case.project) {
            return cx.say(e.to_string());
        }
        match &mut self.editor {
            Some(editor) => editor.verdict = verdict,
            None => {
                let start = case.answers.get(self.marked).map(|a| &a.value);
                let player = self.player.as_ref();
                self.editor = Some(Editor::open(case, start, verdict, player, cx));
            }
        }
        self.editing = true;
        let send = self
            .editor
            .as_ref()
            .and_then(|e| {
                let mode = e.screen.mode();
                cx.keymap()
                    .shown_key(mode, Action::Submit, e.screen.takes_text())
            })
            .map_or_else(String::new, |k| format!("{k} sends it, "));
        cx.say(format!(
            "write the final answer: {send}esc goes back to the answers"
        ));
        cx.redraw();
    }

    fn uphold(&mut self, cx: &mut Context) {
        let Some(case) = &self.case else { return };
        if !Self::is_claim(case) {
            return cx.say("only a flag or a contest is upheld; here pick an answer or edit one");
        }
        let contest = case.reason == "contest";
        match case.answers.get(self.marked) {
            Some(answer) => {
                let value = answer.value.clone();
                self.decide(VerdictKind::Uphold, Some(value), Pending::Verdict, cx);
                cx.say(if contest {
                    format!("contest upheld: answer {} is the gold now", self.marked + 1)
                } else {
                    format!("flag upheld: answer {} is the final one", self.marked + 1)
                });
            }
            None => self.edit(VerdictKind::Uphold, cx),
        }
    }

    fn reject(&mut self, cx: &mut Context) {
        let Some(case) = &self.case else { return };
        if !Self::is_claim(case) {
            return cx.say("only a flag or a contest is rejected; here pick an answer or edit one");
        }
        if self.note.trim().is_empty() {
            let key = cx
                .keymap()
                .shown_key(Mode::Review, Action::Note, false)
                .map_or_else(String::new, |k| format!(" ({k})"));
            return cx.say(format!(
                "write why first{key}: the worker who raised it is told"
            ));
        }
        let reason = case.reason.clone();
        self.decide(VerdictKind::Reject, None, Pending::Verdict, cx);
        cx.say(format!("{reason} rejected; the worker is told why"));
    }

    fn key_in_queue(&mut self, key: Key, action: Option<Action>, cx: &mut Context) {
        let last = self.queue.len().saturating_sub(1);
        match (action, key.code) {
            (Some(Action::Next), _) | (None, KeyCode::Down) => {
                self.cursor = (self.cursor + 1).min(last);
                cx.redraw();
            }
            (Some(Action::Prev), _) | (None, KeyCode::Up) => {
                self.cursor = self.cursor.saturating_sub(1);
                cx.redraw();
            }
            (Some(Action::Pick), _) | (None, KeyCode::Enter) => match self.queue.get(self.cursor) {
                Some(entry) if entry.busy => cx.say("another reviewer has this item open"),
                Some(entry) => cx.effect(Effect::Review(ReviewEffect::Take { item: entry.item })),
                None => self.refresh(cx),
            },
            (Some(Action::Refresh), _) => self.refresh(cx),
            _ => cx.say("arrows choose an item, enter opens it"),
        }
    }

    fn key_in_editor(&mut self, key: Key, action: Option<Action>, cx: &mut Context) {
        if key.code == KeyCode::Esc && !key.ctrl && !key.alt {
            self.editing = false;
            cx.say("your answer is kept while the item is open; edit goes back to it");
            return cx.redraw();
        }
        let player_key = matches!(
            action,
            Some(
                Action::PlayPause
                    | Action::Back
                    | Action::Forward
                    | Action::Slower
                    | Action::Faster
                    | Action::Loop
            )
        );
        if let Some(why) = self.no_sound_here().filter(|_| player_key) {
            // Said again on every player key: the editor's own line promises nothing.
            return cx.say(why.to_string());
        }
        let Some(editor) = &mut self.editor else {
            return;
        };
        let verdict = editor.verdict;
        match editor.key(key, action, cx) {
            Edited::Writing => {}
            Edited::Answer(task, value) => {
                self.editing = false;
                let pending = Pending::Written(task, value.clone());
                self.decide(verdict, Some(value), pending, cx);
                cx.say("your answer sent as the verdict");
                cx.redraw();
            }
            Edited::Dropped => {
                self.editor = None;
                self.editing = false;
                cx.say("your answer dropped; the item stays open");
                cx.redraw();
            }
        }
    }

    fn key_in_case(&mut self, key: Key, action: Option<Action>, cx: &mut Context) {
        if self.editing() {
            return self.key_in_editor(key, action, cx);
        }
        let Some(case) = &self.case else { return };
        let last = case.answers.len().saturating_sub(1);
        if self.typing == Typing::Note {
            match key.code {
                KeyCode::Enter | KeyCode::Esc => self.typing = Typing::No,
                KeyCode::Backspace => {
                    self.note.pop();
                }
                KeyCode::Char(c)
                    if !key.ctrl && !key.alt && self.note.chars().count() < MAX_NOTE =>
                {
                    self.note.push(c)
                }
                _ => {}
            }
            return cx.redraw();
        }
        match (action, key.code, key.plain_char()) {
            (Some(Action::Note), ..) => {
                self.typing = Typing::Note;
                cx.redraw();
            }
            (Some(Action::Next), ..) | (None, KeyCode::Down, _) => {
                self.marked = (self.marked + 1).min(last);
                cx.redraw();
            }
            (Some(Action::Prev), ..) | (None, KeyCode::Up, _) => {
                self.marked = self.marked.saturating_sub(1);
                cx.redraw();
            }
            (Some(Action::Pick), ..) | (None, KeyCode::Enter, _) => self.pick(self.marked, cx),
            (None, _, Some(c @ '1'..='9')) => self.pick(c as usize - '1' as usize, cx),
            (Some(Action::Edit), ..) => self.edit(VerdictKind::Edit, cx),
            (Some(Action::PlayPause), ..) => self.play(PlayerCommand::PlayPause, cx),
            (Some(Action::Uphold), ..) => self.uphold(cx),
            (Some(Action::Reject), ..) => self.reject(cx),
            (None, KeyCode::Esc, _) => {
                let item = case.item;
                cx.effect(Effect::Review(ReviewEffect::Release { item }));
                self.close_case(cx);
                self.refresh(cx);
                cx.redraw();
            }
            _ => cx.say("press an answer's number to pick it, or note first"),
        }
    }

    /// Close the open item, its audio stopped.
    fn close_case(&mut self, cx: &mut Context) {
        if self.case.as_ref().is_some_and(|c| c.clip.is_some()) {
            cx.effect(Effect::Player(PlayerCommand::Stop));
        }
        self.player = None;
        self.case = None;
        self.editor = None;
        self.editing = false;
        self.pending = None;
    }

    /// Whether the open item has a clip that can be heard here (not over SSH).
    fn sound(&self) -> bool {
        self.case.as_ref().is_some_and(|c| c.clip.is_some()) && self.no_sound_here().is_none()
    }

    /// A player command for the open item's clip.
    fn play(&mut self, command: PlayerCommand, cx: &mut Context) {
        if let Some(why) = self.no_sound_here() {
            return cx.say(why.to_string());
        }
        match self.case.as_ref().map(|c| c.clip.is_some()) {
            Some(true) => cx.effect(Effect::Player(command)),
            Some(false) => cx.say("this task has no audio"),
            None => {}
        }
    }

    /// Why no sound can be played here at all (over SSH), once the player said so.
    fn no_sound_here(&self) -> Option<&str> {
        self.player
            .as_ref()
            .filter(|p| p.state == PlayState::Idle)
            .and_then(|p| p.problem.as_deref())
    }

    /// The player's report: drawn, its problem said once, and given to the editor.
    fn on_player(&mut self, status: PlayerStatus, cx: &mut Context) {
        if self.case.is_none() {
            return;
        }
        let before = self.player.as_ref().and_then(|p| p.problem.as_ref());
        if let Some(problem) = status.problem.as_ref().filter(|p| Some(*p) != before) {
            cx.say(problem.clone());
        }
        if let Some(editor) = &mut self.editor {
            editor.event(Event::Player(status.clone()), cx);
        }
        if self.player.as_ref() != Some(&status) {
            self.player = Some(status);
            cx.redraw();
        }
    }

    /// `projects` on the queue: the next project seen in it, then all of them again.
    fn next_project(&mut self, cx: &mut Context) {
        if self.case.is_some() {
            return cx.say("projects filters the queue: esc goes back to it first");
        }
        let at = self
            .project
            .as_ref()
            .and_then(|p| self.projects.iter().position(|q| q == p));
        self.project = match at {
            None => self.projects.first().cloned(),
            Some(i) => self.projects.get(i + 1).cloned(),
        };
        self.cursor = 0;
        cx.say(match &self.project {
            Some(p) => format!("the queue of project {}", sanitize_line(p)),
            None if self.projects.is_empty() => "nothing waits in any of your projects".into(),
            None => "the queue of all your projects".into(),
        });
        self.refresh(cx);
    }

    fn on_failed(&mut self, why: String, cx: &mut Context) {
        if let Some(Pending::Written(task, value)) = self.pending.take()
            && let Some(editor) = &mut self.editor
        {
            // The verdict was refused: the answer comes back to be changed.
            editor.restore(task, value, cx);
            self.editing = true;
        }
        cx.say(why);
    }
}

impl Screen for Review {
    fn id(&self) -> ScreenId {
        ScreenId::Review
    }

    fn mode(&self) -> Mode {
        match &self.editor {
            Some(editor) if self.editing => editor.screen.mode(),
            _ => Mode::Review,
        }
    }

    fn title(&self) -> Cow<'_, str> {
        match &self.case {
            Some(case) => format!(
                "Review {}{} · {} · task {}",
                case.reason.replace('_', " "),
                if self.editing() {
                    " · your answer"
                } else {
                    ""
                },
                sanitize_line(&case.project.name),
                sanitize_line(&case.task)
            )
            .into(),
            None => "Review queue".into(),
        }
    }

    fn on_key(&mut self, key: Key, action: Option<Action>, cx: &mut Context) {
        match action {
            Some(Action::Projects) => return self.next_project(cx),
            Some(a @ (Action::Feedback | Action::Progress | Action::Lessons | Action::Contest)) => {
                return cx.say(format!(
                    "{a} is not on the review screen: it is the workers' (your verdicts \
                     reach them as feedback)"
                ));
            }
            _ => {}
        }
        if self.case.is_some() {
            self.key_in_case(key, action, cx)
        } else {
            self.key_in_queue(key, action, cx)
        }
    }

    fn on_event(&mut self, event: Event, cx: &mut Context) {
        let event = match event {
            Event::Review(event) => event,
            Event::Player(status) => return self.on_player(status, cx),
            paste @ Event::Paste(_) if self.editing() => {
                if let Some(editor) = &mut self.editor {
                    editor.event(paste, cx);
                }
                return;
            }
            _ => return,
        };
        match event {
            ReviewEvent::Queue(items) => {
                // The projects `projects` steps through: those of the whole queue, else
                // (filtered) those known so far and the one shown.
                if self.project.is_none() {
                    self.projects.clear();
                }
                self.projects
                    .extend(items.iter().map(|i| i.project.clone()));
                self.projects.extend(self.project.clone());
                self.projects.sort();
                self.projects.dedup();
                self.queue = items;
                self.cursor = self.cursor.min(self.queue.len().saturating_sub(1));
            }
            ReviewEvent::Case(Some(case)) => {
                // A flag or contest opens on the answer of the worker who raised it.
                self.marked = case
                    .raised_by
                    .as_ref()
                    .and_then(|by| case.answers.iter().position(|a| &a.worker == by))
                    .unwrap_or(0);
                self.close_case(cx);
                // The clip is loaded as the item opens, so the first play key sounds.
                if let Some(clip) = case.clip.clone() {
                    cx.effect(Effect::Player(PlayerCommand::Load(clip)));
                }
                self.case = Some(case);
                self.note.clear();
                self.typing = Typing::No;
                cx.clear_message();
            }
            ReviewEvent::Case(None) => {
                cx.say("that item was taken or decided meanwhile");
                self.refresh(cx);
            }
            ReviewEvent::Decided { item, told } => {
                if self.case.as_ref().is_some_and(|c| c.item == item) {
                    self.close_case(cx);
                }
                self.decided += 1;
                cx.say(format!("decided; {told} worker(s) will be told"));
                self.refresh(cx);
            }
            ReviewEvent::Failed(why) => self.on_failed(why, cx),
        }
        cx.redraw();
    }

    fn render(&self, frame: &mut Frame, body: Rect, view: &View) {
        match (&self.case, &self.editor) {
            (Some(_), Some(editor)) if self.editing => editor.screen.render(frame, body, view),
            (Some(case), _) => {
                let marks = view::Marks {
                    marked: self.marked,
                    note: &self.note,
                    typing: self.typing == Typing::Note,
                    player: self.player.as_ref(),
                };
                view::case(frame, body, view, case, &marks)
            }
            (None, _) => view::queue(frame, body, view, &self.queue, self.cursor),
        }
    }

    fn guide(&self, keymap: &Keymap, width: usize) -> Option<String> {
        if let Some(editor) = self.editor.as_ref().filter(|_| self.editing) {
            let lead = "esc answers · ";
            let inner = editor
                .screen
                .guide(keymap, width.saturating_sub(lead.len()))
                .unwrap_or_default();
            return Some(format!("{lead}{inner}"));
        }
        Some(match (&self.case, self.typing) {
            (Some(_), Typing::Note) => "type the note; enter when done".into(),
            (Some(case), _) if Self::is_claim(case) => {
                view::claim_guide(keymap, case.answers.len(), self.sound(), width)
            }
            (Some(case), _) => view::case_guide(keymap, case.answers.len(), self.sound(), width),
            (None, _) if self.queue.is_empty() => "nothing to review; F5 looks again".into(),
            (None, _) => "enter opens the item · F5 looks again".into(),
        })
    }

    fn help(&self) -> ScreenHelp {
        if let Some(editor) = self.editor.as_ref().filter(|_| self.editing) {
            let mut help = editor.screen.help();
            help.rows.insert(
                0,
                HelpRow::new("esc", "back to the answers (your answer is kept)"),
            );
            help.notes = format!(
                "Your answer is the final one: sent as the verdict when you submit it, with \
                 your note.\n\n{}",
                help.notes
            );
            return help;
        }
        ScreenHelp {
            rows: vec![
                HelpRow::new("1-9", "pick that answer as the final one"),
                HelpRow::new("up, down", "mark an item or an answer"),
                HelpRow::new("enter", "open the item / pick the marked answer"),
                HelpRow::new("esc", "back to the queue (the item goes back too)"),
            ],
            notes: "A verdict is final: workers whose answers differ are told, with your note. \
                    A flag or a contest is upheld with the marked answer (a contest's gold \
                    becomes it) or rejected with a note for the worker who raised it."
                .into(),
        }
    }

    fn global_words(&self, action: Action) -> Option<&'static str> {
        match action {
            Action::Projects => Some("filter the queue: the next project, then all"),
            Action::Feedback | Action::Progress | Action::Lessons | Action::Contest => {
                Some("not on the review screen (the workers' own)")
            }
            _ => None,
        }
    }

    fn takes_text(&self) -> bool {
        match &self.editor {
            Some(editor) if self.editing => editor.screen.takes_text(),
            _ => self.typing == Typing::Note,
        }
    }

    fn takes_paste(&self) -> bool {
        self.editor
            .as_ref()
            .is_some_and(|e| self.editing && e.screen.takes_paste())
    }

    fn counts(&self) -> Option<Vec<String>> {
        let more = if self.queue.len() >= MAX_QUEUE_ENTRIES {
            "+"
        } else {
            ""
        };
        Some(vec![
            format!("queue {}{more}", self.queue.len()),
            format!("decided {}", self.decided),
            match &self.project {
                Some(p) => format!("project {p}"),
                None => "all projects".to_string(),
            },
        ])
    }
}

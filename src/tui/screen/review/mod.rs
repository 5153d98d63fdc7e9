//! The reviewer's screen (`kazi review`): the queue of open items, then one item with
//! every answer side by side under its worker's pseudonym, accuracy and time taken, the
//! aggregate and its confidence, a word diff (transcripts) or a field diff (forms);
//! a digit picks an answer as the verdict in one key, `note` writes why first. Its
//! effects are `Effect::Review`, carried out by whatever executor runs the App (HTTP
//! locally, the store over SSH).

mod view;

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Context, Screen, ScreenHelp, ScreenId, View};
use crate::model::{AnswerValue, sanitize_line};
use crate::protocol::{QueueEntry, ReviewCase};
use crate::tui::app::{Effect, Event};
use crate::tui::key::{Key, KeyCode};
use crate::tui::keymap::{Action, Keymap, Mode};
use crate::tui::widgets::help::HelpRow;

/// Longest note the screen lets a reviewer type (the server's limit).
const MAX_NOTE: usize = crate::protocol::MAX_REVIEW_NOTE_CHARS;

/// What the review screen asks the executor to do.
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewEffect {
    /// The open items of the reviewer's projects (optionally one project).
    Queue { project: Option<String> },
    /// Hold this item and show it.
    Take { item: i64 },
    /// The verdict: this answer is final, for this reason.
    Decide {
        item: i64,
        value: AnswerValue,
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
        }
    }

    fn refresh(&self, cx: &mut Context) {
        cx.effect(Effect::Review(ReviewEffect::Queue {
            project: self.project.clone(),
        }));
    }

    fn pick(&mut self, index: usize, cx: &mut Context) {
        let Some(case) = &self.case else { return };
        let Some(answer) = case.answers.get(index) else {
            return cx.say(format!("there is no answer {}", index + 1));
        };
        cx.effect(Effect::Review(ReviewEffect::Decide {
            item: case.item,
            value: answer.value.clone(),
            note: self.note.clone(),
        }));
        cx.say(format!(
            "answer {} of {} sent as the verdict",
            index + 1,
            case.answers.len()
        ));
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

    fn key_in_case(&mut self, key: Key, action: Option<Action>, cx: &mut Context) {
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
            (Some(Action::Edit), ..) => {
                cx.say("write the final answer in the worker's screen; here pick one or note why")
            }
            (None, KeyCode::Esc, _) => {
                let item = case.item;
                cx.effect(Effect::Review(ReviewEffect::Release { item }));
                self.case = None;
                self.refresh(cx);
                cx.redraw();
            }
            _ => cx.say("press an answer's number to pick it, or note first"),
        }
    }
}

impl Screen for Review {
    fn id(&self) -> ScreenId {
        ScreenId::Review
    }

    fn mode(&self) -> Mode {
        Mode::Review
    }

    fn title(&self) -> Cow<'_, str> {
        match &self.case {
            Some(case) => format!(
                "Review {} · {} · task {}",
                case.reason.replace('_', " "),
                sanitize_line(&case.project.name),
                sanitize_line(&case.task)
            )
            .into(),
            None => "Review queue".into(),
        }
    }

    fn on_key(&mut self, key: Key, action: Option<Action>, cx: &mut Context) {
        if self.case.is_some() {
            self.key_in_case(key, action, cx)
        } else {
            self.key_in_queue(key, action, cx)
        }
    }

    fn on_event(&mut self, event: Event, cx: &mut Context) {
        let Event::Review(event) = event else { return };
        match event {
            ReviewEvent::Queue(items) => {
                self.queue = items;
                self.cursor = self.cursor.min(self.queue.len().saturating_sub(1));
            }
            ReviewEvent::Case(Some(case)) => {
                self.case = Some(case);
                self.marked = 0;
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
                    self.case = None;
                }
                cx.say(format!("decided; {told} worker(s) will be told"));
                self.refresh(cx);
            }
            ReviewEvent::Failed(why) => cx.say(why),
        }
        cx.redraw();
    }

    fn render(&self, frame: &mut Frame, body: Rect, view: &View) {
        match &self.case {
            Some(case) => view::case(
                frame,
                body,
                view,
                case,
                self.marked,
                &self.note,
                self.typing == Typing::Note,
            ),
            None => view::queue(frame, body, view, &self.queue, self.cursor),
        }
    }

    fn guide(&self, _keymap: &Keymap, _width: usize) -> Option<String> {
        Some(match (&self.case, self.typing) {
            (Some(_), Typing::Note) => "type the note; enter when done".into(),
            (Some(case), _) => format!(
                "1-{} pick · ctrl-n note · esc back",
                case.answers.len().clamp(1, 9)
            ),
            (None, _) if self.queue.is_empty() => "nothing to review; F5 looks again".into(),
            (None, _) => "enter opens the item · F5 looks again".into(),
        })
    }

    fn help(&self) -> ScreenHelp {
        ScreenHelp {
            rows: vec![
                HelpRow::new("1-9", "pick that answer as the final one"),
                HelpRow::new("up, down", "mark an item or an answer"),
                HelpRow::new("enter", "open the item / pick the marked answer"),
                HelpRow::new("esc", "back to the queue (the item goes back too)"),
            ],
            notes: "A verdict is final: workers whose answers differ are told, with your note."
                .into(),
        }
    }

    fn takes_text(&self) -> bool {
        self.typing == Typing::Note
    }
}

//! The feedback screen (the `feedback` action): the worker's recent feedback items, newest
//! first (the task, their answer, the expected answer, the explanation), their accuracy
//! per project (last 50 gold and all time, labels confused most), and `contest` on a
//! missed gold item with a short note. Everything comes from the local store, so it works
//! offline; everything from the server is drawn through the sanitiser.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;

use super::{Context, Screen, ScreenHelp, ScreenId, View};
use crate::model::{AnswerValue, sanitize_line, wrap};
use crate::protocol::{Accuracy, FeedbackItem, FeedbackKind, MAX_REPORT_NOTE_CHARS, ReportKind};
use crate::tui::app::{Effect, Event};
use crate::tui::key::{Key, KeyCode};
use crate::tui::keymap::{Action, Keymap, Mode};
use crate::tui::widgets::Painter;
use crate::tui::widgets::help::HelpRow;

/// Items the screen asks the store for.
pub const FEEDBACK_SHOWN: usize = 50;

/// What the feedback screen asks the runtime for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedbackEffect {
    /// Read the recent items and the accuracy; reply with `FeedbackEvent::Loaded`.
    Load,
    /// Keep a contest or flag to send with the next sync.
    Report {
        task: i64,
        kind: ReportKind,
        note: String,
    },
}

/// What the runtime tells the feedback screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedbackEvent {
    Loaded {
        items: Vec<FeedbackItem>,
        accuracy: Vec<Accuracy>,
    },
}

#[derive(Debug, Default)]
pub struct Feedback {
    items: Vec<FeedbackItem>,
    accuracy: Vec<Accuracy>,
    loaded: bool,
    cursor: usize,
    /// The note being written for a contest of the marked item.
    note: Option<String>,
}

impl Feedback {
    /// Open the screen; it asks the store for what to show.
    pub fn open(cx: &mut Context) -> Feedback {
        cx.effect(Effect::Feedback(FeedbackEffect::Load));
        Feedback::default()
    }

    pub fn items(&self) -> &[FeedbackItem] {
        &self.items
    }

    fn marked(&self) -> Option<&FeedbackItem> {
        self.items.get(self.cursor)
    }
}

/// An answer in a few words: label ids, a form's gold fields, a transcript's start.
fn shown(value: Option<&AnswerValue>) -> String {
    match value {
        None => "-".into(),
        Some(AnswerValue::Labels(labels)) => labels.join(", "),
        Some(AnswerValue::Transcript(t)) => t.text.clone(),
        Some(form @ AnswerValue::Form(_)) => form.to_compact(),
    }
}

fn percent(right: u64, of: u64) -> String {
    match of {
        0 => "no gold yet".into(),
        _ => format!("{right}/{of} ({}%)", right * 100 / of),
    }
}

/// One line per project: "products: last 50 gold 42/50 (84%), all time 130/160 (81%)",
/// then what is confused most.
pub fn accuracy_lines(accuracy: &Accuracy) -> Vec<String> {
    let mut lines = vec![format!(
        "{}: last {} gold {}, all time {}",
        accuracy.project,
        crate::protocol::RECENT_GOLD,
        percent(
            u64::from(accuracy.recent_correct),
            u64::from(accuracy.recent_total)
        ),
        percent(accuracy.all_correct, accuracy.all_total)
    )];
    if !accuracy.confused.is_empty() {
        let pairs: Vec<String> = accuracy
            .confused
            .iter()
            .map(|c| format!("{} taken for {} ({}x)", c.expected, c.given, c.count))
            .collect();
        lines.push(format!("  confused most: {}", pairs.join("; ")));
    }
    lines
}

impl Screen for Feedback {
    fn id(&self) -> ScreenId {
        ScreenId::Feedback
    }

    fn mode(&self) -> Mode {
        Mode::Global
    }

    fn title(&self) -> Cow<'_, str> {
        "Feedback on your answers".into()
    }

    fn takes_text(&self) -> bool {
        self.note.is_some()
    }

    fn on_key(&mut self, key: Key, action: Option<Action>, cx: &mut Context) {
        if let Some(note) = &mut self.note {
            match (key.code, key.plain_char()) {
                (_, Some(c)) if note.chars().count() < MAX_REPORT_NOTE_CHARS => note.push(c),
                (KeyCode::Backspace, _) => {
                    note.pop();
                }
                (KeyCode::Esc, _) => {
                    self.note = None;
                    cx.say("contest not sent");
                }
                (KeyCode::Enter, _) => {
                    let note = self.note.take().unwrap_or_default();
                    if let Some(item) = self.marked() {
                        cx.effect(Effect::Feedback(FeedbackEffect::Report {
                            task: item.task,
                            kind: ReportKind::Contest,
                            note: note.trim().to_string(),
                        }));
                        cx.say("contest kept: it goes to a reviewer with your next sync");
                    }
                }
                _ => {}
            }
            return cx.redraw();
        }
        let last = self.items.len().saturating_sub(1);
        match (action, key.code) {
            (Some(Action::Next | Action::ScrollDown), _) | (_, KeyCode::Down) => {
                self.cursor = (self.cursor + 1).min(last);
                cx.redraw();
            }
            (Some(Action::Prev | Action::ScrollUp), _) | (_, KeyCode::Up) => {
                self.cursor = self.cursor.saturating_sub(1);
                cx.redraw();
            }
            (Some(Action::Contest), _) => match self.marked() {
                Some(item) if !item.correct && item.kind != FeedbackKind::Review => {
                    self.note = Some(String::new());
                    cx.say("why is the expected answer wrong? type a short note, enter sends");
                }
                Some(_) => cx.say("only a missed gold answer can be contested"),
                None => cx.say("nothing to contest yet"),
            },
            (Some(Action::Feedback), _) | (_, KeyCode::Esc) => cx.close("back to work"),
            _ => {}
        }
    }

    fn on_event(&mut self, event: Event, cx: &mut Context) {
        if let Event::Feedback(FeedbackEvent::Loaded { items, accuracy }) = event {
            self.items = items;
            self.accuracy = accuracy;
            self.loaded = true;
            self.cursor = self.cursor.min(self.items.len().saturating_sub(1));
            cx.redraw();
        }
    }

    fn render(&self, frame: &mut Frame, body: Rect, view: &View) {
        let mut p = Painter::on(frame, view.theme);
        let (plain, marked) = (p.st.text, p.st.selected);
        let x = body.x + 1;
        let width = body.width.saturating_sub(2);
        let mut y = body.y;
        let bottom = body.bottom();
        let line = |p: &mut Painter, y: &mut u16, text: &str, style: Style| {
            if *y < bottom {
                p.put(x, *y, width, &sanitize_line(text), style);
                *y += 1;
            }
        };
        if !self.loaded {
            return line(&mut p, &mut y, "Reading your feedback...", plain);
        }
        for acc in &self.accuracy {
            for text in accuracy_lines(acc) {
                line(&mut p, &mut y, &text, plain);
            }
        }
        if self.accuracy.is_empty() {
            line(
                &mut p,
                &mut y,
                "No accuracy yet: it comes with feedback on gold tasks.",
                plain,
            );
        }
        y += 1;
        if self.items.is_empty() {
            return line(&mut p, &mut y, "No feedback yet.", plain);
        }
        // The list keeps the marked item in view; its details take the rest.
        let list_rows = usize::from(bottom.saturating_sub(y))
            .saturating_sub(5)
            .max(1);
        let first = self.cursor.saturating_sub(list_rows.saturating_sub(1));
        for (i, item) in self.items.iter().enumerate().skip(first).take(list_rows) {
            let mark = if i == self.cursor { ">" } else { " " };
            let verdict = match (item.kind, item.correct) {
                (FeedbackKind::GoldCorrected, true) => "corrected, now right",
                (FeedbackKind::GoldCorrected, false) => "corrected, now missed",
                (FeedbackKind::Review, true) => "review: kept",
                (FeedbackKind::Review, false) => "review: changed",
                (_, true) => "right",
                (_, false) => "missed",
            };
            let task: String = item.text.chars().take(40).collect();
            let you = shown(item.answer.as_ref());
            let text = match task.is_empty() {
                true => format!("{mark} {verdict}: you {you}"),
                false => format!("{mark} {verdict}: {task} (you {you})"),
            };
            let style = if i == self.cursor {
                marked
            } else {
                Style::new()
            };
            line(&mut p, &mut y, &text, style);
        }
        let Some(item) = self.marked() else {
            return;
        };
        y += 1;
        if !item.text.is_empty() {
            line(&mut p, &mut y, &format!("task: {}", item.text), plain);
        }
        line(
            &mut p,
            &mut y,
            &format!(
                "you: {}   expected: {}",
                shown(item.answer.as_ref()),
                shown(item.expected.as_ref())
            ),
            plain,
        );
        if !item.missed_fields.is_empty() {
            line(
                &mut p,
                &mut y,
                &format!("wrong fields: {}", item.missed_fields.join(", ")),
                plain,
            );
        }
        if let Some(note) = &self.note {
            line(&mut p, &mut y, &format!("your note: {note}_"), marked);
            return;
        }
        for row in wrap(&sanitize_line(&item.note), usize::from(width)) {
            line(&mut p, &mut y, &row, plain);
        }
    }

    fn guide(&self, keymap: &Keymap, _width: usize) -> Option<String> {
        if self.note.is_some() {
            return Some("type your note, enter sends, esc cancels".into());
        }
        let contest = keymap
            .keys_for(Mode::Global, Action::Contest)
            .first()
            .map(|k| format!(", {k} contests a miss"))
            .unwrap_or_default();
        Some(format!("up/down pick an item{contest}, esc back to work"))
    }

    fn help(&self) -> ScreenHelp {
        ScreenHelp {
            rows: vec![
                HelpRow::new("up, down", "pick a feedback item"),
                HelpRow::new("esc", "back to work"),
            ],
            notes: "A missed gold answer can be contested with a short note: a reviewer \
                    looks at it, and if the expected answer was wrong it is corrected and \
                    your accuracy follows."
                .into(),
        }
    }
}

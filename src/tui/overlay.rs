//! Overlays: layers drawn over the screen that take keys first (help now; feedback and
//! messages later). The App keeps them as a stack; the top one sees a key before the
//! screen does, and while one is open no key reaches the task: no blind answers.

use super::app::Effect;
use super::class::ClassEffect;
use super::key::{Key, KeyCode};
use super::keymap::{Action, Keymap, Mode};
use super::screen::ScreenHelp;
use super::screen::feedback::FeedbackEffect;
use super::widgets::help::HelpRow;
use crate::protocol::{FlagReason, JOIN_CODE_LEN, ReportKind, normalize_join_code};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    /// Keys of the active keymap and the screen, and the project's instructions;
    /// `scroll` is the first line shown.
    Help { scroll: usize },
    /// Why the task on screen is flagged: the worker picks a reason by its number.
    Flag { task: i64 },
    /// The code of the trainer's class, as the student types it.
    Join { typed: Typed },
}

/// A few characters typed into an overlay (kept `Copy`, like the overlays).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Typed {
    chars: [u8; Typed::MAX],
    len: u8,
}

impl Typed {
    const MAX: usize = 12;

    fn push(&mut self, c: char) -> bool {
        if !(c.is_ascii_alphanumeric() || c == '-' || c == ' ')
            || usize::from(self.len) == Typed::MAX
        {
            return false;
        }
        self.chars[usize::from(self.len)] = c as u8;
        self.len += 1;
        true
    }

    fn pop(&mut self) -> bool {
        if self.len == 0 {
            return false;
        }
        self.len -= 1;
        true
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is ever pushed.
        std::str::from_utf8(&self.chars[..usize::from(self.len)]).unwrap_or("")
    }
}

/// What an overlay did with a key.
pub(crate) enum Taken {
    /// Still open.
    Kept,
    /// Close this overlay.
    Close,
    /// The key asks for an effect (quit works from anywhere).
    Effect(Effect),
    /// Close this overlay, and carry out an effect.
    CloseWith(Effect),
    /// Still open; a line for the message line.
    Say(String),
}

impl Overlay {
    /// `max_scroll`: how far the overlay can scroll at the present size.
    pub(crate) fn on_key(&mut self, key: Key, action: Option<Action>, max_scroll: usize) -> Taken {
        match self {
            Overlay::Help { scroll } => match (action, key.code) {
                (Some(Action::Quit), _) => Taken::Effect(Effect::Quit),
                (Some(Action::Help), _) | (_, KeyCode::Esc) => Taken::Close,
                // The arrows and page keys scroll in every mode, whatever they do below.
                (Some(Action::ScrollDown), _) | (_, KeyCode::Down | KeyCode::PageDown) => {
                    *scroll = (*scroll + step(key)).min(max_scroll);
                    Taken::Kept
                }
                (Some(Action::ScrollUp), _) | (_, KeyCode::Up | KeyCode::PageUp) => {
                    *scroll = scroll.saturating_sub(step(key)).min(max_scroll);
                    Taken::Kept
                }
                // Other keys do nothing while help covers the task.
                _ => Taken::Kept,
            },
            Overlay::Flag { task } => match (action, key.code, key.plain_char()) {
                (Some(Action::Quit), ..) => Taken::Effect(Effect::Quit),
                (_, KeyCode::Esc, _) | (Some(Action::Flag), ..) => Taken::Close,
                (_, _, Some(c @ '1'..='4')) => {
                    let reason = FlagReason::ALL[c as usize - '1' as usize];
                    Taken::CloseWith(Effect::Feedback(FeedbackEffect::Report {
                        task: *task,
                        kind: ReportKind::Flag(reason),
                        note: String::new(),
                    }))
                }
                // No key reaches the task while the question is open: no blind answers.
                _ => Taken::Kept,
            },
            Overlay::Join { typed } => match (key.code, key.plain_char()) {
                (_, Some(c)) => {
                    if typed.push(c) {
                        Taken::Kept
                    } else {
                        Taken::Say(format!(
                            "a class code has {JOIN_CODE_LEN} letters and digits, as the trainer's screen shows"
                        ))
                    }
                }
                (KeyCode::Backspace, _) => {
                    typed.pop();
                    Taken::Kept
                }
                (KeyCode::Esc, _) => Taken::Close,
                (KeyCode::Enter, _) => match normalize_join_code(typed.as_str()) {
                    Some(code) => Taken::CloseWith(Effect::Class(ClassEffect::Join { code })),
                    None => Taken::Say(format!(
                        "not a class code: it has {JOIN_CODE_LEN} letters and digits, like KX7M4P \
                         (no 0, O, 1, I or L); type it again"
                    )),
                },
                _ if action == Some(Action::Quit) => Taken::Effect(Effect::Quit),
                _ => Taken::Kept,
            },
        }
    }

    /// The join question, with what is typed so far.
    pub fn join_question(typed: &Typed) -> String {
        format!(
            "Class code: {}_   (enter joins, esc cancels)",
            typed.as_str()
        )
    }

    /// The flag question in one line: the reasons by number.
    pub fn flag_question() -> String {
        let reasons: Vec<String> = FlagReason::ALL
            .iter()
            .enumerate()
            .map(|(i, r)| format!("{} {}", i + 1, r.words()))
            .collect();
        format!("Flag this task as: {}; esc cancels", reasons.join(", "))
    }
}

/// Lines a scroll key moves: a line for the arrows, most of a page otherwise.
fn step(key: Key) -> usize {
    match key.code {
        KeyCode::Up | KeyCode::Down => 1,
        _ => 10,
    }
}

/// The help overlay's rows: the screen's own first, then every action bound in `mode`
/// or `global`, in the words of the active keymap so help never lies (and of the
/// screen, for a global action it takes: `words`).
pub(crate) fn help_rows(
    keymap: &Keymap,
    mode: Mode,
    screen: ScreenHelp,
    words: &dyn Fn(Action) -> Option<&'static str>,
) -> Vec<HelpRow> {
    let mut rows = screen.rows;
    let mut actions: Vec<Action> = Vec::new();
    for m in [mode, Mode::Global] {
        for b in keymap.bindings(m) {
            if !actions.contains(&b.action) {
                actions.push(b.action);
            }
        }
    }
    for action in actions {
        let keys = keymap.keys_for(mode, action);
        if keys.is_empty() {
            continue;
        }
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        rows.push(HelpRow::new(
            keys.join(", "),
            format!(
                "{action}: {}",
                words(action).unwrap_or_else(|| action.description())
            ),
        ));
    }
    rows
}

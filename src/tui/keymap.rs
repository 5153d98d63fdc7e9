//! Keymaps are data: `keymaps/*.toml` maps keys to a closed set of named actions, per
//! mode. A user file is laid over the built-in default; a bad file is refused with its
//! file, line and the offending key or action. Help is generated from the active keymap.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use toml::Spanned;

use super::key::Key;
use crate::model::{Project, TaskKind, line_of, sanitize_line};

/// Everything a key can be bound to. The snake_case names are the file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Help,
    Quit,
    Undo,
    Skip,
    Submit,
    Hint,
    Flag,
    Contest,
    NextField,
    PrevField,
    PlayPause,
    Back,
    Forward,
    Slower,
    Faster,
    Loop,
    Reveal,
    Next,
    Prev,
    Pick,
    Edit,
    Note,
    Uphold,
    Reject,
    Feedback,
    Progress,
    AddRow,
    RemoveRow,
    ScrollUp,
    ScrollDown,
    Refresh,
    Projects,
    Lessons,
    Class,
    Report,
    Join,
    EndClass,
}

impl Action {
    pub const ALL: [Action; 37] = [
        Action::Help,
        Action::Quit,
        Action::Undo,
        Action::Skip,
        Action::Submit,
        Action::Hint,
        Action::Flag,
        Action::Contest,
        Action::NextField,
        Action::PrevField,
        Action::PlayPause,
        Action::Back,
        Action::Forward,
        Action::Slower,
        Action::Faster,
        Action::Loop,
        Action::Reveal,
        Action::Next,
        Action::Prev,
        Action::Pick,
        Action::Edit,
        Action::Note,
        Action::Uphold,
        Action::Reject,
        Action::Feedback,
        Action::Progress,
        Action::AddRow,
        Action::RemoveRow,
        Action::ScrollUp,
        Action::ScrollDown,
        Action::Refresh,
        Action::Projects,
        Action::Lessons,
        Action::Class,
        Action::Report,
        Action::Join,
        Action::EndClass,
    ];

    /// The name used in keymap files.
    pub fn name(self) -> &'static str {
        self.info().0
    }

    /// A few plain words for the help screen.
    pub fn description(self) -> &'static str {
        self.info().1
    }

    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    fn info(self) -> (&'static str, &'static str) {
        match self {
            Action::Help => ("help", "show or hide this help"),
            Action::Quit => ("quit", "send what is unsent and leave"),
            Action::Undo => ("undo", "take back the last answer"),
            Action::Skip => ("skip", "leave this task for someone else"),
            Action::Submit => ("submit", "send the chosen answer"),
            Action::Hint => ("hint", "show or hide label examples"),
            Action::Flag => ("flag", "mark this task as broken or unclear"),
            Action::Contest => ("contest", "dispute the expected answer"),
            Action::NextField => ("next_field", "go to the next field"),
            Action::PrevField => ("prev_field", "go to the previous field"),
            Action::PlayPause => ("play_pause", "play or pause the audio"),
            Action::Back => ("back", "jump back in the audio"),
            Action::Forward => ("forward", "jump forward in the audio"),
            Action::Slower => ("slower", "play the audio slower"),
            Action::Faster => ("faster", "play the audio faster"),
            Action::Loop => ("loop", "repeat the audio"),
            Action::Reveal => ("reveal", "show the answer and why"),
            Action::Next => ("next", "go to the next item"),
            Action::Prev => ("prev", "go to the previous item"),
            Action::Pick => ("pick", "choose this answer"),
            Action::Edit => ("edit", "write the answer yourself"),
            Action::Note => ("note", "write a note on why"),
            Action::Uphold => (
                "uphold",
                "uphold the flag or contest with the marked answer",
            ),
            Action::Reject => ("reject", "reject the flag or contest (note why first)"),
            Action::Feedback => ("feedback", "show feedback on your answers"),
            Action::Progress => ("progress", "your tasks, accuracy and earnings"),
            Action::AddRow => ("add_row", "add a row to the table (line items)"),
            Action::RemoveRow => ("remove_row", "remove the table row you are on"),
            Action::ScrollUp => ("scroll_up", "scroll the document up"),
            Action::ScrollDown => ("scroll_down", "scroll the document down"),
            Action::Refresh => ("refresh", "ask the server for new work now"),
            Action::Projects => ("projects", "go back to the list of projects"),
            Action::Lessons => ("lessons", "practise the project's lessons"),
            Action::Class => (
                "class",
                "start a class on this lesson, or switch between lesson and class",
            ),
            Action::Report => ("report", "show the class report (answers per step)"),
            Action::Join => ("join", "join the trainer's class with its code"),
            Action::EndClass => (
                "end_class",
                "end the class: students go back to their own pace",
            ),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where keys mean something: `global` applies everywhere a mode does not override it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    Global,
    Classify,
    Transcribe,
    Entry,
    Review,
    Train,
    /// The trainer's presentation and class views.
    Present,
}

impl Mode {
    pub const ALL: [Mode; 7] = [
        Mode::Global,
        Mode::Classify,
        Mode::Transcribe,
        Mode::Entry,
        Mode::Review,
        Mode::Train,
        Mode::Present,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Global => "global",
            Mode::Classify => "classify",
            Mode::Transcribe => "transcribe",
            Mode::Entry => "entry",
            Mode::Review => "review",
            Mode::Train => "train",
            Mode::Present => "present",
        }
    }

    pub fn parse(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The mode a worker is in while doing a task of this kind.
    pub fn for_kind(kind: TaskKind) -> Mode {
        match kind {
            TaskKind::Classify => Mode::Classify,
            TaskKind::Entry => Mode::Entry,
            TaskKind::Transcribe => Mode::Transcribe,
        }
    }
}

/// One key bound to one action, and the file line that bound it (for error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub key: Key,
    pub action: Action,
    pub file: Arc<str>,
    pub line: usize,
    /// Which overlay bound it (later files rank first): the order keys are named in.
    layer: u32,
}

/// A keymap file that cannot be used. `Display` gives `file:line: what`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct KeymapError {
    pub file: String,
    /// 0 when the error is about the whole file (it cannot be read).
    pub line: usize,
    pub message: String,
}

impl fmt::Display for KeymapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// The built-in keymap, also shipped as a file users can copy.
pub const DEFAULT_FILE: &str = "keymaps/default.toml";
const DEFAULT_TEXT: &str = include_str!("../../keymaps/default.toml");
/// The action name that removes a default binding instead of adding one.
const UNBIND: &str = "none";

/// Active bindings per mode, sorted by action, then the user's file before the default,
/// then file order: the first key of an action is the one the screen names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    modes: [Vec<Binding>; 7],
    layers: u32,
}

impl Default for Keymap {
    fn default() -> Keymap {
        let mut keymap = Keymap {
            modes: Default::default(),
            layers: 0,
        };
        // The default file is ours and compiled in; a test parses it on every build.
        if let Err(e) = keymap.overlay(DEFAULT_FILE, DEFAULT_TEXT) {
            panic!("the built-in keymap is broken: {e}");
        }
        keymap
    }
}

/// The action of `key` in `mode` of these bindings, falling back to `global`.
fn lookup(modes: &[Vec<Binding>; 7], mode: Mode, key: Key) -> Option<Action> {
    let find = |m: Mode| {
        modes[m as usize]
            .iter()
            .find(|b| b.key == key)
            .map(|b| b.action)
    };
    find(mode).or_else(|| find(Mode::Global))
}

type FileTables = BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<String>>>;

impl Keymap {
    /// Read a user's keymap file and lay it over the default.
    pub fn load(path: &Path) -> Result<Keymap, KeymapError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| KeymapError {
            file: file.clone(),
            line: 0,
            message: format!("cannot read the keymap: {e}"),
        })?;
        Keymap::from_toml(&file, &text)
    }

    /// The default with `text` (a keymap file named `file` in errors) laid over it.
    pub fn from_toml(file: &str, text: &str) -> Result<Keymap, KeymapError> {
        let mut keymap = Keymap::default();
        keymap.overlay(file, text)?;
        Ok(keymap)
    }

    /// Apply a file's bindings: each key it names replaces that key's binding in the mode.
    /// Nothing changes unless the whole file is good.
    fn overlay(&mut self, file: &str, text: &str) -> Result<(), KeymapError> {
        let err = |offset: usize, message: String| KeymapError {
            file: file.to_string(),
            line: line_of(text, offset),
            message,
        };
        let tables: FileTables = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            err(offset, e.message().trim().to_string())
        })?;
        let file_name: Arc<str> = Arc::from(file);
        let mut next = self.modes.clone();
        // Where the file last took a quit key away, for the error if none is left.
        let mut quit_touched: Option<usize> = None;
        for (mode_name, table) in &tables {
            let mode = Mode::parse(mode_name.get_ref()).ok_or_else(|| {
                err(
                    mode_name.span().start,
                    format!(
                        "unknown mode [{}]; modes are {}",
                        sanitize_line(mode_name.get_ref()),
                        Mode::ALL.map(Mode::name).join(", ")
                    ),
                )
            })?;
            // Keys seen in this table: two spellings of one key are a mistake.
            let mut seen: Vec<(Key, &Spanned<String>)> = Vec::with_capacity(table.len());
            for (key_text, action_text) in table {
                let line = line_of(text, key_text.span().start);
                let key = Key::parse(key_text.get_ref())
                    .map_err(|e| err(key_text.span().start, e.to_string()))?;
                if let Some((_, other)) = seen.iter().find(|(k, _)| *k == key) {
                    // Tables come sorted by key text: point at the later line of the two.
                    let (first, second) = if other.span().start < key_text.span().start {
                        (*other, key_text)
                    } else {
                        (key_text, *other)
                    };
                    return Err(err(
                        second.span().start,
                        format!(
                            "key \"{}\" is bound twice in [{}]: \"{}\" on line {} is the same key",
                            sanitize_line(second.get_ref()),
                            mode.name(),
                            sanitize_line(first.get_ref()),
                            line_of(text, first.span().start),
                        ),
                    ));
                }
                seen.push((key, key_text));
                if lookup(&next, mode, key) == Some(Action::Quit) {
                    quit_touched = Some(key_text.span().start);
                }
                let bindings = &mut next[mode as usize];
                bindings.retain(|b| b.key != key);
                if action_text.get_ref() == UNBIND {
                    continue;
                }
                let action = Action::parse(action_text.get_ref()).ok_or_else(|| {
                    err(
                        action_text.span().start,
                        format!(
                            "unknown action \"{}\" for key \"{}\"; actions are {}, or \"{UNBIND}\" to unbind",
                            sanitize_line(action_text.get_ref()),
                            sanitize_line(key_text.get_ref()),
                            Action::ALL.map(Action::name).join(", ")
                        ),
                    )
                })?;
                bindings.push(Binding {
                    key,
                    action,
                    file: Arc::clone(&file_name),
                    line,
                    layer: self.layers,
                });
            }
        }
        for bindings in &mut next {
            bindings.sort_by_key(|b| (b.action, std::cmp::Reverse(b.layer), b.line));
        }
        // Every screen must keep a way out: a worker must never be locked in.
        if let Some(offset) = quit_touched {
            let candidate = Keymap {
                modes: next.clone(),
                layers: self.layers,
            };
            if let Some(mode) = Mode::ALL
                .into_iter()
                .find(|&m| candidate.keys_for(m, Action::Quit).is_empty())
            {
                return Err(err(
                    offset,
                    format!(
                        "this file leaves no key to quit in [{}]; keep one, \
                         for example \"ctrl-q\" = \"quit\" under [global]",
                        mode.name()
                    ),
                ));
            }
        }
        self.modes = next;
        self.layers += 1;
        Ok(())
    }

    /// The action of a key in a mode, falling back to `global`.
    pub fn action(&self, mode: Mode, key: Key) -> Option<Action> {
        lookup(&self.modes, mode, key)
    }

    /// A mode's own bindings (not global's), in help order.
    pub fn bindings(&self, mode: Mode) -> &[Binding] {
        &self.modes[mode as usize]
    }

    /// Keys that do `action` in `mode` (its own bindings first, then global ones that the
    /// mode does not override), for hints like "? help".
    pub fn keys_for(&self, mode: Mode, action: Action) -> Vec<Key> {
        let mut keys: Vec<Key> = Vec::new();
        for m in [mode, Mode::Global] {
            for b in self.bindings(m) {
                if b.action == action
                    && self.action(mode, b.key) == Some(action)
                    && !keys.contains(&b.key)
                {
                    keys.push(b.key);
                }
            }
        }
        keys
    }

    /// The key a screen names for `action` ("? help"): the first bound, leaving out plain
    /// characters where the screen takes text (there they type; they do not act).
    pub fn shown_key(&self, mode: Mode, action: Action, takes_text: bool) -> Option<Key> {
        self.keys_for(mode, action)
            .into_iter()
            .find(|k| !(takes_text && k.plain_char().is_some()))
    }

    /// A project's label keys must not be keys of its mode or of `global`: the worker
    /// would press a label and get an action (or the other way round).
    pub fn check_labels(&self, project: &Project) -> Result<(), KeymapError> {
        self.check_labels_in(project, Mode::for_kind(project.kind))
    }

    /// The same check in another mode than the project's work (the trainer's `present`,
    /// where label keys show their answers).
    pub fn check_labels_in(&self, project: &Project, mode: Mode) -> Result<(), KeymapError> {
        for label in &project.labels {
            let key = Key::char(label.key);
            let hit = [mode, Mode::Global].into_iter().find_map(|m| {
                self.bindings(m)
                    .iter()
                    .find(|b| b.key == key)
                    .map(|b| (m, b))
            });
            if let Some((m, b)) = hit {
                return Err(KeymapError {
                    file: b.file.to_string(),
                    line: b.line,
                    message: format!(
                        "key '{}' is label '{}' of project {} and also bound to {} in [{}] \
                         of {}, so the project stays closed; in your keymap (--keymap FILE) \
                         unbind it with \"{}\" = \"{UNBIND}\" under [{}], or ask for the \
                         label's key to be changed",
                        key,
                        sanitize_line(&label.name),
                        sanitize_line(&project.name),
                        b.action,
                        m.name(),
                        b.file,
                        key,
                        m.name(),
                    ),
                });
            }
        }
        Ok(())
    }
}

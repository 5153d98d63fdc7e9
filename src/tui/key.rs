//! Our own key type: what keymaps bind and the App understands. Keys come from crossterm
//! on a local terminal (`TryFrom<KeyEvent>`) and from `KeyDecoder` on a raw byte stream
//! (an SSH channel), where an escape sequence may arrive split across reads.

use std::fmt;

/// A key without modifiers. Letters keep their case: 'A' is shift-a.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCode {
    Char(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Insert,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    /// Function keys f1..f12 (f13+ are accepted from crossterm too).
    F(u8),
}

/// A key press: a code and its modifiers. Shift is only kept for keys whose code does not
/// already carry it (shift-up yes; 'A' is just `Char('A')`, shift-tab is `BackTab`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
}

/// A key name that does not parse; the text says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a key; write e.g. \"1\", \"a\", \"?\", \"space\", \"enter\", \"ctrl-s\", \"alt-left\", \"f5\""
)]
pub struct KeyParseError(pub String);

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pageup", KeyCode::PageUp),
    ("pagedown", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("space", KeyCode::Char(' ')),
];

/// Other spellings people write; they parse to the same key as the canonical name.
const ALIASES: &[(&str, KeyCode)] = &[
    ("return", KeyCode::Enter),
    ("escape", KeyCode::Esc),
    ("del", KeyCode::Delete),
    ("ins", KeyCode::Insert),
    ("pgup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("pgdown", KeyCode::PageDown),
    ("bs", KeyCode::Backspace),
];

impl Key {
    pub const fn new(code: KeyCode) -> Key {
        Key {
            code,
            ctrl: false,
            alt: false,
            shift: false,
        }
    }

    pub const fn char(c: char) -> Key {
        Key::new(KeyCode::Char(c))
    }

    pub const fn ctrl(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            ctrl: true,
            alt: false,
            shift: false,
        }
    }

    pub const fn alt(code: KeyCode) -> Key {
        Key {
            code,
            ctrl: false,
            alt: true,
            shift: false,
        }
    }

    /// The printable character of an unmodified key: what a label key is compared with.
    pub fn plain_char(&self) -> Option<char> {
        match self.code {
            KeyCode::Char(c) if !self.ctrl && !self.alt => Some(c),
            _ => None,
        }
    }

    /// One canonical form for keys that a terminal cannot tell apart.
    fn normalized(mut self) -> Key {
        match self.code {
            KeyCode::Char(c) => {
                // A terminal sends the same byte for ctrl-s and ctrl-S.
                if self.ctrl && c.is_ascii_alphabetic() {
                    self.code = KeyCode::Char(c.to_ascii_lowercase());
                }
                self.shift = false;
            }
            KeyCode::Tab if self.shift => {
                self.code = KeyCode::BackTab;
                self.shift = false;
            }
            KeyCode::BackTab => self.shift = false,
            _ => {}
        }
        self
    }

    /// Parse a key as written in a keymap: `"1"`, `"?"`, `"space"`, `"ctrl-s"`, `"C-s"`,
    /// `"alt-left"`, `"shift-up"`, `"f5"`. Named keys and modifiers ignore case; a single
    /// character keeps it ("A" is shift-a).
    pub fn parse(text: &str) -> Result<Key, KeyParseError> {
        let bad = || KeyParseError(crate::model::sanitize_line(text).into_owned());
        let mut key = Key::new(KeyCode::Esc);
        let mut rest = text;
        // Peel "mod-" prefixes; a lone "-" (or a trailing "-" as in "ctrl--") is the key.
        while let Some(dash) = rest.find('-') {
            if dash == 0 {
                break;
            }
            let (modifier, tail) = (&rest[..dash], &rest[dash + 1..]);
            if tail.is_empty() {
                return Err(bad());
            }
            match modifier.to_ascii_lowercase().as_str() {
                "ctrl" | "control" | "c" => key.ctrl = true,
                "alt" | "meta" | "a" | "m" => key.alt = true,
                "shift" | "s" => key.shift = true,
                _ => return Err(bad()),
            }
            rest = tail;
        }
        let mut chars = rest.chars();
        key.code = match (chars.next(), chars.next()) {
            (None, _) => return Err(bad()),
            (Some(c), None) if !c.is_control() => {
                if key.shift && c.is_ascii_lowercase() {
                    KeyCode::Char(c.to_ascii_uppercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            _ => {
                let lower = rest.to_ascii_lowercase();
                if let Some(&(_, code)) = NAMED.iter().chain(ALIASES).find(|(n, _)| *n == lower) {
                    code
                } else if let Some(n) = lower.strip_prefix('f').and_then(|d| d.parse::<u8>().ok())
                    && (1..=24).contains(&n)
                {
                    KeyCode::F(n)
                } else {
                    return Err(bad());
                }
            }
        };
        Ok(key.normalized())
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        if self.shift {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            code => {
                let name = NAMED
                    .iter()
                    .find(|(_, c)| *c == code)
                    .map_or("?", |(n, _)| n);
                f.write_str(name)
            }
        }
    }
}

/// A crossterm key event that is not a key press we use (a release, a media key...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnusedKeyEvent;

impl TryFrom<crossterm::event::KeyEvent> for Key {
    type Error = UnusedKeyEvent;

    /// Key presses and repeats map to a `Key`; releases and keys we have no name for are
    /// `Err`, so the runtime drops them.
    fn try_from(ev: crossterm::event::KeyEvent) -> Result<Key, UnusedKeyEvent> {
        use crossterm::event::{KeyCode as C, KeyEventKind, KeyModifiers as M};
        if ev.kind == KeyEventKind::Release {
            return Err(UnusedKeyEvent);
        }
        let code = match ev.code {
            C::Char(c) => KeyCode::Char(c),
            C::Enter => KeyCode::Enter,
            C::Esc => KeyCode::Esc,
            C::Tab => KeyCode::Tab,
            C::BackTab => KeyCode::BackTab,
            C::Backspace => KeyCode::Backspace,
            C::Delete => KeyCode::Delete,
            C::Insert => KeyCode::Insert,
            C::Up => KeyCode::Up,
            C::Down => KeyCode::Down,
            C::Left => KeyCode::Left,
            C::Right => KeyCode::Right,
            C::PageUp => KeyCode::PageUp,
            C::PageDown => KeyCode::PageDown,
            C::Home => KeyCode::Home,
            C::End => KeyCode::End,
            C::F(n) => KeyCode::F(n),
            _ => return Err(UnusedKeyEvent),
        };
        Ok(Key {
            code,
            ctrl: ev.modifiers.contains(M::CONTROL),
            alt: ev.modifiers.contains(M::ALT),
            shift: ev.modifiers.contains(M::SHIFT),
        }
        .normalized())
    }
}

/// Longest escape sequence we wait for; anything longer is garbage and dropped.
const MAX_SEQUENCE: usize = 32;
const ESC: u8 = 0x1b;
/// Bracketed paste: the terminal wraps pasted text in these.
const PASTE_START: &[u8] = b"\x1b[200~";
const PASTE_END: &[u8] = b"\x1b[201~";
/// Pasted text kept at most; the rest of a huge paste is dropped.
pub const MAX_PASTE: usize = 16 * 1024;

/// What a byte stream means: keys, and text pasted as a whole (bracketed paste), which
/// must never act as keys (a pasted "1" is not a label choice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    Key(Key),
    Paste(String),
}

/// Turns a terminal's byte stream into keys. Bytes of an unfinished sequence are kept for
/// the next `feed`; a lone ESC stays pending until `flush_timeout` (the runtime calls it
/// when no byte followed for a short while), because ESC also starts every sequence.
/// Text between the bracketed-paste markers comes out whole as `Typed::Paste`.
#[derive(Debug, Default)]
pub struct KeyDecoder {
    pending: Vec<u8>,
    /// Inside a bracketed paste: the text so far.
    paste: Option<Vec<u8>>,
}

enum Decoded {
    Key(Key, usize),
    /// Consumed bytes that mean no key we know (a mouse report, garbage).
    Skip(usize),
    Incomplete,
}

impl KeyDecoder {
    pub fn new() -> KeyDecoder {
        KeyDecoder::default()
    }

    /// Whether bytes wait for more input (or for `flush_timeout`).
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty() || self.paste.is_some()
    }

    /// Keys of the bytes; pasted text comes out as its characters, typed.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Key> {
        let typed = self.feed_input(bytes);
        flatten(typed)
    }

    /// What the bytes mean, keys and pastes in order.
    pub fn feed_input(&mut self, bytes: &[u8]) -> Vec<Typed> {
        self.pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut at = 0;
        while at < self.pending.len() {
            if let Some(paste) = self.paste.as_mut() {
                let rest = &self.pending[at..];
                match find(rest, PASTE_END) {
                    Some(end) => {
                        keep_pasted(paste, &rest[..end]);
                        let text = String::from_utf8_lossy(paste).into_owned();
                        out.push(Typed::Paste(text));
                        self.paste = None;
                        at += end + PASTE_END.len();
                    }
                    None => {
                        // Keep what could be the start of the end marker.
                        let keep = partial_suffix(rest, PASTE_END);
                        keep_pasted(paste, &rest[..rest.len() - keep]);
                        at = self.pending.len() - keep;
                        break;
                    }
                }
                continue;
            }
            if self.pending[at..].starts_with(PASTE_START) {
                self.paste = Some(Vec::new());
                at += PASTE_START.len();
                continue;
            }
            match decode(&self.pending[at..]) {
                Decoded::Key(key, n) => {
                    out.push(Typed::Key(key));
                    at += n;
                }
                Decoded::Skip(n) => at += n,
                Decoded::Incomplete => break,
            }
        }
        self.pending.drain(..at);
        out
    }

    /// No more bytes came: what is pending is taken literally. A lone ESC is the Esc key;
    /// an unfinished sequence is ESC followed by its bytes as typed; a cut UTF-8 character
    /// is dropped.
    pub fn flush_timeout(&mut self) -> Vec<Key> {
        let typed = self.flush_timeout_input();
        flatten(typed)
    }

    /// `flush_timeout`, keeping pastes whole: a paste whose end marker never came ends
    /// with what arrived.
    pub fn flush_timeout_input(&mut self) -> Vec<Typed> {
        let mut out = Vec::new();
        if let Some(mut paste) = self.paste.take() {
            let rest = std::mem::take(&mut self.pending);
            keep_pasted(&mut paste, &rest);
            out.push(Typed::Paste(String::from_utf8_lossy(&paste).into_owned()));
            return out;
        }
        while !self.pending.is_empty() {
            if self.pending[0] == ESC {
                out.push(Typed::Key(Key::new(KeyCode::Esc)));
                self.pending.remove(0);
            }
            let rest = std::mem::take(&mut self.pending);
            out.extend(self.feed_input(&rest));
            if self.paste.is_some() {
                return out;
            }
            if self.pending.first().is_some_and(|&b| b != ESC) {
                // Only a cut UTF-8 character can still be pending here.
                self.pending.clear();
            }
        }
        out
    }
}

fn flatten(typed: Vec<Typed>) -> Vec<Key> {
    let mut keys = Vec::new();
    for t in typed {
        match t {
            Typed::Key(k) => keys.push(k),
            Typed::Paste(text) => keys.extend(text.chars().map(Key::char)),
        }
    }
    keys
}

fn keep_pasted(paste: &mut Vec<u8>, bytes: &[u8]) {
    let room = MAX_PASTE.saturating_sub(paste.len());
    paste.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// How many bytes at the end of `hay` are a proper start of `marker`.
fn partial_suffix(hay: &[u8], marker: &[u8]) -> usize {
    (1..marker.len())
        .rev()
        .find(|&n| hay.len() >= n && hay[hay.len() - n..] == marker[..n])
        .unwrap_or(0)
}

fn decode(b: &[u8]) -> Decoded {
    match b[0] {
        ESC => decode_escape(b),
        0x80.. => decode_utf8(b),
        byte => Decoded::Key(control_or_ascii(byte), 1),
    }
}

fn control_or_ascii(byte: u8) -> Key {
    match byte {
        b'\r' | b'\n' => Key::new(KeyCode::Enter),
        b'\t' => Key::new(KeyCode::Tab),
        0x7f | 0x08 => Key::new(KeyCode::Backspace),
        0x00 => Key::ctrl(' '),
        0x01..=0x1a => Key::ctrl(char::from(b'a' + byte - 1)),
        0x1c..=0x1f => Key::ctrl(char::from(b'\\' + byte - 0x1c)),
        _ => Key::char(char::from(byte)),
    }
}

fn decode_utf8(b: &[u8]) -> Decoded {
    let len = match b[0] {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return Decoded::Skip(1),
    };
    if b.len() < len {
        // Stop early on a byte that cannot continue the character.
        if b[1..].iter().any(|&c| c & 0xc0 != 0x80) {
            return Decoded::Skip(1);
        }
        return Decoded::Incomplete;
    }
    match std::str::from_utf8(&b[..len]) {
        Ok(s) => match s.chars().next() {
            Some(c) => Decoded::Key(Key::char(c), len),
            None => Decoded::Skip(len),
        },
        Err(_) => Decoded::Skip(1),
    }
}

fn decode_escape(b: &[u8]) -> Decoded {
    let Some(&second) = b.get(1) else {
        return Decoded::Incomplete;
    };
    match second {
        b'[' => decode_csi(b),
        b'O' => match b.get(2) {
            None => Decoded::Incomplete,
            Some(&c) => match final_key(c, 1) {
                Some(key) => Decoded::Key(key, 3),
                None => Decoded::Skip(3),
            },
        },
        // ESC ESC: the first is the Esc key; the second starts whatever follows.
        ESC => Decoded::Key(Key::new(KeyCode::Esc), 1),
        _ => match decode(&b[1..]) {
            Decoded::Key(mut key, n) => {
                key.alt = true;
                Decoded::Key(key, n + 1)
            }
            Decoded::Skip(n) => Decoded::Skip(n + 1),
            Decoded::Incomplete => Decoded::Incomplete,
        },
    }
}

/// CSI: ESC [ parameters (0x30-0x3f) intermediates (0x20-0x2f) final (0x40-0x7e).
fn decode_csi(b: &[u8]) -> Decoded {
    let body = &b[2..];
    let Some(end) = body.iter().position(|c| (0x40..=0x7e).contains(c)) else {
        if body.iter().any(|&c| !(0x20..=0x3f).contains(&c)) {
            // Not a sequence after all: drop the ESC [ and read the rest as typed.
            return Decoded::Skip(2);
        }
        if b.len() >= MAX_SEQUENCE {
            return Decoded::Skip(b.len());
        }
        return Decoded::Incomplete;
    };
    let len = 2 + end + 1;
    if body[..end].iter().any(|&c| !(0x20..=0x3f).contains(&c)) {
        return Decoded::Skip(2);
    }
    let params = &body[..end];
    let mut numbers = params.split(|&c| c == b';').map(|p| {
        std::str::from_utf8(p)
            .ok()
            .and_then(|s| s.parse::<u16>().ok())
    });
    let first = numbers.next().flatten().unwrap_or(1);
    let modifier = numbers.next().flatten().unwrap_or(1);
    let key = match body[end] {
        b'~' => tilde_key(first).map(|code| with_modifier(Key::new(code), modifier)),
        c => final_key(c, modifier),
    };
    match key {
        Some(key) => Decoded::Key(key, len),
        None => Decoded::Skip(len),
    }
}

fn final_key(c: u8, modifier: u16) -> Option<Key> {
    let code = match c {
        b'A' => KeyCode::Up,
        b'B' => KeyCode::Down,
        b'C' => KeyCode::Right,
        b'D' => KeyCode::Left,
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        b'P' => KeyCode::F(1),
        b'Q' => KeyCode::F(2),
        b'R' => KeyCode::F(3),
        b'S' => KeyCode::F(4),
        b'Z' => KeyCode::BackTab,
        _ => return None,
    };
    Some(with_modifier(Key::new(code), modifier))
}

fn tilde_key(n: u16) -> Option<KeyCode> {
    Some(match n {
        1 | 7 => KeyCode::Home,
        2 => KeyCode::Insert,
        3 => KeyCode::Delete,
        4 | 8 => KeyCode::End,
        5 => KeyCode::PageUp,
        6 => KeyCode::PageDown,
        11..=15 => KeyCode::F((n - 10) as u8),
        17..=21 => KeyCode::F((n - 11) as u8),
        23 | 24 => KeyCode::F((n - 12) as u8),
        _ => return None,
    })
}

/// xterm's modifier parameter: 1 + (shift 1 | alt 2 | ctrl 4).
fn with_modifier(mut key: Key, modifier: u16) -> Key {
    let bits = modifier.saturating_sub(1);
    key.shift |= bits & 1 != 0;
    key.alt |= bits & 2 != 0;
    key.ctrl |= bits & 4 != 0;
    key.normalized()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    #[test]
    fn parses_and_displays_canonically() {
        for s in [
            "ctrl-s",
            "alt-left",
            "f5",
            "space",
            "1",
            "?",
            "enter",
            "esc",
            "tab",
            "backtab",
            "backspace",
            "up",
            "down",
            "left",
            "right",
            "pageup",
            "pagedown",
            "home",
            "end",
            "delete",
            "A",
            "-",
            "ctrl--",
            "ctrl-alt-x",
            "shift-up",
            "f12",
        ] {
            assert_eq!(k(s).to_string(), s, "{s}");
        }
    }

    #[test]
    fn aliases_parse_to_the_same_key() {
        assert_eq!(k("C-s"), k("ctrl-s"));
        assert_eq!(k("ctrl-S"), k("ctrl-s"));
        assert_eq!(k("Ctrl-S"), k("ctrl-s"));
        assert_eq!(k("M-x"), k("alt-x"));
        assert_eq!(k("Enter"), k("enter"));
        assert_eq!(k("return"), k("enter"));
        assert_eq!(k("pgdn"), k("pagedown"));
        assert_eq!(k("shift-tab"), k("backtab"));
        assert_eq!(k("shift-a"), k("A"));
        assert_eq!(k(" "), k("space"));
        assert_ne!(k("a"), k("A"));
    }

    #[test]
    fn refuses_bad_keys() {
        for s in [
            "",
            "ctrl-",
            "hyper-x",
            "f0",
            "f99",
            "banana",
            "ctrl-banana",
            "\u{1b}",
        ] {
            assert!(Key::parse(s).is_err(), "{s:?}");
        }
        assert!(
            Key::parse("banana")
                .unwrap_err()
                .to_string()
                .contains("'banana'")
        );
    }

    #[test]
    fn from_crossterm() {
        use crossterm::event::{KeyCode as C, KeyEvent, KeyEventKind, KeyModifiers as M};
        let ev = |code, mods| KeyEvent::new(code, mods);
        assert_eq!(Key::try_from(ev(C::Char('A'), M::SHIFT)), Ok(k("A")));
        assert_eq!(Key::try_from(ev(C::Char('s'), M::CONTROL)), Ok(k("ctrl-s")));
        assert_eq!(Key::try_from(ev(C::Tab, M::SHIFT)), Ok(k("backtab")));
        assert_eq!(Key::try_from(ev(C::Left, M::ALT)), Ok(k("alt-left")));
        assert_eq!(Key::try_from(ev(C::F(5), M::NONE)), Ok(k("f5")));
        let mut release = ev(C::Char('1'), M::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(Key::try_from(release), Err(UnusedKeyEvent));
        assert_eq!(Key::try_from(ev(C::CapsLock, M::NONE)), Err(UnusedKeyEvent));
    }

    fn decode_all(bytes: &[u8]) -> Vec<Key> {
        let mut d = KeyDecoder::new();
        let mut keys = d.feed(bytes);
        keys.extend(d.flush_timeout());
        keys
    }

    fn keys(names: &[&str]) -> Vec<Key> {
        names.iter().map(|s| k(s)).collect()
    }

    #[test]
    fn decodes_plain_and_control_bytes() {
        assert_eq!(
            decode_all(b"a1?\r\t\x7f\x01\x1a "),
            keys(&[
                "a",
                "1",
                "?",
                "enter",
                "tab",
                "backspace",
                "ctrl-a",
                "ctrl-z",
                "space"
            ])
        );
        assert_eq!(decode_all("é电".as_bytes()), keys(&["é", "电"]));
    }

    #[test]
    fn decodes_escape_sequences() {
        let cases: &[(&[u8], &str)] = &[
            (b"\x1b[A", "up"),
            (b"\x1b[B", "down"),
            (b"\x1b[C", "right"),
            (b"\x1b[D", "left"),
            (b"\x1bOA", "up"),
            (b"\x1b[H", "home"),
            (b"\x1b[F", "end"),
            (b"\x1b[1~", "home"),
            (b"\x1b[4~", "end"),
            (b"\x1b[5~", "pageup"),
            (b"\x1b[6~", "pagedown"),
            (b"\x1b[3~", "delete"),
            (b"\x1bOP", "f1"),
            (b"\x1bOS", "f4"),
            (b"\x1b[15~", "f5"),
            (b"\x1b[17~", "f6"),
            (b"\x1b[21~", "f10"),
            (b"\x1b[24~", "f12"),
            (b"\x1b[Z", "backtab"),
            (b"\x1b[1;3D", "alt-left"),
            (b"\x1b[1;5C", "ctrl-right"),
            (b"\x1b[1;2A", "shift-up"),
            (b"\x1b[3;5~", "ctrl-delete"),
            (b"\x1bx", "alt-x"),
            (b"\x1b\x7f", "alt-backspace"),
            (b"\x1b\r", "alt-enter"),
        ];
        for (bytes, want) in cases {
            assert_eq!(decode_all(bytes), keys(&[want]), "{bytes:?}");
        }
    }

    #[test]
    fn lone_esc_waits_for_the_timeout() {
        let mut d = KeyDecoder::new();
        assert_eq!(d.feed(b"\x1b"), vec![]);
        assert!(d.has_pending());
        assert_eq!(d.flush_timeout(), keys(&["esc"]));
        assert!(!d.has_pending());
        assert_eq!(d.feed(b"\x1b\x1b"), keys(&["esc"]));
        assert_eq!(d.flush_timeout(), keys(&["esc"]));
        // An unfinished sequence flushed: ESC then what was typed.
        assert_eq!(d.feed(b"\x1b["), vec![]);
        assert_eq!(d.flush_timeout(), keys(&["esc", "["]));
    }

    #[test]
    fn unknown_sequences_are_consumed_not_typed() {
        assert_eq!(decode_all(b"\x1b[99~1"), keys(&["1"]));
        assert_eq!(decode_all(b"\x1b[202~x"), keys(&["x"]));
        assert_eq!(decode_all(b"\xff2"), keys(&["2"]));
    }

    #[test]
    fn every_split_gives_the_same_keys() {
        let stream: Vec<u8> = [
            &b"1\x1b[A\x1b[15~a"[..],
            "é电".as_bytes(),
            b"\x1bOP\x1b[1;5C\x1bx\r\x7f\x1b[3~2\x1b",
        ]
        .concat();
        let want = decode_all(&stream);
        assert_eq!(want.len(), 14, "{want:?}");
        for i in 0..=stream.len() {
            for j in i..=stream.len() {
                let mut d = KeyDecoder::new();
                let mut got = d.feed(&stream[..i]);
                got.extend(d.feed(&stream[i..j]));
                got.extend(d.feed(&stream[j..]));
                got.extend(d.flush_timeout());
                assert_eq!(got, want, "split at {i} and {j}");
            }
        }
    }
}

//! A multi-line text area: the text, a cursor that moves by grapheme cluster (a
//! Devanagari syllable, a letter with its combining marks, an emoji is one step), word
//! jumps and deletes, a paste as one edit, and its own undo. It wraps at spaces like the
//! task text and draws itself; it holds only cleaned text (`model::clean_typed`), so
//! what it draws never drives the terminal.

use std::ops::Range;

use ratatui::layout::Rect;
use ratatui::style::Style;
use unicode_segmentation::UnicodeSegmentation;

use super::Painter;
use crate::model::{clean_typed, text_width};
use crate::tui::key::{Key, KeyCode};

/// Undo steps kept; older ones are forgotten.
const UNDO_DEPTH: usize = 500;

/// What a key did to the text area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// The text changed (save the draft).
    Changed,
    /// Only the cursor moved.
    Moved,
    /// A text key with nothing to do (backspace at the start).
    Nothing,
    /// Not a key of the text area.
    NotMine,
}

/// Which run of edits an undo step covers: typing one word is one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Typing,
    Deleting,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    text: String,
    cursor: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextArea {
    text: String,
    /// Byte offset, on a character boundary.
    cursor: usize,
    undo: Vec<Snapshot>,
    redo: Vec<Snapshot>,
    run: Option<Run>,
    /// The column up and down aim for, kept while they repeat.
    goal: Option<usize>,
}

impl TextArea {
    /// A text area holding `text` (cleaned), the cursor at its end.
    pub fn new(text: &str) -> TextArea {
        let text = clean_typed(text);
        let cursor = text.len();
        TextArea {
            text,
            cursor,
            ..TextArea::default()
        }
    }

    /// A text area holding `text` with the cursor at byte `cursor` (a kept draft), moved
    /// back to the grapheme boundary at or before it.
    pub fn with_cursor(text: &str, cursor: usize) -> TextArea {
        let mut area = TextArea::new(text);
        let at = cursor.min(area.text.len());
        area.cursor = area
            .text
            .grapheme_indices(true)
            .map(|(i, _)| i)
            .take_while(|&i| i <= at)
            .last()
            .unwrap_or(0);
        if at == area.text.len() {
            area.cursor = at;
        }
        area
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Whether an undo of typing is possible.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Take a key; `width` is the columns the text is drawn in (for home, end, up and
    /// down, which go by the rows on screen).
    pub fn key(&mut self, key: Key, width: usize) -> Edit {
        let word = key.ctrl || key.alt;
        let edit = match key.code {
            KeyCode::Char(c) if !key.ctrl && !key.alt => return self.insert(&c.to_string()),
            KeyCode::Char('w') if key.ctrl => self.delete_to(self.word_left()),
            KeyCode::Char('d') if key.alt => self.delete_to(self.word_right()),
            KeyCode::Char('b') if key.alt => self.move_to(self.word_left()),
            KeyCode::Char('f') if key.alt => self.move_to(self.word_right()),
            KeyCode::Char('y') if key.ctrl => self.redo_edit(),
            KeyCode::Enter if !word => self.insert("\n"),
            KeyCode::Backspace if word => self.delete_to(self.word_left()),
            KeyCode::Backspace => self.delete_to(self.prev_boundary()),
            KeyCode::Delete if word => self.delete_to(self.word_right()),
            KeyCode::Delete => self.delete_to(self.next_boundary()),
            KeyCode::Left if key.ctrl => self.move_to(self.word_left()),
            KeyCode::Right if key.ctrl => self.move_to(self.word_right()),
            KeyCode::Left if !key.alt => self.move_to(self.prev_boundary()),
            KeyCode::Right if !key.alt => self.move_to(self.next_boundary()),
            KeyCode::Home if key.ctrl => self.move_to(0),
            KeyCode::End if key.ctrl => self.move_to(self.text.len()),
            KeyCode::Home => self.move_to(self.row_of(width).start),
            KeyCode::End => self.move_to(self.row_end(width)),
            KeyCode::Up if !word => return self.vertical(width, false),
            KeyCode::Down if !word => return self.vertical(width, true),
            _ => return Edit::NotMine,
        };
        self.goal = None;
        edit
    }

    /// Insert `text` (typed or pasted, cleaned first) at the cursor. A paste, a line
    /// break and the start of each word begin a new undo step.
    pub fn insert(&mut self, text: &str) -> Edit {
        let text = clean_typed(text);
        if text.is_empty() {
            return Edit::Nothing;
        }
        let one_char = text.chars().count() == 1;
        let word_start = text.starts_with(char::is_whitespace);
        if !(one_char && !word_start && self.run == Some(Run::Typing)) {
            self.remember();
        }
        self.run = one_char.then_some(Run::Typing);
        self.text.insert_str(self.cursor, &text);
        self.cursor += text.len();
        self.goal = None;
        Edit::Changed
    }

    /// A bracketed paste: one edit, one undo step.
    pub fn paste(&mut self, text: &str) -> Edit {
        self.run = None;
        let edit = self.insert(text);
        self.run = None;
        edit
    }

    /// Undo the last step of typing. False when there is none.
    pub fn undo(&mut self) -> bool {
        let Some(back) = self.undo.pop() else {
            return false;
        };
        let now = Snapshot {
            text: std::mem::replace(&mut self.text, back.text),
            cursor: std::mem::replace(&mut self.cursor, back.cursor),
        };
        self.redo.push(now);
        self.run = None;
        true
    }

    fn redo_edit(&mut self) -> Edit {
        let Some(again) = self.redo.pop() else {
            return Edit::Nothing;
        };
        let now = Snapshot {
            text: std::mem::replace(&mut self.text, again.text),
            cursor: std::mem::replace(&mut self.cursor, again.cursor),
        };
        self.undo.push(now);
        self.run = None;
        Edit::Changed
    }

    /// Keep the present state as an undo step; a new edit forgets what was undone.
    fn remember(&mut self) {
        if self.undo.len() == UNDO_DEPTH {
            self.undo.remove(0);
        }
        self.undo.push(Snapshot {
            text: self.text.clone(),
            cursor: self.cursor,
        });
        self.redo.clear();
    }

    /// Delete between the cursor and `to` (either side of it).
    fn delete_to(&mut self, to: usize) -> Edit {
        if to == self.cursor {
            return Edit::Nothing;
        }
        let one = to == self.prev_boundary() || to == self.next_boundary();
        if !(one && self.run == Some(Run::Deleting)) {
            self.remember();
        }
        self.run = one.then_some(Run::Deleting);
        let range = self.cursor.min(to)..self.cursor.max(to);
        self.cursor = range.start;
        self.text.replace_range(range, "");
        Edit::Changed
    }

    fn move_to(&mut self, to: usize) -> Edit {
        self.run = None;
        if to == self.cursor {
            return Edit::Nothing;
        }
        self.cursor = to;
        Edit::Moved
    }

    fn prev_boundary(&self) -> usize {
        self.text[..self.cursor]
            .grapheme_indices(true)
            .next_back()
            .map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self) -> usize {
        self.text[self.cursor..]
            .graphemes(true)
            .next()
            .map_or(self.cursor, |g| self.cursor + g.len())
    }

    /// The start of the word before the cursor (or of the one it is in).
    fn word_left(&self) -> usize {
        self.text[..self.cursor]
            .split_word_bound_indices()
            .rfind(|(_, w)| is_word(w))
            .map_or(0, |(i, _)| i)
    }

    /// The end of the word after the cursor (or of the one it is in).
    fn word_right(&self) -> usize {
        self.text[self.cursor..]
            .split_word_bound_indices()
            .find(|(_, w)| is_word(w))
            .map_or(self.text.len(), |(i, w)| self.cursor + i + w.len())
    }

    /// The rows the text takes at `width` columns, as byte ranges of the text: broken
    /// after a space where a word would not fit, between graphemes inside a word longer
    /// than a row, and at every line break (which belongs to no row). Spaces at a row's
    /// end may run past the width; they are not drawn there.
    pub fn rows(&self, width: usize) -> Vec<Range<usize>> {
        rows(&self.text, width)
    }

    /// The cursor's row and column at `width`.
    pub fn cursor_at(&self, width: usize) -> (usize, usize) {
        let rows = self.rows(width);
        place(&self.text, &rows, self.cursor)
    }

    fn row_of(&self, width: usize) -> Range<usize> {
        let rows = self.rows(width);
        let (row, _) = place(&self.text, &rows, self.cursor);
        rows[row].clone()
    }

    /// Where end goes: the row's end, before the space a wrapped row ends with.
    fn row_end(&self, width: usize) -> usize {
        let rows = self.rows(width);
        let (row, _) = place(&self.text, &rows, self.cursor);
        let r = &rows[row];
        let wrapped = rows.get(row + 1).is_some_and(|next| next.start == r.end);
        if wrapped && self.text[r.clone()].ends_with(' ') {
            r.end - 1
        } else {
            r.end
        }
    }

    fn vertical(&mut self, width: usize, down: bool) -> Edit {
        self.run = None;
        let rows = self.rows(width);
        let (row, col) = place(&self.text, &rows, self.cursor);
        let goal = *self.goal.get_or_insert(col);
        let target = match (down, row) {
            (true, r) if r + 1 < rows.len() => r + 1,
            (false, r) if r > 0 => r - 1,
            _ => return Edit::Nothing,
        };
        let r = &rows[target];
        let wrapped = rows.get(target + 1).is_some_and(|next| next.start == r.end);
        let mut at = r.start;
        let mut used = 0;
        for (i, g) in self.text[r.clone()].grapheme_indices(true) {
            let w = text_width(g);
            if used + w > goal || (wrapped && r.start + i + g.len() == r.end) {
                break;
            }
            used += w;
            at = r.start + i + g.len();
        }
        self.cursor = at;
        Edit::Moved
    }

    /// Draw the rows that hold the cursor into `area` (scrolled so the cursor's row is
    /// the last one shown when it is below), each in `style`, the caret as a drawn cell
    /// (the terminal's cursor stays hidden). Returns the caret's place.
    pub(crate) fn render(&self, p: &mut Painter, area: Rect, style: Style) -> (u16, u16) {
        // One column kept free so the cursor fits after a full row.
        let width = usize::from(area.width.saturating_sub(1)).max(1);
        let rows = self.rows(width);
        let (row, _) = place(&self.text, &rows, self.cursor);
        let height = usize::from(area.height).max(1);
        let top = (row + 1).saturating_sub(height);
        for (y, r) in (area.y..area.bottom()).zip(rows.iter().skip(top)) {
            p.put(area.x, y, area.width, &self.text[r.clone()], style);
        }
        let r = &rows[row];
        let y = area.y + ((row - top) as u16);
        super::caret_cell(
            p,
            &self.text[r.start..],
            self.cursor - r.start,
            area.x,
            y,
            area.width,
        )
    }
}

fn is_word(segment: &str) -> bool {
    segment.chars().any(char::is_alphanumeric)
}

/// The rows of `text` at `width` columns (see `TextArea::rows`).
fn rows(text: &str, width: usize) -> Vec<Range<usize>> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut line_start = 0;
    for line in text.split('\n') {
        let mut start = line_start;
        let mut col = 0;
        // Just after the last space of this row, and the columns before it.
        let mut space: Option<(usize, usize)> = None;
        for (i, g) in line.grapheme_indices(true) {
            let at = line_start + i;
            if g == " " {
                col += 1;
                space = Some((at + 1, col));
                continue;
            }
            let w = text_width(g);
            if col + w > width && col > 0 {
                match space.filter(|&(b, _)| b > start) {
                    Some((b, before)) if col - before + w <= width => {
                        out.push(start..b);
                        start = b;
                        col -= before;
                    }
                    _ => {
                        out.push(start..at);
                        start = at;
                        col = 0;
                    }
                }
                space = None;
            }
            col += w;
        }
        out.push(start..line_start + line.len());
        line_start += line.len() + 1;
    }
    out
}

/// The row and column of byte `cursor`: the last row starting at or before it, so a
/// cursor where a wrapped row ends shows at the start of the next.
fn place(text: &str, rows: &[Range<usize>], cursor: usize) -> (usize, usize) {
    let row = rows
        .iter()
        .rposition(|r| r.start <= cursor)
        .unwrap_or_default();
    let start = rows.get(row).map_or(0, |r| r.start);
    let end = cursor.max(start).min(text.len());
    (row, text_width(&text[start..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(area: &mut TextArea, keys: &[Key]) {
        for &k in keys {
            area.key(k, 20);
        }
    }

    #[test]
    fn rows_break_at_spaces_and_line_breaks() {
        let text = "habari ya asubuhi rafiki\nkaribu";
        let r = rows(text, 12);
        let shown: Vec<&str> = r.iter().map(|x| &text[x.clone()]).collect();
        assert_eq!(shown, ["habari ya ", "asubuhi ", "rafiki", "karibu"]);
        let long = "abcdefghij";
        let shown: Vec<&str> = rows(long, 4).iter().map(|x| &long[x.clone()]).collect();
        assert_eq!(shown, ["abcd", "efgh", "ij"]);
        assert_eq!(rows("", 10), vec![Range { start: 0, end: 0 }]);
    }

    #[test]
    fn the_cursor_steps_over_whole_graphemes() {
        // Devanagari conjuncts and vowel signs, a combining accent, a family emoji.
        let mut a = TextArea::new("नमस्ते e\u{301} 👨‍👩‍👧");
        let end = a.cursor();
        let left = Key::new(KeyCode::Left);
        a.key(left, 40);
        assert_eq!(&a.text()[a.cursor()..], "👨‍👩‍👧");
        a.key(left, 40);
        a.key(left, 40);
        assert_eq!(&a.text()[a.cursor()..], "e\u{301} 👨‍👩‍👧");
        a.key(Key::new(KeyCode::Backspace), 40);
        assert_eq!(a.text(), "नमस्तेe\u{301} 👨‍👩‍👧");
        a.key(Key::new(KeyCode::Backspace), 40);
        // The conjunct syllable "स्ते" (sa, virama, ta, e sign) goes as one.
        assert_eq!(a.text(), "नमe\u{301} 👨‍👩‍👧");
        a.key(Key::new(KeyCode::Backspace), 40);
        assert_eq!(a.text(), "नe\u{301} 👨‍👩‍👧");
        a.key(Key::new(KeyCode::Delete), 40);
        assert_eq!(a.text(), "न 👨‍👩‍👧");
        assert!(a.cursor() < end);
        a.key(Key::new(KeyCode::End), 40);
        a.key(Key::new(KeyCode::Backspace), 40);
        assert_eq!(a.text(), "न ");
    }

    #[test]
    fn word_jumps_and_word_deletes() {
        let mut a = TextArea::new("one two, three");
        a.key(Key::ctrl('w'), 40);
        assert_eq!(a.text(), "one two, ");
        let ctrl_left = Key {
            ctrl: true,
            ..Key::new(KeyCode::Left)
        };
        a.key(ctrl_left, 40);
        assert_eq!(a.cursor(), 4);
        a.key(Key::alt(KeyCode::Char('d')), 40);
        assert_eq!(a.text(), "one , ");
        let ctrl_right = Key {
            ctrl: true,
            ..Key::new(KeyCode::Right)
        };
        a.key(Key::new(KeyCode::Home), 40);
        a.key(ctrl_right, 40);
        assert_eq!(a.cursor(), 3);
        let alt_backspace = Key::alt(KeyCode::Backspace);
        a.key(alt_backspace, 40);
        assert_eq!(a.text(), " , ");
    }

    #[test]
    fn typing_undoes_a_word_at_a_time_and_a_paste_at_once() {
        let mut a = TextArea::new("");
        for c in "hello world".chars() {
            a.key(Key::char(c), 40);
        }
        a.paste("\tand\r\nmore");
        assert_eq!(a.text(), "hello world and\nmore");
        assert!(a.undo());
        assert_eq!(a.text(), "hello world");
        assert!(a.undo());
        assert_eq!(a.text(), "hello");
        assert!(a.undo());
        assert_eq!(a.text(), "");
        assert!(!a.undo());
        a.key(Key::ctrl('y'), 40);
        assert_eq!(a.text(), "hello");
        // Backspaces in a row are one step too.
        let mut b = TextArea::new("abc def");
        typed(&mut b, &[Key::new(KeyCode::Backspace); 3]);
        assert_eq!(b.text(), "abc ");
        assert!(b.undo());
        assert_eq!(b.text(), "abc def");
        assert_eq!(b.cursor(), 7);
    }

    #[test]
    fn up_and_down_keep_the_column_across_rows() {
        let mut a = TextArea::new("abcdef\nab\nabcdef");
        let up = Key::new(KeyCode::Up);
        a.key(Key::new(KeyCode::Left), 20);
        assert_eq!(a.cursor_at(20), (2, 5));
        a.key(up, 20);
        assert_eq!(a.cursor_at(20), (1, 2));
        a.key(up, 20);
        assert_eq!(a.cursor_at(20), (0, 5), "the goal column is kept");
        assert_eq!(a.key(up, 20), Edit::Nothing);
        a.key(Key::new(KeyCode::End), 20);
        assert_eq!(a.cursor(), 6);
    }

    #[test]
    fn a_kept_cursor_comes_back_on_a_grapheme_boundary() {
        let text = "ab नमस्ते";
        let inside = text.find('स').unwrap() + 1;
        let a = TextArea::with_cursor(text, inside);
        assert!(text.is_char_boundary(a.cursor()));
        assert_eq!(&text[a.cursor()..], "स्ते");
        assert_eq!(TextArea::with_cursor(text, 9999).cursor(), text.len());
        assert_eq!(TextArea::with_cursor("ab", 1).cursor(), 1);
    }

    #[test]
    fn control_characters_never_get_in() {
        let mut a = TextArea::new("x\u{1b}[31my");
        assert_eq!(a.text(), "x[31my");
        a.paste("\u{202e}z\u{7}");
        assert_eq!(a.text(), "x[31myz");
    }
}

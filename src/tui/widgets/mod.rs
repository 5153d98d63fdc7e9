//! Pieces of screen shared by every screen: a clipped painter over a buffer, the status
//! line, the label grid and the help box. They draw what they are given and read no App
//! state; text from outside arrives here already sanitised by the caller.

pub mod big;
pub mod diff;
pub mod form;
pub mod help;
pub mod label_grid;
pub mod player;
pub mod status_line;
pub mod text_area;

use std::num::NonZeroU16;

use ratatui::buffer::{Buffer, CellDiffOption, CellWidth};
use ratatui::layout::Rect;
use ratatui::style::Style;
use unicode_segmentation::UnicodeSegmentation;

use super::theme::{Frames, Styles, Theme};
pub(crate) use crate::model::fit;
use crate::model::{terminal_cells, text_width};

/// Writes text and frames into a buffer, never outside `area` (the whole screen).
pub(crate) struct Painter<'a> {
    pub buf: &'a mut Buffer,
    pub area: Rect,
    pub st: Styles,
    pub fr: &'static Frames,
}

impl<'a> Painter<'a> {
    pub fn new(buf: &'a mut Buffer, area: Rect, theme: Theme) -> Painter<'a> {
        let area = area.intersection(buf.area);
        Painter {
            buf,
            area,
            st: theme.styles(),
            fr: theme.frames(),
        }
    }

    /// A painter over the whole frame.
    pub fn on(frame: &'a mut ratatui::Frame, theme: Theme) -> Painter<'a> {
        let area = frame.area();
        Painter::new(frame.buffer_mut(), area, theme)
    }

    /// Write text at (x, y), at most `max` columns; nothing outside the area. Returns
    /// the column after the text.
    ///
    /// Every write of the screen passes here, so this is where ratatui's cells are made
    /// to match the terminal's: one cell per `model::terminal_cells` cell (what `wcwidth`
    /// gives a terminal, not one cell per grapheme with `unicode-width`'s guess at the
    /// grapheme's width), and a wide character half covered by what is written is blanked
    /// rather than left for the terminal to keep drawing over its neighbour.
    pub fn put(&mut self, x: u16, y: u16, max: u16, text: &str, style: Style) -> u16 {
        if y < self.area.top() || y >= self.area.bottom() || x >= self.area.right() || max == 0 {
            return x;
        }
        let right = x + max.min(self.area.right() - x);
        let mut col = x;
        for cell in terminal_cells(text) {
            // The sanitiser has run; this keeps ratatui's own guard against control bytes.
            if cell.text.chars().any(char::is_control) {
                continue;
            }
            let width = u16::from(cell.width);
            if col + width > right {
                break;
            }
            self.uncover(col, y);
            let target = &mut self.buf[(col, y)];
            target.set_symbol(&cell.text).set_style(style);
            // ratatui's diff steps over as many columns as it thinks the symbol takes;
            // where that is not the terminal's count, it is told the terminal's.
            let option = match NonZeroU16::new(width) {
                Some(w) if cell.text.cell_width() != width => CellDiffOption::ForcedWidth(w),
                _ => CellDiffOption::None,
            };
            target.set_diff_option(option);
            for trailing in col + 1..col + width {
                self.buf[(trailing, y)].reset();
            }
            col += width;
        }
        col
    }

    /// Before (x, y) is written: if it is the right half of a wide character, blank that
    /// character. Left alone, ratatui would skip the cell as covered and the terminal
    /// would keep the whole character, half of it over what was drawn here.
    fn uncover(&mut self, x: u16, y: u16) {
        let area = self.buf.area;
        if x <= area.left() || x >= area.right() {
            return;
        }
        let left = &mut self.buf[(x - 1, y)];
        if left.cell_width() > 1 {
            let style = left.style();
            left.reset();
            left.set_style(style);
        }
    }

    pub fn fill(&mut self, row: Rect, style: Style) {
        let row = row.intersection(self.area);
        for y in row.top()..row.bottom() {
            for x in row.left()..row.right() {
                self.uncover(x, y);
                self.buf[(x, y)].reset();
                self.buf[(x, y)].set_style(style);
            }
        }
    }

    pub fn frame(&mut self, r: Rect, title: &str) {
        if r.width < 2 || r.height < 2 {
            return;
        }
        let (l, t, right, b) = (r.left(), r.top(), r.right() - 1, r.bottom() - 1);
        let dim = self.st.dim;
        for x in l + 1..right {
            self.put(x, t, 1, self.fr.h, dim);
            self.put(x, b, 1, self.fr.h, dim);
        }
        for y in t + 1..b {
            self.put(l, y, 1, self.fr.v, dim);
            self.put(right, y, 1, self.fr.v, dim);
        }
        self.put(l, t, 1, self.fr.tl, dim);
        self.put(right, t, 1, self.fr.tr, dim);
        self.put(l, b, 1, self.fr.bl, dim);
        self.put(right, b, 1, self.fr.br, dim);
        if !title.is_empty() && r.width > 4 {
            let x = self.put(l + 2, t, r.width - 4, " ", dim);
            let x = self.put(x, t, right.saturating_sub(x + 1), title, self.st.key);
            self.put(x, t, right.saturating_sub(x), " ", dim);
        }
    }
}

/// The plain screen below a usable size: what to do, in as many lines as it takes,
/// instead of a screen with parts missing.
pub(crate) fn too_small(p: &mut Painter, area: Rect, why: &str) {
    p.fill(area, Style::new());
    let width = area.width.saturating_sub(2).max(1);
    let lines = crate::model::wrap(why, usize::from(width));
    let top = area.y + area.height.saturating_sub(lines.len() as u16) / 2;
    for (y, line) in (top..area.bottom()).zip(&lines) {
        p.put(area.x + 1, y, width, line, p.st.text);
    }
}

/// `text` cut to `width` columns in the middle, keeping its start and its end: names
/// that differ only at the end ("Label number 12", "... 13") stay apart when cut.
pub(crate) fn fit_middle<'t>(text: &'t str, width: usize, more: &str) -> std::borrow::Cow<'t, str> {
    if text_width(text) <= width {
        return text.into();
    }
    let room = width.saturating_sub(text_width(more));
    let graphemes: Vec<&str> = text.graphemes(true).collect();
    // The end gets the smaller half: the start is what the eye reads first.
    let mut tail_w = 0;
    let mut tail = graphemes.len();
    while tail > 0 && tail_w + text_width(graphemes[tail - 1]) <= room / 2 {
        tail -= 1;
        tail_w += text_width(graphemes[tail]);
    }
    let mut head = String::new();
    let mut used = 0;
    for g in &graphemes[..tail] {
        let w = text_width(g);
        if used + w > room - tail_w {
            break;
        }
        head.push_str(g);
        used += w;
    }
    let head = head.trim_end();
    let tail = graphemes[tail..].concat();
    format!("{head}{more}{}", tail.trim_start()).into()
}

/// Draw the caret as one reverse-video cell (the grapheme under it, or a space) at byte
/// `at` of the plain text `row` drawn from (x, y), and return where it is. Cheaper on the
/// wire than the terminal's own cursor: a typed character costs about 40 bytes, not 60.
pub(crate) fn caret_cell(
    p: &mut Painter,
    row: &str,
    at: usize,
    x: u16,
    y: u16,
    width: u16,
) -> (u16, u16) {
    let at = at.min(row.len());
    let col = (text_width(&row[..at]) as u16).min(width.saturating_sub(1));
    let under = row[at..]
        .graphemes(true)
        .next()
        .filter(|g| *g != "\n")
        .unwrap_or(" ");
    let reverse = Style::new().add_modifier(ratatui::style::Modifier::REVERSED);
    p.put(x + col, y, 1.max(text_width(under) as u16), under, reverse);
    (x + col, y)
}

/// Keys as short runs: "1-9, 0" rather than "1234567890".
pub fn key_runs(keys: &[char]) -> String {
    let mut runs: Vec<String> = Vec::new();
    let mut i = 0;
    while i < keys.len() {
        let mut j = i;
        while j + 1 < keys.len() && keys[j + 1] as u32 == keys[j] as u32 + 1 {
            j += 1;
        }
        runs.push(match j - i {
            0 => keys[i].to_string(),
            1 => format!("{}, {}", keys[i], keys[j]),
            _ => format!("{}-{}", keys[i], keys[j]),
        });
        i = j + 1;
    }
    runs.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_middle_keeps_both_ends_apart() {
        assert_eq!(fit_middle("Label number 12", 20, "…"), "Label number 12");
        assert_eq!(fit_middle("Label number 12", 9, "…"), "Labe…r 12");
        assert_ne!(
            fit_middle("Label number 12", 9, "…"),
            fit_middle("Label number 13", 9, "…")
        );
        assert_eq!(fit_middle("电视机电视机", 5, "…"), "电…机");
    }

    #[test]
    fn key_runs_are_short() {
        assert_eq!(
            key_runs(&['1', '2', '3', '4', '5', '6', '7', '8', '9', '0']),
            "1-9, 0"
        );
        assert_eq!(key_runs(&['a', 'b', 'x']), "a, b, x");
        assert_eq!(key_runs(&[]), "");
    }
}

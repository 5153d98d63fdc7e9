//! Pieces of screen shared by every screen: a clipped painter over a buffer, the status
//! line, the label grid and the help box. They draw what they are given and read no App
//! state; text from outside arrives here already sanitised by the caller.

pub mod diff;
pub mod form;
pub mod help;
pub mod label_grid;
pub mod status_line;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use unicode_segmentation::UnicodeSegmentation;

use super::theme::{Frames, Styles, Theme};
use crate::model::text_width;

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
    pub fn put(&mut self, x: u16, y: u16, max: u16, text: &str, style: Style) -> u16 {
        if y < self.area.top() || y >= self.area.bottom() || x >= self.area.right() || max == 0 {
            return x;
        }
        let max = max.min(self.area.right() - x);
        self.buf.set_stringn(x, y, text, usize::from(max), style).0
    }

    pub fn fill(&mut self, row: Rect, style: Style) {
        let row = row.intersection(self.area);
        for y in row.top()..row.bottom() {
            for x in row.left()..row.right() {
                self.buf[(x, y)].set_symbol(" ").set_style(style);
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

/// `text` cut to `width` columns, ending in `more` when it was cut.
pub(crate) fn fit<'t>(text: &'t str, width: usize, more: &str) -> std::borrow::Cow<'t, str> {
    if text_width(text) <= width {
        return text.into();
    }
    let room = width.saturating_sub(text_width(more));
    let mut out = String::new();
    let mut used = 0;
    for g in text.graphemes(true) {
        let w = text_width(g);
        if used + w > room {
            break;
        }
        out.push_str(g);
        used += w;
    }
    out.truncate(out.trim_end().len());
    out.push_str(more);
    out.into()
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
    fn fit_cuts_with_a_marker() {
        assert_eq!(fit("rice, flour", 20, "…"), "rice, flour");
        assert_eq!(fit("rice, flour", 7, "…"), "rice,…");
        assert_eq!(fit("电视机电视机", 5, "..."), "电...");
    }

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

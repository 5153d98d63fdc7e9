//! A form drawn as lines: one per field (label, value box, problem), and tables for
//! repeating groups (a head of column labels, a line per row). The current place is
//! marked `>` with its label bold and a reverse-video caret in its value; a problem is marked `!` in words, never by colour
//! alone. Text arrives sanitised.

use ratatui::layout::Rect;
use ratatui::style::Style;

use super::{Painter, fit};

/// One line of a drawn form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormLine {
    Field {
        label: String,
        value: String,
        current: bool,
        /// The problem in a few words, if one shows.
        issue: Option<String>,
    },
    /// A table's title, with a note on its keys.
    TableHead { label: String, note: String },
    /// A table's column labels, each with its width.
    TableColumns { columns: Vec<(String, u16)> },
    TableRow {
        number: usize,
        /// Each cell's value and whether it is the current place.
        cells: Vec<(String, bool)>,
        widths: Vec<u16>,
        issue: bool,
    },
    /// A table without rows: the place where one is added.
    Empty {
        label: String,
        current: bool,
        note: String,
    },
}

/// Columns of the label before a field's value.
pub const LABEL_WIDTH: u16 = 22;
/// Columns of a value whose problem is said after it on the same line.
pub const VALUE_WIDTH: u16 = 24;
/// Columns a table row's number and markers take.
pub const ROW_LEAD: u16 = 6;

impl FormLine {
    pub fn is_current(&self) -> bool {
        match self {
            FormLine::Field { current, .. } | FormLine::Empty { current, .. } => *current,
            FormLine::TableRow { cells, .. } => cells.iter().any(|(_, c)| *c),
            FormLine::TableHead { .. } | FormLine::TableColumns { .. } => false,
        }
    }
}

/// Draw `lines` from `top` into `area`; returns where the caret is drawn (the column
/// `caret` characters into the current value), if the current place is on screen.
pub(crate) fn draw(
    p: &mut Painter,
    area: Rect,
    lines: &[FormLine],
    top: usize,
    caret: usize,
) -> Option<(u16, u16)> {
    let mut cursor = None;
    for (y, line) in (area.y..area.bottom()).zip(lines.iter().skip(top)) {
        let x = area.x;
        let right = area.right();
        match line {
            FormLine::Field {
                label,
                value,
                current,
                issue,
            } => {
                let mark = if *current { ">" } else { " " };
                p.put(x, y, 1, mark, p.st.key);
                if issue.is_some() {
                    p.put(x + 1, y, 1, "!", p.st.message);
                }
                let label_style = if *current { p.st.key } else { p.st.dim };
                let label_w = LABEL_WIDTH - 3;
                p.put(
                    x + 2,
                    y,
                    label_w,
                    &fit(label, usize::from(label_w), p.fr.more),
                    label_style,
                );
                let vx = x + LABEL_WIDTH;
                // The current field takes the whole line (its problem is on the hint
                // line); another with a problem leaves room to say it.
                let box_w = match (current, issue) {
                    (false, Some(_)) => VALUE_WIDTH,
                    _ => right.saturating_sub(vx + 1),
                }
                .min(right.saturating_sub(vx));
                let shown = fit(value, usize::from(box_w), p.fr.more);
                if *current {
                    p.put(vx, y, box_w, &shown, Style::new());
                    cursor = Some(caret_cell(p, value, caret, vx, y, box_w));
                } else if value.is_empty() {
                    p.put(
                        vx,
                        y,
                        box_w,
                        &"_".repeat(usize::from(box_w.min(12))),
                        p.st.dim,
                    );
                } else {
                    p.put(vx, y, box_w, &shown, p.st.text);
                }
                if let (false, Some(issue)) = (current, issue) {
                    let ix = vx + box_w + 1;
                    let room = right.saturating_sub(ix);
                    p.put(
                        ix,
                        y,
                        room,
                        &fit(issue, usize::from(room), p.fr.more),
                        p.st.message,
                    );
                }
            }
            FormLine::TableHead { label, note } => {
                let end = p.put(x + 2, y, area.width.saturating_sub(2), label, p.st.key);
                p.put(end + 2, y, right.saturating_sub(end + 2), note, p.st.dim);
            }
            FormLine::TableColumns { columns } => {
                let mut col_x = x + ROW_LEAD;
                for (name, w) in columns {
                    let w = (*w).min(right.saturating_sub(col_x));
                    p.put(
                        col_x,
                        y,
                        w,
                        &fit(name, usize::from(w.saturating_sub(1)), p.fr.more),
                        p.st.dim,
                    );
                    col_x += w;
                }
            }
            FormLine::TableRow {
                number,
                cells,
                widths,
                issue,
            } => {
                let current = cells.iter().any(|(_, c)| *c);
                let mark = match (current, issue) {
                    (true, _) => ">",
                    (false, true) => "!",
                    _ => " ",
                };
                p.put(x, y, 1, mark, if *issue { p.st.message } else { p.st.key });
                p.put(x + 1, y, 4, &format!("{number:>3}"), p.st.dim);
                let mut col_x = x + ROW_LEAD;
                for ((value, here), w) in cells.iter().zip(widths) {
                    let w = (*w).min(right.saturating_sub(col_x));
                    if w == 0 {
                        break;
                    }
                    let room = w.saturating_sub(1);
                    let shown = fit(value, usize::from(room), p.fr.more);
                    if *here {
                        p.put(col_x, y, room, &shown, Style::new());
                        cursor = Some(caret_cell(p, value, caret, col_x, y, room));
                    } else if value.is_empty() {
                        p.put(
                            col_x,
                            y,
                            room,
                            &"_".repeat(usize::from(room.min(8))),
                            p.st.dim,
                        );
                    } else {
                        p.put(col_x, y, room, &shown, p.st.text);
                    }
                    col_x += w;
                }
                if *issue && col_x + 1 < right {
                    p.put(col_x, y, 1, "!", p.st.message);
                }
            }
            FormLine::Empty {
                label,
                current,
                note,
            } => {
                let mark = if *current { ">" } else { " " };
                p.put(x, y, 1, mark, p.st.key);
                let end = p.put(x + 2, y, area.width.saturating_sub(2), label, p.st.key);
                let style = if *current { p.st.selected } else { p.st.dim };
                let nx = end + 1;
                p.put(nx, y, right.saturating_sub(nx), note, style);
                if *current {
                    cursor = Some((nx, y));
                }
            }
        }
    }
    cursor
}

/// Draw the caret in the plain value at (x, y) (`caret` characters in), and return
/// where it is.
fn caret_cell(
    p: &mut Painter,
    value: &str,
    caret: usize,
    x: u16,
    y: u16,
    width: u16,
) -> (u16, u16) {
    let at = value
        .char_indices()
        .nth(caret)
        .map_or(value.len(), |(i, _)| i);
    super::caret_cell(p, value, at, x, y, width)
}

/// Widths for a table's columns in `width` columns: numbers and short fields take 12,
/// text shares what is left.
pub fn column_widths(wide: &[bool], width: u16) -> Vec<u16> {
    let narrow = wide.iter().filter(|w| !**w).count() as u16;
    let wide_n = wide.iter().filter(|w| **w).count() as u16;
    let narrow_w: u16 = 12;
    let rest = width.saturating_sub(ROW_LEAD + 2 + narrow * narrow_w);
    let wide_w = rest.checked_div(wide_n).map_or(0, |w| w.max(8));
    wide.iter()
        .map(|w| if *w { wide_w } else { narrow_w })
        .collect()
}

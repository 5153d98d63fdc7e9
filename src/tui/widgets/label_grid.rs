//! The label grid: where a project's labels go and how each is drawn (marker, key, name,
//! hint). The layout depends only on the project, the size and the hint toggle, never on
//! the task, so each label keeps its place from task to task and hands learn it.

use ratatui::layout::Rect;
use ratatui::style::Style;

use super::{Painter, fit, fit_middle};
use crate::model::{Project, sanitize_line, text_width};

/// Where the labels go: a grid of `cols` columns and `rows` rows at the bottom of the
/// body.
pub(crate) struct LabelGrid {
    pub area: Rect,
    pub cols: u16,
    pub rows: u16,
}

/// Fewest rows the task text keeps (with its frame) before labels give up columns.
const MIN_TASK_ROWS: u16 = 3;
const MIN_LABEL_COL: u16 = 16;
const READABLE_LABEL_COL: u16 = 24;
/// Narrowest column: marker, key and a name of five columns.
const TIGHT_LABEL_COL: u16 = 11;

/// Task rows (with the frame) that one label per row may leave: five lines of text,
/// enough for the longest product titles at 80 columns.
const ROOMY_TASK_ROWS: u16 = 7;

impl LabelGrid {
    pub fn layout(project: &Project, body: Rect, hints: bool) -> LabelGrid {
        let n = project.labels.len().max(1) as u16;
        let max_rows = body.height.saturating_sub(MIN_TASK_ROWS).max(1);
        // One label per row when it fits: the description (the inline hint) gets the width.
        if n + ROOMY_TASK_ROWS <= body.height {
            let area = Rect::new(body.x, body.bottom() - n, body.width, n);
            return LabelGrid {
                area,
                cols: 1,
                rows: n,
            };
        }
        // Few columns read best (room for hints); labels take about a third of the height
        // unless hints are open, which asks for one label per row.
        let wanted_rows = if hints {
            max_rows
        } else {
            (body.height / 3).clamp(1, max_rows)
        };
        let widest_cols = (body.width / MIN_LABEL_COL).clamp(1, n);
        let mut cols = 1;
        while n.div_ceil(cols) > wanted_rows && cols < widest_cols {
            cols += 1;
        }
        // Narrow columns cut names: rather give labels up to half the height.
        let readable_cols = (body.width / READABLE_LABEL_COL).clamp(1, n);
        // Many labels: up to three fifths of the height, so names stay whole and apart.
        let readable_rows = if n > 20 {
            body.height * 3 / 5
        } else {
            body.height / 2
        };
        if cols > readable_cols && n.div_ceil(readable_cols) <= readable_rows.clamp(1, max_rows) {
            cols = readable_cols;
        }
        // Every label must keep a place: narrower columns (names cut in the middle, so
        // "Label 12" and "Label 13" still differ) before any label is left out.
        let tightest_cols = (body.width / TIGHT_LABEL_COL).clamp(1, n);
        while n.div_ceil(cols) > max_rows && cols < tightest_cols {
            cols += 1;
        }
        let rows = n.div_ceil(cols).min(max_rows).min(body.height);
        let area = Rect::new(body.x, body.bottom() - rows, body.width, rows);
        LabelGrid { area, cols, rows }
    }

    /// Whether every label has a place; when not, the screen asks for a larger window.
    pub fn fits(&self, project: &Project) -> bool {
        project.labels.len() <= usize::from(self.cols) * usize::from(self.rows)
    }
}

/// How the labels are marked on the task on screen.
pub(crate) struct Marks<'a> {
    /// One flag per project label.
    pub selected: &'a [bool],
    /// The task's model suggestion, a label id.
    pub suggestion: Option<&'a str>,
    /// The selection is the worker's own answer, taken back with undo.
    pub previous: bool,
    /// Label examples shown (the `hint` toggle).
    pub hints: bool,
}

pub(crate) fn draw(p: &mut Painter, project: &Project, marks: &Marks, grid: &LabelGrid) {
    if grid.rows == 0 {
        return;
    }
    let col_w = grid.area.width / grid.cols;
    // Descriptions start in one column, so the eye finds them in the same place.
    let name_col = project
        .labels
        .iter()
        .map(|l| text_width(&sanitize_line(&l.name)) as u16)
        .max()
        .unwrap_or(0)
        .min(col_w / 2);
    // Names cut at their end unless that makes two alike ("Label num…"): then in the
    // middle, which keeps what tells them apart.
    let name_room = usize::from(col_w.saturating_sub(2 + 4 + 1));
    let cut_ends: std::collections::HashSet<_> = project
        .labels
        .iter()
        .map(|l| fit(&sanitize_line(&l.name), name_room, p.fr.more).into_owned())
        .collect();
    let cut = if cut_ends.len() < project.labels.len() {
        fit_middle
    } else {
        fit
    };
    for (i, label) in project.labels.iter().enumerate() {
        let i = i as u16;
        let (col, row) = (i / grid.rows, i % grid.rows);
        if col >= grid.cols {
            break;
        }
        let x = grid.area.x + col * col_w + 1;
        let y = grid.area.y + row;
        let w = col_w.saturating_sub(2);
        let selected = marks.selected.get(usize::from(i)) == Some(&true);
        let marker = match (project.multi_label, selected) {
            (true, true) => "[x] ",
            (true, false) => "[ ] ",
            (false, true) => "> ",
            (false, false) => "  ",
        };
        let name_style = if selected {
            p.st.selected
        } else {
            Style::new()
        };
        let end = x + w;
        let mut at = p.put(x, y, w, marker, name_style);
        at = p.put(
            at,
            y,
            end.saturating_sub(at),
            &label.key.to_string(),
            p.st.key,
        );
        at = p.put(at, y, end.saturating_sub(at), " ", Style::new());
        let name = sanitize_line(&label.name);
        let name = cut(&name, usize::from(end.saturating_sub(at)), p.fr.more);
        at = p.put(at, y, end.saturating_sub(at), &name, name_style);
        let note = if marks.suggestion == Some(label.id.as_str()) {
            " (suggested)"
        } else if selected && marks.previous && !project.multi_label {
            " (your answer)"
        } else {
            ""
        };
        at = p.put(at, y, end.saturating_sub(at), note, p.st.key);
        // Hints open: the examples first, since a description fills the line by itself.
        let mut hint = String::new();
        if marks.hints && !label.examples.is_empty() {
            hint.push_str("e.g. ");
            let examples: Vec<_> = label.examples.iter().map(|e| sanitize_line(e)).collect();
            hint.push_str(&examples.join("; "));
        }
        if !label.description.is_empty() {
            if !hint.is_empty() {
                hint.push_str(" - ");
            }
            hint.push_str(&sanitize_line(&label.description));
        }
        let hint_x = x + text_width(marker) as u16 + 2 + name_col;
        if note.is_empty() && at < hint_x {
            at = hint_x;
        }
        // A hint of a word or two, or none: "wha…" is noise.
        if !hint.is_empty() && at + 12 < end {
            at = p.put(at, y, end - at, "  ", Style::new());
            let hint = fit(&hint, usize::from(end - at), p.fr.more);
            p.put(at, y, end - at, &hint, p.st.dim);
        }
    }
}

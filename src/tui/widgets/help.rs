//! The help box: a framed list of keys and what they do, then notes (a project's
//! instructions), centred over the whole body so no half-hidden task shows around it.

use ratatui::layout::Rect;
use ratatui::style::Style;

use super::Painter;
use crate::model::{text_width, wrap};

/// One row of help: the keys (already joined, "backspace, ctrl-z") and what they do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpRow {
    pub keys: String,
    pub what: String,
}

impl HelpRow {
    pub fn new(keys: impl Into<String>, what: impl Into<String>) -> HelpRow {
        HelpRow {
            keys: keys.into(),
            what: what.into(),
        }
    }
}

/// `close` is the first line ("esc or ? closes this help"); `notes` are sanitised.
pub(crate) fn draw(p: &mut Painter, body: Rect, close: &str, rows: &[HelpRow], notes: &str) {
    let width = body.width.min(72);
    if width < 8 || body.height < 3 {
        return;
    }
    let key_w = rows
        .iter()
        .map(|r| text_width(&r.keys))
        .max()
        .unwrap_or(0)
        .min(usize::from(width / 3)) as u16;
    let inner_w = width.saturating_sub(4);
    let note_lines = if notes.is_empty() {
        Vec::new()
    } else {
        wrap(notes, usize::from(inner_w))
    };
    // Frame, the "closes" line and a gap; a gap and the notes if any.
    let note_rows = match note_lines.len() as u16 {
        0 => 0,
        n => n + 1,
    };
    let wanted = rows.len() as u16 + 4 + note_rows;
    let height = wanted.min(body.height);
    // The help covers the whole body: half-hidden labels around a box read as noise.
    p.fill(body, Style::new());
    let area = Rect::new(
        body.x + (body.width - width) / 2,
        body.y + (body.height - height) / 2,
        width,
        height,
    );
    p.frame(area, "help");
    let x = area.x + 2;
    let bottom = area.bottom().saturating_sub(1);
    let mut y = area.y + 1;
    p.put(x, y, inner_w, close, p.st.dim);
    y += 2;
    for row in rows {
        if y >= bottom {
            return;
        }
        let at = p.put(x, y, key_w, &row.keys, p.st.key);
        let at = at.max(x + key_w + 2);
        p.put(
            at,
            y,
            (x + inner_w).saturating_sub(at),
            &row.what,
            Style::new(),
        );
        y += 1;
    }
    y += 1;
    for line in &note_lines {
        if y >= bottom {
            return;
        }
        p.put(x, y, inner_w, line, Style::new());
        y += 1;
    }
}

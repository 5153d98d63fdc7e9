//! The help box: a framed list of keys and what they do, then notes (a project's
//! instructions), centred over the whole body so no half-hidden task shows around it.
//! Longer than the screen, it scrolls, and its first line says where the reader is.

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

/// One line of the box below its "closes" line.
enum Line<'a> {
    Row(&'a HelpRow),
    Text(String),
}

/// Where the box goes and what it holds, for drawing and for scrolling alike.
struct Layout<'a> {
    area: Rect,
    key_w: u16,
    inner_w: u16,
    lines: Vec<Line<'a>>,
    /// Lines of `lines` that fit at once.
    room: usize,
}

fn layout<'a>(body: Rect, rows: &'a [HelpRow], notes: &str) -> Option<Layout<'a>> {
    let width = body.width.min(72);
    if width < 8 || body.height < 5 {
        return None;
    }
    let key_w = rows
        .iter()
        .map(|r| text_width(&r.keys))
        .max()
        .unwrap_or(0)
        .min(usize::from(width / 3)) as u16;
    let inner_w = width.saturating_sub(4);
    let mut lines: Vec<Line> = rows.iter().map(Line::Row).collect();
    if !notes.is_empty() {
        lines.push(Line::Text(String::new()));
        lines.extend(
            wrap(notes, usize::from(inner_w))
                .into_iter()
                .map(Line::Text),
        );
    }
    // Frame, the "closes" line and a gap around the lines.
    let wanted = lines.len() as u16 + 4;
    let height = wanted.min(body.height);
    let area = Rect::new(
        body.x + (body.width - width) / 2,
        body.y + (body.height - height) / 2,
        width,
        height,
    );
    let room = usize::from(height.saturating_sub(4)).max(1);
    Some(Layout {
        area,
        key_w,
        inner_w,
        lines,
        room,
    })
}

/// How far the box can scroll in `body`: 0 when everything fits.
pub(crate) fn max_scroll(body: Rect, rows: &[HelpRow], notes: &str) -> usize {
    layout(body, rows, notes).map_or(0, |l| l.lines.len().saturating_sub(l.room))
}

/// `close` is the first line ("esc or ? closes this help"); `notes` are sanitised;
/// `scroll` is the first line shown (clamped to what there is).
pub(crate) fn draw(
    p: &mut Painter,
    body: Rect,
    close: &str,
    rows: &[HelpRow],
    notes: &str,
    scroll: usize,
) {
    let Some(l) = layout(body, rows, notes) else {
        return;
    };
    // The help covers the whole body: half-hidden labels around a box read as noise.
    p.fill(body, Style::new());
    p.frame(l.area, "help");
    let x = l.area.x + 2;
    let mut y = l.area.y + 1;
    let first = scroll.min(l.lines.len().saturating_sub(l.room));
    let last = (first + l.room).min(l.lines.len());
    let head = if l.lines.len() > l.room {
        format!(
            "{close}; lines {}-{last} of {}, up/down scroll",
            first + 1,
            l.lines.len()
        )
    } else {
        close.to_string()
    };
    p.put(x, y, l.inner_w, &head, p.st.dim);
    y += 2;
    for line in &l.lines[first..last] {
        match line {
            Line::Row(row) => {
                let at = p.put(x, y, l.key_w, &row.keys, p.st.key);
                let at = at.max(x + l.key_w + 2);
                p.put(
                    at,
                    y,
                    (x + l.inner_w).saturating_sub(at),
                    &row.what,
                    Style::new(),
                );
            }
            Line::Text(text) => {
                p.put(x, y, l.inner_w, text, Style::new());
            }
        }
        y += 1;
    }
}

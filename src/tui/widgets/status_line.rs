//! The status line at the bottom of every screen: link state as a word, then the counts a
//! worker relies on (unsent first) or the screen's own (the reviewer's queue), then where
//! quit is. A count the store could not give is shown as `?`, never as a reassuring 0.

use ratatui::style::Style;

use super::Painter;
use crate::model::text_width;
use crate::tui::app::{Link, Status};

/// `own`: the screen's counts, most important first, in place of the worker's.
pub(crate) fn draw(
    p: &mut Painter,
    status: Status,
    own: Option<Vec<String>>,
    quit_key: Option<String>,
    y: u16,
) {
    let link_style = match status.link {
        Link::Online => p.st.online,
        Link::Offline => p.st.offline,
        Link::Syncing => p.st.syncing,
    };
    let width = p.area.width;
    let x = p.put(p.area.x, y, width, " ", Style::new());
    let mut x = p.put(x, y, width, status.link.word(), link_style);
    let count = |n: Option<u32>| n.map_or_else(|| "?".to_string(), |n| n.to_string());
    let counts = status.counts;
    let parts = own.unwrap_or_else(|| {
        vec![
            format!("unsent {}", count(counts.map(|c| c.unsent))),
            format!("done today {}", count(counts.map(|c| c.done_today))),
            format!("cached {}", count(counts.map(|c| c.cached))),
        ]
    });
    // Most important first; a part that does not fit whole is left out, not cut.
    for part in parts {
        let part = format!("{}{}", p.fr.sep, crate::model::sanitize_line(&part));
        let w = text_width(&part) as u16;
        if x + w > p.area.right() {
            break;
        }
        x = p.put(x, y, w, &part, Style::new());
    }
    let quit = quit_key.map(|k| format!("{k} quit ")).unwrap_or_default();
    let quit_w = text_width(&quit) as u16;
    if x + quit_w + 2 <= p.area.right() {
        p.put(p.area.right() - quit_w, y, quit_w, &quit, p.st.dim);
    }
}

//! Drawing the classify screen: the task text framed at the top, the label grid at the
//! bottom in fixed places, or the empty state while no task is cached; and the guide on
//! the message line.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Classify, Current, Preselect};
use crate::model::{sanitize, text_width, wrap};
use crate::tui::app::Link;
use crate::tui::keymap::{Action, Keymap};
use crate::tui::screen::View;
use crate::tui::widgets::Painter;
use crate::tui::widgets::label_grid::{self, LabelGrid, Marks};

pub(super) fn render(screen: &Classify, frame: &mut Frame, body: Rect, view: &View) {
    let mut p = Painter::on(frame, view.theme);
    let Some(current) = screen.current() else {
        return empty_state(&mut p, view.status.link, body);
    };
    let project = screen.project();
    let grid = LabelGrid::layout(project, body, screen.hints_open());
    let task_area = Rect::new(body.x, body.y, body.width, body.height - grid.rows);
    task_text(&mut p, current, task_area);
    let marks = Marks {
        selected: &current.selected,
        suggestion: current.task.suggestion.as_deref(),
        previous: current.preselect == Some(Preselect::Previous),
        hints: screen.hints_open(),
    };
    label_grid::draw(&mut p, project, &marks, &grid);
}

/// With nothing to say, a short guide in the words of the active keymap.
pub(super) fn guide(screen: &Classify, keymap: &Keymap, width: usize) -> Option<String> {
    let current = screen.current()?;
    let mode = screen.mode();
    let keys = |a: Action| keymap.keys_for(mode, a).first().map(|k| k.to_string());
    let mut guide = match (
        screen.project().multi_label,
        keys(Action::Submit),
        current.preselect,
    ) {
        (true, Some(k), _) => format!("label keys choose, {k} sends"),
        (true, None, _) => "label keys choose".to_string(),
        (false, Some(k), Some(Preselect::Suggested)) => {
            format!("press a label's key to answer, {k} takes the suggestion")
        }
        (false, Some(k), Some(Preselect::Previous)) => {
            format!("press a label's key to answer, {k} keeps your answer")
        }
        (false, ..) => "press a label's key to answer".to_string(),
    };
    // Whole hints only: a cut "backsp" helps nobody.
    for action in [Action::Skip, Action::Undo] {
        if let Some(k) = keys(action) {
            let part = format!(", {k} {action}");
            if text_width(&guide) + text_width(&part) > width {
                break;
            }
            guide.push_str(&part);
        }
    }
    Some(guide)
}

pub(crate) fn empty_state(p: &mut Painter, link: Link, body: Rect) {
    let lines: &[&str] = match link {
        Link::Offline => &[
            "No tasks on this computer yet.",
            "The link to the server is down: tasks will come when it returns.",
            "Answers you gave are saved here and will be sent then.",
        ],
        Link::Syncing => &[
            "No tasks on this computer yet.",
            "Asking the server for tasks...",
        ],
        Link::Online => &[
            "No tasks for you right now.",
            "New tasks show here as soon as the server has some.",
        ],
    };
    let width = body.width.saturating_sub(2);
    let mut y = body.y + u16::from(body.height > lines.len() as u16 + 1);
    for line in lines {
        for part in wrap(line, usize::from(width.max(1))) {
            if y >= body.bottom() {
                return;
            }
            p.put(body.x + 1, y, width, &part, p.st.text);
            y += 1;
        }
    }
}

fn task_text(p: &mut Painter, current: &Current, area: Rect) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let framed = area.height >= 5 && area.width >= 20;
    let inner = if framed {
        p.frame(area, "task");
        Rect::new(area.x + 2, area.y + 1, area.width - 4, area.height - 2)
    } else {
        Rect::new(
            area.x + u16::from(area.width > 2),
            area.y,
            area.width.saturating_sub(2).max(1),
            area.height,
        )
    };
    let text = sanitize(&current.task.text);
    let mut lines = wrap(&text, usize::from(inner.width));
    let top = inner.y + u16::from(inner.height >= 4);
    let room = usize::from(inner.bottom() - top);
    if lines.len() > room {
        lines.truncate(room.saturating_sub(1));
        lines.push(p.fr.more.to_string());
    }
    for (y, line) in (top..).zip(&lines) {
        p.put(inner.x, y, inner.width, line, p.st.text);
    }
}

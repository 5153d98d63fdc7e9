//! Drawing the classify screen: the task text framed at the top, the label grid at the
//! bottom in fixed places, or the empty state while no task is cached; and the guide on
//! the message line.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Classify, Current, Preselect};
use crate::model::{Project, sanitize, sanitize_line, text_width, wrap};
use crate::tui::app::Link;
use crate::tui::keymap::{Action, Keymap};
use crate::tui::screen::View;
use crate::tui::widgets::label_grid::{self, LabelGrid, Marks};
use crate::tui::widgets::{Painter, too_small};

pub(super) fn render(screen: &Classify, frame: &mut Frame, body: Rect, view: &View) {
    let mut p = Painter::on(frame, view.theme);
    let Some(current) = screen.current() else {
        return empty_state(&mut p, view, body);
    };
    let project = screen.project();
    let grid = LabelGrid::layout(project, body, screen.hints_open());
    if !grid.fits(project) {
        let why = format!(
            "Make the window larger: this project's {} labels do not all fit at {}x{}.",
            project.labels.len(),
            p.area.width,
            p.area.height
        );
        return too_small(&mut p, body, &why);
    }
    let task_area = Rect::new(body.x, body.y, body.width, body.height - grid.rows);
    task_text(&mut p, screen, current, task_area, view.keymap);
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

pub(crate) fn empty_state(p: &mut Painter, view: &View, body: Rect) {
    let refresh = view
        .keymap
        .keys_for(crate::tui::keymap::Mode::Global, Action::Refresh)
        .first()
        .map(|k| format!("Kazi asks again every 30 seconds; {k} asks now."))
        .unwrap_or_else(|| "Kazi asks the server again every 30 seconds.".to_string());
    let online = ["No tasks for you right now.", refresh.as_str()];
    let lines: &[&str] = match view.status.link {
        Link::Offline => &[
            "No tasks on this computer yet.",
            "The link to the server is down: tasks will come when it returns.",
            "Answers you gave are saved here and will be sent then.",
        ],
        Link::Syncing => &[
            "No tasks on this computer yet.",
            "Asking the server for tasks...",
        ],
        Link::Online => &online,
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

/// The task box's text area inside `area`, and whether it is framed.
fn task_inner(area: Rect) -> (Rect, bool) {
    let framed = area.height >= 5 && area.width >= 20;
    let inner = if framed {
        Rect::new(area.x + 2, area.y + 1, area.width - 4, area.height - 2)
    } else {
        Rect::new(
            area.x + u16::from(area.width > 2),
            area.y,
            area.width.saturating_sub(2).max(1),
            area.height,
        )
    };
    (inner, framed)
}

/// The task's lines at the box's width, then the whole description of each chosen label
/// (the grid has room for a part only); where they start; `room` lines fit.
fn task_lines(current: &Current, project: &Project, inner: Rect) -> (Vec<String>, u16, usize) {
    let width = usize::from(inner.width.max(1));
    let text = sanitize(&current.task.text);
    let mut lines = wrap(&text, width);
    for (label, _) in project
        .labels
        .iter()
        .zip(&current.selected)
        .filter(|(l, s)| **s && !l.description.is_empty())
    {
        lines.push(String::new());
        let about = format!(
            "{} {}: {}",
            label.key,
            sanitize_line(&label.name),
            sanitize_line(&label.description)
        );
        lines.extend(wrap(&about, width));
    }
    let top = inner.y + u16::from(inner.height >= 4 && lines.len() < usize::from(inner.height));
    (lines, top, usize::from(inner.bottom().saturating_sub(top)))
}

/// How many lines the task text has in `body`, and how many fit at once.
pub(super) fn text_window(screen: &Classify, current: &Current, body: Rect) -> (usize, usize) {
    let grid = LabelGrid::layout(screen.project(), body, screen.hints_open());
    let area = Rect::new(body.x, body.y, body.width, body.height - grid.rows);
    let (inner, _) = task_inner(area);
    let (lines, _, room) = task_lines(current, screen.project(), inner);
    (lines.len(), room)
}

fn task_text(p: &mut Painter, screen: &Classify, current: &Current, area: Rect, keymap: &Keymap) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let (inner, framed) = task_inner(area);
    let (lines, top, room) = task_lines(current, screen.project(), inner);
    // Longer than the box: a window that scrolls, and the frame says where it is.
    let first = screen.scroll().min(lines.len().saturating_sub(room));
    let last = (first + room).min(lines.len());
    if framed {
        let title = if lines.len() > room {
            format!("task, lines {}-{last} of {}", first + 1, lines.len())
        } else {
            "task".to_string()
        };
        p.frame(area, &title);
        if lines.len() > room {
            let mode = screen.mode();
            let key = |a: Action| keymap.keys_for(mode, a).first().map(|k| k.to_string());
            let more = match (last < lines.len(), first > 0) {
                (true, _) => key(Action::ScrollDown).map(|k| format!(" {k}: more ")),
                (false, true) => key(Action::ScrollUp).map(|k| format!(" {k}: back ")),
                (false, false) => None,
            };
            if let Some(more) = more {
                let w = text_width(&more) as u16;
                if w + 4 < area.width {
                    p.put(area.right() - w - 2, area.bottom() - 1, w, &more, p.st.key);
                }
            }
        }
    } else if lines.len() > room && room > 0 {
        // No frame to say it on: the last line says more follows.
        let mut window: Vec<String> = lines[first..last].to_vec();
        if last < lines.len()
            && let Some(end) = window.last_mut()
        {
            *end = p.fr.more.to_string();
        }
        for (y, line) in (top..).zip(&window) {
            p.put(inner.x, y, inner.width, line, p.st.text);
        }
        return;
    }
    for (y, line) in (top..).zip(&lines[first..last]) {
        p.put(inner.x, y, inner.width, line, p.st.text);
    }
}

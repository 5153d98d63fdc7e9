//! Drawing the presentation: where the lesson is, the task in a frame (double spaced when
//! there is room, in the theme's strongest text), the hint and the answer when asked for,
//! the options with their keys (the label grid, or the form's fields), and the key-echo
//! line at the bottom. Words carry the meaning, never colour alone.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Pane, Present, class};
use crate::model::{TaskKind, sanitize, sanitize_line, text_width, wrap};
use crate::tui::keymap::{Action, Keymap, Mode};
use crate::tui::screen::View;
use crate::tui::screen::training::answer_text;
use crate::tui::widgets::label_grid::{self, LabelGrid, Marks};
use crate::tui::widgets::{Painter, fit};

pub(super) fn render(screen: &Present, frame: &mut Frame, body: Rect, view: &View) {
    let mut p = Painter::on(frame, view.theme);
    if body.height < 6 || body.width < 20 {
        return crate::tui::widgets::too_small(
            &mut p,
            body,
            "The window is too small to present: make it at least 20 columns by 8 rows.",
        );
    }
    let inner_w = body.width.saturating_sub(2);
    if let Some(c) = screen.class() {
        match screen.pane() {
            Pane::Class => {
                let join = view
                    .keymap
                    .keys_for(Mode::Global, Action::Join)
                    .first()
                    .map_or("join".to_string(), |k| k.to_string());
                class::render_class(c, &mut p, body, view.theme, &join);
                return echo_line(screen, &mut p, body);
            }
            Pane::Report => {
                class::render_report(c, &mut p, body);
                return echo_line(screen, &mut p, body);
            }
            Pane::Lesson => {}
        }
    }
    let Some(lesson) = screen.lesson() else {
        p.put(
            body.x + 1,
            body.y + 1,
            inner_w,
            "No lessons for this project on this computer yet.",
            p.st.text,
        );
        return echo_line(screen, &mut p, body);
    };
    let project = screen.project();
    let head = format!("Lesson {} of {}", screen.index + 1, screen.lessons().len());
    let end = p.put(body.x + 1, body.y, inner_w, &head, p.st.key);
    if let Some(c) = screen.class() {
        let line = format!("{} | step shown to the class", c.summary());
        let w = text_width(&line) as u16;
        let x = (body.right().saturating_sub(w + 1)).max(end + 2);
        p.put(x, body.y, body.right().saturating_sub(x), &line, p.st.text);
    }
    echo_line(screen, &mut p, body);

    // Options at the bottom, above the echo line.
    let below = Rect::new(
        body.x,
        body.y + 1,
        body.width,
        body.height.saturating_sub(2),
    );
    let options_top = match project.kind {
        TaskKind::Classify if !project.labels.is_empty() => {
            let grid = LabelGrid::layout(project, below, screen.hint);
            let marks = Marks {
                selected: screen.shown(),
                suggestion: None,
                previous: false,
                hints: screen.hint,
            };
            label_grid::draw(&mut p, project, &marks, &grid);
            grid.area.y
        }
        TaskKind::Entry => {
            let fields: Vec<String> = project
                .form
                .as_ref()
                .map(|f| {
                    f.fields
                        .iter()
                        .map(|f| sanitize_line(&f.label).into_owned())
                        .collect()
                })
                .unwrap_or_default();
            let line = format!("Fields: {}", fields.join(", "));
            let y = below.bottom().saturating_sub(1);
            p.put(
                body.x + 1,
                y,
                inner_w,
                &fit(&line, usize::from(inner_w), p.fr.more),
                p.st.dim,
            );
            y
        }
        _ => below.bottom(),
    };

    // What goes under the task: the hint and the answer, when asked for.
    let width = usize::from(inner_w.max(1));
    let mut notes: Vec<(String, ratatui::style::Style)> = Vec::new();
    if screen.hint && !lesson.hint.is_empty() {
        for line in wrap(&format!("Hint: {}", sanitize_line(&lesson.hint)), width) {
            notes.push((line, p.st.key));
        }
    }
    if screen.revealed {
        let answer = format!("ANSWER: {}", answer_text(project, &lesson.gold.expected()));
        for line in wrap(&answer, width) {
            notes.push((line, p.st.selected));
        }
        if !lesson.gold.explanation.is_empty() {
            let why = format!("Why: {}", sanitize_line(&lesson.gold.explanation));
            for line in wrap(&why, width) {
                notes.push((line, p.st.text));
            }
        }
    }

    // The task in a frame, taking the room that is left.
    let top = body.y + 1;
    let room = options_top.saturating_sub(top + 1);
    let notes_h = (notes.len() as u16).min(room.saturating_sub(3));
    let box_h = room.saturating_sub(notes_h);
    let text_w = usize::from(body.width.saturating_sub(6).max(1));
    let text = sanitize(&lesson.text);
    let lines: Vec<String> = text.lines().flat_map(|l| wrap(l, text_w)).collect();
    let n = lines.len() as u16;
    // Double spaced when it fits, in the middle of a frame that takes the room left:
    // the task is what the room looks at.
    let inside = box_h.saturating_sub(2);
    let step = if n * 2 <= inside + 1 { 2 } else { 1 };
    let used = (n * step).saturating_sub(step - 1).min(inside);
    let frame_area = Rect::new(body.x, top, body.width, box_h.max(3));
    p.frame(frame_area, "Task");
    let mut y = top + 1 + (inside - used) / 2;
    for line in &lines {
        if y >= frame_area.bottom().saturating_sub(1) {
            break;
        }
        let w = text_width(line) as u16;
        let x = body.x + 3 + (body.width.saturating_sub(6).saturating_sub(w)) / 2;
        p.put(x, y, body.width.saturating_sub(6), line, p.st.text);
        y += step;
    }
    for (i, (line, style)) in notes.iter().take(usize::from(notes_h)).enumerate() {
        p.put(body.x + 1, top + box_h + i as u16, inner_w, line, *style);
    }
}

/// The last row of the body: each key pressed and what it did, the newest at the right.
fn echo_line(screen: &Present, p: &mut Painter, body: Rect) {
    let y = body.bottom().saturating_sub(1);
    let width = usize::from(body.width.saturating_sub(2));
    let lead = "Keys: ";
    let mut parts: Vec<String> = Vec::new();
    let mut used = text_width(lead);
    for echo in screen.echo().collect::<Vec<_>>().into_iter().rev() {
        let part = format!("{} {}", echo.key, echo.did);
        let w = text_width(&part) + if parts.is_empty() { 0 } else { 3 };
        if used + w > width {
            break;
        }
        used += w;
        parts.push(part);
    }
    parts.reverse();
    let line = if parts.is_empty() {
        format!("{lead}(each key you press shows here)")
    } else {
        format!("{lead}{}", parts.join(" | "))
    };
    let end = p.put(body.x + 1, y, text_width(lead) as u16, lead, p.st.dim);
    let rest: String = line.chars().skip(lead.chars().count()).collect();
    p.put(
        end,
        y,
        body.width.saturating_sub(end - body.x + 1),
        &rest,
        p.st.key,
    );
}

/// The message line's guide in the words of the keymap.
pub(super) fn guide(screen: &Present, keymap: &Keymap, width: usize) -> String {
    let mut parts = Vec::new();
    let open = screen.class().is_some_and(|c| c.open());
    let class = match (open, screen.pane()) {
        (false, _) => "start a class",
        (true, Pane::Lesson) => "the class",
        (true, _) => "the lesson",
    };
    for (action, what) in [
        (Action::Next, "next"),
        (Action::Prev, "prev"),
        (Action::Reveal, "answer"),
        (Action::Hint, "hint"),
        (Action::Class, class),
        (Action::Report, "report"),
    ] {
        if action == Action::Report && screen.class().is_none() {
            continue;
        }
        if let Some(k) = keymap.keys_for(Mode::Present, action).first() {
            parts.push(format!("{k} {what}"));
        }
    }
    fit(&parts.join(", "), width, "...").into_owned()
}

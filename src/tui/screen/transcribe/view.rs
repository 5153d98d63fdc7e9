//! Drawing the transcribe screen at 80x24: the player line at the top, the task's note
//! (or the style hints) under it, the framed text area taking the rest, and the tags the
//! project allows on its last line; the guide on the message line.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::Transcribe;
use crate::model::{sanitize, sanitize_line, text_width, wrap};
use crate::tui::keymap::{Action, Keymap, Mode};
use crate::tui::screen::View;
use crate::tui::screen::classify::view::empty_state;
use crate::tui::widgets::player::player_line;
use crate::tui::widgets::{Painter, fit};

/// Rows the task's note may take above the text, and the style hints when shown.
const NOTE_ROWS: usize = 3;
const HINT_ROWS: usize = 8;

/// Columns the text area's text takes in a terminal `width` wide: the frame and a space
/// each side, and the caret's column.
pub(super) fn text_columns(width: u16) -> usize {
    usize::from(width.saturating_sub(5)).max(1)
}

pub(super) fn render(screen: &Transcribe, frame: &mut Frame, body: Rect, view: &View) {
    let mut p = Painter::on(frame, view.theme);
    let Some(current) = screen.current() else {
        return empty_state(&mut p, view, body);
    };
    if body.height < 6 || body.width < 24 {
        let line = fit(
            "make the window larger to type the transcript",
            usize::from(body.width),
            p.fr.more,
        );
        p.put(body.x, body.y, body.width, &line, p.st.message);
        return;
    }
    player_line(
        &mut p,
        screen.player(),
        Rect::new(body.x, body.y, body.width, 1),
        view.keymap,
        Mode::Transcribe,
    );
    let mut y = body.y + 1;
    let inner_w = usize::from(body.width.saturating_sub(2)).max(1);

    // The note (or the style hints), a few rows at most.
    let (title, lines) = if screen.hints_shown() {
        let rules = &screen.rules().style;
        let lines: Vec<String> = if rules.is_empty() {
            vec!["This project gives no style rules.".to_string()]
        } else {
            rules
                .iter()
                .flat_map(|r| wrap(&format!("- {}", sanitize_line(r)), inner_w))
                .collect()
        };
        ("style", lines)
    } else {
        let note = sanitize(current.task.text.trim());
        ("", wrap(&note, inner_w))
    };
    let lines: Vec<&String> = lines.iter().filter(|l| !l.is_empty()).collect();
    if !title.is_empty() {
        p.put(body.x + 1, y, body.width - 1, title, p.st.key);
        y += 1;
    }
    let rows = if screen.hints_shown() {
        HINT_ROWS
    } else {
        NOTE_ROWS
    };
    for line in lines.iter().take(rows) {
        p.put(body.x + 1, y, body.width - 2, line, p.st.text);
        y += 1;
    }
    if lines.len() > rows {
        let more = view
            .keymap
            .shown_key(Mode::Transcribe, Action::Help, true)
            .map_or_else(String::new, |k| format!(" ({k} shows it whole)"));
        p.put(
            body.x + 1,
            y,
            body.width - 2,
            &format!("...{more}"),
            p.st.dim,
        );
        y += 1;
    }

    // The tags line at the bottom, the text area between.
    let tags = &screen.rules().tags;
    let tags_y = body.bottom() - 1;
    let text_bottom = if tags.is_empty() {
        body.bottom()
    } else {
        tags_y
    };
    if !tags.is_empty() {
        let line = format!("tags: {}", sanitize_line(&tags.join(" ")));
        let line = fit(&line, usize::from(body.width - 2), p.fr.more);
        p.put(body.x + 1, tags_y, body.width - 2, &line, p.st.dim);
    }
    let frame_area = Rect::new(body.x, y, body.width, text_bottom.saturating_sub(y));
    let words = current.area.text().split_whitespace().count();
    let from_draft = current
        .task
        .draft()
        .is_some_and(|d| d == current.area.text());
    let title = match (words, from_draft) {
        (_, true) => "transcript: machine draft, correct it".to_string(),
        (0, false) => "transcript".to_string(),
        (1, false) => "transcript: 1 word".to_string(),
        (n, false) => format!("transcript: {n} words"),
    };
    p.frame(frame_area, &title);
    let inner = Rect::new(
        frame_area.x + 2,
        frame_area.y + 1,
        frame_area.width.saturating_sub(4),
        frame_area.height.saturating_sub(2),
    );
    if current.area.text().is_empty() && inner.width > 2 {
        // The caret on the first cell, a dim invitation after it.
        p.put(
            inner.x + 2,
            inner.y,
            inner.width - 2,
            "type what you hear",
            p.st.dim,
        );
    }
    // The terminal's own style for what is typed: a typed character then costs one
    // move, the character and the caret cell (under 40 bytes), not a colour change too.
    current
        .area
        .render(&mut p, inner, ratatui::style::Style::new());
}

fn key_of(keymap: &Keymap, action: Action) -> Option<String> {
    keymap
        .keys_for(Mode::Transcribe, action)
        .first()
        .map(|k| k.to_string())
}

/// With nothing to say, a short guide in the words of the active keymap.
pub(super) fn guide(screen: &Transcribe, keymap: &Keymap, width: usize) -> Option<String> {
    screen.current()?;
    let mut guide = String::new();
    // Whole hints only: a cut "backsp" helps nobody.
    for (action, word) in [
        (Action::Submit, "sends"),
        (Action::PlayPause, "plays"),
        (Action::Back, "back"),
        (Action::Hint, "style"),
        (Action::Skip, "skip"),
    ] {
        let Some(k) = key_of(keymap, action) else {
            continue;
        };
        let sep = if guide.is_empty() { "" } else { ", " };
        let part = format!("{sep}{k} {word}");
        if text_width(&guide) + text_width(&part) > width {
            break;
        }
        guide.push_str(&part);
    }
    Some(guide)
}

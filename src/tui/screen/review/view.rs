//! Drawing the review screen: reads state only. Every mark is a character (`>`, `*`,
//! `[- -]`, `{+ +}`), never colour alone; task text, answers and notes go through the
//! sanitiser.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::client::player::PlayerStatus;
use crate::model::{AnswerValue, format_age, sanitize_line, wrap};
use crate::protocol::{QueueEntry, ReviewCase};
use crate::tui::keymap::{Action, Keymap, Mode};
use crate::tui::screen::View;
use crate::tui::widgets::Painter;
use crate::tui::widgets::diff::{field_diff, word_diff};
use crate::tui::widgets::player::player_line;

pub(super) fn queue(
    frame: &mut Frame,
    body: Rect,
    view: &View,
    items: &[QueueEntry],
    cursor: usize,
) {
    let mut p = Painter::on(frame, view.theme);
    let (x, width) = (body.x + 1, body.width.saturating_sub(2));
    if items.is_empty() {
        p.put(
            x,
            body.y,
            width,
            "Nothing waits for review in your projects.",
            p.st.text,
        );
        return;
    }
    // Narrow (a phone's SSH app): the project goes, the item's title names it.
    let project_col = if width >= 56 { 17 } else { 0 };
    let column = |project: &str| {
        if project_col == 0 {
            String::new()
        } else {
            format!("{:<16} ", clip(project, 16))
        }
    };
    let header = format!(
        "  {:<13} {}{:<16} {:>5}",
        "reason",
        column("project"),
        "task",
        "age"
    );
    p.put(x, body.y, width, &header, p.st.text);
    let rows = usize::from(body.height.saturating_sub(1));
    let first = cursor.saturating_sub(rows.saturating_sub(1));
    for (row, (i, item)) in items.iter().enumerate().skip(first).take(rows).enumerate() {
        let chosen = i == cursor;
        let line = format!(
            "{} {:<13} {}{:<16} {:>5}{}",
            if chosen { ">" } else { " " },
            item.reason,
            column(&sanitize_line(&item.project)),
            clip(&sanitize_line(&item.task), 16),
            format_age(item.age),
            if item.busy { "  (open elsewhere)" } else { "" }
        );
        let style = if chosen { p.st.selected } else { Style::new() };
        p.put(x, body.y + 1 + row as u16, width, &line, style);
    }
}

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// One answer's value as one line (a transcript's text, a form's compact form).
fn shown(value: &AnswerValue) -> String {
    match value {
        AnswerValue::Transcript(t) => t.text.clone(),
        other => other.to_compact(),
    }
}

/// What the reviewer has done on the open item, as drawn.
pub(super) struct Marks<'a> {
    /// The marked answer.
    pub marked: usize,
    pub note: &'a str,
    /// The note is being typed.
    pub typing: bool,
    /// The player's last report on the item's clip.
    pub player: Option<&'a PlayerStatus>,
}

pub(super) fn case(frame: &mut Frame, body: Rect, view: &View, case: &ReviewCase, marks: &Marks) {
    let Marks {
        marked,
        note,
        typing,
        player,
    } = *marks;
    let mut p = Painter::on(frame, view.theme);
    let (x, width) = (body.x + 1, body.width.saturating_sub(2));
    let mut y = body.y;
    let bottom = body.bottom();
    // The task: at most a third of the body, so every answer stays in view.
    let text_rows = usize::from((body.height / 3).max(2));
    for line in wrap(&sanitize_line(&case.text), usize::from(width))
        .into_iter()
        .take(text_rows)
    {
        p.put(x, y, width, &line, p.st.text);
        y += 1;
    }
    let percent = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.0}%", v * 100.0));
    let aggregate = match (&case.aggregate, case.project.form.is_some()) {
        (_, true) => "field by field".to_string(),
        (Some(a), false) => sanitize_line(a).into_owned(),
        (None, false) => "none (a tie)".to_string(),
    };
    let summary = format!(
        "Aggregate: {aggregate}  agreement {}  confidence {}",
        percent(case.agreement),
        percent(case.confidence)
    );
    if y < bottom {
        p.put(x, y, width, &summary, p.st.text);
        y += 1;
    }
    if case.clip.is_some() && y < bottom {
        let area = Rect::new(body.x, y, body.width, 1);
        player_line(&mut p, player, area, view.keymap, Mode::Review);
        y += 1;
    }
    if let Some(by) = &case.raised_by
        && y < bottom
    {
        let line = format!(
            "Raised by {}: {}",
            sanitize_line(by),
            sanitize_line(&case.note)
        );
        p.put(x, y, width, &line, p.st.text);
        y += 1;
    }
    let base = case.answers.get(marked).map(|a| shown(&a.value));
    for (i, answer) in case.answers.iter().enumerate() {
        if y >= bottom {
            break;
        }
        let value = match (&answer.value, &base) {
            (AnswerValue::Transcript(t), Some(base)) if i != marked => word_diff(base, &t.text),
            (v, _) => shown(v),
        };
        let accuracy = match answer.scored_total {
            0 => "acc -".to_string(),
            n => format!("acc {}/{n}", answer.scored_correct),
        };
        let took = answer.took.map_or("-".to_string(), format_age);
        let prefix = format!(
            "{}{} {:<8} {:<9} {:>4} ",
            if i == marked { ">" } else { " " },
            i + 1,
            sanitize_line(&answer.worker),
            accuracy,
            took,
        );
        let indent = prefix.chars().count();
        let style = if i == marked {
            p.st.selected
        } else {
            Style::new()
        };
        // A long answer (a transcript) wraps under itself, never off the screen.
        let lines = wrap(
            &sanitize_line(&value),
            usize::from(width).saturating_sub(indent).max(8),
        );
        for (n, part) in lines.iter().enumerate() {
            if y >= bottom.saturating_sub(1) {
                break;
            }
            let lead = if n == 0 {
                prefix.clone()
            } else {
                " ".repeat(indent)
            };
            p.put(x, y, width, &format!("{lead}{part}"), style);
            y += 1;
        }
    }
    if let Some(form) = &case.project.form {
        let maps: Vec<_> = case
            .answers
            .iter()
            .map(|a| match &a.value {
                AnswerValue::Form(values) => form.canonical_values(values),
                _ => Default::default(),
            })
            .collect();
        for row in field_diff(&maps) {
            if y >= bottom.saturating_sub(1) {
                break;
            }
            if !row.differs && !case.fields.contains(&row.field) {
                continue;
            }
            let line = format!(
                "* {}: {}",
                sanitize_line(&row.field),
                sanitize_line(&row.values.join(" | "))
            );
            p.put(x, y, width, &line, p.st.text);
            y += 1;
        }
    }
    let note_line = if typing || !note.is_empty() {
        format!(
            "Note: {}{}",
            sanitize_line(note),
            if typing { "_" } else { "" }
        )
    } else {
        "Note: (none; ctrl-n to write why)".to_string()
    };
    if bottom > body.y {
        p.put(x, bottom - 1, width, &note_line, p.st.text);
    }
}

/// The message line's guide on an item, in the words of the keymap, within `width`;
/// `sound`: the item has a clip that can be heard here.
pub(super) fn case_guide(keymap: &Keymap, answers: usize, sound: bool, width: usize) -> String {
    let actions = [Action::PlayPause, Action::Edit, Action::Note];
    guide(keymap, answers, &actions[usize::from(!sound)..], width)
}

/// The guide on a flag or a contest: uphold and reject too.
pub(super) fn claim_guide(keymap: &Keymap, answers: usize, sound: bool, width: usize) -> String {
    let actions = [
        Action::PlayPause,
        Action::Uphold,
        Action::Reject,
        Action::Edit,
        Action::Note,
    ];
    guide(keymap, answers, &actions[usize::from(!sound)..], width)
}

/// Picking first and the way back last; the actions between as many as fit (help has
/// them all).
fn guide(keymap: &Keymap, answers: usize, actions: &[Action], width: usize) -> String {
    let pick = (answers > 0).then(|| format!("1-{} pick", answers.min(9)));
    let mut between: Vec<String> = actions
        .iter()
        .filter_map(|&a| {
            keymap
                .shown_key(Mode::Review, a, false)
                .map(|k| format!("{k} {a}"))
        })
        .collect();
    loop {
        let parts: Vec<&str> = pick
            .iter()
            .chain(between.iter())
            .map(String::as_str)
            .chain(["esc back"])
            .collect();
        let line = parts.join(" · ");
        if line.chars().count() <= width || between.is_empty() {
            return line;
        }
        between.pop();
    }
}

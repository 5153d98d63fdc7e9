//! Drawing the entry screen at 80x24: the document framed at the top (scrolled on its own
//! keys), the form below it with the current place marked, and one line for the current
//! field's hint or its problem in words; the guide on the message line.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Entry, Filling, field_at, option_list};
use crate::model::form::{Field, FieldKind, FieldPath, Form};
use crate::model::{sanitize, sanitize_line, text_width, wrap_layout};
use crate::tui::keymap::{Action, Keymap, Mode};
use crate::tui::screen::View;
use crate::tui::screen::classify::view::empty_state;
use crate::tui::widgets::form::{self as form_widget, FormLine};
use crate::tui::widgets::{Painter, fit};

pub(super) fn render(screen: &Entry, frame: &mut Frame, body: Rect, view: &View) {
    let mut p = Painter::on(frame, view.theme);
    let Some(current) = screen.current() else {
        return empty_state(&mut p, view, body);
    };
    if body.height < 4 || body.width < 20 {
        let line = fit(
            "make the window larger to fill in the form",
            usize::from(body.width),
            p.fr.more,
        );
        p.put(body.x, body.y, body.width, &line, p.st.message);
        return;
    }
    let doc_h = if body.height >= 14 {
        (body.height * 2 / 5).clamp(5, 10)
    } else {
        body.height / 3
    }
    .max(3);
    let doc = Rect::new(body.x, body.y, body.width, doc_h);
    let hint_y = body.bottom() - 1;
    let form_area = Rect::new(
        body.x,
        body.y + doc_h,
        body.width,
        hint_y - (body.y + doc_h),
    );
    document(&mut p, screen, current, doc, view.keymap);

    let lines = form_lines(screen.form(), current, form_area.width, view.keymap);
    let at = lines.iter().position(FormLine::is_current).unwrap_or(0);
    let rows = usize::from(form_area.height);
    let top = (at + 1).saturating_sub(rows);
    // The caret is a drawn cell, not the terminal's cursor (which stays hidden): that
    // keeps a typed character near 40 bytes on the wire.
    form_widget::draw(&mut p, form_area, &lines, top, current.caret);
    hint_line(
        &mut p,
        screen.form(),
        current,
        Rect::new(body.x, hint_y, body.width, 1),
    );
}

/// The document, from its first shown line, with where it is in its length.
fn document(p: &mut Painter, screen: &Entry, current: &Filling, area: Rect, keymap: &Keymap) {
    let inner = Rect::new(
        area.x + 2,
        area.y + 1,
        area.width.saturating_sub(4),
        area.height.saturating_sub(2),
    );
    let text = sanitize(&current.task.text);
    let lines = wrap_layout(&text, usize::from(inner.width.max(1)));
    let top = screen.doc_top().min(lines.len().saturating_sub(1));
    let shown = usize::from(inner.height);
    let last = (top + shown).min(lines.len());
    let title = if lines.len() > shown {
        let key = keymap
            .keys_for(
                Mode::Entry,
                if last < lines.len() {
                    Action::ScrollDown
                } else {
                    Action::ScrollUp
                },
            )
            .first()
            .map(|k| format!(", {k} scrolls"))
            .unwrap_or_default();
        format!("document {}-{} of {}{key}", top + 1, last, lines.len())
    } else {
        "document".to_string()
    };
    p.frame(area, &title);
    for (y, line) in (inner.y..inner.bottom()).zip(&lines[top..last]) {
        p.put(inner.x, y, inner.width, line, p.st.text);
    }
}

/// The form as lines: fields, and for each table its head, columns and rows.
fn form_lines(form: &Form, current: &Filling, width: u16, keymap: &Keymap) -> Vec<FormLine> {
    let mut out = Vec::new();
    let key = |a: Action| {
        keymap
            .keys_for(Mode::Entry, a)
            .first()
            .map(|k| k.to_string())
    };
    for field in &form.fields {
        if !current.places.iter().any(|p| owner(p) == field.id) {
            continue; // not shown: its condition does not hold
        }
        let label = sanitize_line(&field.label).into_owned();
        let FieldKind::Group(group) = &field.kind else {
            let path = FieldPath::Field(field.id.clone());
            out.push(FormLine::Field {
                label,
                value: shown_value(field, current.values.get(&path)),
                current: current.at == path,
                issue: current
                    .shown_issue(&path)
                    .map(|s| sanitize_line(s).into_owned()),
            });
            continue;
        };
        let note = match (key(Action::AddRow), key(Action::RemoveRow)) {
            (Some(a), Some(r)) => format!("{a} adds a row, {r} removes one"),
            (Some(a), None) => format!("{a} adds a row"),
            _ => String::new(),
        };
        let group_path = FieldPath::Field(field.id.clone());
        let rows = current.values.row_count(&field.id);
        let issue = current
            .shown_issue(&group_path)
            .map(|s| format!(" ! {}", sanitize_line(s)));
        out.push(FormLine::TableHead {
            label: format!("{label}{}", issue.unwrap_or_default()),
            note,
        });
        if rows == 0 {
            out.push(FormLine::Empty {
                label: String::new(),
                current: current.at == group_path,
                note: "no rows yet".into(),
            });
            continue;
        }
        let wide: Vec<bool> = group
            .columns
            .iter()
            .map(|c| matches!(c.kind, FieldKind::Text | FieldKind::Email))
            .collect();
        let widths = form_widget::column_widths(&wide, width);
        out.push(FormLine::TableColumns {
            columns: group
                .columns
                .iter()
                .zip(&widths)
                .map(|(c, w)| (sanitize_line(&c.label).into_owned(), *w))
                .collect(),
        });
        for row in 0..rows {
            let mut issue = false;
            let cells = group
                .columns
                .iter()
                .map(|c| {
                    let path = FieldPath::Cell {
                        group: field.id.clone(),
                        row,
                        column: c.id.clone(),
                    };
                    issue |= current.shown_issue(&path).is_some();
                    let shown = current.places.contains(&path);
                    let value = if shown {
                        shown_value(c, current.values.get(&path))
                    } else {
                        String::new()
                    };
                    (value, current.at == path)
                })
                .collect();
            out.push(FormLine::TableRow {
                number: row + 1,
                cells,
                widths: widths.clone(),
                issue,
            });
        }
    }
    out
}

/// The field or group a place belongs to.
fn owner(path: &FieldPath) -> &str {
    match path {
        FieldPath::Field(id) | FieldPath::Cell { group: id, .. } => id,
    }
}

/// A value as the worker sees it: a picked option by its label, typed text sanitised.
fn shown_value(field: &Field, raw: &str) -> String {
    let label_of = |options: &[crate::model::form::FieldOption], id: &str| {
        options
            .iter()
            .find(|o| o.id == id)
            .map_or_else(|| id.to_string(), |o| o.label.clone())
    };
    let text = match &field.kind {
        FieldKind::Choice { options } if !raw.is_empty() => label_of(options, raw),
        FieldKind::Choices { options } => raw
            .split('|')
            .filter(|s| !s.is_empty())
            .map(|id| label_of(options, id))
            .collect::<Vec<_>>()
            .join(", "),
        _ => raw.to_string(),
    };
    sanitize_line(&text).into_owned()
}

/// The current field's problem in words, else its hint (and a choice's keys).
fn hint_line(p: &mut Painter, form: &Form, current: &Filling, row: Rect) {
    let Some(field) = field_at(form, &current.at) else {
        return;
    };
    let label = sanitize_line(&field.label);
    if let Some(issue) = current.shown_issue(&current.at) {
        let text = format!("! {label}: {}", sanitize_line(issue));
        p.put(
            row.x + 1,
            row.y,
            row.width.saturating_sub(1),
            &fit(&text, usize::from(row.width.saturating_sub(1)), p.fr.more),
            p.st.message,
        );
        return;
    }
    let mut parts: Vec<String> = Vec::new();
    match &field.kind {
        FieldKind::Choice { options } | FieldKind::Choices { options } => {
            parts.push(option_list(options))
        }
        FieldKind::YesNo => parts.push("y yes, n no".into()),
        FieldKind::Group(_) => parts.push("no rows yet: add one".into()),
        _ => {}
    }
    if !field.hint.is_empty() && !matches!(field.kind, FieldKind::Choice { .. } | FieldKind::YesNo)
    {
        parts.push(sanitize_line(&field.hint).into_owned());
    } else if field.hint.is_empty() && parts.is_empty() && field.required {
        parts.push("required".into());
    }
    let text = format!("{label}: {}", parts.join("; "));
    let text = sanitize_line(&text);
    let width = row.width.saturating_sub(1);
    p.put(
        row.x + 1,
        row.y,
        width,
        &fit(&text, usize::from(width), p.fr.more),
        p.st.dim,
    );
}

/// With nothing to say, a short guide in the words of the active keymap.
pub(super) fn guide(screen: &Entry, keymap: &Keymap, width: usize) -> Option<String> {
    screen.current()?;
    let key = |a: Action| {
        keymap
            .keys_for(Mode::Entry, a)
            .first()
            .map(|k| k.to_string())
    };
    let mut guide = String::from("type the document into the form");
    for (action, words) in [
        (Action::NextField, "next field"),
        (Action::Submit, "sends"),
        (Action::ScrollDown, "scrolls the document"),
        (Action::Skip, "skip"),
    ] {
        if let Some(k) = key(action) {
            let part = format!(", {k} {words}");
            if text_width(&guide) + text_width(&part) > width {
                break;
            }
            guide.push_str(&part);
        }
    }
    Some(guide)
}

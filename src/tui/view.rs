//! Drawing the App: the chrome every screen shares (top line with where help is, message
//! line, status line), the screen on top into the body, then the overlays over it.
//! `render` reads state only; ratatui sends the terminal just the cells that changed, so
//! everything static stays put and nothing animates.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;

use super::app::App;
use super::keymap::Action;
use super::keymap::Keymap;
use super::overlay::{self, Overlay};
use super::screen::{Screen, View};
use super::widgets::help::HelpRow;
use super::widgets::{self, Painter};
use crate::model::{sanitize_line, text_width};

/// Below this size no screen can show a task and its answers: a plain note says so.
pub const MIN_WIDTH: u16 = 30;
pub const MIN_HEIGHT: u16 = 8;

/// Draw the whole screen from the App's state.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let mut p = Painter::new(frame.buffer_mut(), area, app.theme());
        let why = format!(
            "Make the window larger: Kazi needs {MIN_WIDTH}x{MIN_HEIGHT}, this one is {}x{}.",
            area.width, area.height
        );
        return widgets::too_small(&mut p, area, &why);
    }
    let bottom = area.bottom() - 1;
    {
        let mut p = Painter::new(frame.buffer_mut(), area, app.theme());
        let quit = app
            .keymap()
            .keys_for(app.mode(), Action::Quit)
            .first()
            .map(|k| k.to_string());
        let own = app.active().counts();
        widgets::status_line::draw(&mut p, app.status(), own, quit, bottom);
        if area.height == 1 {
            return;
        }
        top_line(app, &mut p, area.top());
    }
    let body = body_area(area, app.message());
    if area.height >= 4 {
        message_line(app, frame, body.bottom(), bottom);
    }
    let view = View {
        theme: app.theme(),
        keymap: app.keymap(),
        status: app.status(),
    };
    app.active().render(frame, body, &view);
    for layer in app.overlays() {
        match layer {
            Overlay::Help { scroll } => help(app, frame, body, *scroll),
            Overlay::Flag { .. } => flag_question(app, frame, body),
            Overlay::Join { typed } => join_question(app, frame, body, typed),
        }
    }
}

/// Where screens draw: between the top line and the message line (status line below).
/// A message too long for one line takes a second one where the body can spare it, so
/// what it says to do is never cut off.
pub(crate) fn body_area(area: Rect, message: Option<&str>) -> Rect {
    let mut body = Rect::new(
        area.x,
        area.y + 1,
        area.width,
        area.height.saturating_sub(2),
    );
    if body.height >= 2 {
        body.height -= 1;
    }
    let long = message
        .is_some_and(|m| text_width(&sanitize_line(m)) > usize::from(area.width.saturating_sub(1)));
    if long && body.height >= MIN_HEIGHT {
        body.height -= 1;
    }
    body
}

/// The help overlay's rows (the screen's, then the keymap's) and notes.
pub(crate) fn help_content(screen: &dyn Screen, keymap: &Keymap) -> (Vec<HelpRow>, String) {
    let mut screen_help = screen.help();
    let notes = std::mem::take(&mut screen_help.notes);
    (
        overlay::help_rows(keymap, screen.mode(), screen_help, &|a| {
            screen.global_words(a)
        }),
        notes,
    )
}

fn top_line(app: &App, p: &mut Painter, y: u16) {
    let row = Rect::new(p.area.x, y, p.area.width, 1);
    p.fill(row, p.st.bar);
    let title = app.active().title();
    let help = app
        .help_key()
        .map(|k| format!(" {k} help "))
        .unwrap_or_default();
    let help_w = text_width(&help) as u16;
    let x = p.area.x;
    let room = p.area.width.saturating_sub(help_w + 1);
    let end = p.put(x, y, room, " Kazi", p.st.bar.add_modifier(Modifier::BOLD));
    let end = p.put(end, y, room.saturating_sub(end - x), p.fr.sep, p.st.bar);
    p.put(end, y, room.saturating_sub(end - x), &title, p.st.bar);
    if help_w < p.area.width {
        p.put(p.area.right() - help_w, y, help_w, &help, p.st.bar);
    }
}

/// The message (or the screen's guide) on the rows from `top` to `bottom` (the status line).
fn message_line(app: &App, frame: &mut Frame, top: u16, bottom: u16) {
    let mut p = Painter::on(frame, app.theme());
    let width = p.area.width.saturating_sub(1);
    let x = p.area.x + 1;
    if let Some(message) = app.message() {
        let message = sanitize_line(message);
        let rows = usize::from(bottom.saturating_sub(top)).max(1);
        let lines = if rows > 1 {
            crate::model::wrap(&message, usize::from(width).max(1))
        } else {
            vec![message.into_owned()]
        };
        for (y, line) in (top..bottom).zip(lines.iter().take(rows)) {
            p.put(x, y, width, line, p.st.message);
        }
        return;
    }
    if let Some(guide) = app.active().guide(app.keymap(), usize::from(width)) {
        p.put(x, top, width, &guide, p.st.dim);
    }
}

fn help(app: &App, frame: &mut Frame, body: Rect, scroll: usize) {
    let (rows, notes) = help_content(app.active(), app.keymap());
    let close = format!(
        "esc{} closes this help",
        app.help_key()
            .map(|k| format!(" or {k}"))
            .unwrap_or_default()
    );
    let mut p = Painter::on(frame, app.theme());
    widgets::help::draw(&mut p, body, &close, &rows, &notes, scroll);
}

/// The flag question over the bottom of the body, in a frame of its own.
fn join_question(app: &App, frame: &mut Frame, body: Rect, typed: &crate::tui::overlay::Typed) {
    if body.height < 3 {
        return;
    }
    let area = Rect::new(body.x, body.bottom() - 3, body.width, 3);
    let mut p = Painter::new(frame.buffer_mut(), area, app.theme());
    p.fill(area, ratatui::style::Style::new());
    p.frame(area, "join a class");
    let text = Overlay::join_question(typed);
    p.put(
        area.x + 2,
        area.y + 1,
        area.width.saturating_sub(4),
        &text,
        p.st.text,
    );
}

fn flag_question(app: &App, frame: &mut Frame, body: Rect) {
    if body.height < 3 {
        return;
    }
    let area = Rect::new(body.x, body.bottom() - 3, body.width, 3);
    let mut p = Painter::new(frame.buffer_mut(), area, app.theme());
    p.fill(area, ratatui::style::Style::new());
    p.frame(area, "flag");
    let text = Overlay::flag_question();
    p.put(
        area.x + 2,
        area.y + 1,
        area.width.saturating_sub(4),
        &text,
        p.st.text,
    );
}

//! Drawing the App: `render` reads state only and writes cells; ratatui sends the
//! terminal just the cells that changed, so everything static stays put (labels keep fixed
//! places, counters live only on the status line, nothing animates). All text from
//! tasks, projects and messages passes `model::sanitize*` here.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

use super::app::{App, Current, Link, Preselect, Screen};
use super::keymap::{Action, Mode};
use unicode_segmentation::UnicodeSegmentation;

use crate::model::{Project, sanitize, sanitize_line, text_width, wrap};

/// How the terminal may be drawn on: set by the runtime from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Use the 16 named colours (off under `NO_COLOR`): bold, reverse and text markers
    /// carry every meaning either way.
    pub color: bool,
    /// Only ASCII for frames and markers (`KAZI_ASCII=1`, or a Linux console without a
    /// UTF-8 locale).
    pub ascii: bool,
}

impl Default for Theme {
    fn default() -> Theme {
        Theme {
            color: true,
            ascii: false,
        }
    }
}

impl Theme {
    pub fn from_env() -> Theme {
        let var = |name| std::env::var(name).ok();
        let locale = var("LC_ALL")
            .filter(|v| !v.is_empty())
            .or_else(|| var("LC_CTYPE").filter(|v| !v.is_empty()))
            .or_else(|| var("LANG"));
        Theme::from_vars(
            var("NO_COLOR").as_deref(),
            var("KAZI_ASCII").as_deref(),
            var("TERM").as_deref(),
            locale.as_deref(),
        )
    }

    /// The decision, apart from reading the environment (so it can be tested).
    pub fn from_vars(
        no_color: Option<&str>,
        kazi_ascii: Option<&str>,
        term: Option<&str>,
        locale: Option<&str>,
    ) -> Theme {
        let set = |v: Option<&str>| v.is_some_and(|v| !v.is_empty() && v != "0");
        let utf8_locale = locale.is_some_and(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("utf-8") || l.contains("utf8")
        });
        Theme {
            // no-color.org: present and not empty disables colour.
            color: no_color.is_none_or(str::is_empty),
            ascii: set(kazi_ascii) || (term == Some("linux") && !utf8_locale),
        }
    }
}

/// Styles for one theme: with colour off only modifiers remain.
struct Styles {
    bar: Style,
    key: Style,
    selected: Style,
    dim: Style,
    text: Style,
    message: Style,
    online: Style,
    offline: Style,
    syncing: Style,
}

impl Styles {
    fn new(theme: Theme) -> Styles {
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let reverse = Style::new().add_modifier(Modifier::REVERSED);
        if !theme.color {
            return Styles {
                bar: reverse,
                key: bold,
                selected: reverse.add_modifier(Modifier::BOLD),
                dim: Style::new(),
                text: bold,
                message: bold,
                online: Style::new(),
                offline: bold,
                syncing: Style::new(),
            };
        }
        Styles {
            bar: Style::new().fg(Color::Black).bg(Color::Cyan),
            key: bold.fg(Color::Yellow),
            selected: bold.fg(Color::Black).bg(Color::Green),
            dim: Style::new().fg(Color::Gray),
            text: bold.fg(Color::White),
            message: bold.fg(Color::Yellow),
            online: Style::new().fg(Color::Green),
            offline: bold.fg(Color::Red),
            syncing: Style::new().fg(Color::Yellow),
        }
    }
}

/// Frame characters: corners, horizontal, vertical.
struct Frames {
    tl: &'static str,
    tr: &'static str,
    bl: &'static str,
    br: &'static str,
    h: &'static str,
    v: &'static str,
    sep: &'static str,
    more: &'static str,
}

const UNICODE_FRAMES: Frames = Frames {
    tl: "┌",
    tr: "┐",
    bl: "└",
    br: "┘",
    h: "─",
    v: "│",
    sep: " │ ",
    more: "…",
};

const ASCII_FRAMES: Frames = Frames {
    tl: "+",
    tr: "+",
    bl: "+",
    br: "+",
    h: "-",
    v: "|",
    sep: " | ",
    more: "...",
};

struct Painter<'a> {
    buf: &'a mut Buffer,
    area: Rect,
    st: Styles,
    fr: &'static Frames,
}

impl Painter<'_> {
    /// Write text at (x, y), at most `max` columns; nothing outside the area. Returns
    /// the column after the text.
    fn put(&mut self, x: u16, y: u16, max: u16, text: &str, style: Style) -> u16 {
        if y < self.area.top() || y >= self.area.bottom() || x >= self.area.right() || max == 0 {
            return x;
        }
        let max = max.min(self.area.right() - x);
        self.buf.set_stringn(x, y, text, usize::from(max), style).0
    }

    fn fill(&mut self, row: Rect, style: Style) {
        let row = row.intersection(self.area);
        for y in row.top()..row.bottom() {
            for x in row.left()..row.right() {
                self.buf[(x, y)].set_symbol(" ").set_style(style);
            }
        }
    }

    fn frame(&mut self, r: Rect, title: &str) {
        if r.width < 2 || r.height < 2 {
            return;
        }
        let (l, t, right, b) = (r.left(), r.top(), r.right() - 1, r.bottom() - 1);
        let dim = self.st.dim;
        for x in l + 1..right {
            self.put(x, t, 1, self.fr.h, dim);
            self.put(x, b, 1, self.fr.h, dim);
        }
        for y in t + 1..b {
            self.put(l, y, 1, self.fr.v, dim);
            self.put(right, y, 1, self.fr.v, dim);
        }
        self.put(l, t, 1, self.fr.tl, dim);
        self.put(right, t, 1, self.fr.tr, dim);
        self.put(l, b, 1, self.fr.bl, dim);
        self.put(right, b, 1, self.fr.br, dim);
        if !title.is_empty() && r.width > 4 {
            let x = self.put(l + 2, t, r.width - 4, " ", dim);
            let x = self.put(x, t, right.saturating_sub(x + 1), title, self.st.key);
            self.put(x, t, right.saturating_sub(x), " ", dim);
        }
    }
}

/// Draw the whole screen from the App's state.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    draw(app, area, frame.buffer_mut());
}

/// `render` on a bare buffer (benches and tests that have no `Frame`).
pub fn draw(app: &App, area: Rect, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    if area.width == 0 || area.height == 0 {
        return;
    }
    let theme = app.theme();
    let mut p = Painter {
        buf,
        area,
        st: Styles::new(theme),
        fr: if theme.ascii {
            &ASCII_FRAMES
        } else {
            &UNICODE_FRAMES
        },
    };
    let bottom = area.bottom() - 1;
    status_line(app, &mut p, bottom);
    if area.height == 1 {
        return;
    }
    top_line(app, &mut p, area.top());
    let mut body = Rect::new(area.x, area.y + 1, area.width, area.height - 2);
    if body.height >= 2 {
        message_line(app, &mut p, bottom - 1);
        body.height -= 1;
    }
    match app.screen() {
        Screen::Picker => picker(app, &mut p, body),
        Screen::Work => work(app, &mut p, body),
    }
    if app.help_open() {
        help(app, &mut p, body);
    }
}

fn top_line(app: &App, p: &mut Painter, y: u16) {
    let row = Rect::new(p.area.x, y, p.area.width, 1);
    p.fill(row, p.st.bar);
    let title = match app.project() {
        Some(project) => sanitize_line(&project.title),
        None => "Choose a project".into(),
    };
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

fn status_line(app: &App, p: &mut Painter, y: u16) {
    let status = app.status();
    let link_style = match status.link {
        Link::Online => p.st.online,
        Link::Offline => p.st.offline,
        Link::Syncing => p.st.syncing,
    };
    let width = p.area.width;
    let x = p.put(p.area.x, y, width, " ", Style::new());
    let x = p.put(x, y, width, status.link.word(), link_style);
    // Most important first; a part that does not fit whole is left out, not cut.
    let mut x = x;
    for part in [
        format!("{}unsent {}", p.fr.sep, status.unsent),
        format!("{}done today {}", p.fr.sep, status.done_today),
        format!("{}cached {}", p.fr.sep, status.cached),
    ] {
        let w = text_width(&part) as u16;
        if x + w > p.area.right() {
            break;
        }
        x = p.put(x, y, w, &part, Style::new());
    }
    let quit = app
        .keymap()
        .keys_for(app.mode(), Action::Quit)
        .first()
        .map(|k| format!("{k} quit "))
        .unwrap_or_default();
    let quit_w = text_width(&quit) as u16;
    if x + quit_w + 2 <= p.area.right() {
        p.put(p.area.right() - quit_w, y, quit_w, &quit, p.st.dim);
    }
}

fn message_line(app: &App, p: &mut Painter, y: u16) {
    let width = p.area.width.saturating_sub(1);
    let x = p.area.x + 1;
    if let Some(message) = app.message() {
        p.put(x, y, width, &sanitize_line(message), p.st.message);
        return;
    }
    // With nothing to say, a short guide in the words of the active keymap.
    if let (Screen::Work, Some(project), Some(_)) = (app.screen(), app.project(), app.current()) {
        let keys = |a: Action| {
            app.keymap()
                .keys_for(Mode::for_kind(project.kind), a)
                .first()
                .map(|k| k.to_string())
        };
        let preselect = app.current().and_then(|c| c.preselect);
        let mut guide = match (project.multi_label, keys(Action::Submit), preselect) {
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
                if text_width(&guide) + text_width(&part) > usize::from(width) {
                    break;
                }
                guide.push_str(&part);
            }
        }
        p.put(x, y, width, &guide, p.st.dim);
    }
}

fn picker(app: &App, p: &mut Painter, body: Rect) {
    let x = body.x + 1;
    let width = body.width.saturating_sub(2);
    let projects = app.projects();
    if projects.is_empty() {
        p.put(
            x,
            body.y,
            width,
            "No projects yet: waiting for the server.",
            p.st.text,
        );
        return;
    }
    let mut y = body.y;
    if body.height > projects.len() as u16 + 2 {
        p.put(
            x,
            y,
            width,
            "Which project do you want to work on?",
            p.st.text,
        );
        y += 2;
    }
    // Keep the cursor in view on short screens.
    let rows = usize::from(body.bottom().saturating_sub(y));
    let first = app.picker_cursor().saturating_sub(rows.saturating_sub(1));
    for (i, project) in projects.iter().enumerate().skip(first).take(rows) {
        let chosen = i == app.picker_cursor();
        let number = if i < 9 {
            format!("{}", i + 1)
        } else {
            " ".into()
        };
        let line = format!(
            "{} {number}  {} ({}, {} labels)",
            if chosen { ">" } else { " " },
            sanitize_line(&project.title),
            sanitize_line(&project.name),
            project.labels.len()
        );
        let style = if chosen { p.st.selected } else { Style::new() };
        p.put(x, y, width, &line, style);
        y += 1;
    }
}

fn work(app: &App, p: &mut Painter, body: Rect) {
    let Some(project) = app.project() else {
        return;
    };
    let Some(current) = app.current() else {
        return empty_state(app, p, body);
    };
    let label_area = label_grid(project, body, app.hints_open());
    let task_area = Rect::new(body.x, body.y, body.width, body.height - label_area.rows);
    task_text(p, current, task_area);
    labels(p, project, current, &label_area, app.hints_open());
}

fn empty_state(app: &App, p: &mut Painter, body: Rect) {
    let lines: &[&str] = match app.status().link {
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

/// Where the labels go: a grid of `cols` columns and `rows` rows at the bottom of the
/// body. It depends only on the project, the size and the hint toggle, never on the
/// task, so each label keeps its place from task to task.
struct LabelGrid {
    area: Rect,
    cols: u16,
    rows: u16,
}

/// Fewest rows the task text keeps (with its frame) before labels give up columns.
const MIN_TASK_ROWS: u16 = 3;
const MIN_LABEL_COL: u16 = 16;
const READABLE_LABEL_COL: u16 = 24;

/// Task rows (with the frame) that one label per row may leave: five lines of text,
/// enough for the longest product titles at 80 columns.
const ROOMY_TASK_ROWS: u16 = 7;

fn label_grid(project: &Project, body: Rect, hints: bool) -> LabelGrid {
    let n = project.labels.len().max(1) as u16;
    let max_rows = body.height.saturating_sub(MIN_TASK_ROWS).max(1);
    // One label per row when it fits: the description (the inline hint) gets the width.
    if n + ROOMY_TASK_ROWS <= body.height {
        let area = Rect::new(body.x, body.bottom() - n, body.width, n);
        return LabelGrid {
            area,
            cols: 1,
            rows: n,
        };
    }
    // Few columns read best (room for hints); labels take about a third of the height
    // unless hints are open, which asks for one label per row.
    let wanted_rows = if hints {
        max_rows
    } else {
        (body.height / 3).clamp(1, max_rows)
    };
    let widest_cols = (body.width / MIN_LABEL_COL).clamp(1, n);
    let mut cols = 1;
    while n.div_ceil(cols) > wanted_rows && cols < widest_cols {
        cols += 1;
    }
    // Narrow columns cut names: rather give labels up to half the height.
    let readable_cols = (body.width / READABLE_LABEL_COL).clamp(1, n);
    if cols > readable_cols && n.div_ceil(readable_cols) <= (body.height / 2).clamp(1, max_rows) {
        cols = readable_cols;
    }
    let rows = n.div_ceil(cols).min(max_rows).min(body.height);
    let area = Rect::new(body.x, body.bottom() - rows, body.width, rows);
    LabelGrid { area, cols, rows }
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

fn labels(p: &mut Painter, project: &Project, current: &Current, grid: &LabelGrid, hints: bool) {
    if grid.rows == 0 {
        return;
    }
    let col_w = grid.area.width / grid.cols;
    let suggestion = current.task.suggestion.as_deref();
    // Descriptions start in one column, so the eye finds them in the same place.
    let name_col = project
        .labels
        .iter()
        .map(|l| text_width(&sanitize_line(&l.name)) as u16)
        .max()
        .unwrap_or(0)
        .min(col_w / 2);
    for (i, label) in project.labels.iter().enumerate() {
        let i = i as u16;
        let (col, row) = (i / grid.rows, i % grid.rows);
        if col >= grid.cols {
            break;
        }
        let x = grid.area.x + col * col_w + 1;
        let y = grid.area.y + row;
        let w = col_w.saturating_sub(2);
        let selected = current.selected.get(usize::from(i)) == Some(&true);
        let marker = match (project.multi_label, selected) {
            (true, true) => "[x] ",
            (true, false) => "[ ] ",
            (false, true) => "> ",
            (false, false) => "  ",
        };
        let name_style = if selected {
            p.st.selected
        } else {
            Style::new()
        };
        let end = x + w;
        let mut at = p.put(x, y, w, marker, name_style);
        at = p.put(
            at,
            y,
            end.saturating_sub(at),
            &label.key.to_string(),
            p.st.key,
        );
        at = p.put(at, y, end.saturating_sub(at), " ", Style::new());
        let name = sanitize_line(&label.name);
        let name = fit(&name, usize::from(end.saturating_sub(at)), p.fr.more);
        at = p.put(at, y, end.saturating_sub(at), &name, name_style);
        let note = if suggestion == Some(label.id.as_str()) {
            " (suggested)"
        } else if selected && current.preselect == Some(Preselect::Previous) && !project.multi_label
        {
            " (your answer)"
        } else {
            ""
        };
        at = p.put(at, y, end.saturating_sub(at), note, p.st.key);
        // Hints open: the examples first, since a description fills the line by itself.
        let mut hint = String::new();
        if hints && !label.examples.is_empty() {
            hint.push_str("e.g. ");
            let examples: Vec<_> = label.examples.iter().map(|e| sanitize_line(e)).collect();
            hint.push_str(&examples.join("; "));
        }
        if !label.description.is_empty() {
            if !hint.is_empty() {
                hint.push_str(" - ");
            }
            hint.push_str(&sanitize_line(&label.description));
        }
        let hint_x = x + text_width(marker) as u16 + 2 + name_col;
        if note.is_empty() && at < hint_x {
            at = hint_x;
        }
        if !hint.is_empty() && at + 4 < end {
            at = p.put(at, y, end - at, "  ", Style::new());
            let hint = fit(&hint, usize::from(end - at), p.fr.more);
            p.put(at, y, end - at, &hint, p.st.dim);
        }
    }
}

/// `text` cut to `width` columns, ending in `more` when it was cut.
fn fit<'t>(text: &'t str, width: usize, more: &str) -> std::borrow::Cow<'t, str> {
    if text_width(text) <= width {
        return text.into();
    }
    let room = width.saturating_sub(text_width(more));
    let mut out = String::new();
    let mut used = 0;
    for g in text.graphemes(true) {
        let w = text_width(g);
        if used + w > room {
            break;
        }
        out.push_str(g);
        used += w;
    }
    out.truncate(out.trim_end().len());
    out.push_str(more);
    out.into()
}

/// Label keys as short runs: "1-9, 0" rather than "1234567890".
fn key_runs(keys: &[char]) -> String {
    let mut runs: Vec<String> = Vec::new();
    let mut i = 0;
    while i < keys.len() {
        let mut j = i;
        while j + 1 < keys.len() && keys[j + 1] as u32 == keys[j] as u32 + 1 {
            j += 1;
        }
        runs.push(match j - i {
            0 => keys[i].to_string(),
            1 => format!("{}, {}", keys[i], keys[j]),
            _ => format!("{}-{}", keys[i], keys[j]),
        });
        i = j + 1;
    }
    runs.join(", ")
}

fn help(app: &App, p: &mut Painter, body: Rect) {
    let width = body.width.min(72);
    if width < 8 || body.height < 3 {
        return;
    }
    let mode = app.mode();
    let keymap = app.keymap();
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut actions: Vec<Action> = Vec::new();
    for m in [mode, Mode::Global] {
        for b in keymap.bindings(m) {
            if !actions.contains(&b.action) {
                actions.push(b.action);
            }
        }
    }
    for action in actions {
        let keys = keymap.keys_for(mode, action);
        if keys.is_empty() {
            continue;
        }
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        rows.push((
            keys.join(", "),
            format!("{action}: {}", action.description()),
        ));
    }
    if let Some(project) = app.project() {
        let keys: Vec<char> = project.labels.iter().map(|l| l.key).collect();
        let keys = key_runs(&keys);
        let what = if project.multi_label {
            "labels: choose or unchoose a label"
        } else {
            "labels: answer with that label"
        };
        rows.insert(0, (sanitize_line(&keys).into_owned(), what.to_string()));
    }
    let key_w = rows
        .iter()
        .map(|(k, _)| text_width(k))
        .max()
        .unwrap_or(0)
        .min(usize::from(width / 3)) as u16;
    let instructions = app
        .project()
        .map(|p| sanitize(&p.instructions).into_owned())
        .unwrap_or_default();
    let inner_w = width.saturating_sub(4);
    let instruction_lines = if instructions.is_empty() {
        Vec::new()
    } else {
        wrap(&instructions, usize::from(inner_w))
    };
    // Frame, the "closes" line and a gap; a gap and the instructions if any.
    let instruction_rows = match instruction_lines.len() as u16 {
        0 => 0,
        n => n + 1,
    };
    let wanted = rows.len() as u16 + 4 + instruction_rows;
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
    let close = format!(
        "esc{} closes this help",
        app.help_key()
            .map(|k| format!(" or {k}"))
            .unwrap_or_default()
    );
    p.put(x, y, inner_w, &close, p.st.dim);
    y += 2;
    for (keys, what) in &rows {
        if y >= bottom {
            return;
        }
        let at = p.put(x, y, key_w, keys, p.st.key);
        let at = at.max(x + key_w + 2);
        p.put(at, y, (x + inner_w).saturating_sub(at), what, Style::new());
        y += 1;
    }
    y += 1;
    for line in &instruction_lines {
        if y >= bottom {
            return;
        }
        p.put(x, y, inner_w, line, Style::new());
        y += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn theme_follows_the_environment() {
        let t = |nc, ascii, term, locale| Theme::from_vars(nc, ascii, term, locale);
        assert_eq!(t(None, None, None, None), Theme::default());
        assert!(!t(Some("1"), None, None, None).color);
        // no-color.org: an empty NO_COLOR does not count.
        assert!(t(Some(""), None, None, None).color);
        assert!(t(None, Some("1"), None, None).ascii);
        assert!(!t(None, Some("0"), None, None).ascii);
        assert!(t(None, None, Some("linux"), Some("C")).ascii);
        assert!(!t(None, None, Some("linux"), Some("en_US.UTF-8")).ascii);
        assert!(!t(None, None, Some("xterm-256color"), Some("C")).ascii);
    }

    #[test]
    fn fit_cuts_with_a_marker() {
        assert_eq!(fit("rice, flour", 20, "…"), "rice, flour");
        assert_eq!(fit("rice, flour", 7, "…"), "rice,…");
        assert_eq!(fit("电视机电视机", 5, "..."), "电...");
    }

    #[test]
    fn key_runs_are_short() {
        assert_eq!(
            key_runs(&['1', '2', '3', '4', '5', '6', '7', '8', '9', '0']),
            "1-9, 0"
        );
        assert_eq!(key_runs(&['a', 'b', 'x']), "a, b, x");
        assert_eq!(key_runs(&[]), "");
    }
}

//! The progress view (the `progress` action, over any screen): the worker's tasks per
//! day and week, time on task, accuracy per project week by week as small charts drawn
//! in characters (block characters, or plain ASCII digits and `#` when the theme is
//! ASCII; never colour alone), qualifications held and earnings where a project sets a
//! rate. The figures are the server's, as of the server time shown; they are kept in the
//! local store, so the view works offline.

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{Context, Screen, ScreenHelp, ScreenId, View};
use crate::model::{format_utc, sanitize_line, text_width};
use crate::protocol::{Period, Progress, ProjectProgress};
use crate::tui::app::{Effect, Event, Link};
use crate::tui::key::{Key, KeyCode};
use crate::tui::keymap::{Action, Keymap, Mode};
use crate::tui::widgets::Painter;
use crate::tui::widgets::help::HelpRow;

/// What the progress view asks the runtime for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressEffect {
    /// Read the figures kept here and ask the server for fresh ones (when online);
    /// reply with `ProgressEvent::Loaded`, and again when fresh figures arrive.
    Load,
}

/// What the runtime tells the progress view.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressEvent {
    /// The figures kept here (None: none received yet).
    Loaded(Option<Progress>),
}

/// Rows of the tasks-per-day chart.
const BAR_ROWS: usize = 4;
const EIGHTHS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

#[derive(Debug, Default)]
pub struct ProgressView {
    progress: Option<Progress>,
    loaded: bool,
}

impl ProgressView {
    /// Open the view; it asks for the figures kept here and for fresh ones.
    pub fn open(cx: &mut Context) -> ProgressView {
        cx.effect(Effect::Progress(ProgressEffect::Load));
        ProgressView::default()
    }
}

/// "2026-12-02 09:14 UTC".
fn server_time(at: i64) -> String {
    let t = format_utc(at);
    format!("{} {} UTC", &t[..10], &t[11..16])
}

fn hours(seconds: u64) -> String {
    format!("{:.1} h", seconds as f64 / 3600.0)
}

/// The tasks-per-day chart: `BAR_ROWS` rows of bars (two columns a day, one apart),
/// top row first, then the days of the month under them.
pub fn day_bars(days: &[Period], ascii: bool) -> Vec<String> {
    let most = days.iter().map(|d| d.tasks).max().unwrap_or(0).max(1);
    let mut rows = vec![String::new(); BAR_ROWS + 1];
    for day in days {
        // In eighths of a row; any work at all shows at least a sliver.
        let eighths = match day.tasks {
            0 => 0,
            n => ((n * (BAR_ROWS as u64) * 8).div_ceil(most)).max(1),
        };
        for (r, row) in rows.iter_mut().take(BAR_ROWS).enumerate() {
            let from_bottom = (BAR_ROWS - 1 - r) as u64;
            let fill = eighths.saturating_sub(from_bottom * 8).min(8);
            let cell = match (fill, ascii) {
                (0, _) => ' ',
                (_, true) => '#',
                (f, false) => EIGHTHS[f as usize - 1],
            };
            row.push(cell);
            row.push(cell);
            row.push(' ');
        }
        let date = format_utc(day.start);
        rows[BAR_ROWS].push_str(&date[8..10]);
        rows[BAR_ROWS].push(' ');
    }
    rows.iter().map(|r| r.trim_end().to_string()).collect()
}

/// One mark per week for the share right: a block of its height, or in ASCII the tens
/// digit (`9` is 90-99 %, `*` is 100 %); `-` (ASCII) or `·` where nothing was checked.
pub fn accuracy_marks(checked: &[(u64, u64)], ascii: bool) -> String {
    checked
        .iter()
        .map(|&(right, of)| match (of, ascii) {
            (0, true) => '-',
            (0, false) => '·',
            (_, true) if right >= of => '*',
            (_, true) => char::from(b'0' + (right * 10 / of) as u8),
            (_, false) => EIGHTHS[((right * 8).div_ceil(of)).clamp(1, 8) as usize - 1],
        })
        .collect()
}

fn percent(right: u64, of: u64) -> String {
    match of {
        0 => "no checked tasks".into(),
        _ => format!("{}%", right * 100 / of),
    }
}

/// A project's accuracy line: title, the weeks' marks, this week's and all the weeks'.
fn project_line(p: &ProjectProgress, ascii: bool, title_width: usize) -> String {
    let more = if ascii { "~" } else { "…" };
    let title = crate::model::fit(&sanitize_line(&p.title), title_width, more).into_owned();
    let pad = title_width.saturating_sub(text_width(&title));
    let checked = p.checked();
    let (right, of) = checked
        .iter()
        .fold((0, 0), |(r, o), &(right, of)| (r + right, o + of));
    let last = checked.last().copied().unwrap_or((0, 0));
    format!(
        "{title}{} {}  this week {}, all {}",
        " ".repeat(pad),
        accuracy_marks(&checked, ascii),
        percent(last.0, last.1),
        percent(right, of),
    )
}

/// The lines of the view, in order, each at most `width` columns once drawn.
pub fn lines(progress: &Progress, ascii: bool, width: usize) -> Vec<String> {
    let weeks = progress.weeks.len();
    let mut out = vec![format!(
        "as of {} (server time)",
        server_time(progress.as_of)
    )];
    let today = progress.today().cloned().unwrap_or_default();
    let week = progress.this_week().cloned().unwrap_or_default();
    let last_week = progress
        .weeks
        .len()
        .checked_sub(2)
        .and_then(|i| progress.weeks.get(i))
        .map_or(0, |p| p.tasks);
    out.push(format!(
        "today {} tasks ({} on task)   this week {} ({})   last week {}",
        today.tasks,
        hours(today.seconds),
        week.tasks,
        hours(week.seconds),
        last_week
    ));
    let most = progress.days.iter().map(|d| d.tasks).max().unwrap_or(0);
    out.push(format!(
        "Tasks per day, last {} days (highest {most}):",
        progress.days.len()
    ));
    out.extend(
        day_bars(&progress.days, ascii)
            .into_iter()
            .map(|r| format!("  {r}")),
    );
    let per_week: Vec<String> = progress
        .weeks
        .iter()
        .map(|w| format!("{:.1}", w.seconds as f64 / 3600.0))
        .collect();
    out.push(format!(
        "Hours on task per week, last {weeks}: {}",
        per_week.join(" ")
    ));
    out.push(format!(
        "Accuracy per week, gold and reviewed tasks ({}):",
        match ascii {
            true => "a digit is tens of %, * is 100%",
            false => "taller is better",
        }
    ));
    if progress.projects.is_empty() {
        out.push("  no tasks done in these weeks".into());
    }
    let title_width = progress
        .projects
        .iter()
        .map(|p| text_width(&sanitize_line(&p.title)))
        .max()
        .unwrap_or(0)
        .min(width.saturating_sub(50).max(8));
    for p in &progress.projects {
        out.push(format!("  {}", project_line(p, ascii, title_width)));
    }
    let earned: Vec<String> = progress
        .projects
        .iter()
        .filter_map(|p| {
            let rate = p.rate.as_ref()?;
            let this_week = p.weeks.last().map_or(0, |w| w.0);
            Some(format!(
                "  {}: {} in {weeks} weeks, {} this week",
                sanitize_line(&p.title),
                rate.earned(p.tasks())?,
                rate.earned(this_week)?,
            ))
        })
        .collect();
    if !earned.is_empty() {
        out.push("Earned:".into());
        out.extend(earned);
    }
    if progress.qualifications.is_empty() {
        out.push("Qualifications: none yet".into());
    } else {
        out.push("Qualifications:".into());
        for q in &progress.qualifications {
            out.push(format!(
                "  {} since {}",
                sanitize_line(&q.title),
                &format_utc(q.since)[..10]
            ));
        }
    }
    out
}

impl Screen for ProgressView {
    fn id(&self) -> ScreenId {
        ScreenId::Progress
    }

    fn mode(&self) -> Mode {
        Mode::Global
    }

    fn title(&self) -> Cow<'_, str> {
        "Your progress".into()
    }

    fn on_key(&mut self, key: Key, action: Option<Action>, cx: &mut Context) {
        if matches!(action, Some(Action::Progress)) || key.code == KeyCode::Esc {
            cx.close("back to work");
        }
    }

    fn on_event(&mut self, event: Event, cx: &mut Context) {
        if let Event::Progress(ProgressEvent::Loaded(progress)) = event {
            // Figures kept here never give way to none (a store read that found none
            // after fresh ones came is not news).
            if progress.is_some() || !self.loaded {
                self.progress = progress;
            }
            self.loaded = true;
            cx.redraw();
        }
    }

    fn render(&self, frame: &mut Frame, body: Rect, view: &View) {
        let mut p = Painter::on(frame, view.theme);
        let plain = p.st.text;
        let x = body.x + 1;
        let width = body.width.saturating_sub(2);
        let text: Vec<String> = match (&self.progress, self.loaded) {
            (_, false) => vec!["Reading your progress...".into()],
            (None, true) => vec![
                "No figures yet.".into(),
                match view.status.link {
                    Link::Offline => {
                        "They come from the server: open this again when you are online.".into()
                    }
                    _ => "They come from the server with the next sync.".into(),
                },
            ],
            (Some(progress), true) => lines(progress, view.theme.ascii, usize::from(width)),
        };
        for (i, line) in text.iter().take(usize::from(body.height)).enumerate() {
            p.put(x, body.y + i as u16, width, &sanitize_line(line), plain);
        }
    }

    fn guide(&self, _keymap: &Keymap, _width: usize) -> Option<String> {
        Some("esc back to work; each time this view opens it asks for fresh figures".into())
    }

    fn help(&self) -> ScreenHelp {
        ScreenHelp {
            rows: vec![HelpRow::new("esc", "back to work")],
            notes: "Your figures come from the server's records, by the server's clock, \
                    and are kept on this computer: the view works offline and says when \
                    the server computed them. Accuracy counts gold tasks and tasks a \
                    reviewer decided."
                .into(),
        }
    }
}

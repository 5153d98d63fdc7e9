//! The class a trainer runs from the presentation: its state as the server last said,
//! the class view (one row per student) and the report, and how the two are drawn. The
//! class view is redrawn only when the executor brings a view that differs from the one
//! shown (it follows the server with a long poll); nothing here runs on a timer.

use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::model::sanitize_line;
use crate::protocol::{ClassMarker, ClassReport, ClassRow, ClassState, ClassView};
use crate::tui::theme::Theme;
use crate::tui::widgets::big::{BIG_ROWS, big_lines};
use crate::tui::widgets::{Painter, fit};

/// What the trainer sees of the class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// The lesson, with a line about the class.
    Lesson,
    /// The join code and one row per student.
    Class,
    /// The after-class report.
    Report,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    pub state: ClassState,
    pub view: Option<ClassView>,
    pub report: Option<ClassReport>,
}

impl Class {
    pub fn new(state: ClassState) -> Class {
        Class {
            state,
            view: None,
            report: None,
        }
    }

    pub fn open(&self) -> bool {
        self.state.ended.is_none()
    }

    pub fn students(&self) -> &[ClassRow] {
        self.view.as_ref().map_or(&[], |v| v.students.as_slice())
    }

    /// One line about the class, for the lesson's head.
    pub fn summary(&self) -> String {
        let n = self.students().len();
        let who = match n {
            1 => "1 student".to_string(),
            n => format!("{n} students"),
        };
        if self.open() {
            format!("Class {}: {who}", sanitize_line(&self.state.code))
        } else {
            format!("Class {} ended: {who}", sanitize_line(&self.state.code))
        }
    }
}

/// The student's accuracy so far: "2 of 3 right".
fn accuracy(row: &ClassRow) -> String {
    if row.answered == 0 {
        return "-".into();
    }
    let pct = u64::from(row.correct) * 100 / u64::from(row.answered);
    format!("{} of {} ({pct}%)", row.correct, row.answered)
}

fn seen(now: i64, at: i64) -> String {
    if at <= 0 {
        return "-".into();
    }
    let ago = (now - at).max(0);
    match ago {
        0..=59 => format!("{ago} s ago"),
        60..=3599 => format!("{} min ago", ago / 60),
        _ => format!("{} h ago", ago / 3600),
    }
}

fn marker(m: Option<ClassMarker>) -> &'static str {
    match m {
        None => "",
        Some(ClassMarker::Stuck) => "STUCK",
        Some(ClassMarker::Wrong) => "WRONG AGAIN",
        Some(ClassMarker::Away) => "AWAY",
        Some(ClassMarker::Other) => "!",
    }
}

/// The class pane: the join code large (where there is room), then the students.
pub(super) fn render_class(class: &Class, p: &mut Painter, body: Rect, theme: Theme, join: &str) {
    let x = body.x + 1;
    let w = body.width.saturating_sub(2);
    let st = &class.state;
    let mut y = body.y;
    let shown = if st.revealed { " | answer shown" } else { "" };
    let (step, steps) = (st.step + 1, st.steps.max(1));
    let mut head = format!("{} | step {step} of {steps}{shown}", class.summary());
    if crate::model::text_width(&head) > usize::from(w) {
        // A narrow window (a phone's SSH app): the step stays whole, never "2 of 1".
        head = format!("{} | step {step}/{steps}{shown}", class.summary());
    }
    p.put(x, y, w, &fit(&head, usize::from(w), p.fr.more), p.st.key);
    y += 1;
    let students = class.students();
    // The echo line is the body's last row.
    let bottom = body.bottom().saturating_sub(1);
    let code = sanitize_line(&st.code);
    let big_fits = usize::from(bottom.saturating_sub(y)) >= BIG_ROWS + 4 + students.len().min(3);
    if class.open() {
        if big_fits && let Some(lines) = big_lines(&code, theme.ascii) {
            y += 1;
            for line in lines {
                let lw = crate::model::text_width(&line) as u16;
                let lx = body.x + body.width.saturating_sub(lw) / 2;
                p.put(lx, y, w, &line, p.st.text);
                y += 1;
            }
        }
        let mut how = format!("Join in kazi work: {join}, then type {code}");
        if crate::model::text_width(&how) > usize::from(w) {
            how = format!("Join: {join}, type {code}");
        }
        p.put(x, y, w, &fit(&how, usize::from(w), p.fr.more), p.st.text);
        y += 2;
    } else {
        p.put(x, y, w, "The class has ended.", p.st.text);
        y += 2;
    }
    if students.is_empty() {
        p.put(x, y, w, "No students yet.", p.st.dim);
        return;
    }
    let name_w = students
        .iter()
        .map(|r| crate::model::text_width(&sanitize_line(&r.name)))
        .max()
        .unwrap_or(4)
        .clamp(4, 20);
    let now = class.view.as_ref().map_or(0, |v| v.now);
    let row = |name: &str, step: &str, right: &str, last: &str, mark: &str| {
        format!(
            "{:<name_w$}  {:<8}  {:<14}  {:<10}  {mark}",
            fit(name, name_w, "~"),
            step,
            right,
            last
        )
    };
    p.put(
        x,
        y,
        w,
        &row("Name", "Step", "Right", "Last seen", ""),
        p.st.dim,
    );
    y += 1;
    let room = usize::from(bottom.saturating_sub(y));
    let shown = if students.len() > room {
        room.saturating_sub(1)
    } else {
        students.len()
    };
    for r in students.iter().take(shown) {
        let name = sanitize_line(&r.name);
        let line = row(
            &name,
            &format!("{}/{}", r.step + 1, st.steps.max(1)),
            &accuracy(r),
            &seen(now, r.last_seen),
            marker(r.marker),
        );
        let style = if r.marker.is_some() {
            p.st.key
        } else {
            Style::new()
        };
        p.put(x, y, w, &line, style);
        y += 1;
    }
    if shown < students.len() {
        let more = format!(
            "and {} more (a larger window shows them)",
            students.len() - shown
        );
        p.put(x, y, w, &more, p.st.dim);
    }
}

/// The report pane: each student's accuracy, time per task, exam, and steps.
pub(super) fn render_report(class: &Class, p: &mut Painter, body: Rect) {
    let x = body.x + 1;
    let w = body.width.saturating_sub(2);
    let mut y = body.y;
    let bottom = body.bottom().saturating_sub(1);
    let Some(report) = &class.report else {
        p.put(x, y, w, "Asking the server for the report...", p.st.text);
        return;
    };
    let head = format!(
        "Report of class {} ({}, {} steps){}",
        sanitize_line(&report.state.code),
        sanitize_line(&report.state.project),
        report.state.steps,
        if report.state.ended.is_some() {
            ""
        } else {
            ", still open"
        }
    );
    p.put(x, y, w, &head, p.st.key);
    y += 1;
    let legend = "Steps: + right first time, x not. Every answer: kazi admin class report CODE";
    p.put(x, y, w, &fit(legend, usize::from(w), p.fr.more), p.st.dim);
    y += 2;
    if report.students.is_empty() {
        p.put(x, y, w, "No student answered.", p.st.dim);
        return;
    }
    for s in &report.students {
        if y + 1 >= bottom {
            p.put(x, y, w, "... (a larger window shows more)", p.st.dim);
            return;
        }
        let acc = s
            .accuracy
            .map_or("-".into(), |a| format!("{:.0}%", a * 100.0));
        let took = s
            .mean_took
            .map_or("-".into(), |t| format!("{t:.0} s a task"));
        let exam = if s.qualified.is_some() {
            "exam passed"
        } else {
            "exam not passed"
        };
        let line = format!("{}: {acc} right, {took}, {exam}", sanitize_line(&s.name));
        p.put(x, y, w, &line, p.st.text);
        y += 1;
        let steps: Vec<String> = s
            .steps
            .iter()
            .map(|st| format!("{}{}", st.step + 1, if st.correct { "+" } else { "x" }))
            .collect();
        let line = format!("  {}", steps.join(" "));
        p.put(
            x,
            y,
            w,
            &fit(&line, usize::from(w), p.fr.more),
            Style::new(),
        );
        y += 1;
    }
}

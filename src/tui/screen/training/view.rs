//! Drawing the training screen: a line saying where the worker is (lesson n of m, exam
//! task n of m), the lesson's hint when asked for, and the inner work screen below; or
//! the practice feedback, the exam's state and its result as lines of text. Words carry
//! the meaning (RIGHT, NOT RIGHT, PASSED), never colour alone.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;

use super::{Stage, Training};
use crate::model::{AnswerValue, Project, format_utc, sanitize, sanitize_line, text_width, wrap};
use crate::tui::app::Link;
use crate::tui::keymap::{Action, Keymap, Mode};
use crate::tui::screen::View;
use crate::tui::widgets::Painter;

/// An answer in the worker's words: label names, or the form's fields with their values.
pub(crate) fn answer_text(project: &Project, value: &AnswerValue) -> String {
    match value {
        AnswerValue::Labels(ids) if ids.is_empty() => "(no answer)".into(),
        AnswerValue::Transcript(t) => sanitize_line(&t.text).into_owned(),
        AnswerValue::Labels(ids) => ids
            .iter()
            .map(|id| match project.label(id) {
                Some(l) => sanitize_line(&l.name).into_owned(),
                None => sanitize_line(id).into_owned(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        AnswerValue::Form(values) => {
            let Some(form) = &project.form else {
                return "(a form)".into();
            };
            let parts: Vec<String> = form
                .paths(values)
                .into_iter()
                .map(|p| format!("{p}: {}", sanitize_line(values.get(&p))))
                .collect();
            if parts.is_empty() {
                "(empty form)".into()
            } else {
                parts.join("; ")
            }
        }
    }
}

/// Lines to draw, each with its style, wrapped at drawing.
struct Lines {
    text: Style,
    strong: Style,
    out: Vec<(String, Style)>,
}

impl Lines {
    fn text(&mut self, s: impl Into<String>) {
        self.out.push((s.into(), self.text));
    }
    fn strong(&mut self, s: impl Into<String>) {
        self.out.push((s.into(), self.strong));
    }
    fn gap(&mut self) {
        self.out.push((String::new(), self.text));
    }
}

pub(super) fn render(screen: &Training, frame: &mut Frame, body: Rect, view: &View) {
    if let Some(inner) = screen.inner.as_ref().filter(|_| !screen.inner_is_empty()) {
        let head = header(screen);
        let mut rows = vec![(head, true)];
        if screen.hint
            && let Stage::Practice { index, .. } = &screen.stage
            && let Some(lesson) = screen.lessons().get(*index)
        {
            let hint = format!("Hint: {}", sanitize_line(&lesson.hint));
            for line in wrap(&hint, usize::from(body.width.saturating_sub(2).max(1))) {
                rows.push((line, false));
            }
        }
        let used = (rows.len() as u16).min(body.height.saturating_sub(1));
        {
            let mut p = Painter::on(frame, view.theme);
            for (y, (line, strong)) in (body.y..).zip(rows.iter().take(usize::from(used))) {
                let style = if *strong { p.st.key } else { p.st.text };
                p.put(body.x + 1, y, body.width.saturating_sub(2), line, style);
            }
        }
        let rest = Rect::new(body.x, body.y + used, body.width, body.height - used);
        return inner.render(frame, rest, view);
    }
    let mut p = Painter::on(frame, view.theme);
    let mut lines = Lines {
        text: p.st.text,
        strong: p.st.key,
        out: Vec::new(),
    };
    stage_lines(screen, view, &mut lines);
    let width = body.width.saturating_sub(2).max(1);
    let mut y = body.y;
    for (line, style) in &lines.out {
        let parts = if line.is_empty() {
            vec![String::new()]
        } else {
            wrap(line, usize::from(width))
        };
        for part in parts {
            if y >= body.bottom() {
                return;
            }
            p.put(body.x + 1, y, width, &part, *style);
            y += 1;
        }
    }
}

/// Where the worker is, above the task.
fn header(screen: &Training) -> String {
    match &screen.stage {
        Stage::Practice { index, .. } => {
            format!("Lesson {} of {}", index + 1, screen.lessons().len())
        }
        Stage::Exam { .. } => match screen.attempt() {
            Some(a) => format!(
                "Exam: task {} of {}, {} right needed to pass, no hints",
                (a.answered.len() + 1).min(a.tasks.len()),
                a.tasks.len(),
                a.pass_mark
            ),
            None => "Exam".into(),
        },
        _ => String::new(),
    }
}

fn stage_lines(screen: &Training, view: &View, l: &mut Lines) {
    let project = screen.project();
    match &screen.stage {
        Stage::Practice {
            index,
            feedback: Some(fb),
        } => {
            let Some(lesson) = screen.lessons().get(*index) else {
                return;
            };
            l.strong(format!(
                "Lesson {} of {}",
                index + 1,
                screen.lessons().len()
            ));
            l.gap();
            l.text(sanitize(&lesson.text).into_owned());
            l.gap();
            if fb.check.correct {
                l.strong("RIGHT: that is the answer.");
                l.text(format!("Your answer: {}", answer_text(project, &fb.answer)));
            } else {
                l.strong("NOT RIGHT.");
                l.text(format!("Your answer: {}", answer_text(project, &fb.answer)));
                l.text(format!(
                    "Expected: {}",
                    answer_text(project, &fb.check.expected)
                ));
                if !fb.check.missed_fields.is_empty() {
                    l.text(format!(
                        "Fields wrong: {}",
                        sanitize_line(&fb.check.missed_fields.join(", "))
                    ));
                }
            }
            if !lesson.gold.explanation.is_empty() {
                l.text(format!("Why: {}", sanitize_line(&lesson.gold.explanation)));
            }
        }
        Stage::Practice { .. } | Stage::Exam { .. } => {}
        Stage::LessonsDone => {
            l.strong(format!(
                "You went through all {} lessons.",
                screen.lessons().len()
            ));
            l.gap();
            exam_rule(screen, l);
        }
        Stage::Waiting => waiting(screen, view, l),
        Stage::Result { missed } => result(screen, *missed, l),
    }
}

fn exam_rule(screen: &Training, l: &mut Lines) {
    if screen.standing().is_some_and(|s| s.exempt) {
        l.text("Trainers and admins take no exam: work on this project is open to you.");
        return;
    }
    if !screen.exam_next() {
        return l.text(match screen.project().exam {
            Some(_) => "This project does not require its exam: you can start work now.",
            None => "This project has no exam: you can start work now.",
        });
    }
    match screen.project().exam {
        Some(rule) => l.text(format!(
            "Next is the exam: {} tasks, {} right to pass, no hints. Your answers are saved on this computer and graded by the server, so you can take it offline; the result comes at the next sync.",
            rule.size, rule.pass_mark
        )),
        None => l.text("This project has no exam."),
    }
}

fn waiting(screen: &Training, view: &View, l: &mut Lines) {
    let standing = screen.standing();
    if let Some(a) = screen.attempt().filter(|a| a.submitted) {
        if let Some(why) = &a.not_taken {
            l.strong("Your exam was not taken by the server.");
            l.text(sanitize_line(why).into_owned());
            return;
        }
        l.strong("Exam answered: sent for grading.");
        l.gap();
        l.text(format!(
            "All {} answers are saved on this computer. The server grades them; the result shows here when it comes.",
            a.tasks.len()
        ));
        if view.status.link == Link::Offline {
            l.text(
                "The link to the server is down: your answers wait here and go when it returns.",
            );
        }
        return;
    }
    if standing.is_some_and(|s| s.exempt) {
        l.strong("No exam for you here.");
        l.text("Trainers and admins take no exam: work on this project is open to you.");
        return;
    }
    if let Some(retry) = standing.and_then(|s| s.retry_at) {
        l.strong("No exam to take right now.");
        l.text(format!(
            "You can take the exam again from {} (server time).",
            format_utc(retry)
        ));
        return;
    }
    if let Some(why) = standing.and_then(|s| s.unavailable.as_ref()) {
        l.strong("The exam cannot be taken yet.");
        l.text(sanitize_line(why).into_owned());
        return;
    }
    l.strong("The exam comes from the server at the next sync.");
    if view.status.link == Link::Offline {
        l.text("The link to the server is down: the exam comes when it returns. You can go over the lessons meanwhile.");
    }
}

fn result(screen: &Training, missed: usize, l: &mut Lines) {
    let project = screen.project();
    let standing = screen.standing();
    let graded = standing.and_then(|s| s.result.as_ref());
    if standing.is_some_and(|s| s.qualified.is_some()) {
        l.strong(format!(
            "PASSED: you are qualified for {}.",
            sanitize_line(&project.title)
        ));
        if let Some(r) = graded {
            l.text(format!(
                "{} of {} right ({} needed).",
                r.correct, r.size, r.pass_mark
            ));
        }
        return;
    }
    let Some(r) = graded else {
        return;
    };
    l.strong(format!(
        "NOT PASSED: {} of {} right ({} needed).",
        r.correct, r.size, r.pass_mark
    ));
    match (screen.attempt(), standing.and_then(|s| s.retry_at)) {
        (Some(a), _) if !a.submitted => {
            l.text("A new exam with other tasks is ready.");
        }
        (_, Some(at)) => l.text(format!(
            "You can take the exam again from {} (server time), with other tasks.",
            format_utc(at)
        )),
        _ => l.text("A new exam with other tasks comes from the server at the next sync."),
    }
    if let Some(miss) = r.missed.get(missed) {
        l.gap();
        l.strong(format!("Missed {} of {}:", missed + 1, r.missed.len()));
        l.text(sanitize(&miss.text).into_owned());
        l.text(format!(
            "Your answer: {}",
            answer_text(project, &miss.answer)
        ));
        l.text(format!(
            "Expected: {}",
            answer_text(project, &miss.expected.expected())
        ));
        if !miss.expected.explanation.is_empty() {
            l.text(format!(
                "Why: {}",
                sanitize_line(&miss.expected.explanation)
            ));
        }
    }
}

/// `guide` without its part for key `k` (", k what"), if it has one.
fn without_key(guide: &str, k: &str) -> String {
    let part = format!(", {k} ");
    match guide.find(&part) {
        Some(start) => {
            let rest = &guide[start + part.len()..];
            let end = rest
                .find(", ")
                .map_or(guide.len(), |e| start + part.len() + e);
            format!("{}{}", &guide[..start], &guide[end..])
        }
        None => guide.to_string(),
    }
}

/// The message line's guide, in the words of the keymap.
pub(super) fn guide(screen: &Training, keymap: &Keymap, width: usize) -> Option<String> {
    if let Some(inner) = screen.inner.as_ref().filter(|_| !screen.inner_is_empty()) {
        let mut guide = inner.guide(keymap, width)?;
        // The hint key is training's here (the lesson's hint), whatever the work screen
        // calls it (a transcribe screen's style rules).
        for k in keymap.keys_for(inner.mode(), Action::Hint) {
            guide = without_key(&guide, &k.to_string());
        }
        if matches!(screen.stage, Stage::Exam { .. }) {
            // The work screen's skip and undo have no place in the exam.
            for action in [Action::Skip, Action::Undo] {
                for k in keymap.keys_for(inner.mode(), action) {
                    guide = guide.replace(&format!(", {k} {action}"), "");
                }
            }
            let part = "; answers are final";
            if text_width(&guide) + text_width(part) <= width {
                guide.push_str(part);
            }
        }
        if matches!(screen.stage, Stage::Practice { .. })
            && let Some(k) = keymap.keys_for(inner.mode(), Action::Hint).first()
        {
            let part = format!(", {k} hint");
            if text_width(&guide) + text_width(&part) <= width {
                guide.push_str(&part);
            }
        }
        return Some(guide);
    }
    let key = |a: Action| {
        keymap
            .keys_for(Mode::Train, a)
            .first()
            .map(|k| k.to_string())
    };
    let go = key(Action::Pick).unwrap_or_else(|| "enter".into());
    let next = key(Action::Next);
    let prev = key(Action::Prev);
    let qualified = screen.standing().is_some_and(|s| s.qualified.is_some());
    let text = match &screen.stage {
        Stage::Practice { .. } => format!("{go}: next lesson"),
        Stage::LessonsDone => {
            let then = if screen.exam_next() {
                "start the exam"
            } else {
                "start work"
            };
            match prev {
                Some(p) => format!("{go}: {then}, {p}: the lessons again"),
                None => format!("{go}: {then}"),
            }
        }
        Stage::Result { .. } if qualified => format!("{go}: start work"),
        Stage::Result { .. } => {
            let mut g = format!("{go}: the exam again");
            if let (Some(n), Some(p)) = (next, prev) {
                g.push_str(&format!(", {n}/{p}: other mistakes"));
            }
            g
        }
        Stage::Waiting if !screen.exam_next() => format!("{go}: start work"),
        Stage::Waiting => format!("{go}: look again"),
        Stage::Exam { .. } => return None,
    };
    Some(crate::tui::widgets::fit(&text, width, "...").into_owned())
}

//! The after-class report as `kazi admin class report` prints it: a table for the
//! trainer to read (one line per student, then each student's answers step by step) or
//! CSV (one row per student and step) for a spreadsheet. Steps are counted from 1 here,
//! as the trainer's screen shows them. Names and answers are shown sanitised.

use crate::model::{format_utc, sanitize_line};
use crate::protocol::{ClassReport, ReportStudent};

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| format!("{:.0}%", v * 100.0))
}

fn seconds(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| format!("{v:.1} s"))
}

fn exam(student: &ReportStudent) -> String {
    student.qualified.map_or_else(
        || "not passed".into(),
        |at| format!("passed {}", format_utc(at)),
    )
}

/// The report as a table.
pub fn class_report_table(report: &ClassReport) -> String {
    let s = &report.state;
    let mut out = format!(
        "Class {} · {} · {} steps · started {}{}\n",
        s.code,
        sanitize_line(&s.project),
        s.steps,
        format_utc(s.started),
        s.ended.map_or_else(
            || " · still open".to_string(),
            |at| format!(" · ended {}", format_utc(at))
        )
    );
    if report.students.is_empty() {
        out.push_str("Nobody joined this class.\n");
        return out;
    }
    let names: Vec<String> = report
        .students
        .iter()
        .map(|st| sanitize_line(&st.name).into_owned())
        .collect();
    let w = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(7);
    out.push_str(&format!(
        "{:<w$}  {:>8}  {:>5}  {:>8}  {:>9}  exam\n",
        "student", "answered", "right", "accuracy", "mean time"
    ));
    for (st, name) in report.students.iter().zip(&names) {
        let right = st.steps.iter().filter(|x| x.correct).count();
        out.push_str(&format!(
            "{:<w$}  {:>8}  {:>5}  {:>8}  {:>9}  {}\n",
            name,
            st.steps.len(),
            right,
            percent(st.accuracy),
            seconds(st.mean_took),
            exam(st)
        ));
    }
    out.push_str("\nAnswers per step (first answer scored; later tries after it):\n");
    for (st, name) in report.students.iter().zip(&names) {
        let steps: Vec<String> = st
            .steps
            .iter()
            .map(|x| {
                let answers: Vec<String> = x
                    .answers
                    .iter()
                    .map(|a| sanitize_line(a).into_owned())
                    .collect();
                format!(
                    "{}: {} {} ({} s)",
                    x.step + 1,
                    answers.join(", "),
                    if x.correct { "right" } else { "wrong" },
                    x.took
                )
            })
            .collect();
        let line = if steps.is_empty() {
            "no answers".to_string()
        } else {
            steps.join(" · ")
        };
        out.push_str(&format!("{name:<w$}  {line}\n"));
    }
    out
}

/// The report as CSV: one row per student and step answered (a student without answers
/// gets one row with the step empty).
pub fn class_report_csv(report: &ClassReport) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "class",
        "project",
        "student",
        "step",
        "answers",
        "first_right",
        "seconds",
        "accuracy",
        "mean_seconds",
        "exam_passed",
    ])?;
    let s = &report.state;
    for st in &report.students {
        let accuracy = st.accuracy.map_or_else(String::new, |a| format!("{a:.3}"));
        let mean = st.mean_took.map_or_else(String::new, |m| format!("{m:.1}"));
        let passed = st.qualified.map_or_else(String::new, format_utc);
        let mut row = |step: String, answers: String, right: String, took: String| {
            w.write_record([
                s.code.as_str(),
                s.project.as_str(),
                st.name.as_str(),
                &step,
                &answers,
                &right,
                &took,
                &accuracy,
                &mean,
                &passed,
            ])
        };
        if st.steps.is_empty() {
            row(String::new(), String::new(), String::new(), String::new())?;
        }
        for x in &st.steps {
            row(
                (x.step + 1).to_string(),
                x.answers.join(" | "),
                x.correct.to_string(),
                x.took.to_string(),
            )?;
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

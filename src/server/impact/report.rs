//! `kazi report` output: the figures of `figures::rows` as an aligned table, CSV, or one
//! self-contained HTML file with inline SVG charts (no scripts, fonts or anything fetched
//! from elsewhere), for a manager to hand to a donor. Suppressed groups read
//! "suppressed" in every column, never a number.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::figures::{GroupBy, MIN_GROUP, Row};
use super::record::day;
use crate::model::sanitize_line;

pub const SUPPRESSED: &str = "suppressed";

/// Columns of every format. New columns go at the end, so a sheet reading columns by
/// position keeps working.
pub const HEADER: [&str; COLUMNS] = [
    "group",
    "week",
    "people",
    "tasks",
    "gold_accuracy",
    "sec_per_task",
    "hours",
    "retention",
    "review_accuracy",
    "qualified",
];

pub const COLUMNS: usize = 10;

/// The cells of a row, as every format shows them.
pub fn cells(row: &Row) -> [String; COLUMNS] {
    let group = sanitize_line(&row.group).into_owned();
    let Some(f) = &row.figures else {
        let s = || SUPPRESSED.to_string();
        return [group, day(row.week), s(), s(), s(), s(), s(), s(), s(), s()];
    };
    let t = &f.tally;
    [
        group,
        day(row.week),
        row.people.to_string(),
        t.output.to_string(),
        t.accuracy()
            .map_or_else(String::new, |a| format!("{:.1}%", a * 100.0)),
        t.seconds_per_task()
            .map_or_else(String::new, |s| format!("{s:.1}")),
        format!("{:.2}", t.hours()),
        f.retained.map_or_else(String::new, |(kept, of)| {
            format!("{:.0}%", kept as f64 * 100.0 / of as f64)
        }),
        t.review_accuracy()
            .map_or_else(String::new, |a| format!("{:.1}%", a * 100.0)),
        t.qualified.to_string(),
    ]
}

pub fn table(rows: &[Row], by: &GroupBy) -> String {
    let mut all: Vec<[String; COLUMNS]> = vec![HEADER.map(str::to_string)];
    all[0][0] = by.name().to_string();
    all.extend(rows.iter().map(cells));
    let widths: Vec<usize> = (0..COLUMNS)
        .map(|i| {
            all.iter()
                .map(|r| crate::model::text_width(&r[i]))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &all {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                let pad = w - crate::model::text_width(cell);
                if i < 2 {
                    format!("{cell}{}", " ".repeat(pad))
                } else {
                    format!("{}{cell}", " ".repeat(pad))
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    if rows.is_empty() {
        out.push_str("(no answers in this period)\n");
    }
    if by.suppresses() && rows.iter().any(|r| r.figures.is_none()) {
        let _ = writeln!(
            out,
            "Groups of fewer than {MIN_GROUP} people are suppressed."
        );
    }
    out
}

pub fn csv(rows: &[Row], by: &GroupBy) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = HEADER.map(str::to_string);
    header[0] = by.name().to_string();
    writer.write_record(&header)?;
    for row in rows {
        writer.write_record(cells(row))?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn escape(text: &str) -> String {
    sanitize_line(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Line patterns that tell groups apart without colour.
const DASHES: [&str; 6] = ["", "6 3", "2 3", "10 3 2 3", "1 6", "12 6"];
const COLOURS: [&str; 6] = [
    "#1b4f72", "#b03a2e", "#1e8449", "#7d3c98", "#b9770e", "#566573",
];

/// One line chart: a line per group over the weeks, suppressed weeks left out.
fn chart(
    out: &mut String,
    title: &str,
    rows: &[Row],
    value: impl Fn(&Row) -> Option<f64>,
    unit: &str,
) {
    let weeks: Vec<i64> = {
        let mut w: Vec<i64> = rows.iter().map(|r| r.week).collect();
        w.sort_unstable();
        w.dedup();
        w
    };
    let mut series: BTreeMap<&str, Vec<(usize, f64)>> = BTreeMap::new();
    for row in rows {
        if let Some(v) = value(row) {
            let x = weeks.binary_search(&row.week).unwrap_or(0);
            series.entry(&row.group).or_default().push((x, v));
        }
    }
    let max = series
        .values()
        .flatten()
        .map(|(_, v)| *v)
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let (w, h, left, top, bottom) = (640.0, 240.0, 50.0, 20.0, 40.0);
    let plot_w = w - left - 20.0;
    let plot_h = h - top - bottom;
    let x_of = |i: usize| {
        left + if weeks.len() > 1 {
            plot_w * i as f64 / (weeks.len() - 1) as f64
        } else {
            plot_w / 2.0
        }
    };
    let y_of = |v: f64| top + plot_h * (1.0 - v / max);
    let _ = writeln!(out, "<h2>{}</h2>", escape(title));
    let _ = writeln!(
        out,
        "<svg width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        escape(title)
    );
    let _ = writeln!(
        out,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000\"/><line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" stroke=\"#000\"/>",
        top + plot_h,
        left + plot_w,
        top + plot_h,
        top + plot_h
    );
    let _ = writeln!(
        out,
        "<text x=\"4\" y=\"{}\" font-size=\"11\">{max:.1}{unit}</text>",
        top + 4.0
    );
    let _ = writeln!(
        out,
        "<text x=\"4\" y=\"{}\" font-size=\"11\">0</text>",
        top + plot_h
    );
    for (i, week) in weeks.iter().enumerate() {
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            x_of(i),
            h - bottom + 14.0,
            &day(*week)[5..]
        );
    }
    for (n, (group, points)) in series.iter().enumerate() {
        let path: Vec<String> = points
            .iter()
            .map(|(x, v)| format!("{:.1},{:.1}", x_of(*x), y_of(*v)))
            .collect();
        let _ = writeln!(
            out,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"{}\" points=\"{}\"><title>{}</title></polyline>",
            COLOURS[n % COLOURS.len()],
            DASHES[n % DASHES.len()],
            path.join(" "),
            escape(group)
        );
        let ly = h - 10.0;
        let lx = left + (n as f64) * 100.0;
        let _ = writeln!(
            out,
            "<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{}\" stroke-width=\"2\" stroke-dasharray=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"11\">{}</text>",
            lx + 24.0,
            COLOURS[n % COLOURS.len()],
            DASHES[n % DASHES.len()],
            lx + 28.0,
            ly + 4.0,
            escape(group)
        );
    }
    out.push_str("</svg>\n");
}

/// The whole report as one HTML file: charts of accuracy and output over time by group,
/// then the table of every figure.
pub fn html(rows: &[Row], by: &GroupBy, title: &str) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    out.push_str(
        "<style>body{font-family:sans-serif;margin:2em;max-width:60em}\
         table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px;text-align:right}\
         td:first-child,th:first-child{text-align:left}</style>\n</head>\n<body>\n",
    );
    let _ = writeln!(out, "<h1>{}</h1>", escape(title));
    let _ = writeln!(
        out,
        "<p>By {}, week by week (weeks start on Monday, UTC). Groups of fewer than {MIN_GROUP} people are shown as suppressed.</p>",
        escape(by.name())
    );
    chart(
        &mut out,
        "Accuracy on gold",
        rows,
        |r| {
            r.figures
                .as_ref()
                .and_then(|f| f.tally.accuracy())
                .map(|a| a * 100.0)
        },
        "%",
    );
    chart(
        &mut out,
        "Accuracy on review",
        rows,
        |r| {
            r.figures
                .as_ref()
                .and_then(|f| f.tally.review_accuracy())
                .map(|a| a * 100.0)
        },
        "%",
    );
    chart(
        &mut out,
        "Output (tasks)",
        rows,
        |r| r.figures.as_ref().map(|f| f.tally.output as f64),
        "",
    );
    out.push_str("<h2>Figures</h2>\n<table>\n<tr>");
    for (i, h) in HEADER.iter().enumerate() {
        let h = if i == 0 { by.name() } else { h };
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in cells(row) {
            let _ = write!(out, "<td>{}</td>", escape(&cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n</body>\n</html>\n");
    out
}

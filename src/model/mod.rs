//! The domain model: projects, label schemas, data-entry forms, tasks, answers, and the
//! validation of an answer against its project. Pure code: no files, sockets or terminals.

mod answer;
pub mod form;
pub mod gold;
pub mod intake;
mod playback;
mod project;
mod project_file;
mod rate;
mod review_policy;
mod text;
pub mod training;
pub mod transcript;

pub use answer::{AnswerError, AnswerValue, Role};
pub use gold::{Gold, GoldAnswer, GoldCheck};
pub use playback::PlayerConfig;
pub use project::{
    AggregateMethod, DEFAULT_LEASE_CAP, DEFAULT_PREFETCH, Label, Project, TaskKind, is_project_name,
};
pub use project_file::{ProjectError, parse_duration_secs};
pub use rate::{Rate, RateError};
pub use review_policy::ReviewPolicy;
pub use text::{
    ORPHAN_BASE, TerminalCell, clean_typed, fit, sanitize, sanitize_line, terminal_cells,
    text_width, wrap, wrap_layout,
};

/// A task as the worker sees it: the server's id, the text to classify (for a transcribe
/// task, a note shown above the player, often empty), and an optional model suggestion:
/// a label id to pre-select, or for a transcribe task the machine draft the text area
/// starts from (`Task::draft`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Task {
    pub id: i64,
    pub project: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// The task's audio, for transcription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip: Option<ClipRef>,
}

/// A clip as a task names it: enough to fetch it, check it and budget the cache. On the
/// wire in `protocol::Lease`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ClipRef {
    /// Lowercase hex SHA-256 of the wire bytes: the download is checked against it.
    pub hash: String,
    /// Wire size in bytes.
    pub bytes: u64,
    /// Duration in milliseconds.
    pub ms: u64,
}

impl Task {
    /// The machine draft (an ASR guess) of a transcribe task: its suggestion, which is
    /// text rather than a label id in a transcribe project.
    pub fn draft(&self) -> Option<&str> {
        self.suggestion.as_deref()
    }
}

/// Line (1-based) of a byte offset in a text; used to point at the line of a bad input.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A duration in seconds as one short unit a reader takes in at a glance: `45s`, `12m`,
/// `5h`, `3d` (rounded down; a negative one, from a clock step, is `0s`).
pub fn format_age(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// Unix seconds as an RFC 3339 UTC timestamp, e.g. `2026-11-23T07:00:00Z`.
pub fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm), proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// An RFC 3339 timestamp (`2026-11-23T07:04:13Z`, `2021-03-09T22:16:08.728353Z`,
/// `2026-11-23T10:04:13+03:00`) as unix seconds; fractions of a second are dropped.
/// None when the text is not such a timestamp.
pub fn parse_utc(text: &str) -> Option<i64> {
    let t = text.trim();
    let b = t.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = t.get(from..from + len)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut rest = &t[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        zone if zone.len() == 6 && matches!(&zone[..1], "+" | "-") && &zone[3..4] == ":" => {
            let (h, m): (i64, i64) = (zone[1..3].parse().ok()?, zone[4..6].parse().ok()?);
            let secs = h * 3600 + m * 60;
            if &zone[..1] == "-" { -secs } else { secs }
        }
        _ => return None,
    };
    // Days-from-civil (Howard Hinnant's algorithm), the inverse of `format_utc`.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_utc() {
        use super::{format_utc, parse_utc};
        for secs in [0, 951_782_400, 1_795_424_400, 1_615_328_168] {
            assert_eq!(parse_utc(&format_utc(secs)), Some(secs));
        }
        assert_eq!(
            parse_utc("2021-03-09T22:16:08.728353Z"),
            Some(1_615_328_168)
        );
        assert_eq!(parse_utc("2026-11-23T12:00:00+03:00"), Some(1_795_424_400));
        assert_eq!(parse_utc("2026-11-23T09:00:00"), None, "a zone is required");
        assert_eq!(parse_utc("2026-13-23T09:00:00Z"), None);
        assert_eq!(parse_utc("yesterday"), None);
    }

    #[test]
    fn formats_utc() {
        assert_eq!(super::format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::format_utc(1_795_424_400), "2026-11-23T09:00:00Z");
        assert_eq!(super::format_utc(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn line_of_counts_newlines() {
        assert_eq!(super::line_of("a\nb\nc", 0), 1);
        assert_eq!(super::line_of("a\nb\nc", 2), 2);
        assert_eq!(super::line_of("a\nb\nc", 99), 3);
    }
}

//! Project files: the TOML an admin writes, parsed into a checked `Project`. A bad file
//! is refused with the file, line and what is wrong.

use serde::Deserialize;
use toml::Spanned;

use super::form::{FieldFile, form_from_file};
use super::line_of;
use super::project::{
    AggregateMethod, DEFAULT_LEASE_CAP, Label, MAX_GOLD_RATE, Project, TaskKind, is_project_name,
};
use super::review_policy::{ReviewFile, ReviewPolicy};
use super::training::{ExamFile, exam_from_file};
use super::transcript::{TranscribeFile, rules_from_file};

/// Highest `lease_cap` a project file may set.
const MAX_LEASE_CAP: i64 = 10_000;

/// A project file that cannot be used. `Display` gives `file:line: what`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ProjectError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectFile {
    name: Spanned<String>,
    title: Spanned<String>,
    kind: Spanned<String>,
    #[serde(default)]
    instructions: String,
    #[serde(default)]
    multi_label: bool,
    #[serde(default = "default_overlap")]
    overlap: Spanned<i64>,
    #[serde(default = "default_lease")]
    lease: Spanned<String>,
    #[serde(default = "default_aggregate")]
    aggregate: Spanned<String>,
    #[serde(default)]
    lease_cap: Option<Spanned<i64>>,
    #[serde(default)]
    gold_rate: Option<Spanned<f64>>,
    #[serde(default)]
    labels: Vec<Spanned<LabelFile>>,
    #[serde(default)]
    date_format: Option<Spanned<String>>,
    #[serde(default)]
    fields: Vec<Spanned<FieldFile>>,
    #[serde(default)]
    review: Option<ReviewFile>,
    #[serde(default)]
    transcribe: Option<Spanned<TranscribeFile>>,
    requires_qualification: Option<Spanned<bool>>,
    #[serde(default)]
    exam: Option<Spanned<ExamFile>>,
    #[serde(default)]
    rate: Option<Spanned<RateFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateFile {
    amount: Spanned<RateAmount>,
    currency: Spanned<String>,
}

/// `amount = "0.05"` or `amount = 0.05`: a string keeps the decimal exact.
#[derive(Deserialize)]
#[serde(untagged)]
enum RateAmount {
    Text(String),
    Number(f64),
    Whole(i64),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelFile {
    id: Spanned<String>,
    name: Spanned<String>,
    key: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    examples: Vec<String>,
}

fn default_overlap() -> Spanned<i64> {
    Spanned::new(0..0, 1)
}

fn default_aggregate() -> Spanned<String> {
    Spanned::new(0..0, "mv".to_string())
}

fn default_lease() -> Spanned<String> {
    Spanned::new(0..0, "3d".to_string())
}

/// Most answers a task may want; more is almost surely a typo.
const MAX_OVERLAP: i64 = 50;
/// Most labels a classify project may have: each needs its own key on screen.
const MAX_LABELS: usize = 36;

impl Project {
    /// Parse and check a project file. `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Project, ProjectError> {
        let err = |offset: usize, message: String| ProjectError {
            file: file.to_string(),
            line: line_of(text, offset),
            message,
        };
        let raw: ProjectFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            err(offset, e.message().trim().to_string())
        })?;

        let name = raw.name.get_ref().trim();
        if !is_project_name(name) {
            return Err(err(
                raw.name.span().start,
                format!(
                    "name '{}' must be 1-64 letters, digits, '-' or '_' (it is used on the command line)",
                    super::sanitize_line(name)
                ),
            ));
        }
        let kind = match raw.kind.get_ref().as_str() {
            "classify" => TaskKind::Classify,
            "entry" => TaskKind::Entry,
            "transcribe" => TaskKind::Transcribe,
            other => {
                return Err(err(
                    raw.kind.span().start,
                    format!(
                        "kind '{}' is not known; use \"classify\", \"entry\" or \"transcribe\"",
                        super::sanitize_line(other)
                    ),
                ));
            }
        };
        if raw.title.get_ref().trim().is_empty() {
            return Err(err(raw.title.span().start, "title is empty".into()));
        }
        let overlap = *raw.overlap.get_ref();
        if !(1..=MAX_OVERLAP).contains(&overlap) {
            return Err(err(
                raw.overlap.span().start,
                format!("overlap must be between 1 and {MAX_OVERLAP}, got {overlap}"),
            ));
        }
        let lease_secs = parse_duration_secs(raw.lease.get_ref())
            .filter(|&s| (60..=MAX_LEASE_SECS).contains(&s))
            .ok_or_else(|| {
                err(
                    raw.lease.span().start,
                    format!(
                        "lease '{}' must be from a minute to 90 days; write e.g. \"90m\", \"1h30m\" or \"3d\"",
                        super::sanitize_line(raw.lease.get_ref())
                    ),
                )
            })?;
        let aggregate = AggregateMethod::parse(raw.aggregate.get_ref().trim()).ok_or_else(|| {
            err(
                raw.aggregate.span().start,
                format!(
                    "aggregate '{}' is not known; use \"mv\" (majority), \"wmv\" (weighted by gold accuracy) or \"ds\" (Dawid-Skene)",
                    super::sanitize_line(raw.aggregate.get_ref())
                ),
            )
        })?;
        let lease_cap = match &raw.lease_cap {
            None => DEFAULT_LEASE_CAP,
            Some(cap) => {
                let n = *cap.get_ref();
                if !(1..=MAX_LEASE_CAP).contains(&n) {
                    return Err(err(
                        cap.span().start,
                        format!(
                            "lease_cap must be between 1 and {MAX_LEASE_CAP} tasks per worker, got {n}"
                        ),
                    ));
                }
                n as u32
            }
        };
        let gold_rate = match &raw.gold_rate {
            None => 0.0,
            Some(rate) => {
                let r = *rate.get_ref();
                if !(0.0..=MAX_GOLD_RATE).contains(&r) {
                    return Err(err(
                        rate.span().start,
                        format!(
                            "gold_rate is the share of leases that are gold, from 0 to {MAX_GOLD_RATE} (0.1 is one in ten), got {r}"
                        ),
                    ));
                }
                r
            }
        };

        let exam = match &raw.exam {
            None => None,
            Some(file) => {
                Some(exam_from_file(file.get_ref()).map_err(|(offset, m)| err(offset, m))?)
            }
        };
        let requires_qualification = match &raw.requires_qualification {
            Some(flag) if *flag.get_ref() && exam.is_none() => {
                return Err(err(
                    flag.span().start,
                    "requires_qualification needs an [exam] table (size, pass_mark, retry_after): the exam is how a worker qualifies"
                        .into(),
                ));
            }
            Some(flag) => *flag.get_ref(),
            None => false,
        };

        let rate = match &raw.rate {
            None => None,
            Some(file) => {
                let file = file.get_ref();
                let amount = match file.amount.get_ref() {
                    RateAmount::Text(t) => t.clone(),
                    RateAmount::Number(n) => n.to_string(),
                    RateAmount::Whole(n) => n.to_string(),
                };
                let rate = super::Rate::new(&amount, file.currency.get_ref());
                Some(Box::new(rate.map_err(|e| {
                    let at = match e {
                        super::RateError::Amount(_) => file.amount.span().start,
                        super::RateError::Currency(_) => file.currency.span().start,
                    };
                    err(at, e.to_string())
                })?))
            }
        };
        let review = match &raw.review {
            Some(file) => file
                .check()
                .map_err(|(offset, message)| err(offset, message))?,
            None => ReviewPolicy::default(),
        };
        let mut project = Project {
            name: name.to_string(),
            title: raw.title.get_ref().trim().to_string(),
            kind,
            instructions: raw.instructions.trim().to_string(),
            labels: Vec::new(),
            multi_label: raw.multi_label,
            form: None,
            transcribe: None,
            overlap: overlap as u32,
            lease_secs,
            aggregate,
            lease_cap,
            review,
            gold_rate,
            exam,
            requires_qualification,
            rate,
        };
        if let Some(table) = raw
            .transcribe
            .as_ref()
            .filter(|_| kind != TaskKind::Transcribe)
        {
            return Err(err(
                table.span().start,
                "[transcribe] belongs to transcribe projects (kind = \"transcribe\")".into(),
            ));
        }
        if kind == TaskKind::Transcribe {
            return transcribe_project(project, &raw, &err);
        }
        if kind == TaskKind::Entry {
            if aggregate != AggregateMethod::Majority {
                return Err(err(
                    raw.aggregate.span().start,
                    "aggregate belongs to classify projects; an entry project is decided field by field"
                        .into(),
                ));
            }
            if let Some(first) = raw.labels.first() {
                return Err(err(
                    first.span().start,
                    "an entry project has [[fields]], not [[labels]]".into(),
                ));
            }
            let form = form_from_file(raw.date_format.as_ref(), &raw.fields)
                .map_err(|(offset, message)| err(offset, message))?;
            project.form = Some(form);
            return Ok(project);
        }
        if let Some(first) = raw.fields.first() {
            return Err(err(
                first.span().start,
                "[[fields]] belong to entry projects (kind = \"entry\")".into(),
            ));
        }
        if let Some(f) = &raw.date_format {
            return Err(err(
                f.span().start,
                "date_format belongs to entry projects".into(),
            ));
        }
        if raw.labels.is_empty() {
            return Err(err(
                0,
                "a classify project needs [[labels]] entries (id, name, key)".into(),
            ));
        }
        if raw.labels.len() > MAX_LABELS {
            return Err(err(
                raw.labels[MAX_LABELS].span().start,
                format!("at most {MAX_LABELS} labels fit on one screen"),
            ));
        }
        let mut labels: Vec<Label> = Vec::with_capacity(raw.labels.len());
        for spanned in &raw.labels {
            let l = spanned.get_ref();
            let id = l.id.get_ref().trim();
            if id.is_empty() || id.chars().any(|c| c.is_control() || c == '|') {
                return Err(err(
                    l.id.span().start,
                    "label id must be non-empty, without control characters or '|'".into(),
                ));
            }
            if labels.iter().any(|x| x.id == id) {
                return Err(err(
                    l.id.span().start,
                    format!("label id '{}' is used twice", super::sanitize_line(id)),
                ));
            }
            if l.name.get_ref().trim().is_empty() {
                return Err(err(l.name.span().start, "label name is empty".into()));
            }
            let mut chars = l.key.get_ref().chars();
            let key = match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii_graphic() => c,
                _ => {
                    return Err(err(
                        l.key.span().start,
                        format!(
                            "label key '{}' must be one printable ASCII character, like \"1\" or \"a\"",
                            super::sanitize_line(l.key.get_ref())
                        ),
                    ));
                }
            };
            if let Some(other) = labels.iter().find(|x| x.key == key) {
                return Err(err(
                    l.key.span().start,
                    format!(
                        "key '{key}' is already the key of label '{}'",
                        super::sanitize_line(&other.id)
                    ),
                ));
            }
            labels.push(Label {
                id: id.to_string(),
                name: l.name.get_ref().trim().to_string(),
                key,
                description: l.description.trim().to_string(),
                examples: l.examples.clone(),
            });
        }

        project.labels = labels;
        Ok(project)
    }

    /// An error about label `index`'s key in the file `text` this project was read from,
    /// pointing at the line of that key: for checks the model cannot make itself (a key
    /// the built-in keymap already uses). The file is parsed again: this is the rare path.
    pub fn label_key_error(file: &str, text: &str, index: usize, message: String) -> ProjectError {
        let offset = toml::from_str::<ProjectFile>(text)
            .ok()
            .and_then(|raw| raw.labels.get(index).map(|l| l.get_ref().key.span().start))
            .unwrap_or(0);
        ProjectError {
            file: file.to_string(),
            line: line_of(text, offset),
            message,
        }
    }
}

/// The rest of a transcribe project: its `[transcribe]` table (defaults without one), and
/// nothing that belongs to other kinds.
fn transcribe_project(
    mut project: Project,
    raw: &ProjectFile,
    err: &dyn Fn(usize, String) -> ProjectError,
) -> Result<Project, ProjectError> {
    if project.aggregate != AggregateMethod::Majority {
        return Err(err(
            raw.aggregate.span().start,
            "aggregate belongs to classify projects; transcripts are compared by word error rate"
                .into(),
        ));
    }
    if let Some(first) = raw.labels.first() {
        return Err(err(
            first.span().start,
            "a transcribe project has a [transcribe] table, not [[labels]]".into(),
        ));
    }
    if let Some(first) = raw.fields.first() {
        return Err(err(
            first.span().start,
            "[[fields]] belong to entry projects (kind = \"entry\")".into(),
        ));
    }
    if let Some(f) = &raw.date_format {
        return Err(err(
            f.span().start,
            "date_format belongs to entry projects".into(),
        ));
    }
    let table = raw.transcribe.as_ref().map(|t| t.get_ref());
    let rules = rules_from_file(table.unwrap_or(&TranscribeFile::default()))
        .map_err(|(offset, message)| err(offset, message))?;
    project.transcribe = Some(Box::new(rules));
    Ok(project)
}

/// The longest lease: long offline stretches, but never a task held from everyone for good.
pub const MAX_LEASE_SECS: u64 = 90 * 86_400;

/// Parse "90s", "45m", "72h", "3d", their sums ("1h30m", "2d 12h") or a bare number of
/// seconds into seconds.
pub fn parse_duration_secs(s: &str) -> Option<u64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let mut total: u64 = 0;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let i = rest.find(|c: char| !c.is_ascii_digit())?;
        let n: u64 = rest[..i].parse().ok()?;
        let mult = match rest.as_bytes()[i] {
            b's' => 1,
            b'm' => 60,
            b'h' => 3600,
            b'd' => 86_400,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(mult)?)?;
        rest = rest[i + 1..].trim_start();
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DEFAULT_PREFETCH;

    const GOOD: &str = r#"
name = "products"
title = "Product categories"
kind = "classify"
instructions = "Pick the category."
overlap = 3
lease = "72h"

[[labels]]
id = "food"
name = "Food"
key = "1"
description = "Things to eat"
examples = ["Rice 5kg"]

[[labels]]
id = "toys"
name = "Toys"
key = "2"
"#;

    #[test]
    fn parses_a_good_file() {
        let p = Project::from_toml("p.toml", GOOD).unwrap();
        assert_eq!(p.name, "products");
        assert_eq!(p.overlap, 3);
        assert_eq!(p.lease_secs, 72 * 3600);
        assert_eq!(p.labels.len(), 2);
        assert_eq!(p.label_by_key('2').unwrap().id, "toys");
        assert_eq!(p.labels[0].examples, vec!["Rice 5kg".to_string()]);
    }

    #[test]
    fn the_aggregation_method_is_read_and_checked() {
        assert_eq!(
            Project::from_toml("p.toml", GOOD).unwrap().aggregate,
            AggregateMethod::Majority
        );
        let ds = GOOD.replace("overlap = 3", "overlap = 3\naggregate = \"ds\"");
        let p = Project::from_toml("p.toml", &ds).unwrap();
        assert_eq!(p.aggregate, AggregateMethod::DawidSkene);
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains("\"aggregate\":\"ds\""), "{json}");
        let mv = Project::from_toml("p.toml", GOOD).unwrap();
        assert!(!serde_json::to_string(&mv).unwrap().contains("aggregate"));

        let bad = GOOD.replace("overlap = 3", "overlap = 3\naggregate = \"em\"");
        let e = error_of(&bad);
        let line = bad
            .lines()
            .position(|l| l.starts_with("aggregate"))
            .unwrap()
            + 1;
        assert_eq!(e.line, line, "{e}");
        assert!(e.message.contains("aggregate 'em' is not known"), "{e}");
    }

    fn error_of(text: &str) -> ProjectError {
        Project::from_toml("p.toml", text).unwrap_err()
    }

    #[test]
    fn duplicate_key_points_at_its_line() {
        let bad = GOOD.replace("key = \"2\"", "key = \"1\"");
        let e = error_of(&bad);
        assert_eq!(e.line, 19, "{e}");
        assert!(e.message.contains("already the key of label 'food'"), "{e}");
        assert!(e.to_string().starts_with("p.toml:19: "));
    }

    #[test]
    fn unknown_field_is_refused_with_line() {
        let bad = GOOD.replace("overlap = 3", "overlapp = 3");
        let e = error_of(&bad);
        assert_eq!(e.line, 6, "{e}");
        assert!(e.message.contains("overlapp"), "{e}");
    }

    #[test]
    fn syntax_error_has_line() {
        let bad = GOOD.replace("title = \"Product categories\"", "title = \"Product");
        let e = error_of(&bad);
        assert_eq!(e.line, 3, "{e}");
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(
            error_of(&GOOD.replace("overlap = 3", "overlap = 0"))
                .message
                .contains("overlap")
        );
        assert!(
            error_of(&GOOD.replace("\"72h\"", "\"soon\""))
                .message
                .contains("lease")
        );
        assert!(
            error_of(&GOOD.replace("\"classify\"", "\"paint\""))
                .message
                .contains("kind")
        );
        assert!(
            error_of(&GOOD.replace("key = \"2\"", "key = \"22\""))
                .message
                .contains("one printable")
        );
        assert!(
            error_of(&GOOD.replace("\"products\"", "\"my products\""))
                .message
                .contains("name")
        );
        assert!(
            error_of(&GOOD.replace("id = \"toys\"", "id = \"food\""))
                .message
                .contains("twice")
        );
    }

    #[test]
    fn version_changes_with_content() {
        let a = Project::from_toml("p.toml", GOOD).unwrap();
        let b = Project::from_toml("p.toml", &GOOD.replace("Things to eat", "Edible")).unwrap();
        assert_eq!(a.version(), a.clone().version());
        assert_ne!(a.version(), b.version());
    }

    #[test]
    fn validates_answers() {
        use crate::model::{AnswerError, AnswerValue};
        let p = Project::from_toml("p.toml", GOOD).unwrap();
        let labels = |v: &[&str]| AnswerValue::Labels(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(p.validate(&labels(&["food"])), Ok(()));
        assert_eq!(p.validate(&labels(&[])), Err(AnswerError::Empty));
        assert_eq!(
            p.validate(&labels(&["food", "toys"])),
            Err(AnswerError::TooMany(2))
        );
        assert!(matches!(
            p.validate(&labels(&["cars"])),
            Err(AnswerError::UnknownLabel(_))
        ));
        let mut multi = p.clone();
        multi.multi_label = true;
        assert_eq!(multi.validate(&labels(&["food", "toys"])), Ok(()));
        assert_eq!(
            multi.validate(&labels(&["food", "food"])),
            Err(AnswerError::Repeated("food".into()))
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("90m"), Some(5400));
        assert_eq!(parse_duration_secs("3d"), Some(259_200));
        assert_eq!(parse_duration_secs("120"), Some(120));
        assert_eq!(parse_duration_secs("3 weeks"), None);
        assert_eq!(parse_duration_secs("1h30m"), Some(5400));
        assert_eq!(parse_duration_secs("2d 12h"), Some(216_000));
        assert_eq!(parse_duration_secs("1h30"), None);
        assert_eq!(parse_duration_secs("99999999999999999d"), None);
        assert_eq!(parse_duration_secs(""), None);
    }

    #[test]
    fn lease_is_a_sum_of_units_from_a_minute_to_ninety_days() {
        let with = |lease: &str| Project::from_toml("p.toml", &GOOD.replace("\"72h\"", lease));
        assert_eq!(with("\"1h30m\"").unwrap().lease_secs, 5400);
        for bad in ["\"999999d\"", "\"30s\"", "\"1h30\""] {
            let e = with(bad).unwrap_err();
            assert!(
                e.message.contains("must be from a minute to 90 days"),
                "{bad}: {e}"
            );
        }
    }

    const TRANSCRIBE: &str = r#"
name = "sauti"
title = "Market voices"
kind = "transcribe"
overlap = 2

[transcribe]
style = ["Write numbers as digits"]
tags = ["[inaudible]", "[no speech]"]

[transcribe.normalise]
ignore_tags = ["[inaudible]"]
numbers = "digits"
"#;

    #[test]
    fn a_transcribe_project_has_its_rules() {
        use crate::model::transcript::{NumberForm, Transcript};
        use crate::model::{AnswerError, AnswerValue};
        let p = Project::from_toml("t.toml", TRANSCRIBE).unwrap();
        assert_eq!(p.kind, TaskKind::Transcribe);
        let rules = p.transcribe.as_ref().unwrap();
        assert_eq!(rules.style, ["Write numbers as digits"]);
        assert_eq!(rules.normalise.numbers, NumberForm::Digits);
        let said = |t: &str| AnswerValue::Transcript(Transcript::new(t));
        assert_eq!(p.validate(&said("habari [inaudible]")), Ok(()));
        assert!(matches!(
            p.validate(&said("[laughter]")),
            Err(AnswerError::Transcript(_))
        ));
        assert!(matches!(
            p.validate(&AnswerValue::Labels(vec!["a".into()])),
            Err(AnswerError::WrongKind { .. })
        ));
        let mut draft = Transcript::new("habari  \r\n");
        draft.cursor = Some(3);
        assert_eq!(p.normalise(&AnswerValue::Transcript(draft)), said("habari"));
        // Without a table: the defaults.
        let bare = "name = \"s\"\ntitle = \"S\"\nkind = \"transcribe\"\n";
        let p = Project::from_toml("t.toml", bare).unwrap();
        assert!(p.transcribe.unwrap().tags.is_empty());
    }

    #[test]
    fn a_bad_transcribe_file_is_refused_at_its_line() {
        let line_of =
            |text: &str, start: &str| text.lines().position(|l| l.starts_with(start)).unwrap() + 1;
        let bad = TRANSCRIBE.replace("\"[no speech]\"]", "\"no speech\"]");
        let e = error_of(&bad);
        assert_eq!(e.line, line_of(&bad, "tags"), "{e}");
        assert!(e.message.contains("must be written in brackets"), "{e}");
        let bad = TRANSCRIBE.replace("numbers = \"digits\"", "numbers = \"words\"");
        let e = error_of(&bad);
        assert_eq!(e.line, line_of(&bad, "numbers"), "{e}");
        let bad = TRANSCRIBE.replace("numbers", "numbers_as");
        assert!(error_of(&bad).message.contains("numbers_as"));
        let bad = GOOD.replace(
            "lease = \"72h\"",
            "lease = \"72h\"\n[transcribe]\nmax_chars = 9",
        );
        let e = error_of(&bad);
        assert!(e.message.contains("belongs to transcribe projects"), "{e}");
        let bad = TRANSCRIBE.replace("overlap = 2", "overlap = 2\naggregate = \"ds\"");
        assert!(
            error_of(&bad)
                .message
                .contains("aggregate belongs to classify")
        );
        let bad = format!("{TRANSCRIBE}\n[[labels]]\nid = \"a\"\nname = \"A\"\nkey = \"1\"\n");
        let e = error_of(&bad);
        assert!(e.message.contains("not [[labels]]"), "{e}");
    }

    #[test]
    fn lease_cap_defaults_from_the_prefetch_and_is_checked() {
        let p = Project::from_toml("p.toml", GOOD).unwrap();
        assert_eq!(p.lease_cap, 4 * DEFAULT_PREFETCH);
        let set = GOOD.replace("overlap = 3", "overlap = 3\nlease_cap = 7");
        assert_eq!(Project::from_toml("p.toml", &set).unwrap().lease_cap, 7);
        for bad in ["0", "-1", "10001"] {
            let text = GOOD.replace("overlap = 3", &format!("overlap = 3\nlease_cap = {bad}"));
            let e = Project::from_toml("p.toml", &text).unwrap_err();
            assert!(e.message.contains("lease_cap must be between 1 and"), "{e}");
            assert_eq!(e.line, 7, "{e}");
        }
        // A schema stored before the cap existed reads back with the default.
        let mut json = serde_json::to_value(&p).unwrap();
        json.as_object_mut().unwrap().remove("lease_cap");
        let old: Project = serde_json::from_value(json).unwrap();
        assert_eq!(old.lease_cap, DEFAULT_LEASE_CAP);
    }
}

//! A worker's intake record: when they joined, their cohort, and the optional
//! self-reported fields a centre asks at intake (gender, age band, ...), each of which
//! may be answered "prefer not to say". Kept apart from task data; reports break figures
//! down by it. The centre's list of fields (`IntakeForm`) is a small TOML file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{line_of, parse_utc, sanitize_line};

/// The answer every self-reported field accepts, and the one reports show as its own group.
pub const PREFER_NOT_TO_SAY: &str = "prefer_not_to_say";

/// The self-reported fields a centre asks at intake, in the order it asks them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeForm {
    #[serde(default)]
    pub fields: Vec<IntakeField>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeField {
    /// Lower-case letters, digits and '_': what `--field ID=VALUE` and reports name.
    pub id: String,
    /// What the person filling the record in reads.
    pub label: String,
    /// The answers the field takes, besides `prefer_not_to_say`.
    pub options: Vec<String>,
}

/// One worker's intake. `fields` holds only fields the worker answered (an option or
/// `prefer_not_to_say`); a field never asked is absent, not "prefer not to say".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intake {
    /// `YYYY-MM-DD`, the day the worker joined the centre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

/// An intake form or record that cannot be used; `Display` says what and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IntakeError(pub String);

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A `YYYY-MM-DD` day as unix seconds at its start (UTC); None if it is no real day.
pub fn parse_day(day: &str) -> Option<i64> {
    let secs = parse_utc(&format!("{}T00:00:00Z", day.trim()))?;
    // parse_utc accepts day 31 of any month; a real day formats back to itself.
    (super::format_utc(secs)[..10] == *day.trim()).then_some(secs)
}

impl IntakeForm {
    /// Read a centre's intake form; a bad file is refused as `FILE:LINE: what`.
    pub fn from_toml(file: &str, text: &str) -> Result<IntakeForm, IntakeError> {
        let form: IntakeForm = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            IntakeError(format!("{file}:{line}: {}", e.message()))
        })?;
        let line_with = |needle: &str| text.find(needle).map_or(1, |offset| line_of(text, offset));
        let mut seen = std::collections::BTreeSet::new();
        for field in &form.fields {
            let at = line_with(&format!("\"{}\"", field.id));
            if !is_id(&field.id) {
                return Err(IntakeError(format!(
                    "{file}:{at}: field id '{}' must be 1-32 lower-case letters, digits or '_'",
                    sanitize_line(&field.id)
                )));
            }
            if !seen.insert(field.id.as_str()) || field.id == "date" || field.id == "cohort" {
                return Err(IntakeError(format!(
                    "{file}:{at}: field id '{}' is used twice (date and cohort are built in)",
                    field.id
                )));
            }
            if field.options.is_empty() {
                return Err(IntakeError(format!(
                    "{file}:{at}: field '{}' needs at least one option",
                    field.id
                )));
            }
            for option in &field.options {
                if !is_id(option) || option == PREFER_NOT_TO_SAY {
                    return Err(IntakeError(format!(
                        "{file}:{at}: option '{}' of field '{}' must be 1-32 lower-case letters, \
                         digits or '_' ({PREFER_NOT_TO_SAY} is always offered)",
                        sanitize_line(option),
                        field.id
                    )));
                }
            }
        }
        Ok(form)
    }

    pub fn field(&self, id: &str) -> Option<&IntakeField> {
        self.fields.iter().find(|f| f.id == id)
    }
}

impl Intake {
    /// Apply `ID=VALUE` settings (`date=2026-09-01`, `cohort=2026-sep`, `gender=woman`)
    /// checked against the centre's form; settings not given keep their value.
    pub fn apply(&mut self, form: &IntakeForm, settings: &[String]) -> Result<(), IntakeError> {
        for setting in settings {
            let Some((id, value)) = setting.split_once('=') else {
                return Err(IntakeError(format!(
                    "'{}' is not ID=VALUE (for example gender=woman)",
                    sanitize_line(setting)
                )));
            };
            let (id, value) = (id.trim(), value.trim());
            match id {
                "date" => {
                    if parse_day(value).is_none() {
                        return Err(IntakeError(format!(
                            "intake date '{}' is not a day like 2026-09-01",
                            sanitize_line(value)
                        )));
                    }
                    self.date = Some(value.to_string());
                }
                "cohort" => {
                    if value.is_empty() || value.len() > 64 || value.chars().any(char::is_control) {
                        return Err(IntakeError(
                            "a cohort is 1-64 printable characters (for example 2026-sep)".into(),
                        ));
                    }
                    self.cohort = Some(value.to_string());
                }
                _ => {
                    let Some(field) = form.field(id) else {
                        let known: Vec<&str> = form.fields.iter().map(|f| f.id.as_str()).collect();
                        return Err(IntakeError(format!(
                            "the centre's intake form has no field '{}' (it has: date, cohort{}{}); \
                             set fields with kazi admin --db URL intake form FILE.toml",
                            sanitize_line(id),
                            if known.is_empty() { "" } else { ", " },
                            known.join(", ")
                        )));
                    };
                    if value != PREFER_NOT_TO_SAY && !field.options.iter().any(|o| o == value) {
                        return Err(IntakeError(format!(
                            "'{}' is not an answer of {}: one of {}, {PREFER_NOT_TO_SAY}",
                            sanitize_line(value),
                            field.id,
                            field.options.join(", ")
                        )));
                    }
                    self.fields.insert(field.id.clone(), value.to_string());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &str = r#"
[[fields]]
id = "gender"
label = "Gender"
options = ["woman", "man", "other"]

[[fields]]
id = "age_band"
label = "Age band"
options = ["18_24", "25_34", "35_plus"]
"#;

    #[test]
    fn a_record_takes_the_forms_answers_and_prefer_not_to_say() {
        let form = IntakeForm::from_toml("intake.toml", FORM).unwrap();
        let mut intake = Intake::default();
        intake
            .apply(
                &form,
                &[
                    "date=2026-09-01".into(),
                    "cohort=2026-sep".into(),
                    "gender=prefer_not_to_say".into(),
                    "age_band=18_24".into(),
                ],
            )
            .unwrap();
        assert_eq!(intake.date.as_deref(), Some("2026-09-01"));
        assert_eq!(intake.fields["gender"], PREFER_NOT_TO_SAY);
        let e = intake.apply(&form, &["gender=girl".into()]).unwrap_err();
        assert!(e.0.contains("woman, man, other"), "{e}");
        let e = intake.apply(&form, &["religion=x".into()]).unwrap_err();
        assert!(e.0.contains("no field 'religion'"), "{e}");
        assert!(intake.apply(&form, &["date=2026-02-30".into()]).is_err());
        assert_eq!(
            intake.fields["age_band"], "18_24",
            "a refused setting changes nothing"
        );
    }

    #[test]
    fn a_bad_form_names_its_line() {
        let bad = "[[fields]]\nid = \"Gender\"\nlabel = \"G\"\noptions = [\"a\"]\n";
        let e = IntakeForm::from_toml("f.toml", bad).unwrap_err();
        assert!(e.0.starts_with("f.toml:2:"), "{e}");
        let e = IntakeForm::from_toml(
            "f.toml",
            "[[fields]]\nid = \"g\"\nlabel = \"G\"\noptions = [\"a\"]\ncolour = 1\n",
        )
        .unwrap_err();
        assert!(e.0.starts_with("f.toml:5:"), "{e}");
    }
}

//! Data-entry forms: typed fields with constraints, skip logic (`relevant_if`) and
//! repeating groups with a total check, and the values a worker enters. The one
//! validation code the client (as typed) and the server (on submit) both run.

mod check;
mod parse;
mod value;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use check::{FieldIssue, FieldPath, join_choices};
pub use value::{DateFormat, Decimal, read_email, read_money, read_phone, read_time};

pub(crate) use parse::{FieldFile, form_from_file};

/// A checked form: the fields in the order the worker fills them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    /// How dates are typed in this project, e.g. `dd/mm/yyyy`.
    pub date_format: DateFormat,
    pub fields: Vec<Field>,
}

/// One field of a form, or a repeating group of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub id: String,
    pub label: String,
    #[serde(flatten)]
    pub kind: FieldKind,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<Pattern>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Decimal>,
    /// A date field's earliest and latest date (ISO `yyyy-mm-dd`), from `min`/`max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant_if: Option<Condition>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A field's type and what only that type needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Integer,
    Decimal,
    /// An amount with a currency; `currencies` are the codes accepted (the first is
    /// assumed when none is typed).
    Money {
        currencies: Vec<String>,
    },
    Date,
    Time,
    Choice {
        options: Vec<FieldOption>,
    },
    Choices {
        options: Vec<FieldOption>,
    },
    YesNo,
    /// `country_code` turns a national number (leading 0) into an international one.
    Phone {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        country_code: Option<String>,
    },
    Email,
    Group(Group),
}

/// One option of a choice field: the worker presses its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldOption {
    pub id: String,
    pub label: String,
    pub key: char,
}

/// A repeating group (an invoice's line items): rows of the same sub-fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub columns: Vec<Field>,
    #[serde(default)]
    pub min_rows: u32,
    pub max_rows: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<TotalCheck>,
}

/// The rows add up to a field of the form: the sum over rows of one column, or of the
/// product of two (`qty * unit_price`), equals field `equals` within `tolerance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TotalCheck {
    pub sum: Vec<String>,
    pub equals: String,
    pub tolerance: Decimal,
}

/// Shown and required only when field `field` has one of the values `equals` (compared
/// in normal form: an option id, `yes`/`no`, a number).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub field: String,
    pub equals: Vec<String>,
}

/// A field's pattern: the whole value must match. Compiled once, on first use.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    compiled: OnceLock<Option<regex::Regex>>,
}

impl Pattern {
    /// A pattern, or the regex error in words.
    pub fn new(source: &str) -> Result<Pattern, String> {
        let compiled = compile(source).map_err(|e| e.to_string())?;
        Ok(Pattern {
            source: source.to_string(),
            compiled: OnceLock::from(Some(compiled)),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `value` matches. A pattern that cannot compile (a damaged
    /// schema) matches nothing, so a bad value is never let through.
    pub fn matches(&self, value: &str) -> bool {
        self.compiled
            .get_or_init(|| compile(&self.source).ok())
            .as_ref()
            .is_some_and(|re| re.is_match(value))
    }
}

fn compile(source: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(&format!("^(?:{source})$"))
        .size_limit(1 << 20)
        .build()
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let source = String::deserialize(d)?;
        Ok(Pattern {
            source,
            compiled: OnceLock::new(),
        })
    }
}

/// What a worker entered in a form: each value as typed. Choices are option ids joined
/// by `|`; a repeating group is a list of rows, each column id -> value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormValues {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, Vec<BTreeMap<String, String>>>,
    /// Drafts only: the path the worker was at (`items[2].qty`), so a form comes back
    /// after a crash with its cursor. The normal form drops it: never sent as an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl FormValues {
    /// The value of `path`, empty when none was entered.
    pub fn get(&self, path: &FieldPath) -> &str {
        match path {
            FieldPath::Field(id) => self.fields.get(id),
            FieldPath::Cell { group, row, column } => self
                .groups
                .get(group)
                .and_then(|rows| rows.get(*row))
                .and_then(|r| r.get(column)),
        }
        .map_or("", String::as_str)
    }

    /// Set the value of `path` (an empty value removes it). A cell past the group's
    /// last row adds rows up to it.
    pub fn set(&mut self, path: &FieldPath, value: String) {
        match path {
            FieldPath::Field(id) => {
                if value.is_empty() {
                    self.fields.remove(id);
                } else {
                    self.fields.insert(id.clone(), value);
                }
            }
            FieldPath::Cell { group, row, column } => {
                let rows = self.groups.entry(group.clone()).or_default();
                while rows.len() <= *row {
                    rows.push(BTreeMap::new());
                }
                if value.is_empty() {
                    rows[*row].remove(column);
                } else {
                    rows[*row].insert(column.clone(), value);
                }
            }
        }
    }

    /// Rows of group `id` (0 when none).
    pub fn row_count(&self, id: &str) -> usize {
        self.groups.get(id).map_or(0, Vec::len)
    }
}

impl Form {
    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// The values a fresh form starts with: every default.
    pub fn defaults(&self) -> FormValues {
        let mut values = FormValues::default();
        for f in &self.fields {
            if let Some(d) = &f.default {
                values.fields.insert(f.id.clone(), d.clone());
            }
        }
        values
    }
}

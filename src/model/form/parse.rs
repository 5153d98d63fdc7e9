//! The `[[fields]]` of an entry project file, read into a checked `Form`. Every mistake
//! is reported with the byte offset of what is wrong, which the project parser turns
//! into `FILE:LINE: what`.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::value::{DateFormat, Decimal};
use super::{Condition, Field, FieldKind, FieldOption, Form, Group, Pattern, TotalCheck};
use crate::model::sanitize_line;

/// Most fields (or columns of one group) a form may have.
const MAX_FIELDS: usize = 100;
/// Most options of a choice field: each needs its own key.
const MAX_OPTIONS: usize = 36;
/// Rows a group allows when the file does not say.
const DEFAULT_MAX_ROWS: i64 = 50;
const MAX_ROWS: i64 = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldFile {
    id: Spanned<String>,
    label: Spanned<String>,
    #[serde(rename = "type")]
    kind: Spanned<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    pattern: Option<Spanned<String>>,
    #[serde(default)]
    min: Option<Spanned<Number>>,
    #[serde(default)]
    max: Option<Spanned<Number>>,
    #[serde(default)]
    max_length: Option<Spanned<i64>>,
    #[serde(default)]
    hint: String,
    #[serde(default)]
    default: Option<Spanned<String>>,
    #[serde(default)]
    relevant_if: Option<Spanned<ConditionFile>>,
    #[serde(default)]
    options: Vec<Spanned<OptionFile>>,
    #[serde(default)]
    currency: Option<Spanned<String>>,
    #[serde(default)]
    currencies: Vec<String>,
    #[serde(default)]
    country_code: Option<Spanned<String>>,
    #[serde(default)]
    fields: Vec<Spanned<FieldFile>>,
    #[serde(default)]
    min_rows: Option<Spanned<i64>>,
    #[serde(default)]
    max_rows: Option<Spanned<i64>>,
    #[serde(default)]
    total: Option<Spanned<TotalFile>>,
}

/// A number as TOML allows it: `5`, `0.5` or `"1250.00"` (exact); for a date field a
/// date, `2020-01-01` or `"2020-01-01"`.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
    Text(String),
    Date(toml::value::Datetime),
}

impl Number {
    fn decimal(&self) -> Option<Decimal> {
        match self {
            Number::Int(n) => Some(Decimal::from_int(i128::from(*n))),
            Number::Float(f) => Decimal::parse(&f.to_string()),
            Number::Text(s) => Decimal::parse(s),
            Number::Date(_) => None,
        }
    }

    /// A date bound as ISO `yyyy-mm-dd`, if it is a real date.
    fn iso_date(&self) -> Option<String> {
        let text = match self {
            Number::Text(s) => s.trim().to_string(),
            Number::Date(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
            _ => return None,
        };
        DateFormat::parse("yyyy-mm-dd")?.read(&text).ok()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConditionFile {
    field: String,
    equals: OneOrMany,
}

/// `equals = "mpesa"` or `equals = ["receipt", "invoice"]`.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OptionFile {
    id: Spanned<String>,
    label: Spanned<String>,
    key: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TotalFile {
    sum: String,
    equals: String,
    #[serde(default)]
    tolerance: Option<Number>,
}

/// A mistake at a byte offset of the file.
pub(crate) type FormMistake = (usize, String);

fn at<T>(s: &Spanned<T>, message: String) -> FormMistake {
    (s.span().start, message)
}

/// Check the form part of a project file: its `date_format` and `[[fields]]`.
pub(crate) fn form_from_file(
    date_format: Option<&Spanned<String>>,
    fields: &[Spanned<FieldFile>],
) -> Result<Form, FormMistake> {
    let date_format = match date_format {
        None => DateFormat::default(),
        Some(s) => DateFormat::parse(s.get_ref()).ok_or_else(|| {
            at(
                s,
                format!(
                    "date_format '{}' is not known; write e.g. \"dd/mm/yyyy\", \"mm/dd/yyyy\" or \"yyyy-mm-dd\"",
                    sanitize_line(s.get_ref())
                ),
            )
        })?,
    };
    if fields.is_empty() {
        return Err((
            0,
            "an entry project needs [[fields]] entries (id, label, type)".into(),
        ));
    }
    if fields.len() > MAX_FIELDS {
        return Err(at(
            &fields[MAX_FIELDS],
            format!("at most {MAX_FIELDS} fields in one form"),
        ));
    }
    let mut form = Form {
        date_format,
        fields: Vec::new(),
    };
    for spanned in fields {
        let field = read_field(&form, spanned, None)?;
        if form.fields.iter().any(|f| f.id == field.id) {
            return Err(at(
                &spanned.get_ref().id,
                format!("field id '{}' is used twice", field.id),
            ));
        }
        form.fields.push(field);
    }
    // Totals name a field that may come after the group: checked once all are read.
    for (spanned, field) in fields.iter().zip(&form.fields) {
        if let (FieldKind::Group(group), Some(total)) = (&field.kind, &spanned.get_ref().total) {
            check_total(&form, group, total)?;
        }
    }
    Ok(form)
}

/// One field; `group` holds the columns read so far when this is a column of a group.
fn read_field(
    form: &Form,
    spanned: &Spanned<FieldFile>,
    group: Option<&[Field]>,
) -> Result<Field, FormMistake> {
    let f = spanned.get_ref();
    let id = f.id.get_ref().trim();
    if id.is_empty()
        || id.len() > 40
        || !id.starts_with(|c: char| c.is_ascii_lowercase())
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(at(
            &f.id,
            format!(
                "field id '{}' must be 1-40 lower-case letters, digits or '_', starting with a letter",
                sanitize_line(id)
            ),
        ));
    }
    if f.label.get_ref().trim().is_empty() {
        return Err(at(&f.label, format!("field '{id}' has an empty label")));
    }
    let kind = read_kind(form, f, id, group.is_some())?;
    let numeric = matches!(
        kind,
        FieldKind::Integer | FieldKind::Decimal | FieldKind::Money { .. }
    );
    let is_group = matches!(kind, FieldKind::Group(_));
    let is_date = matches!(kind, FieldKind::Date);
    let date_bound = |b: &Option<Spanned<Number>>,
                      name: &str|
     -> Result<Option<String>, FormMistake> {
        match b {
            Some(b) if is_date => b.get_ref().iso_date().map(Some).ok_or_else(|| {
                at(
                    b,
                    format!("{name} of '{id}' must be a date written yyyy-mm-dd, like 2020-01-31"),
                )
            }),
            _ => Ok(None),
        }
    };
    let (min_date, max_date) = (date_bound(&f.min, "min")?, date_bound(&f.max, "max")?);
    if let (Some(lo), Some(hi), Some(span)) = (&min_date, &max_date, &f.max)
        && lo > hi
    {
        return Err(at(span, format!("max of '{id}' is before its min")));
    }
    let bound = |b: &Option<Spanned<Number>>, name: &str| -> Result<Option<Decimal>, FormMistake> {
        let Some(b) = b else { return Ok(None) };
        if is_date {
            return Ok(None);
        }
        if !numeric {
            return Err(at(
                b,
                format!("{name} applies only to integer, decimal, money and date fields"),
            ));
        }
        b.get_ref()
            .decimal()
            .map(Some)
            .ok_or_else(|| at(b, format!("{name} of '{id}' is not a number")))
    };
    let (min, max) = (bound(&f.min, "min")?, bound(&f.max, "max")?);
    if let (Some(lo), Some(hi), Some(span)) = (&min, &max, &f.max)
        && lo > hi
    {
        return Err(at(span, format!("max of '{id}' is below its min")));
    }
    let max_length = match &f.max_length {
        None => None,
        Some(n) if is_group || !(1..=10_000).contains(n.get_ref()) => {
            return Err(at(
                n,
                "max_length must be between 1 and 10000, on a field that holds a value".into(),
            ));
        }
        Some(n) => Some(*n.get_ref() as u32),
    };
    let pattern = match &f.pattern {
        None => None,
        Some(p) if is_group => return Err(at(p, "a group has no pattern".into())),
        Some(p) => Some(Pattern::new(p.get_ref()).map_err(|e| {
            let first = e.lines().last().unwrap_or("").trim().to_string();
            at(
                p,
                format!("pattern of '{id}' is not a valid regular expression: {first}"),
            )
        })?),
    };
    let mut field = Field {
        id: id.to_string(),
        label: f.label.get_ref().trim().to_string(),
        kind,
        required: f.required,
        pattern,
        min,
        max,
        min_date,
        max_date,
        max_length,
        hint: f.hint.trim().to_string(),
        default: None,
        relevant_if: None,
    };
    if let Some(d) = &f.default {
        if is_group {
            return Err(at(d, "a group has no default".into()));
        }
        form.canonical(&field, d.get_ref()).map_err(|why| {
            at(
                d,
                format!("default of '{id}' does not fit the field: {why}"),
            )
        })?;
        field.default = Some(d.get_ref().trim().to_string());
    }
    if let Some(cond) = &f.relevant_if {
        field.relevant_if = Some(read_condition(form, group, cond, id)?);
    }
    Ok(field)
}

fn read_kind(
    form: &Form,
    f: &FieldFile,
    id: &str,
    in_group: bool,
) -> Result<FieldKind, FormMistake> {
    let only = |what: &str, span: Range<usize>, types: &str| {
        Err((span.start, format!("{what} applies only to {types} fields")))
    };
    let ty = f.kind.get_ref().as_str();
    if !f.options.is_empty() && !matches!(ty, "choice" | "choices") {
        return only("options", f.options[0].span(), "choice and choices");
    }
    if let Some(c) = &f.currency
        && ty != "money"
    {
        return only("currency", c.span(), "money");
    }
    if let Some(c) = &f.country_code
        && ty != "phone"
    {
        return only("country_code", c.span(), "phone");
    }
    if ty != "group" {
        for (what, span) in [
            ("fields", f.fields.first().map(Spanned::span)),
            ("min_rows", f.min_rows.as_ref().map(Spanned::span)),
            ("max_rows", f.max_rows.as_ref().map(Spanned::span)),
            ("total", f.total.as_ref().map(Spanned::span)),
        ] {
            if let Some(span) = span {
                return only(what, span, "group");
            }
        }
    }
    Ok(match ty {
        "text" => FieldKind::Text,
        "integer" => FieldKind::Integer,
        "decimal" => FieldKind::Decimal,
        "date" => FieldKind::Date,
        "time" => FieldKind::Time,
        "yes_no" => FieldKind::YesNo,
        "email" => FieldKind::Email,
        "phone" => {
            let country_code = match &f.country_code {
                None => None,
                Some(c) => {
                    let cc = c.get_ref().trim().trim_start_matches('+');
                    if cc.is_empty() || cc.len() > 3 || !cc.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(at(
                            c,
                            "country_code must be 1-3 digits, like \"254\"".into(),
                        ));
                    }
                    Some(cc.to_string())
                }
            };
            FieldKind::Phone { country_code }
        }
        "money" => {
            let Some(c) = &f.currency else {
                return Err(at(
                    &f.kind,
                    format!("money field '{id}' needs a currency, like currency = \"KES\""),
                ));
            };
            let mut currencies = vec![c.get_ref().trim().to_string()];
            for extra in &f.currencies {
                if !currencies.contains(extra) {
                    currencies.push(extra.trim().to_string());
                }
            }
            if let Some(bad) = currencies
                .iter()
                .find(|c| c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()))
            {
                return Err(at(
                    c,
                    format!(
                        "currency '{}' must be a three-letter code like KES or INR",
                        sanitize_line(bad)
                    ),
                ));
            }
            FieldKind::Money { currencies }
        }
        "choice" | "choices" => {
            let options = read_options(f, id)?;
            if ty == "choice" {
                FieldKind::Choice { options }
            } else {
                FieldKind::Choices { options }
            }
        }
        "group" => {
            if in_group {
                return Err(at(&f.kind, "a group cannot hold another group".into()));
            }
            FieldKind::Group(read_group(form, f, id)?)
        }
        other => {
            return Err(at(
                &f.kind,
                format!(
                    "type '{}' is not known; use text, integer, decimal, money, date, time, choice, choices, yes_no, phone, email or group",
                    sanitize_line(other)
                ),
            ));
        }
    })
}

fn read_options(f: &FieldFile, id: &str) -> Result<Vec<FieldOption>, FormMistake> {
    if f.options.is_empty() {
        return Err(at(
            &f.kind,
            format!("choice field '{id}' needs [[fields.options]] (id, label, key)"),
        ));
    }
    if f.options.len() > MAX_OPTIONS {
        return Err(at(
            &f.options[MAX_OPTIONS],
            format!("at most {MAX_OPTIONS} options fit on one screen"),
        ));
    }
    let mut options: Vec<FieldOption> = Vec::new();
    for o in &f.options {
        let o = o.get_ref();
        let oid = o.id.get_ref().trim();
        if oid.is_empty() || oid.chars().any(|c| c.is_control() || c == '|') {
            return Err(at(
                &o.id,
                "option id must be non-empty, without control characters or '|'".into(),
            ));
        }
        if options.iter().any(|x| x.id == oid) {
            return Err(at(
                &o.id,
                format!("option id '{}' is used twice", sanitize_line(oid)),
            ));
        }
        let mut chars = o.key.get_ref().chars();
        let key = match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_graphic() => c,
            _ => {
                return Err(at(
                    &o.key,
                    "option key must be one printable ASCII character, like \"1\" or \"m\"".into(),
                ));
            }
        };
        if let Some(other) = options.iter().find(|x| x.key == key) {
            return Err(at(
                &o.key,
                format!(
                    "key '{key}' is already the key of option '{}'",
                    sanitize_line(&other.id)
                ),
            ));
        }
        if o.label.get_ref().trim().is_empty() {
            return Err(at(&o.label, "option label is empty".into()));
        }
        options.push(FieldOption {
            id: oid.to_string(),
            label: o.label.get_ref().trim().to_string(),
            key,
        });
    }
    Ok(options)
}

fn read_group(form: &Form, f: &FieldFile, id: &str) -> Result<Group, FormMistake> {
    if f.fields.is_empty() {
        return Err(at(
            &f.kind,
            format!("group '{id}' needs [[fields.fields]] entries (its columns)"),
        ));
    }
    if f.fields.len() > MAX_FIELDS {
        return Err(at(
            &f.fields[MAX_FIELDS],
            format!("at most {MAX_FIELDS} columns in a group"),
        ));
    }
    let mut columns: Vec<Field> = Vec::new();
    for c in &f.fields {
        let col = read_field(form, c, Some(&columns))?;
        if columns.iter().any(|x| x.id == col.id) {
            return Err(at(
                &c.get_ref().id,
                format!("column id '{}' is used twice", col.id),
            ));
        }
        columns.push(col);
    }
    let rows = |n: &Option<Spanned<i64>>, default: i64| match n {
        None => Ok(default),
        Some(s) if (0..=MAX_ROWS).contains(s.get_ref()) => Ok(*s.get_ref()),
        Some(s) => Err(at(s, format!("rows must be between 0 and {MAX_ROWS}"))),
    };
    let (min_rows, max_rows) = (rows(&f.min_rows, 0)?, rows(&f.max_rows, DEFAULT_MAX_ROWS)?);
    if max_rows < min_rows.max(1) {
        let span = f.max_rows.as_ref().map_or(f.kind.span(), Spanned::span);
        return Err((
            span.start,
            format!("max_rows of '{id}' must be at least min_rows and 1"),
        ));
    }
    let total = match &f.total {
        None => None,
        Some(t) => {
            let t = t.get_ref();
            let tolerance = match &t.tolerance {
                None => Decimal::from_int(0),
                Some(n) => n
                    .decimal()
                    .filter(|d| *d >= Decimal::from_int(0))
                    .ok_or_else(|| {
                        at(
                            f.total.as_ref().map_or(&f.kind, |_| &f.kind),
                            "tolerance must be a number of at least 0".into(),
                        )
                    })?,
            };
            Some(TotalCheck {
                sum: t.sum.split('*').map(|s| s.trim().to_string()).collect(),
                equals: t.equals.trim().to_string(),
                tolerance,
            })
        }
    };
    Ok(Group {
        columns,
        min_rows: min_rows as u32,
        max_rows: max_rows as u32,
        total,
    })
}

/// A total's sum must name numeric, required, always-shown columns, and its `equals` a
/// numeric field of the form.
fn check_total(
    form: &Form,
    group: &Group,
    spanned: &Spanned<TotalFile>,
) -> Result<(), FormMistake> {
    let Some(check) = &group.total else {
        return Ok(());
    };
    let numeric = |f: &Field| {
        matches!(
            f.kind,
            FieldKind::Integer | FieldKind::Decimal | FieldKind::Money { .. }
        )
    };
    if check.sum.len() > 2 {
        return Err(at(
            spanned,
            "total sum is one column or a product of two, like \"qty * unit_price\"".into(),
        ));
    }
    for term in &check.sum {
        let Some(col) = group.columns.iter().find(|c| &c.id == term) else {
            return Err(at(
                spanned,
                format!(
                    "total sums '{}', which is not a column of this group",
                    sanitize_line(term)
                ),
            ));
        };
        if !numeric(col) || !col.required || col.relevant_if.is_some() {
            return Err(at(
                spanned,
                format!(
                    "total sums '{term}': it must be a required integer, decimal or money column without relevant_if"
                ),
            ));
        }
    }
    match form.field(&check.equals) {
        Some(f) if numeric(f) => Ok(()),
        _ => Err(at(
            spanned,
            format!(
                "total equals '{}', which must be an integer, decimal or money field of the form",
                sanitize_line(&check.equals)
            ),
        )),
    }
}

/// `relevant_if` names an earlier field (of the form, or of this group's row) and a
/// value it can hold; that value is kept in normal form.
fn read_condition(
    form: &Form,
    group: Option<&[Field]>,
    cond: &Spanned<ConditionFile>,
    id: &str,
) -> Result<Condition, FormMistake> {
    let c = cond.get_ref();
    let target = group
        .and_then(|cols| cols.iter().find(|f| f.id == c.field))
        .or_else(|| form.field(&c.field));
    let Some(target) = target.filter(|t| !matches!(t.kind, FieldKind::Group(_))) else {
        return Err(at(
            cond,
            format!(
                "relevant_if of '{id}' names '{}', which is not a field before it",
                sanitize_line(&c.field)
            ),
        ));
    };
    let given = match &c.equals {
        OneOrMany::One(v) => std::slice::from_ref(v),
        OneOrMany::Many(vs) => vs.as_slice(),
    };
    if given.is_empty() {
        return Err(at(cond, format!("relevant_if of '{id}' lists no values")));
    }
    let mut equals = Vec::new();
    for v in given {
        equals.push(form.comparison_key(target, v).map_err(|why| {
            at(
                cond,
                format!(
                    "relevant_if of '{id}': '{}' is not a value of '{}' ({why})",
                    sanitize_line(v),
                    target.id
                ),
            )
        })?);
    }
    Ok(Condition {
        field: target.id.clone(),
        equals,
    })
}

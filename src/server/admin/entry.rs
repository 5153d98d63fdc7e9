//! What import and export do differently for entry projects: gold as an object of field
//! values, JSONL lines with nested values and per-field agreement, and CSV with one
//! column per field (repeating groups flattened as `items[1].qty`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::form::{FieldPath, Form, FormValues};
use crate::model::{AnswerValue, format_utc, sanitize_line};
use crate::server::scheduler::double_entry::FieldDecision;
use crate::server::store::{StoreError, TaskRecord};

/// Gold of an entry task as the admin writes it: `{"vendor": "Naivas", "items":
/// [{"qty": "2", ...}]}` (numbers may be JSON numbers). Every value given must fit its
/// field; fields left out are simply not gold. In the form's normal form.
pub fn gold_of_json(form: &Form, value: Value) -> Result<FormValues, String> {
    let Value::Object(map) = value else {
        return Err("gold of an entry task must be an object of field values".into());
    };
    let mut values = FormValues::default();
    for (id, v) in map {
        match v {
            Value::Array(rows) => {
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let Value::Object(cells) = row else {
                        return Err(format!(
                            "gold '{}' must be a list of rows, each an object of column values",
                            sanitize_line(&id)
                        ));
                    };
                    let mut kept = BTreeMap::new();
                    for (col, cell) in cells {
                        kept.insert(col.clone(), scalar(&format!("{id}.{col}"), cell)?);
                    }
                    out.push(kept);
                }
                values.groups.insert(id, out);
            }
            other => {
                let text = scalar(&id, other)?;
                values.fields.insert(id, text);
            }
        }
    }
    if let Some(issue) = form.given_issues(&values).into_iter().next() {
        return Err(format!("gold {}", sanitize_line(&issue.to_string())));
    }
    Ok(form.normalise(&values))
}

fn scalar(id: &str, v: Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(format!(
            "gold '{}' must be text or a number",
            sanitize_line(id)
        )),
    }
}

fn unreadable(what: &'static str) -> impl Fn(serde_json::Error) -> StoreError {
    move |e| StoreError::Corrupt {
        what,
        source: Box::new(e),
    }
}

/// Stored gold back as form values: never dropped in silence when it does not read.
fn gold_values(task: &TaskRecord) -> Result<Option<FormValues>, StoreError> {
    match task.gold.as_deref() {
        None => Ok(None),
        Some([one]) => serde_json::from_str(one)
            .map(Some)
            .map_err(unreadable("gold of an entry task")),
        Some(_) => Err(StoreError::Corrupt {
            what: "gold of an entry task",
            source: "label gold on an entry task".into(),
        }),
    }
}

/// Flat paths back into the nested shape: fields as values, groups as lists of rows.
fn nested(flat: &BTreeMap<String, String>) -> Value {
    let mut fields = Map::new();
    let mut groups: BTreeMap<String, BTreeMap<usize, Map<String, Value>>> = BTreeMap::new();
    for (path, value) in flat {
        match FieldPath::parse(path) {
            Some(FieldPath::Cell { group, row, column }) => {
                groups
                    .entry(group)
                    .or_default()
                    .entry(row)
                    .or_default()
                    .insert(column, Value::String(value.clone()));
            }
            _ => {
                fields.insert(path.clone(), Value::String(value.clone()));
            }
        }
    }
    for (group, rows) in groups {
        let last = rows.keys().next_back().copied().unwrap_or(0);
        let list = (0..=last)
            .map(|r| Value::Object(rows.get(&r).cloned().unwrap_or_default()))
            .collect();
        fields.insert(group, Value::Array(list));
    }
    Value::Object(fields)
}

/// A stored decision read back; None when the task is not decided yet.
fn decision_of(task: &TaskRecord) -> Result<Option<FieldDecision>, StoreError> {
    task.decided
        .as_deref()
        .map(|d| serde_json::from_str(d).map_err(unreadable("decision of an entry task")))
        .transpose()
}

#[derive(Serialize)]
struct EntryLine<'a> {
    id: &'a str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    gold: Option<Value>,
    /// Agreed values, nested like the form.
    #[serde(rename = "final")]
    decided: Option<Value>,
    /// Share of fields agreed.
    agreement: Option<f64>,
    /// Per field: agreed, and if not, each answer's value.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    fields: BTreeMap<String, FieldAgreement>,
    answers: Vec<EntryAnswer>,
}

#[derive(Serialize)]
struct FieldAgreement {
    agreed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    values: Vec<String>,
}

#[derive(Serialize)]
struct EntryAnswer {
    worker: String,
    value: Value,
    time: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    superseded: bool,
}

/// One JSONL line of an entry task: values canonical (ISO dates, plain numbers).
pub fn jsonl_line(
    form: &Form,
    task: &TaskRecord,
    agreement: Option<f64>,
) -> Result<String, StoreError> {
    let decision = decision_of(task)?;
    let mut fields = BTreeMap::new();
    if let Some(d) = &decision {
        for path in d.decided.keys() {
            fields.insert(
                path.clone(),
                FieldAgreement {
                    agreed: true,
                    values: Vec::new(),
                },
            );
        }
        for (path, values) in &d.disputed {
            fields.insert(
                path.clone(),
                FieldAgreement {
                    agreed: false,
                    values: values.clone(),
                },
            );
        }
    }
    let answers = task
        .answers
        .iter()
        .map(|a| EntryAnswer {
            worker: a.worker.clone(),
            value: match &a.value {
                AnswerValue::Form(v) => nested(&form.canonical_values(v)),
                other => Value::String(other.to_compact()),
            },
            time: format_utc(a.at),
            superseded: a.superseded,
        })
        .collect();
    serde_json::to_string(&EntryLine {
        id: &task.id,
        text: &task.text,
        gold: gold_values(task)?.map(|g| nested(&form.canonical_values(&g))),
        decided: decision.as_ref().map(|d| nested(&d.decided)),
        agreement,
        fields,
        answers,
    })
    .map_err(unreadable("export line of an entry task"))
}

/// The CSV columns of an entry project: id, text, agreement, the disputed fields, then
/// one per field in form order, groups flattened up to the most rows any task has.
pub fn csv_header(form: &Form, rows: &BTreeMap<String, usize>) -> Vec<String> {
    let mut out: Vec<String> = ["id", "text", "agreement", "disputed"]
        .map(String::from)
        .to_vec();
    let mut widest = FormValues::default();
    for (group, &n) in rows {
        widest
            .groups
            .insert(group.clone(), vec![BTreeMap::new(); n]);
    }
    out.extend(form.paths(&widest).iter().map(ToString::to_string));
    out
}

/// Rows each group of a decided task has, to size the CSV's columns.
pub fn grow_rows(task: &TaskRecord, rows: &mut BTreeMap<String, usize>) -> Result<(), StoreError> {
    let Some(d) = decision_of(task)? else {
        return Ok(());
    };
    for path in d.decided.keys().chain(d.disputed.keys()) {
        if let Some(FieldPath::Cell { group, row, .. }) = FieldPath::parse(path) {
            let n = rows.entry(group).or_default();
            *n = (*n).max(row + 1);
        }
    }
    Ok(())
}

/// One CSV record of an entry task under `header`: decided values; disputed and
/// undecided fields empty (listed in `disputed`).
pub fn csv_record(
    header: &[String],
    task: &TaskRecord,
    agreement: &str,
) -> Result<Vec<String>, StoreError> {
    // An undecided task has no values yet: its row shows only id and text.
    let d = decision_of(task)?.unwrap_or_default();
    let disputed = d.disputed.keys().cloned().collect::<Vec<_>>().join(" ");
    let mut out = vec![
        task.id.clone(),
        task.text.clone(),
        agreement.to_string(),
        disputed,
    ];
    out.extend(
        header[4..]
            .iter()
            .map(|col| d.decided.get(col).cloned().unwrap_or_default()),
    );
    Ok(out)
}

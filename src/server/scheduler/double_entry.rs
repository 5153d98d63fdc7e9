//! Double entry: the answers to one entry task compared field by field after per-type
//! normalisation. Fields most answers agree on are decided; the others are recorded
//! with every answer's value, so review can show and settle just those fields. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::AnswerValue;
use crate::model::form::Form;
use crate::quality::Decision;
use crate::quality::form::aggregate_form;

/// What double entry decided about one task, by field path (`vendor`, `items[2].qty`).
/// Stored as the task's decision (JSON) and shown in exports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDecision {
    /// Agreed fields and their value (canonical: ISO dates, plain numbers, `KES 1250`).
    pub decided: BTreeMap<String, String>,
    /// Fields the answers disagree on, with each answer's value in answer order (empty
    /// where an answer left the field empty).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub disputed: BTreeMap<String, Vec<String>>,
}

impl FieldDecision {
    /// Share of fields decided, 0.0..=1.0 (1.0 for a form nobody filled anything in).
    pub fn agreement(&self) -> f64 {
        let all = self.decided.len() + self.disputed.len();
        if all == 0 {
            1.0
        } else {
            self.decided.len() as f64 / all as f64
        }
    }
}

impl FieldDecision {
    /// The decision as stored, JSON built as a `Value` (whose printing cannot fail).
    pub fn to_json(&self) -> String {
        use serde_json::Value;
        let decided = self
            .decided
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let mut out = serde_json::Map::new();
        out.insert("decided".into(), Value::Object(decided));
        if !self.disputed.is_empty() {
            let disputed = self
                .disputed
                .iter()
                .map(|(k, vs)| {
                    let vs = vs.iter().map(|v| Value::String(v.clone())).collect();
                    (k.clone(), Value::Array(vs))
                })
                .collect();
            out.insert("disputed".into(), Value::Object(disputed));
        }
        Value::Object(out).to_string()
    }
}

/// One answer as double entry sees it: per path, what is compared and what is shown.
pub struct EnteredFields {
    pub keys: BTreeMap<String, String>,
    pub shown: BTreeMap<String, String>,
}

/// The fields of an answer: none for an answer that is not a form (never stored for an
/// entry project: the scheduler validates first).
pub fn entered_fields(form: &Form, value: &AnswerValue) -> EnteredFields {
    match value {
        AnswerValue::Form(values) => EnteredFields {
            keys: form.comparison_keys(values),
            shown: form.canonical_values(values),
        },
        AnswerValue::Labels(_) | AnswerValue::Transcript(_) => EnteredFields {
            keys: BTreeMap::new(),
            shown: BTreeMap::new(),
        },
    }
}

/// Compare answers field by field. A path one answer filled and another left empty is a
/// disagreement (the empty value is a vote); a majority of the keys decides, a tie does
/// not. The decided value is shown as the first agreeing answer entered it.
pub fn compare(answers: &[EnteredFields]) -> FieldDecision {
    let keys: Vec<&BTreeMap<String, String>> = answers.iter().map(|a| &a.keys).collect();
    let mut out = FieldDecision::default();
    for (path, vote) in aggregate_form(&keys) {
        let path = &path;
        match vote.value {
            Some(winner) if !winner.is_empty() => {
                let shown = answers
                    .iter()
                    .find(|a| a.keys.get(path).map(String::as_str) == Some(winner.as_str()))
                    .and_then(|a| a.shown.get(path))
                    .cloned()
                    .unwrap_or(winner);
                out.decided.insert(path.clone(), shown);
            }
            // Most answers left it empty: nothing to decide, nothing to dispute.
            Some(_) => {}
            None => {
                let values = answers
                    .iter()
                    .map(|a| a.shown.get(path).cloned().unwrap_or_default())
                    .collect();
                out.disputed.insert(path.clone(), values);
            }
        }
    }
    out
}

/// The task's decision as the store keeps it: the field decision as JSON, and the share
/// of fields agreed.
pub fn decide(form: &Form, values: &[AnswerValue]) -> Decision {
    let entered: Vec<EnteredFields> = values.iter().map(|v| entered_fields(form, v)).collect();
    let fields = compare(&entered);
    let agreement = fields.agreement();
    Decision {
        agreement,
        value: Some(fields.to_json()),
        // Field by field, a plain vote: as sure as the share of fields agreed.
        confidence: agreement,
        method: crate::quality::Method::Majority,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Project;
    use crate::model::form::FormValues;

    fn project() -> Project {
        Project::from_toml(
            "receipts.toml",
            include_str!("../../../fixtures/projects/receipts.toml"),
        )
        .unwrap()
    }

    fn receipt(edit: impl FnOnce(&mut FormValues)) -> AnswerValue {
        let mut v = FormValues::default();
        for (k, val) in [
            ("doc_kind", "receipt"),
            ("vendor", "Naivas Supermarket"),
            ("date", "14/03/2026"),
            ("total", "KES 1,250.00"),
            ("paid_by", "cash"),
        ] {
            v.fields.insert(k.into(), val.into());
        }
        let row = |d: &str, q: &str, p: &str| {
            [("description", d), ("qty", q), ("unit_price", p)]
                .into_iter()
                .map(|(k, x)| (k.to_string(), x.to_string()))
                .collect()
        };
        v.groups.insert(
            "items".into(),
            vec![
                row("Unga 2kg", "2", "185"),
                row("Milk", "4", "60"),
                row("Sugar", "1", "640"),
            ],
        );
        edit(&mut v);
        AnswerValue::Form(v)
    }

    fn fields_of(d: &Decision) -> FieldDecision {
        serde_json::from_str(d.value.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn equal_after_normalisation_is_agreement() {
        let p = project();
        let form = p.form.as_ref().unwrap();
        let a = receipt(|_| {});
        let b = receipt(|v| {
            v.fields
                .insert("vendor".into(), " NAIVAS   supermarket".into());
            v.fields.insert("total".into(), "Ksh 1250".into());
            v.fields.insert("date".into(), "14/3/2026".into());
            v.groups.get_mut("items").unwrap()[0].insert("unit_price".into(), "KES 185.00".into());
        });
        let d = decide(form, &[a, b]);
        let fields = fields_of(&d);
        assert_eq!(fields.disputed, BTreeMap::new());
        assert_eq!(d.agreement, 1.0);
        assert_eq!(
            fields.decided["vendor"], "Naivas Supermarket",
            "first answer's spelling"
        );
        assert_eq!(fields.decided["date"], "2026-03-14");
        assert_eq!(fields.decided["total"], "KES 1250");
        assert_eq!(fields.decided["items[1].unit_price"], "KES 185");
    }

    #[test]
    fn disagreeing_fields_are_recorded_alone_with_each_value() {
        let p = project();
        let form = p.form.as_ref().unwrap();
        let a = receipt(|_| {});
        let b = receipt(|v| {
            v.fields.insert("date".into(), "15/03/2026".into());
            v.groups.get_mut("items").unwrap()[1].insert("qty".into(), "5".into());
            v.fields.insert("total".into(), "1310".into());
        });
        let fields = fields_of(&decide(form, &[a, b]));
        assert_eq!(
            fields.disputed.keys().collect::<Vec<_>>(),
            vec!["date", "items[2].qty", "total"]
        );
        assert_eq!(fields.disputed["date"], vec!["2026-03-14", "2026-03-15"]);
        assert_eq!(fields.disputed["total"], vec!["KES 1250", "KES 1310"]);
        assert_eq!(fields.decided["vendor"], "Naivas Supermarket");
        assert_eq!(fields.decided.len(), 11, "{fields:?}");
        let d = decide(
            form,
            &[
                receipt(|_| {}),
                receipt(|v| {
                    v.fields.insert("date".into(), "15/03/2026".into());
                }),
            ],
        );
        assert!((d.agreement - 13.0 / 14.0).abs() < 1e-9, "{}", d.agreement);
    }

    #[test]
    fn an_empty_field_against_a_filled_one_is_disputed() {
        let p = project();
        let form = p.form.as_ref().unwrap();
        let a = receipt(|_| {});
        let b = receipt(|v| {
            v.fields.remove("paid_by");
        });
        let fields = fields_of(&decide(form, &[a, b]));
        assert_eq!(
            fields.disputed["paid_by"],
            vec!["cash".to_string(), String::new()]
        );
    }

    #[test]
    fn a_third_entry_settles_a_field_by_majority() {
        let p = project();
        let form = p.form.as_ref().unwrap();
        let late = |v: &mut FormValues| {
            v.fields.insert("date".into(), "15/03/2026".into());
        };
        let d = decide(form, &[receipt(late), receipt(|_| {}), receipt(|_| {})]);
        let fields = fields_of(&d);
        assert_eq!(fields.decided["date"], "2026-03-14");
        assert!(fields.disputed.is_empty());
    }

    #[test]
    fn a_different_row_count_disputes_the_extra_row() {
        let p = project();
        let form = p.form.as_ref().unwrap();
        let b = receipt(|v| {
            v.groups.get_mut("items").unwrap().pop();
            v.fields.insert("total".into(), "610".into());
        });
        let fields = fields_of(&decide(form, &[receipt(|_| {}), b]));
        assert_eq!(
            fields.disputed.keys().collect::<Vec<_>>(),
            vec![
                "items[3].description",
                "items[3].qty",
                "items[3].unit_price",
                "total"
            ]
        );
    }
}

//! What a reviewer's verdict does beyond closing its item: every answer to the task is
//! scored against the final answer (so accuracy counts reviewed tasks alongside gold)
//! and each overturned worker is told, with the reviewer's note; an upheld contest
//! corrects the gold instead (`gold::correct`, which rescores and tells everyone); a
//! rejected flag or contest tells the worker who raised it why.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::form::FormValues;
use crate::model::gold::{DEFAULT_MAX_WER_PERCENT, Gold, GoldAnswer};
use crate::model::{AnswerValue, Project};
use crate::protocol::FeedbackKind;
use crate::server::store::review::{ReviewItem, ReviewReason, Verdict, VerdictKind};
use crate::server::store::{GoldResult, NewFeedback, StoreError, SyncTx};

/// The gold an upheld contest makes of the verdict's answer, covering what the task's
/// gold covered before (`before`), the note its explanation:
/// - classify: the verdict's label set;
/// - transcribe: the verdict's transcript, with the old gold's word error rate allowed;
/// - entry, per field: each field that was gold takes the verdict's value (a group's
///   gold columns likewise, row by row); fields that were not gold stay so. A gold field
///   the verdict leaves empty is gold no more.
///
/// The reason, when the result does not fit the project (`Gold::fits`).
pub fn gold_of_verdict(
    project: &Project,
    before: &Gold,
    value: &AnswerValue,
    note: &str,
) -> Result<Gold, String> {
    let answer = match (value, &before.answer) {
        (AnswerValue::Labels(labels), _) => GoldAnswer::Labels(vec![labels.clone()]),
        (AnswerValue::Transcript(t), old) => GoldAnswer::Transcript {
            text: t.text.clone(),
            max_wer_percent: match old {
                GoldAnswer::Transcript {
                    max_wer_percent, ..
                } => *max_wer_percent,
                _ => DEFAULT_MAX_WER_PERCENT,
            },
        },
        (AnswerValue::Form(values), GoldAnswer::Form(old)) => {
            GoldAnswer::Form(gold_fields_of(old, values))
        }
        (AnswerValue::Form(values), _) => GoldAnswer::Form(values.clone()),
    };
    let gold = Gold {
        answer,
        explanation: note.to_string(),
    };
    gold.fits(project)?;
    Ok(gold)
}

/// The verdict's values of the fields (and group columns) `old` holds as gold.
fn gold_fields_of(old: &FormValues, verdict: &FormValues) -> FormValues {
    let fields = old
        .fields
        .keys()
        .filter_map(|k| verdict.fields.get(k).map(|v| (k.clone(), v.clone())))
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let mut groups = BTreeMap::new();
    for (group, old_rows) in &old.groups {
        let Some(rows) = verdict.groups.get(group) else {
            continue;
        };
        let columns: BTreeSet<&String> = old_rows.iter().flat_map(|r| r.keys()).collect();
        let kept = rows
            .iter()
            .map(|row| {
                row.iter()
                    .filter(|(c, v)| columns.contains(c) && !v.trim().is_empty())
                    .map(|(c, v)| (c.clone(), v.clone()))
                    .collect()
            })
            .collect();
        groups.insert(group.clone(), kept);
    }
    FormValues {
        fields,
        groups,
        cursor: None,
    }
}

/// The gold an upheld contest on `task` would make of `value` (see `gold_of_verdict`);
/// the reason it cannot, shown to the reviewer.
pub fn corrected_gold(
    tx: &mut dyn SyncTx,
    project: &Project,
    task: i64,
    value: &AnswerValue,
    note: &str,
) -> Result<Result<Gold, String>, StoreError> {
    let Some(stored) = tx.task_gold(task)? else {
        return Ok(Err("the task has no gold any more".into()));
    };
    let before = super::gold::gold_of_stored(project, &stored)?;
    Ok(gold_of_verdict(project, &before, value, note))
}

/// Carry out a verdict already stored on `item`; how many workers were given feedback.
pub fn apply(
    tx: &mut dyn SyncTx,
    project: &Project,
    project_id: i64,
    item: &ReviewItem,
    verdict: &Verdict,
    now: i64,
) -> Result<u64, StoreError> {
    match (verdict.kind, &verdict.value) {
        (VerdictKind::Uphold, Some(value)) if item.reason == ReviewReason::Contest => {
            let gold =
                corrected_gold(tx, project, item.task, value, &verdict.note)?.map_err(|why| {
                    StoreError::Aborted(format!("the gold cannot be corrected: {why}"))
                })?;
            Ok(super::gold::correct(tx, project, item.task, &gold, now)?.rescored)
        }
        (_, Some(value)) => score_answers(tx, project, project_id, item.task, value, verdict, now),
        (_, None) => {
            let Some(worker) = item.worker else {
                return Ok(0);
            };
            super::feedback::give(
                tx,
                &NewFeedback {
                    user_id: worker,
                    project_id,
                    task: item.task,
                    kind: FeedbackKind::Review,
                    correct: false,
                    answer: None,
                    expected: None,
                    note: &verdict.note,
                    missed_fields: &[],
                    at: now,
                },
            )?;
            Ok(1)
        }
    }
}

/// Score every counted answer against the final one; tell those overturned.
fn score_answers(
    tx: &mut dyn SyncTx,
    project: &Project,
    project_id: i64,
    task: i64,
    value: &AnswerValue,
    verdict: &Verdict,
    now: i64,
) -> Result<u64, StoreError> {
    let mut told = 0;
    for answer in tx.answers_under_review(task)? {
        let upheld = project.normalise(&answer.value) == *value;
        tx.record_gold_result(&GoldResult {
            answer_id: answer.answer_id,
            task,
            user_id: answer.user_id,
            project_id,
            correct: upheld,
            confusions: "[]".into(),
            at: answer.at,
        })?;
        if upheld {
            continue;
        }
        let missed = differing_fields(project, &answer.value, value);
        super::feedback::give(
            tx,
            &NewFeedback {
                user_id: answer.user_id,
                project_id,
                task,
                kind: FeedbackKind::Review,
                correct: false,
                answer: Some(&answer.value),
                expected: Some(value),
                note: &verdict.note,
                missed_fields: &missed,
                at: now,
            },
        )?;
        told += 1;
    }
    Ok(told)
}

/// Entry: the fields where the answer differs from the final one, in normal form.
pub fn differing_fields(project: &Project, answer: &AnswerValue, fin: &AnswerValue) -> Vec<String> {
    let Some(form) = &project.form else {
        return Vec::new();
    };
    let (AnswerValue::Form(a), AnswerValue::Form(b)) = (answer, fin) else {
        return Vec::new();
    };
    let (a, b) = (form.comparison_keys(a), form.comparison_keys(b));
    let mut paths: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|p| a.get(*p) != b.get(*p))
        .cloned()
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::transcript::Transcript;

    fn fixture(name: &str) -> Project {
        let path = format!("{}/fixtures/projects/{name}", env!("CARGO_MANIFEST_DIR"));
        Project::from_toml(&path, &std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    fn form(fields: &[(&str, &str)], items: &[&[(&str, &str)]]) -> FormValues {
        let row = |r: &&[(&str, &str)]| {
            r.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        FormValues {
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            groups: if items.is_empty() {
                BTreeMap::new()
            } else {
                BTreeMap::from([("items".to_string(), items.iter().map(row).collect())])
            },
            cursor: None,
        }
    }

    #[test]
    fn an_upheld_transcript_becomes_the_gold_with_the_old_tolerance() {
        let p = fixture("sauti.toml");
        let before = Gold {
            answer: GoldAnswer::Transcript {
                text: "the meeting starts at nine".into(),
                max_wer_percent: 25,
            },
            explanation: "old".into(),
        };
        let said = AnswerValue::Transcript(Transcript::new("the meeting starts at half past nine"));
        let gold = gold_of_verdict(&p, &before, &said, "half past").unwrap();
        assert_eq!(
            gold.answer,
            GoldAnswer::Transcript {
                text: "the meeting starts at half past nine".into(),
                max_wer_percent: 25
            }
        );
        assert_eq!(gold.explanation, "half past");
        let tagged = AnswerValue::Transcript(Transcript::new("habari [music]"));
        let refused = gold_of_verdict(&p, &before, &tagged, "");
        assert!(
            refused.is_err(),
            "a transcript the project refuses: {refused:?}"
        );
    }

    #[test]
    fn an_upheld_form_corrects_the_gold_fields_only() {
        let p = fixture("receipts.toml");
        let before = Gold {
            answer: GoldAnswer::Form(form(
                &[("vendor", "Tuskys"), ("total", "KES 735.00")],
                &[&[("qty", "1")]],
            )),
            explanation: String::new(),
        };
        let verdict = form(
            &[
                ("vendor", "Tuskys Kisumu"),
                ("total", "KES 753.00"),
                ("date", "19/01/2025"),
            ],
            &[
                &[("description", "Omo 1kg"), ("qty", "2")],
                &[("description", "Unga"), ("qty", "1")],
            ],
        );
        let gold = gold_of_verdict(&p, &before, &AnswerValue::Form(verdict), "the total").unwrap();
        assert_eq!(
            gold.answer,
            GoldAnswer::Form(form(
                &[("vendor", "Tuskys Kisumu"), ("total", "KES 753.00")],
                &[&[("qty", "2")], &[("qty", "1")]],
            )),
            "the date and the descriptions were not gold and are not now"
        );
        // A gold field the verdict leaves empty is gold no more.
        let emptied = form(&[("vendor", "Tuskys"), ("total", " ")], &[]);
        let gold = gold_of_verdict(&p, &before, &AnswerValue::Form(emptied), "").unwrap();
        assert_eq!(
            gold.answer,
            GoldAnswer::Form(form(&[("vendor", "Tuskys")], &[]))
        );
    }

    #[test]
    fn an_upheld_label_is_the_one_accepted_answer() {
        let p = fixture("products.toml");
        let before = Gold::labels(vec![vec!["beauty".into()]]);
        let toys = AnswerValue::Labels(vec!["fashion".into()]);
        let gold = gold_of_verdict(&p, &before, &toys, "").unwrap();
        assert_eq!(
            gold.answer,
            GoldAnswer::Labels(vec![vec!["fashion".into()]])
        );
    }
}

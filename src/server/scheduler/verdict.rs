//! What a reviewer's verdict does beyond closing its item: every answer to the task is
//! scored against the final answer (so accuracy counts reviewed tasks alongside gold)
//! and each overturned worker is told, with the reviewer's note; an upheld contest
//! corrects the gold instead (`gold::correct`, which rescores and tells everyone); a
//! rejected flag or contest tells the worker who raised it why.

use crate::model::gold::{Gold, GoldAnswer};
use crate::model::{AnswerValue, Project};
use crate::protocol::FeedbackKind;
use crate::server::store::review::{ReviewItem, ReviewReason, Verdict, VerdictKind};
use crate::server::store::{GoldResult, NewFeedback, StoreError, SyncTx};

/// Why an upheld contest cannot correct the gold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoCorrection {
    /// Gold of this kind of task cannot be written from one answer yet.
    Kind,
}

/// The gold an upheld contest makes of the verdict's answer, the note its explanation.
pub fn gold_of_verdict(value: &AnswerValue, note: &str) -> Result<Gold, NoCorrection> {
    let answer = match value {
        AnswerValue::Labels(labels) => GoldAnswer::Labels(vec![labels.clone()]),
        AnswerValue::Form(values) => GoldAnswer::Form(values.clone()),
        // Transcript gold (a tolerance after normalisation) is gold's to add.
        AnswerValue::Transcript(_) => return Err(NoCorrection::Kind),
    };
    Ok(Gold {
        answer,
        explanation: note.to_string(),
    })
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
            let gold = gold_of_verdict(value, &verdict.note)
                .map_err(|_| StoreError::Aborted("this task's gold cannot be corrected".into()))?;
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

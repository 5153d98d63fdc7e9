//! Gold (control) tasks in the scheduler: mixing them into a worker's leases at the
//! project's rate, scoring a gold answer the moment it arrives, and correcting a task's
//! gold (every affected worker scored again and told). The check itself is the model's
//! (`model::gold::check`), the same code the client runs offline in training.

use crate::model::form::FormValues;
use crate::model::gold::{self, Gold, GoldAnswer};
use crate::model::{AnswerValue, Project};
use crate::protocol::{FeedbackKind, Report, ReportKind};
use crate::server::store::review::{NewReviewItem, ReviewReason};
use crate::server::store::{
    GoldResult, NewFeedback, OpenTask, Principal, StoreError, StoredGold, SyncTx,
};

use super::feedback;

/// Whether the project mixes its gold tasks in as control tasks (by `gold_rate`), rather
/// than leasing them like any other task (gold then only anchors aggregation).
pub fn mixes_gold(project: &Project) -> bool {
    project.gold_rate > 0.0
}

/// Whether the next lease of a worker who was leased `leased` tasks under the mix, `gold`
/// of them gold, should be gold. Randomised rounding: gold when `noise` (uniform in
/// 0..1) falls below the shortfall `rate * (leased + 1) - gold`, so the count never
/// strays a whole task from `rate * leased` and the places of gold are not a pattern.
pub fn next_is_gold(rate: f64, leased: u64, gold: u64, noise: f64) -> bool {
    noise < rate * (leased + 1) as f64 - gold as f64
}

/// Order up to `count` tasks for a lease: production tasks (`production`, in import
/// order) with gold tasks of the project mixed in by its rate. Never more gold than the
/// rate allows: when production runs out, the lease is shorter. Each task comes with
/// whether it is gold.
pub(super) fn mix(
    tx: &mut dyn SyncTx,
    project: &Project,
    project_id: i64,
    user_id: i64,
    production: Vec<OpenTask>,
    count: usize,
    noise: &mut Noise,
) -> Result<Vec<(OpenTask, bool)>, StoreError> {
    let (mut leased, mut given) = tx.gold_mix(project_id, user_id)?;
    let most_gold = (project.gold_rate * count as f64).ceil() as usize + 1;
    let mut golds = tx
        .pick_gold_tasks(project_id, user_id, most_gold.min(count))?
        .into_iter();
    let mut production = production.into_iter();
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let next = if next_is_gold(project.gold_rate, leased, given, noise.next()) {
            golds
                .next()
                .map(|t| (t, true))
                .or_else(|| production.next().map(|t| (t, false)))
        } else {
            production.next().map(|t| (t, false))
        };
        let Some((task, is_gold)) = next else {
            break;
        };
        leased += 1;
        given += u64::from(is_gold);
        out.push((task, is_gold));
    }
    Ok(out)
}

/// Uniform numbers in 0..1 for the mix: seeded once per sync from the system's random
/// source, then a xorshift. Where gold lands needs to be unpredictable to a worker, not
/// cryptographic; if the system source fails, the clock and the worker seed it (the
/// rate stays exact either way).
pub(super) struct Noise(u64);

impl Noise {
    pub(super) fn new(now: i64, user_id: i64) -> Noise {
        let seed = getrandom::u64().unwrap_or_else(|_| {
            (now as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (user_id as u64)
        });
        Noise(seed | 1)
    }

    fn next(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The gold of a task as stored: the whole gold when it was imported with it, else (gold
/// imported before gold tasks existed) its one accepted answer without explanation.
pub fn gold_of_stored(project: &Project, stored: &StoredGold) -> Result<Gold, StoreError> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt {
        what: "gold of a task",
        source: Box::new(e),
    };
    if let Some(spec) = &stored.spec {
        return serde_json::from_str(spec).map_err(corrupt);
    }
    let answer = match &project.form {
        Some(_) => {
            GoldAnswer::Form(serde_json::from_str::<FormValues>(&stored.first).map_err(corrupt)?)
        }
        None => GoldAnswer::Labels(vec![stored.first.split('|').map(str::to_string).collect()]),
    };
    Ok(Gold {
        answer,
        explanation: String::new(),
    })
}

/// The gold as stored: the first accepted answer in compact form and the whole as JSON.
pub fn stored_form_of(gold: &Gold) -> Result<(String, String), StoreError> {
    let spec = serde_json::to_string(gold).map_err(|e| StoreError::Corrupt {
        what: "gold of a task",
        source: Box::new(e),
    })?;
    Ok((gold.expected().to_compact(), spec))
}

/// One answer to score against gold.
pub(super) struct Scored<'a> {
    pub answer_id: i64,
    pub user_id: i64,
    pub task: i64,
    pub value: &'a AnswerValue,
    pub at: i64,
}

/// Score an answer to a gold task when it arrives: record the result (accuracy is
/// computed from these) and give the worker feedback in the same sync's reply.
pub(super) fn score(
    tx: &mut dyn SyncTx,
    project: &Project,
    stored: &StoredGold,
    answer: &Scored<'_>,
) -> Result<(), StoreError> {
    let gold = gold_of_stored(project, stored)?;
    let kind = FeedbackKind::Gold;
    record(
        tx,
        project,
        stored.project_id,
        &gold,
        answer,
        kind,
        answer.at,
    )?;
    Ok(())
}

/// Record the score of `answer` (dated `answered_at`) and tell the worker (dated
/// `answer.at`); whether it was correct.
fn record(
    tx: &mut dyn SyncTx,
    project: &Project,
    project_id: i64,
    gold: &Gold,
    answer: &Scored<'_>,
    kind: FeedbackKind,
    answered_at: i64,
) -> Result<bool, StoreError> {
    let check = gold::check(project, gold, answer.value);
    let confusions = gold::confusions(&check, answer.value);
    tx.record_gold_result(&GoldResult {
        answer_id: answer.answer_id,
        task: answer.task,
        user_id: answer.user_id,
        project_id,
        correct: check.correct,
        confusions: serde_json::to_string(&confusions).map_err(|e| StoreError::Corrupt {
            what: "confused labels",
            source: Box::new(e),
        })?,
        at: answered_at,
    })?;
    feedback::give(
        tx,
        &NewFeedback {
            user_id: answer.user_id,
            project_id,
            task: answer.task,
            kind,
            correct: check.correct,
            answer: Some(answer.value),
            expected: Some(&check.expected),
            note: &gold.explanation,
            missed_fields: &check.missed_fields,
            at: answer.at,
        },
    )?;
    Ok(check.correct)
}

/// What a gold correction changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Correction {
    /// Answers scored again (each worker told).
    pub rescored: u64,
    /// Of them, answers whose verdict changed.
    pub changed: u64,
}

/// Replace the gold of `task` (checked against `project` by the caller: `Gold::fits`),
/// score every counted answer to it again, and give each of those workers feedback with
/// the corrected answer; their accuracy follows from the new results. Inside the
/// caller's transaction. `now` dates the feedback (server time).
pub fn correct(
    tx: &mut dyn SyncTx,
    project: &Project,
    task: i64,
    new_gold: &Gold,
    now: i64,
) -> Result<Correction, StoreError> {
    let Some(stored) = tx.task_gold(task)? else {
        return Err(StoreError::Aborted(
            "this task has no gold to correct".into(),
        ));
    };
    let before = gold_of_stored(project, &stored)?;
    let (first, spec) = stored_form_of(new_gold)?;
    tx.set_task_gold(task, &first, &spec)?;
    let mut done = Correction::default();
    for answered in tx.gold_answers_of_task(task)? {
        let was = gold::check(project, &before, &answered.value).correct;
        let scored = Scored {
            answer_id: answered.answer_id,
            user_id: answered.user_id,
            task,
            value: &answered.value,
            at: now,
        };
        // The result keeps the answer's own time: accuracy's "last 50" is by answers.
        let kind = FeedbackKind::GoldCorrected;
        let is = record(
            tx,
            project,
            stored.project_id,
            new_gold,
            &scored,
            kind,
            answered.at,
        )?;
        done.rescored += 1;
        done.changed += u64::from(was != is);
    }
    Ok(done)
}

/// Put a worker's contests and flags in the review queue; the device's ids of those
/// now kept. A report on a task the worker was never given, or a contest of a task they
/// were not scored on as gold, is acknowledged and dropped: sending it again would not
/// change that. The queue keeps one item per task, reason and worker.
pub(super) fn file_reports(
    tx: &mut dyn SyncTx,
    who: &Principal,
    reports: &[Report],
    now: i64,
) -> Result<Vec<u64>, StoreError> {
    let mut done = Vec::with_capacity(reports.len());
    for report in reports {
        done.push(report.id);
        let Some(task) = tx.task_by_public(report.task)? else {
            continue;
        };
        if tx.lease(task, who.user_id)?.is_none() {
            continue;
        }
        let (reason, note) = match report.kind {
            ReportKind::Contest => {
                if tx.task_gold(task)?.is_none() || !tx.has_counted_answer(task, who.user_id)? {
                    continue;
                }
                (ReviewReason::Contest, report.note.clone())
            }
            ReportKind::Flag(why) => (
                ReviewReason::Flag,
                match report.note.trim() {
                    "" => why.words().to_string(),
                    note => format!("{}: {note}", why.words()),
                },
            ),
        };
        let item = NewReviewItem {
            reason,
            task,
            fields: Vec::new(),
            worker: Some(who.user_id),
            note: Some(note).filter(|n| !n.is_empty()),
        };
        super::review::enqueue(tx, &item, now)?;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn randomised_rounding_keeps_the_rate_within_one_task() {
        for rate in [0.05, 0.1, 0.25, 0.5] {
            let mut noise = Noise(0x1234_5678_9abc_def1);
            let (mut leased, mut gold) = (0u64, 0u64);
            for _ in 0..1000 {
                gold += u64::from(next_is_gold(rate, leased, gold, noise.next()));
                leased += 1;
                let off = gold as f64 - rate * leased as f64;
                assert!(off.abs() < 1.0, "rate {rate}: {gold} gold of {leased}");
            }
        }
    }

    #[test]
    fn gold_lands_in_no_fixed_pattern() {
        let mut noise = Noise(42);
        let (mut leased, mut gold) = (0u64, 0u64);
        let mut places = Vec::new();
        for i in 0..200 {
            if next_is_gold(0.1, leased, gold, noise.next()) {
                gold += 1;
                places.push(i % 10);
            }
            leased += 1;
        }
        places.sort_unstable();
        places.dedup();
        assert!(
            places.len() > 3,
            "gold always at the same places: {places:?}"
        );
    }
}

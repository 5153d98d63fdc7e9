//! What becomes of uploaded answers and skips, and when a task is decided: the rules of
//! `rules` applied step by step through the store's transaction.

use std::collections::HashMap;

use super::aggregate;
use super::rules::{self, Refusal};
use crate::model::{AnswerValue, Project};
use crate::protocol::{AckStatus, AnswerUpload};
use crate::server::store::{NewAnswer, Principal, StoreError, SyncTx};

/// Parsed project schemas, loaded at most once per transaction.
#[derive(Default)]
pub(super) struct ProjectCache {
    by_id: HashMap<i64, Project>,
}

impl ProjectCache {
    pub(super) fn get(&mut self, tx: &mut dyn SyncTx, id: i64) -> Result<&Project, StoreError> {
        use std::collections::hash_map::Entry;
        match self.by_id.entry(id) {
            Entry::Occupied(entry) => Ok(entry.into_mut()),
            Entry::Vacant(entry) => Ok(entry.insert(tx.project_schema(id)?)),
        }
    }
}

/// Store one answer and say what became of it. Store errors fail the whole sync (the
/// client resends); everything about the answer itself is a per-item status.
pub(super) fn store_answer(
    tx: &mut dyn SyncTx,
    projects: &mut ProjectCache,
    who: &Principal,
    upload: &AnswerUpload,
    now: i64,
) -> Result<AckStatus, StoreError> {
    // The wire names tasks by their public id; the store by its own.
    let task = tx.task_by_public(upload.task)?;
    if let Some(earlier) = tx.answer_by_client_id(who.device_id, upload.id)? {
        let same = Some(earlier.task) == task
            && same_answer(tx, projects, earlier.task, &earlier.value, &upload.value)?;
        return Ok(rules::resend_verdict(upload.id, same));
    }
    let Some(task) = task else {
        return Ok(Refusal::NoTask(upload.task).into());
    };
    match admit(tx, projects, who, task, upload, now)? {
        Ok(()) => Ok(AckStatus::Ok),
        Err(refusal) => Ok(refusal.into()),
    }
}

/// Whether two answers to one task are the same in normal form (`a|b` is `b|a`).
fn same_answer(
    tx: &mut dyn SyncTx,
    projects: &mut ProjectCache,
    task: i64,
    stored: &AnswerValue,
    sent: &AnswerValue,
) -> Result<bool, StoreError> {
    if stored == sent {
        return Ok(true);
    }
    let Some(home) = tx.task_home(task)? else {
        return Ok(false);
    };
    let project = projects.get(tx, home.project_id)?;
    Ok(project.normalise(stored) == project.normalise(sent))
}

/// A first sending of an answer: check it, date it, store it and keep the task's books.
fn admit(
    tx: &mut dyn SyncTx,
    projects: &mut ProjectCache,
    who: &Principal,
    task: i64,
    upload: &AnswerUpload,
    now: i64,
) -> Result<Result<(), Refusal>, StoreError> {
    let Some(home) = tx.task_home(task)? else {
        return Ok(Err(Refusal::NoTask(upload.task)));
    };
    let project = projects.get(tx, home.project_id)?;
    if let Err(e) = project.validate(&upload.value) {
        return Ok(Err(Refusal::Invalid(e)));
    }
    let value = project.normalise(&upload.value);
    let Some(lease) = tx.lease(task, who.user_id)? else {
        return Ok(Err(Refusal::NeverGiven(upload.task)));
    };
    let replaced = match upload.replaces {
        Some(old) => {
            let earlier = tx.answer_by_client_id(who.device_id, old)?;
            match rules::correction_target(task, old, earlier.as_ref()) {
                Ok(target) => target,
                Err(refusal) => return Ok(Err(refusal)),
            }
        }
        None => None,
    };
    if replaced.is_none() && tx.has_counted_answer(task, who.user_id)? {
        return Ok(Err(Refusal::AlreadyAnswered(upload.task)));
    }

    let at = rules::answer_date(now, upload.ago, lease.granted);
    let id = tx.insert_answer(&NewAnswer {
        device_id: who.device_id,
        client_id: upload.id,
        task,
        user_id: who.user_id,
        value: &value,
        at,
    })?;
    let gold = tx.task_gold(task)?;
    // A control task (gold mixed in by the project's rate) is no production work: its
    // answers neither fill an overlap nor get aggregated.
    let control = gold.is_some() && super::gold::mixes_gold(project);
    match replaced {
        Some(old) => tx.supersede(old, id)?,
        None if control => {
            if lease.live {
                tx.end_lease(task, who.user_id, false)?;
                tx.move_open_slots(task, 1)?;
            }
        }
        None => {
            tx.count_answer(task, rules::slot_delta_of_answer(lease.live))?;
            if lease.live {
                tx.end_lease(task, who.user_id, false)?;
            }
        }
    }
    if !control {
        decide_if_complete(tx, project, task, home.overlap, now)?;
    }
    if let Some(stored) = gold {
        let scored = super::gold::Scored {
            answer_id: id,
            user_id: who.user_id,
            task,
            value: &value,
            at,
        };
        super::gold::score(tx, project, &stored, &scored)?;
    }
    Ok(Ok(()))
}

/// Once a task has all its answers, store its decision and agreement, and queue it for
/// review if the project's policy asks (a dispute, a spot check). A `wmv` project weighs
/// each answer by its worker's gold record at once; the others decide by majority (per
/// field for forms, by medoid for transcripts) until the background pass (`ds`).
pub(super) fn decide_if_complete(
    tx: &mut dyn SyncTx,
    project: &Project,
    task: i64,
    overlap: i64,
    now: i64,
) -> Result<(), StoreError> {
    if !rules::is_complete(tx.counted_answers(task)?, overlap) {
        return Ok(());
    }
    let decision = if aggregate::weighs_at_sync(project) {
        let answers = tx.live_answers_with_gold(task)?;
        let gold = tx
            .task_gold(task)?
            .map(|g| g.first.split('|').map(str::to_string).collect());
        aggregate::decide_weighted_task(project, task, answers, gold)
    } else {
        rules::aggregate(project, &tx.live_answer_values(task)?)
    };
    tx.record_decision(task, &decision)?;
    super::review::after_decision(tx, project, task, &decision, now)
}

/// The worker skipped the task: its slot goes back and it is not offered to them again.
pub(super) fn release(tx: &mut dyn SyncTx, who: &Principal, public: i64) -> Result<(), StoreError> {
    let Some(task) = tx.task_by_public(public)? else {
        return Ok(());
    };
    let Some(lease) = tx.lease(task, who.user_id)? else {
        // Never leased to this worker: nothing to give back.
        return Ok(());
    };
    tx.end_lease(task, who.user_id, true)?;
    if lease.live {
        tx.move_open_slots(task, 1)?;
    }
    Ok(())
}

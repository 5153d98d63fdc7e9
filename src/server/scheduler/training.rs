//! The rules of training inside a sync: grade exam attempts that arrive (once, by server
//! time, scoring with `model::gold::check`), grant the qualification a pass earns, draw a
//! new attempt when one is due (not while qualified, one open at a time, after the
//! retry wait; never for trainers and admins), and send lesson sets the client lacks,
//! within the reply's budget. Exam gold never leaves the server before its attempt is
//! graded.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sha2::{Digest, Sha256};

use super::answers::ProjectCache;
use crate::model::gold::{self, Gold};
use crate::model::training::draw_exam;
use crate::model::{AnswerValue, Project, Role};
use crate::protocol::{
    ExamAttempt, ExamMiss, ExamResult, ExamState, ExamSubmission, ExamTask, LessonSet, LessonTask,
    SyncRequest, lesson_bytes,
};
use crate::server::scheduler::rules::ReplyBytes;
use crate::server::store::training::{GradedAttempt, TrainingTask};
use crate::server::store::{CatalogueEntry, Principal, StoreError, SyncTx};

/// What a sync's reply carries for training (the lesson sets: `lesson_sets`).
#[derive(Debug, Default)]
pub(super) struct TrainingReply {
    pub exams: Vec<ExamState>,
}

/// Grade the submissions, then report the standing of every project asked about or
/// submitted to.
pub(super) fn sync(
    tx: &mut dyn SyncTx,
    projects: &mut ProjectCache,
    who: &Principal,
    request: &SyncRequest,
    catalogue: &BTreeMap<String, CatalogueEntry>,
    now: i64,
) -> Result<TrainingReply, StoreError> {
    let mut asked: BTreeSet<String> = request.exams.iter().cloned().collect();
    for submission in &request.exam_answers {
        if let Some(project) = grade(tx, projects, who, submission, now)? {
            asked.insert(project);
        }
    }
    let mut reply = TrainingReply::default();
    for name in &asked {
        let Some(entry) = catalogue.get(name.as_str()) else {
            continue;
        };
        let project = projects.get(tx, entry.id)?.clone();
        if project.exam.is_some() {
            reply
                .exams
                .push(standing(tx, who, &project, entry.id, now)?);
        }
    }
    Ok(reply)
}

/// The lesson sets of the client's known projects that it lacks or holds in an old
/// version, as many as the reply's byte budget still takes; the others follow in a
/// later sync (the client still holds the old version and asks again). A set always
/// fits an empty reply: import bounds it by `MAX_LESSON_SET_BYTES`.
pub(super) fn lesson_sets(
    tx: &mut dyn SyncTx,
    request: &SyncRequest,
    catalogue: &BTreeMap<String, CatalogueEntry>,
    bytes: &mut ReplyBytes,
) -> Result<Vec<LessonSet>, StoreError> {
    let mut sets = Vec::new();
    let Some(held) = &request.lessons else {
        return Ok(sets);
    };
    for name in request.known.keys() {
        let Some(entry) = catalogue.get(name.as_str()) else {
            continue;
        };
        let tasks = tx.training_tasks(entry.id, false)?;
        if tasks.is_empty() {
            continue;
        }
        let set = lesson_set(name, &tasks)?;
        if held.get(name) != Some(&set.version) && bytes.take(lesson_bytes(&set.tasks)) {
            sets.push(set);
        }
    }
    Ok(sets)
}

fn parse_gold(task: &TrainingTask) -> Result<Gold, StoreError> {
    serde_json::from_str(&task.gold).map_err(|e| StoreError::Corrupt {
        what: "training task gold",
        source: Box::new(e),
    })
}

/// A project's lessons as sent, with a version that changes with any of them.
pub(super) fn lesson_set(project: &str, tasks: &[TrainingTask]) -> Result<LessonSet, StoreError> {
    let tasks = tasks
        .iter()
        .map(|t| {
            Ok(LessonTask {
                item: t.item,
                text: t.text.clone(),
                suggestion: t.suggestion.clone(),
                gold: parse_gold(t)?,
                hint: t.hint.clone(),
                clip: t.clip.clone(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let json = serde_json::to_vec(&tasks).map_err(|e| StoreError::Corrupt {
        what: "lesson set",
        source: Box::new(e),
    })?;
    let digest = Sha256::digest(&json);
    let version = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    Ok(LessonSet {
        project: project.to_string(),
        version,
        tasks,
    })
}

/// Grade a submitted attempt of this worker's that has no grade yet; the project it
/// belongs to. Another worker's attempt, or one graded before, changes nothing (sending
/// the same attempt twice counts once).
fn grade(
    tx: &mut dyn SyncTx,
    projects: &mut ProjectCache,
    who: &Principal,
    submission: &ExamSubmission,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let Some((project_id, attempt)) = tx.exam_attempt(submission.attempt, who.user_id)? else {
        return Ok(None);
    };
    let project = projects.get(tx, project_id)?.clone();
    if attempt.graded.is_some() {
        return Ok(Some(project.name));
    }
    let Some(rule) = project.exam else {
        return Ok(Some(project.name));
    };
    let tasks = tx.training_items(&attempt.items)?;
    let answers: HashMap<i64, &AnswerValue> = submission
        .answers
        .iter()
        .map(|a| (a.item, &a.value))
        .collect();
    let mut correct = 0u32;
    let mut missed = Vec::new();
    for task in &tasks {
        let expected = parse_gold(task)?;
        let right = match answers.get(&task.item) {
            Some(value) => answer_is_right(&project, &expected, value),
            None => false,
        };
        if right {
            correct += 1;
        } else {
            missed.push(ExamMiss {
                item: task.item,
                text: task.text.clone(),
                answer: answers
                    .get(&task.item)
                    .map(|v| (*v).clone())
                    .unwrap_or_else(|| AnswerValue::Labels(Vec::new())),
                expected,
            });
        }
    }
    let size = attempt.items.len() as u32;
    let passed = rule.passed(correct);
    let result = ExamResult {
        attempt: attempt.id,
        correct,
        size,
        pass_mark: rule.pass_mark,
        passed,
        at: now,
        missed,
    };
    let json = serde_json::to_string(&result).map_err(|e| StoreError::Corrupt {
        what: "exam result",
        source: Box::new(e),
    })?;
    tx.grade_exam_attempt(
        attempt.id,
        &GradedAttempt {
            at: now,
            correct,
            passed,
            result: json,
        },
    )?;
    if passed {
        tx.grant_qualification(project_id, who.user_id, now, attempt.id)?;
    }
    Ok(Some(project.name))
}

/// Whether the role takes exams: only workers do. Trainers write and check the lessons,
/// admins run the centre; neither is drawn an attempt nor held back from production.
pub(super) fn examined(role: Role) -> bool {
    role == Role::Worker
}

/// Right when it is a valid answer of the project and gold accepts it.
pub(super) fn answer_is_right(project: &Project, expected: &Gold, value: &AnswerValue) -> bool {
    project.validate(value).is_ok() && gold::check(project, expected, value).correct
}

/// The worker's standing in the project, drawing a new attempt when one is due.
fn standing(
    tx: &mut dyn SyncTx,
    who: &Principal,
    project: &Project,
    project_id: i64,
    now: i64,
) -> Result<ExamState, StoreError> {
    let mut state = ExamState {
        project: project.name.clone(),
        qualified: tx.qualification(project_id, who.user_id)?,
        ..ExamState::default()
    };
    let Some(rule) = project.exam else {
        return Ok(state);
    };
    if !examined(who.role) {
        state.exempt = true;
        return Ok(state);
    }
    let attempts = tx.exam_attempts(project_id, who.user_id)?;
    let last_graded = attempts.iter().rev().find_map(|a| a.graded.as_ref());
    if let Some(graded) = last_graded {
        state.result =
            Some(
                serde_json::from_str(&graded.result).map_err(|e| StoreError::Corrupt {
                    what: "exam result",
                    source: Box::new(e),
                })?,
            );
    }
    if state.qualified.is_some() {
        return Ok(state);
    }
    let open = attempts.iter().rev().find(|a| a.graded.is_none());
    let items = match open {
        Some(open) => (open.id, open.items.clone()),
        None => {
            if let Some(graded) = last_graded {
                let due = graded.at.saturating_add(rule.retry_secs as i64);
                if now < due {
                    state.retry_at = Some(due);
                    return Ok(state);
                }
            }
            let pool = tx.training_tasks(project_id, true)?;
            if pool.len() < rule.size as usize {
                state.unavailable = Some(format!(
                    "the exam needs {} tasks and has {}; ask your admin to import more",
                    rule.size,
                    pool.len()
                ));
                return Ok(state);
            }
            let mut drawn: HashMap<i64, u32> = HashMap::new();
            for attempt in &attempts {
                for &item in &attempt.items {
                    *drawn.entry(item).or_insert(0) += 1;
                }
            }
            let ids: Vec<i64> = pool.iter().map(|t| t.item).collect();
            let mut random = tie_break(who.user_id, attempts.len(), now);
            let items = draw_exam(&ids, &drawn, rule.size as usize, &mut random);
            let id = tx.insert_exam_attempt(project_id, who.user_id, &items, now)?;
            (id, items)
        }
    };
    let tasks = tx
        .training_items(&items.1)?
        .into_iter()
        .map(|t| ExamTask {
            item: t.item,
            text: t.text,
            suggestion: t.suggestion,
            clip: t.clip,
        })
        .collect();
    state.attempt = Some(ExamAttempt {
        id: items.0,
        pass_mark: rule.pass_mark,
        tasks,
    });
    Ok(state)
}

/// The draw's tie-break among tasks drawn equally often: the system's randomness, or,
/// should it fail, a mix of who, which attempt and when. Either way the draw prefers
/// tasks this worker has not seen, so a retry differs from the attempt before.
fn tie_break(user_id: i64, attempt: usize, now: i64) -> impl FnMut() -> u64 {
    let mut state = getrandom::u64().unwrap_or_else(|_| {
        (user_id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ (attempt as u64).rotate_left(32)
            ^ now as u64
    }) | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

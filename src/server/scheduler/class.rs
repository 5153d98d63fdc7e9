//! The rules of class sessions, backend-neutral: only trainers and admins start, step,
//! end, watch and report (a trainer only their own classes, an admin any); a student who
//! joined sends presence and answers, scored here against the lesson's gold, and hears
//! only the trainer's step and their own scores; names appear only in the trainer's view
//! and the report. Each function runs inside one store transaction.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use super::training::{answer_is_right, lesson_set};
use crate::model::gold::Gold;
use crate::model::{AnswerValue, Project, Role};
use crate::protocol::{
    ClassAnswer, ClassMarker, ClassReport, ClassRequest, ClassResponse, ClassRow, ClassState,
    ClassView, JOIN_ALPHABET, JOIN_CODE_LEN, LessonSet, ReportStep, ReportStudent, ScoredAnswer,
};
use crate::server::store::class::{
    ClassStudent, ClassTx, NewClass, StoredClass, StoredClassAnswer,
};
use crate::server::store::{Principal, StoreError};

/// A step up this long that a student has not answered marks them stuck, seconds.
pub const STUCK_AFTER: i64 = 60;
/// A student not heard from for this long is marked away, seconds (well over the normal
/// sync cadence of a thin link, so a slow student is not called away).
pub const AWAY_AFTER: i64 = 90;
/// This many wrong answers in a row mark a student as repeatedly wrong.
pub const WRONG_RUN: usize = 2;

/// Why the server refuses a class request. Shown as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClassRefusal {
    #[error("only trainers and admins run classes; ask your admin for the trainer role")]
    Role,
    #[error("no project '{0}'")]
    NoProject(String),
    #[error("project '{0}' has no lessons to teach; import them first (kazi admin lessons import)")]
    NoLessons(String),
    #[error("no class with code {0}; check the code on the trainer's screen")]
    NoClass(String),
    #[error("class {0} is another trainer's")]
    NotYours(String),
    #[error("class {0} has ended")]
    Ended(String),
    #[error("class {code} has {steps} steps; there is no step {step}")]
    NoStep { code: String, steps: u32, step: u32 },
    #[error("join class {0} first")]
    NotJoined(String),
    #[error("cannot draw a free join code; try again")]
    NoCode,
}

/// What a class request came to: refused, or the reply; the outer error is the store's.
pub type ClassResult = Result<Result<ClassResponse, ClassRefusal>, StoreError>;

/// Carry out one class request of `who` at server time `now`.
pub fn handle(
    tx: &mut dyn ClassTx,
    who: &Principal,
    request: &ClassRequest,
    now: i64,
) -> ClassResult {
    let trainer = matches!(who.role, Role::Trainer | Role::Admin);
    let response = match request {
        ClassRequest::Join { code } => return join(tx, who, code, now),
        ClassRequest::Presence {
            code,
            step,
            answers,
        } => return presence(tx, who, code, *step, answers, now),
        _ if !trainer => return Ok(Err(ClassRefusal::Role)),
        ClassRequest::Start { project } => return start(tx, who, project, now),
        ClassRequest::Open => {
            let mine = (who.role != Role::Admin).then_some(who.user_id);
            let classes = tx.open_classes(mine)?.iter().map(state_of).collect();
            ClassResponse::Open { classes }
        }
        ClassRequest::Step {
            code,
            step,
            revealed,
        } => {
            let class = match owned(tx, who, code)? {
                Ok(class) => class,
                Err(refusal) => return Ok(Err(refusal)),
            };
            if class.ended.is_some() {
                return Ok(Err(ClassRefusal::Ended(class.code)));
            }
            let steps = class.items.len() as u32;
            if *step >= steps {
                return Ok(Err(ClassRefusal::NoStep {
                    code: class.code,
                    steps,
                    step: *step,
                }));
            }
            // Revealing the same step again keeps its time: "stuck" counts from arrival.
            let at = if *step == class.step {
                class.step_at
            } else {
                now
            };
            tx.set_class_step(class.id, *step, *revealed, at)?;
            ClassResponse::Step {
                state: reread(tx, &class.code)?,
            }
        }
        ClassRequest::End { code } => {
            let class = match owned(tx, who, code)? {
                Ok(class) => class,
                Err(refusal) => return Ok(Err(refusal)),
            };
            if class.ended.is_none() {
                tx.end_class(class.id, now)?;
            }
            ClassResponse::End {
                state: reread(tx, &class.code)?,
            }
        }
        ClassRequest::View { code, since, .. } => {
            let class = match owned(tx, who, code)? {
                Ok(class) => class,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let view = view(tx, &class, now)?;
            ClassResponse::View {
                view: (view.version != *since).then_some(view),
            }
        }
        ClassRequest::Report { code } => {
            let class = match owned(tx, who, code)? {
                Ok(class) => class,
                Err(refusal) => return Ok(Err(refusal)),
            };
            ClassResponse::Report {
                report: report_of(tx, &class)?,
            }
        }
    };
    Ok(Ok(response))
}

/// The report of the class with this code, for the admin's command line.
pub fn report(tx: &mut dyn ClassTx, code: &str) -> Result<Option<ClassReport>, StoreError> {
    match tx.class_by_code(code)? {
        Some(class) => Ok(Some(report_of(tx, &class)?)),
        None => Ok(None),
    }
}

fn start(tx: &mut dyn ClassTx, who: &Principal, project: &str, now: i64) -> ClassResult {
    let catalogue = tx.catalogue()?;
    let Some(entry) = catalogue.get(project) else {
        return Ok(Err(ClassRefusal::NoProject(project.to_string())));
    };
    let tasks = tx.training_tasks(entry.id, false)?;
    if tasks.is_empty() {
        return Ok(Err(ClassRefusal::NoLessons(project.to_string())));
    }
    let lessons = lesson_set(project, &tasks)?;
    let items: Vec<i64> = tasks.iter().map(|t| t.item).collect();
    for _ in 0..8 {
        let code = draw_code()?;
        let class = NewClass {
            code: &code,
            project_id: entry.id,
            trainer_id: who.user_id,
            lessons: &lessons.version,
            items: &items,
            at: now,
        };
        if tx.insert_class(&class)?.is_some() {
            return Ok(Ok(ClassResponse::Start {
                state: reread(tx, &code)?,
                lessons: Some(lessons),
            }));
        }
    }
    Ok(Err(ClassRefusal::NoCode))
}

fn join(tx: &mut dyn ClassTx, who: &Principal, code: &str, now: i64) -> ClassResult {
    let Some(class) = tx.class_by_code(code)? else {
        return Ok(Err(ClassRefusal::NoClass(code.to_string())));
    };
    if class.ended.is_some() {
        return Ok(Err(ClassRefusal::Ended(class.code)));
    }
    tx.join_class(class.id, who.user_id, now)?;
    tx.touch_student(class.id, who.user_id, class.step, now)?;
    let lessons = class_lessons(tx, &class)?;
    Ok(Ok(ClassResponse::Join {
        state: state_of(&class),
        lessons: Some(lessons),
    }))
}

/// A joined student's presence: answers stored (once each, scored on arrival), the step
/// reached and the time seen moved on. An ended class still takes the answers of a
/// student who was offline when it ended.
fn presence(
    tx: &mut dyn ClassTx,
    who: &Principal,
    code: &str,
    step: u32,
    answers: &[ClassAnswer],
    now: i64,
) -> ClassResult {
    let Some(class) = tx.class_by_code(code)? else {
        return Ok(Err(ClassRefusal::NoClass(code.to_string())));
    };
    if tx.class_student(class.id, who.user_id)?.is_none() {
        return Ok(Err(ClassRefusal::NotJoined(class.code)));
    }
    let stored_before: BTreeMap<u64, StoredClassAnswer> = tx
        .class_answers(class.id, Some(who.user_id))?
        .into_iter()
        .filter(|a| a.device_id == who.device_id)
        .map(|a| (a.id, a))
        .collect();
    let steps = class.items.len() as u32;
    let mut gold = None;
    let mut stored = Vec::with_capacity(answers.len());
    let mut reached = step.min(steps.saturating_sub(1));
    for answer in answers {
        if let Some(before) = stored_before.get(&answer.id) {
            stored.push(scored(before.id, before.step, before.correct, None));
            continue;
        }
        if answer.step >= steps {
            let why = format!("class {} has no step {}", class.code, answer.step);
            stored.push(scored(answer.id, answer.step, false, Some(why)));
            continue;
        }
        if gold.is_none() {
            gold = Some(class_gold(tx, &class)?);
        }
        let Some((project, golds)) = &gold else {
            continue;
        };
        let correct = golds
            .get(answer.step as usize)
            .and_then(Option::as_ref)
            .is_some_and(|g| answer_is_right(project, g, &answer.value));
        let row = StoredClassAnswer {
            user_id: who.user_id,
            device_id: who.device_id,
            id: answer.id,
            step: answer.step,
            value: value_json(&answer.value)?,
            correct,
            took: answer.took,
            at: (now - i64::from(answer.ago)).max(class.started),
        };
        tx.insert_class_answer(class.id, &row)?;
        reached = reached.max(answer.step);
        stored.push(scored(answer.id, answer.step, correct, None));
    }
    tx.touch_student(class.id, who.user_id, reached, now)?;
    Ok(Ok(ClassResponse::Presence {
        state: state_of(&class),
        stored,
    }))
}

fn scored(id: u64, step: u32, correct: bool, refused: Option<String>) -> ScoredAnswer {
    ScoredAnswer {
        id,
        step,
        correct,
        refused,
    }
}

fn value_json(value: &AnswerValue) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        what: "class answer",
        source: Box::new(e),
    })
}

/// The class of this code if `who` may run it (its trainer, or an admin).
fn owned(
    tx: &mut dyn ClassTx,
    who: &Principal,
    code: &str,
) -> Result<Result<StoredClass, ClassRefusal>, StoreError> {
    Ok(match tx.class_by_code(code)? {
        None => Err(ClassRefusal::NoClass(code.to_string())),
        Some(c) if c.trainer_id != who.user_id && who.role != Role::Admin => {
            Err(ClassRefusal::NotYours(c.code))
        }
        Some(c) => Ok(c),
    })
}

fn reread(tx: &mut dyn ClassTx, code: &str) -> Result<ClassState, StoreError> {
    match tx.class_by_code(code)? {
        Some(class) => Ok(state_of(&class)),
        None => Err(StoreError::Corrupt {
            what: "class",
            source: format!("class {code} vanished inside its transaction").into(),
        }),
    }
}

/// A random join code from the unambiguous alphabet.
fn draw_code() -> Result<String, StoreError> {
    (0..JOIN_CODE_LEN)
        .map(|_| {
            let r = getrandom::u32().map_err(|e| StoreError::Backend(e.to_string().into()))?;
            Ok(JOIN_ALPHABET[r as usize % JOIN_ALPHABET.len()] as char)
        })
        .collect()
}

pub fn state_of(class: &StoredClass) -> ClassState {
    ClassState {
        code: class.code.clone(),
        project: class.project.clone(),
        lessons: class.lessons.clone(),
        steps: class.items.len() as u32,
        step: class.step,
        revealed: class.revealed,
        ended: class.ended,
        started: class.started,
    }
}

/// The lesson tasks the class runs on, in step order.
fn class_lessons(tx: &mut dyn ClassTx, class: &StoredClass) -> Result<LessonSet, StoreError> {
    let tasks = tx.training_items(&class.items)?;
    let mut set = lesson_set(&class.project, &tasks)?;
    // The version the class started on names it, even if a lesson was edited since.
    set.version = class.lessons.clone();
    Ok(set)
}

/// Each step's gold (None for a lesson gone from the store).
fn class_gold(tx: &mut dyn ClassTx, class: &StoredClass) -> Result<StepGold, StoreError> {
    let project = tx.project_schema(class.project_id)?;
    let set = class_lessons(tx, class)?;
    let by_item: BTreeMap<i64, Gold> = set.tasks.into_iter().map(|t| (t.item, t.gold)).collect();
    let golds = class
        .items
        .iter()
        .map(|i| by_item.get(i).cloned())
        .collect();
    Ok((project, golds))
}

/// The project and its class's gold, step by step.
type StepGold = (Project, Vec<Option<Gold>>);

/// One student's answers, step by step (first answer first).
struct Tally<'a> {
    by_step: BTreeMap<u32, Vec<&'a StoredClassAnswer>>,
    /// Every answer, in the order given.
    ordered: Vec<&'a StoredClassAnswer>,
}

impl<'a> Tally<'a> {
    fn of(user_id: i64, answers: &'a [StoredClassAnswer]) -> Tally<'a> {
        // In the order given (the store's order): by time, then device and id.
        let ordered: Vec<&StoredClassAnswer> =
            answers.iter().filter(|a| a.user_id == user_id).collect();
        let mut by_step: BTreeMap<u32, Vec<&StoredClassAnswer>> = BTreeMap::new();
        for a in &ordered {
            by_step.entry(a.step).or_default().push(a);
        }
        Tally { by_step, ordered }
    }

    fn answered(&self) -> u32 {
        self.by_step.len() as u32
    }

    /// Steps whose first answer was right.
    fn correct(&self) -> u32 {
        self.by_step.values().filter(|v| v[0].correct).count() as u32
    }
}

/// The trainer's view at `now`: one row per student by name, and a version that changes
/// when a row's step, counts or marker (or the class's state) does, not when only the
/// time last seen moves on, so a trainer's screen redraws only on a change that shows.
pub fn view(tx: &mut dyn ClassTx, class: &StoredClass, now: i64) -> Result<ClassView, StoreError> {
    let students = tx.class_students(class.id)?;
    let answers = tx.class_answers(class.id, None)?;
    Ok(view_of(class, &students, &answers, now))
}

pub fn view_of(
    class: &StoredClass,
    students: &[ClassStudent],
    answers: &[StoredClassAnswer],
    now: i64,
) -> ClassView {
    let state = state_of(class);
    let mut rows: Vec<ClassRow> = students
        .iter()
        .map(|s| {
            let tally = Tally::of(s.user_id, answers);
            let last_answer = tally.ordered.last().map_or(0, |a| a.at);
            let answered_step = tally.by_step.keys().next_back().copied().unwrap_or(0);
            ClassRow {
                name: s.name.clone(),
                step: s.step.max(answered_step),
                answered: tally.answered(),
                correct: tally.correct(),
                last_seen: s.last_seen.max(last_answer),
                marker: marker(class, s, &tally, now),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    state.hash(&mut hasher);
    for r in &rows {
        (&r.name, r.step, r.answered, r.correct, r.marker).hash(&mut hasher);
    }
    // Never 0: 0 is the "send it whatever" of `since`.
    let version = hasher.finish() | 1;
    ClassView {
        state,
        version,
        now,
        students: rows,
    }
}

/// Away first (the trainer cannot help a student who is not there), then repeatedly
/// wrong, then stuck on the current step. None once the class has ended.
fn marker(
    class: &StoredClass,
    student: &ClassStudent,
    tally: &Tally<'_>,
    now: i64,
) -> Option<ClassMarker> {
    if class.ended.is_some() {
        return None;
    }
    let seen = tally
        .ordered
        .last()
        .map_or(student.last_seen, |a| a.at.max(student.last_seen));
    if now - seen > AWAY_AFTER {
        return Some(ClassMarker::Away);
    }
    let run = tally.ordered.iter().rev().take(WRONG_RUN);
    if tally.ordered.len() >= WRONG_RUN && run.clone().all(|a| !a.correct) {
        return Some(ClassMarker::Wrong);
    }
    // A student who joined late counts from the join, not from when the step went up.
    let since = class.step_at.max(student.joined);
    if !tally.by_step.contains_key(&class.step) && now - since >= STUCK_AFTER {
        return Some(ClassMarker::Stuck);
    }
    None
}

fn report_of(tx: &mut dyn ClassTx, class: &StoredClass) -> Result<ClassReport, StoreError> {
    let students = tx.class_students(class.id)?;
    let answers = tx.class_answers(class.id, None)?;
    let mut out = Vec::with_capacity(students.len());
    for s in &students {
        let tally = Tally::of(s.user_id, &answers);
        let mut steps = Vec::new();
        let mut took = Vec::new();
        for (step, given) in &tally.by_step {
            let first = given[0];
            took.push(f64::from(first.took));
            let answers = given
                .iter()
                .map(|a| compact(&a.value))
                .collect::<Result<Vec<_>, _>>()?;
            steps.push(ReportStep {
                step: *step,
                answers,
                correct: first.correct,
                took: first.took,
            });
        }
        let answered = tally.answered();
        let accuracy = (answered > 0).then(|| f64::from(tally.correct()) / f64::from(answered));
        let mean_took = (!took.is_empty()).then(|| took.iter().sum::<f64>() / took.len() as f64);
        out.push(ReportStudent {
            name: s.name.clone(),
            steps,
            accuracy,
            mean_took,
            qualified: tx.qualification(class.project_id, s.user_id)?,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ClassReport {
        state: state_of(class),
        students: out,
    })
}

fn compact(json: &str) -> Result<String, StoreError> {
    let value: AnswerValue = serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        what: "class answer",
        source: Box::new(e),
    })?;
    Ok(value.to_compact())
}

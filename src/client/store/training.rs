//! Training kept on the worker's machine, so practice and the exam work with the server
//! away: lesson sets (with their gold, explanation and hint: practice tasks, not
//! production ones), exam standings as the server last sent them, the open attempt's
//! tasks (without answers: the server keeps those), and each exam answer as given.
//! An attempt answered whole waits here (like the outbox) until the server grades it;
//! it is sent with every sync until then, which is harmless: the server grades once.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{OptionalExtension, params};

use crate::model::AnswerValue;
use crate::protocol::{
    ExamAnswer, ExamAttempt, ExamState, ExamSubmission, ExamTask, LessonTask, SyncRequest,
    SyncResponse,
};

use super::{LocalStore, StoreError, begin_write, db_error, to_json};

/// `exam_attempts.state`: the attempt is being answered.
const OPEN: i64 = 0;
/// Answered whole; waits for the server's grade.
const ANSWERED: i64 = 1;
/// The server graded it (its standing carries the result).
const GRADED: i64 = 2;
/// The server did not take it (not this worker's, or unknown there): kept for the record.
const NOT_TAKEN: i64 = 3;

/// Everything the training screens show, read from the store in one go.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainingBook {
    /// Lesson sets by project.
    pub lessons: BTreeMap<String, Vec<LessonTask>>,
    /// Exam standings by project (their `attempt` is always None: see `attempts`).
    pub standings: BTreeMap<String, ExamState>,
    /// The latest attempt held per project that is not graded yet.
    pub attempts: BTreeMap<String, HeldAttempt>,
    /// Where the worker is in each project's lessons (none kept: at the first).
    pub places: BTreeMap<String, LessonPlace>,
}

/// Where the worker is in a project's lessons, kept so that reopening them continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LessonPlace {
    /// The lesson (its item) on screen.
    At(i64),
    /// Every lesson went by.
    Done,
}

/// An exam attempt on this machine: its tasks, the answers given so far, and whether it
/// was answered whole (then it waits for the server's grade).
#[derive(Debug, Clone, PartialEq)]
pub struct HeldAttempt {
    pub id: i64,
    pub pass_mark: u32,
    pub tasks: Vec<ExamTask>,
    pub answered: BTreeMap<i64, AnswerValue>,
    pub submitted: bool,
    /// Why the server did not take the answered attempt, if it did not.
    pub not_taken: Option<String>,
}

impl TrainingBook {
    /// Whether the worker must pass the exam before production work in `project`: it
    /// requires qualification and the last standing heard says not qualified (or none
    /// was heard yet), and the user's role takes exams (the server says `exempt`
    /// otherwise).
    pub fn must_qualify(&self, project: &crate::model::Project) -> bool {
        project.requires_qualification
            && self
                .standings
                .get(&project.name)
                .is_none_or(|s| s.qualified.is_none() && !s.exempt)
    }
}

/// Lesson versions held, projects whose exam standing to ask for, and whether one of
/// those has none here yet.
pub(super) type TrainingAsk = (BTreeMap<String, String>, Vec<String>, bool);

fn bad(what: &'static str) -> impl Fn(serde_json::Error) -> StoreError {
    move |source| StoreError::BadTraining { what, source }
}

impl LocalStore {
    /// Lesson sets, standings and held attempts.
    pub fn training(&self) -> Result<TrainingBook, StoreError> {
        let mut book = TrainingBook::default();
        for (project, json) in self.pairs::<String>("SELECT project, tasks FROM lesson_sets")? {
            let tasks = serde_json::from_str(&json).map_err(bad("a lesson set"))?;
            book.lessons.insert(project, tasks);
        }
        book.standings = self.standings()?;
        book.places = self
            .pairs::<Option<i64>>("SELECT project, item FROM lesson_places")?
            .into_iter()
            .map(|(project, item)| (project, item.map_or(LessonPlace::Done, LessonPlace::At)))
            .collect();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, project, pass_mark, tasks, state, reason FROM exam_attempts
                 WHERE state IN (?1, ?2, ?3) ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![OPEN, ANSWERED, NOT_TAKEN], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (id, project, pass_mark, tasks, state, reason) = row.map_err(|e| self.err(e))?;
            let held = HeldAttempt {
                id,
                pass_mark: pass_mark as u32,
                tasks: serde_json::from_str(&tasks).map_err(bad("an exam attempt"))?,
                answered: self.exam_answers_of(id)?,
                submitted: state != OPEN,
                not_taken: reason.filter(|_| state == NOT_TAKEN),
            };
            // Ordered by id: the newest attempt of a project wins.
            book.attempts.insert(project, held);
        }
        Ok(book)
    }

    fn standings(&self) -> Result<BTreeMap<String, ExamState>, StoreError> {
        let mut standings = BTreeMap::new();
        for (project, json) in
            self.pairs::<String>("SELECT project, standing FROM exam_standings")?
        {
            let standing = serde_json::from_str(&json).map_err(bad("an exam standing"))?;
            standings.insert(project, standing);
        }
        Ok(standings)
    }

    fn exam_answers_of(&self, attempt: i64) -> Result<BTreeMap<i64, AnswerValue>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT item, value FROM exam_answers WHERE attempt = ?1")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([attempt], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.err(e))?;
        let mut answers = BTreeMap::new();
        for row in rows {
            let (item, json) = row.map_err(|e| self.err(e))?;
            let value = serde_json::from_str(&json).map_err(|source| StoreError::BadAnswer {
                id: attempt as u64,
                task: item,
                source,
            })?;
            answers.insert(item, value);
        }
        Ok(answers)
    }

    /// Keep where the worker is in a project's lessons, for the next time they open.
    pub fn keep_lesson_place(&self, project: &str, place: LessonPlace) -> Result<(), StoreError> {
        let item = match place {
            LessonPlace::At(item) => Some(item),
            LessonPlace::Done => None,
        };
        self.conn
            .execute(
                "INSERT INTO lesson_places (project, item) VALUES (?1, ?2)
                 ON CONFLICT(project) DO UPDATE SET item = excluded.item",
                params![project, item],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Save one exam answer durably (committed and fsynced on return). When it completes
    /// the attempt, the attempt is marked answered in the same transaction and waits for
    /// the next sync. Returns whether the attempt is now answered whole. An attempt
    /// already answered whole keeps its answers: they are what is graded.
    pub fn record_exam_answer(
        &mut self,
        attempt: i64,
        item: i64,
        value: &AnswerValue,
    ) -> Result<bool, StoreError> {
        let json = to_json("the exam answer", value)?;
        let db = db_error(&self.path);
        let tx = begin_write(&mut self.conn).map_err(db)?;
        let held: Option<(String, i64)> = tx
            .query_row(
                "SELECT tasks, state FROM exam_attempts WHERE id = ?1",
                [attempt],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db)?;
        let Some((tasks, state)) = held else {
            return Err(StoreError::NoTask(item));
        };
        if state != OPEN {
            return Ok(true);
        }
        let tasks: Vec<ExamTask> = serde_json::from_str(&tasks).map_err(bad("an exam attempt"))?;
        if !tasks.iter().any(|t| t.item == item) {
            return Err(StoreError::NoTask(item));
        }
        tx.execute(
            "INSERT INTO exam_answers (attempt, item, value) VALUES (?1, ?2, ?3)
             ON CONFLICT(attempt, item) DO UPDATE SET value = excluded.value",
            params![attempt, item, json],
        )
        .map_err(db)?;
        let answered: i64 = tx
            .query_row(
                "SELECT count(*) FROM exam_answers WHERE attempt = ?1",
                [attempt],
                |r| r.get(0),
            )
            .map_err(db)?;
        let whole = answered as usize >= tasks.len();
        if whole {
            tx.execute(
                "UPDATE exam_attempts SET state = ?2 WHERE id = ?1",
                params![attempt, ANSWERED],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)?;
        Ok(whole)
    }

    /// Attempts answered whole and not yet graded, as the server takes them.
    pub(super) fn exam_submissions(&self) -> Result<Vec<ExamSubmission>, StoreError> {
        let ids: Vec<i64> = self
            .conn
            .prepare_cached("SELECT id FROM exam_attempts WHERE state = ?1 ORDER BY id")
            .and_then(|mut s| {
                s.query_map([ANSWERED], |r| r.get(0))?
                    .collect::<Result<_, _>>()
            })
            .map_err(|e| self.err(e))?;
        ids.into_iter()
            .map(|id| {
                Ok(ExamSubmission {
                    attempt: id,
                    answers: self
                        .exam_answers_of(id)?
                        .into_iter()
                        .map(|(item, value)| ExamAnswer { item, value })
                        .collect(),
                })
            })
            .collect()
    }

    /// Exam attempts answered whole, waiting to be graded (counted as unsent).
    pub(super) fn exams_waiting(&self) -> Result<u32, StoreError> {
        self.conn
            .prepare_cached("SELECT count(*) FROM exam_attempts WHERE state = ?1")
            .and_then(|mut s| s.query_row([ANSWERED], |r| r.get::<_, i64>(0)))
            .map(|n| n as u32)
            .map_err(|e| self.err(e))
    }

    /// The training part of the planner's snapshot: lesson versions held, the projects
    /// whose standing to ask for (those with an exam, not qualified), whether one of them
    /// has no standing here yet (then a sync is worth making), and answered attempts.
    pub(super) fn training_state(&self) -> Result<TrainingAsk, StoreError> {
        let lessons = self.pairs::<String>("SELECT project, version FROM lesson_sets")?;
        // Standings only: the lesson sets themselves are not read for planning.
        let standings = self.standings()?;
        let mut exams = Vec::new();
        let mut unknown = false;
        for project in self.projects()? {
            if project.exam.is_none() {
                continue;
            }
            match standings.get(&project.name) {
                Some(s) if s.qualified.is_some() => {}
                Some(_) => exams.push(project.name),
                None => {
                    unknown = true;
                    exams.push(project.name);
                }
            }
        }
        Ok((lessons, exams, unknown))
    }
}

/// Apply the training part of a reply, inside `apply`'s transaction. Returns how many
/// lesson sets, standings and attempts changed (the screens reread them then).
pub(super) fn apply(
    tx: &rusqlite::Transaction<'_>,
    path: &str,
    request: &SyncRequest,
    response: &SyncResponse,
) -> Result<usize, StoreError> {
    let db = db_error(path);
    let mut changed = 0;
    for set in &response.lessons {
        let json = to_json("a lesson set", &set.tasks)?;
        changed += tx
            .execute(
                "INSERT INTO lesson_sets (project, version, tasks) VALUES (?1, ?2, ?3)
                 ON CONFLICT(project) DO UPDATE SET version = excluded.version, tasks = excluded.tasks
                 WHERE version != excluded.version OR tasks != excluded.tasks",
                params![set.project, set.version, json],
            )
            .map_err(db)?;
    }
    let mut graded = BTreeSet::new();
    let mut open = BTreeSet::new();
    for state in &response.exams {
        let standing = ExamState {
            attempt: None,
            ..state.clone()
        };
        changed += tx
            .execute(
                "INSERT INTO exam_standings (project, standing) VALUES (?1, ?2)
                 ON CONFLICT(project) DO UPDATE SET standing = excluded.standing
                 WHERE standing != excluded.standing",
                params![state.project, to_json("an exam standing", &standing)?],
            )
            .map_err(db)?;
        if let Some(result) = &state.result {
            graded.insert(result.attempt);
            // Graded: its answers were for the server, which now holds them.
            changed += tx
                .execute(
                    "UPDATE exam_attempts SET state = ?2 WHERE id = ?1 AND state != ?2",
                    params![result.attempt, GRADED],
                )
                .map_err(db)?;
            tx.execute(
                "DELETE FROM exam_answers WHERE attempt = ?1",
                [result.attempt],
            )
            .map_err(db)?;
        }
        let current = state.attempt.as_ref().map(|a| a.id);
        if let Some(attempt) = &state.attempt {
            open.insert(attempt.id);
            changed += keep_attempt(tx, path, &state.project, attempt)?;
        }
        // An open attempt the server no longer hands out (the worker qualified another
        // way, or the exam changed) is dropped; answered ones wait for their grade.
        tx.execute(
            "DELETE FROM exam_answers WHERE attempt IN
               (SELECT id FROM exam_attempts WHERE project = ?1 AND state = ?2
                AND id IS NOT ?3)",
            params![state.project, OPEN, current],
        )
        .map_err(db)?;
        changed += tx
            .execute(
                "DELETE FROM exam_attempts WHERE project = ?1 AND state = ?2 AND id IS NOT ?3",
                params![state.project, OPEN, current],
            )
            .map_err(db)?;
    }
    // A submission this request carried that the server, answering about its project,
    // neither graded nor holds open is not this worker's there: set aside with the
    // reason, never sent for ever. (A server that said nothing about the project, one
    // a version behind, leaves it waiting.)
    let answered: BTreeSet<&str> = response.exams.iter().map(|s| s.project.as_str()).collect();
    for submission in &request.exam_answers {
        let project: Option<String> = tx
            .query_row(
                "SELECT project FROM exam_attempts WHERE id = ?1",
                [submission.attempt],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        let spoken = project.is_some_and(|p| answered.contains(p.as_str()));
        if spoken && !graded.contains(&submission.attempt) && !open.contains(&submission.attempt) {
            changed += tx
                .execute(
                    "UPDATE exam_attempts SET state = ?2, reason = ?3 WHERE id = ?1 AND state = ?4",
                    params![
                        submission.attempt,
                        NOT_TAKEN,
                        "the server does not know this exam attempt; ask for a new one",
                        ANSWERED
                    ],
                )
                .map_err(db)?;
        }
    }
    Ok(changed)
}

/// Keep an attempt's tasks (never their answers: the server does not send them). One
/// held already keeps its state and answers. Whether it was new here.
fn keep_attempt(
    tx: &rusqlite::Transaction<'_>,
    path: &str,
    project: &str,
    attempt: &ExamAttempt,
) -> Result<usize, StoreError> {
    let json = to_json("an exam attempt", &attempt.tasks)?;
    tx.execute(
        "INSERT OR IGNORE INTO exam_attempts (id, project, pass_mark, tasks) VALUES (?1, ?2, ?3, ?4)",
        params![attempt.id, project, attempt.pass_mark, json],
    )
    .map_err(db_error(path))
}

//! Training records on PostgreSQL: training tasks, exam attempts and qualifications, as
//! the scheduler's `TrainingTx` (inside a sync, with the worker's row locked by the
//! store, so one worker's attempts never race) and the admin's import. No rule lives here.

use tokio_postgres::Row;

use super::Db;
use super::db::get;
use super::sync_tx::PgTx;
use crate::server::store::StoreError;
use crate::server::store::sync_tx::clip_ref;
use crate::server::store::training::{
    ExamAttemptRow, GradedAttempt, NewTrainingTask, TrainingCounts, TrainingTask, TrainingTx,
    items_json, parse_items,
};

/// Appended to the store's migrations: the training tables, mirroring SQLite's.
pub(super) const MIGRATION: &str = r#"
CREATE TABLE training_tasks (
    id BIGSERIAL PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    ext_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    exam BOOLEAN NOT NULL,
    text TEXT NOT NULL,
    suggestion TEXT,
    gold TEXT NOT NULL,
    hint TEXT NOT NULL,
    retired BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (project_id, ext_id)
);
CREATE TABLE exam_attempts (
    id BIGSERIAL PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    items TEXT NOT NULL,
    created BIGINT NOT NULL,
    graded BIGINT,
    correct BIGINT,
    passed BOOLEAN,
    result TEXT
);
CREATE INDEX exam_attempts_of ON exam_attempts(user_id, project_id);
CREATE TABLE qualifications (
    user_id BIGINT NOT NULL REFERENCES users(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    granted BIGINT NOT NULL,
    attempt_id BIGINT NOT NULL REFERENCES exam_attempts(id),
    PRIMARY KEY (user_id, project_id)
);
"#;

/// A training task's columns, its clip's size and length beside (all null without audio).
const TASK_COLUMNS: &str = "id, ext_id, text, suggestion, gold, hint, exam, clip, wire_bytes, \
     duration_ms FROM training_tasks LEFT JOIN clips ON clips.hash = training_tasks.clip";

/// Appended to the store's migrations after the impact tables: a transcribe project's
/// training tasks name their audio, stored once in `clips` like a task's.
pub(super) const CLIP_MIGRATION: &str =
    "ALTER TABLE training_tasks ADD COLUMN clip TEXT REFERENCES clips(hash);";

fn task_of(r: &Row) -> Result<TrainingTask, StoreError> {
    Ok(TrainingTask {
        item: get(r, 0)?,
        id: get(r, 1)?,
        text: get(r, 2)?,
        suggestion: get(r, 3)?,
        gold: get(r, 4)?,
        hint: get(r, 5)?,
        exam: get(r, 6)?,
        clip: clip_ref(get(r, 7)?, get(r, 8)?, get(r, 9)?),
    })
}

const ATTEMPT_COLUMNS: &str =
    "id, items, created, graded, correct, passed, result, project_id FROM exam_attempts";

fn attempt_of(r: &Row) -> Result<ExamAttemptRow, StoreError> {
    let graded = match get::<Option<i64>>(r, 3)? {
        Some(at) => {
            let correct: i64 = get(r, 4)?;
            Some(GradedAttempt {
                at,
                correct: u32::try_from(correct).map_err(|e| StoreError::Corrupt {
                    what: "exam attempt",
                    source: Box::new(e),
                })?,
                passed: get(r, 5)?,
                result: get(r, 6)?,
            })
        }
        None => None,
    };
    Ok(ExamAttemptRow {
        id: get(r, 0)?,
        items: parse_items(&get::<String>(r, 1)?)?,
        created: get(r, 2)?,
        graded,
    })
}

/// Replace the project's training set with `tasks` inside the caller's transaction: rows
/// are matched by id and updated in place; rows the file no longer names are retired.
pub(super) fn put_training(
    db: &mut Db<'_>,
    project: &str,
    tasks: &[NewTrainingTask],
) -> Result<TrainingCounts, StoreError> {
    let project_id: i64 = match db.query_opt(
        "SELECT id FROM projects WHERE name = $1 FOR UPDATE",
        &[&project],
    )? {
        Some(row) => get(&row, 0)?,
        None => return Err(StoreError::NoProject(project.to_string())),
    };
    let retired = "SELECT COUNT(*) FROM training_tasks WHERE project_id = $1 AND retired";
    let before: i64 = get(&db.query_one(retired, &[&project_id])?, 0)?;
    db.execute(
        "UPDATE training_tasks SET retired = TRUE WHERE project_id = $1",
        &[&project_id],
    )?;
    let mut counts = TrainingCounts::default();
    for (position, t) in tasks.iter().enumerate() {
        if let Some(clip) = &t.clip {
            // A clip shared by several tasks (or imported before) is stored once.
            db.execute(
                "INSERT INTO clips (hash, wire, wire_bytes, duration_ms, original, original_ext) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hash) DO NOTHING",
                &[
                    &clip.hash,
                    &clip.wire,
                    &(clip.wire.len() as i64),
                    &(clip.duration_ms as i64),
                    &clip.original,
                    &clip.original_ext,
                ],
            )?;
        }
        let clip = t.clip.as_ref().map(|c| c.hash.clone());
        db.execute(
            "INSERT INTO training_tasks \
               (project_id, ext_id, position, exam, text, suggestion, gold, hint, clip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (project_id, ext_id) DO UPDATE SET position = EXCLUDED.position, \
               exam = EXCLUDED.exam, text = EXCLUDED.text, suggestion = EXCLUDED.suggestion, \
               gold = EXCLUDED.gold, hint = EXCLUDED.hint, clip = EXCLUDED.clip, \
               retired = FALSE",
            &[
                &project_id,
                &t.id,
                &(position as i64),
                &t.exam,
                &t.text,
                &t.suggestion,
                &t.gold,
                &t.hint,
                &clip,
            ],
        )?;
        if t.exam {
            counts.exam += 1;
        } else {
            counts.lessons += 1;
        }
    }
    let after: i64 = get(&db.query_one(retired, &[&project_id])?, 0)?;
    counts.retired = (after - before).max(0) as u64;
    Ok(counts)
}

impl TrainingTx for PgTx<'_, '_> {
    fn training_tasks(
        &mut self,
        project_id: i64,
        exam: bool,
    ) -> Result<Vec<TrainingTask>, StoreError> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} WHERE project_id = $1 AND exam = $2 AND NOT retired \
             ORDER BY position"
        );
        self.db()
            .query(&sql, &[&project_id, &exam])?
            .iter()
            .map(task_of)
            .collect()
    }

    fn qualification(&mut self, project_id: i64, user_id: i64) -> Result<Option<i64>, StoreError> {
        self.db()
            .query_opt(
                "SELECT granted FROM qualifications WHERE project_id = $1 AND user_id = $2",
                &[&project_id, &user_id],
            )?
            .map(|r| get(&r, 0))
            .transpose()
    }

    fn grant_qualification(
        &mut self,
        project_id: i64,
        user_id: i64,
        at: i64,
        attempt: i64,
    ) -> Result<(), StoreError> {
        self.db().execute(
            "INSERT INTO qualifications (user_id, project_id, granted, attempt_id) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, project_id) DO NOTHING",
            &[&user_id, &project_id, &at, &attempt],
        )?;
        Ok(())
    }

    fn exam_attempts(
        &mut self,
        project_id: i64,
        user_id: i64,
    ) -> Result<Vec<ExamAttemptRow>, StoreError> {
        let sql =
            format!("SELECT {ATTEMPT_COLUMNS} WHERE project_id = $1 AND user_id = $2 ORDER BY id");
        self.db()
            .query(&sql, &[&project_id, &user_id])?
            .iter()
            .map(attempt_of)
            .collect()
    }

    fn exam_attempt(
        &mut self,
        attempt: i64,
        user_id: i64,
    ) -> Result<Option<(i64, ExamAttemptRow)>, StoreError> {
        let sql = format!("SELECT {ATTEMPT_COLUMNS} WHERE id = $1 AND user_id = $2");
        self.db()
            .query_opt(&sql, &[&attempt, &user_id])?
            .map(|r| Ok((get(&r, 7)?, attempt_of(&r)?)))
            .transpose()
    }

    fn insert_exam_attempt(
        &mut self,
        project_id: i64,
        user_id: i64,
        items: &[i64],
        at: i64,
    ) -> Result<i64, StoreError> {
        let row = self.db().query_one(
            "INSERT INTO exam_attempts (project_id, user_id, items, created) \
             VALUES ($1, $2, $3, $4) RETURNING id",
            &[&project_id, &user_id, &items_json(items), &at],
        )?;
        get(&row, 0)
    }

    fn grade_exam_attempt(
        &mut self,
        attempt: i64,
        graded: &GradedAttempt,
    ) -> Result<(), StoreError> {
        self.db().execute(
            "UPDATE exam_attempts SET graded = $2, correct = $3, passed = $4, result = $5 \
             WHERE id = $1 AND graded IS NULL",
            &[
                &attempt,
                &graded.at,
                &i64::from(graded.correct),
                &graded.passed,
                &graded.result,
            ],
        )?;
        Ok(())
    }

    fn training_items(&mut self, items: &[i64]) -> Result<Vec<TrainingTask>, StoreError> {
        let sql = format!("SELECT {TASK_COLUMNS} WHERE id = ANY($1)");
        let rows = self.db().query(&sql, &[&items])?;
        let mut found: Vec<TrainingTask> = rows.iter().map(task_of).collect::<Result<_, _>>()?;
        // Back in the order asked for.
        found.sort_by_key(|t| items.iter().position(|&i| i == t.item));
        Ok(found)
    }
}

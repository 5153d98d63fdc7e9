//! Training records on SQLite: training tasks, exam attempts and qualifications, as the
//! scheduler's `TrainingTx` and the admin's import. No rule lives here.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::sync_tx::SqliteTx;
use crate::server::store::StoreError;
use crate::server::store::sync_tx::clip_ref;
use crate::server::store::training::{
    ExamAttemptRow, GradedAttempt, NewTrainingTask, TrainingCounts, TrainingTask, TrainingTx,
    items_json, parse_items,
};

/// Appended to the store's migrations: the training tables.
pub(super) const MIGRATION: &str = r#"
CREATE TABLE training_tasks (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    ext_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    exam INTEGER NOT NULL,
    text TEXT NOT NULL,
    suggestion TEXT,
    gold TEXT NOT NULL,
    hint TEXT NOT NULL,
    retired INTEGER NOT NULL DEFAULT 0,
    UNIQUE (project_id, ext_id)
);
CREATE TABLE exam_attempts (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    items TEXT NOT NULL,
    created INTEGER NOT NULL,
    graded INTEGER,
    correct INTEGER,
    passed INTEGER,
    result TEXT
);
CREATE INDEX exam_attempts_of ON exam_attempts(user_id, project_id);
CREATE TABLE qualifications (
    user_id INTEGER NOT NULL REFERENCES users(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    granted INTEGER NOT NULL,
    attempt_id INTEGER NOT NULL REFERENCES exam_attempts(id),
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

fn task_of(r: &Row<'_>) -> rusqlite::Result<TrainingTask> {
    Ok(TrainingTask {
        item: r.get(0)?,
        id: r.get(1)?,
        text: r.get(2)?,
        suggestion: r.get(3)?,
        gold: r.get(4)?,
        hint: r.get(5)?,
        exam: r.get(6)?,
        clip: clip_ref(r.get(7)?, r.get(8)?, r.get(9)?),
    })
}

fn attempt_of(r: &Row<'_>) -> rusqlite::Result<(i64, String, i64, Option<GradedAttempt>)> {
    let graded = match r.get::<_, Option<i64>>(3)? {
        Some(at) => Some(GradedAttempt {
            at,
            correct: r.get(4)?,
            passed: r.get(5)?,
            result: r.get(6)?,
        }),
        None => None,
    };
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, graded))
}

const ATTEMPT_COLUMNS: &str =
    "id, items, created, graded, correct, passed, result, project_id FROM exam_attempts";

fn attempt_row(
    (id, items, created, graded): (i64, String, i64, Option<GradedAttempt>),
) -> Result<ExamAttemptRow, StoreError> {
    Ok(ExamAttemptRow {
        id,
        items: parse_items(&items)?,
        created,
        graded,
    })
}

/// Replace the project's training set with `tasks` in one transaction (the writer's):
/// rows are matched by id and updated in place, so attempts that drew them keep
/// pointing at them; rows the file no longer names are retired.
pub(super) fn put_training(
    conn: &Connection,
    project: &str,
    tasks: &[NewTrainingTask],
) -> Result<TrainingCounts, StoreError> {
    let project_id: i64 = conn
        .prepare_cached("SELECT id FROM projects WHERE name = ?1")?
        .query_row([project], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NoProject(project.to_string()))?;
    let retired_before: i64 = conn.query_row(
        "SELECT COUNT(*) FROM training_tasks WHERE project_id = ?1 AND retired = 1",
        [project_id],
        |r| r.get(0),
    )?;
    conn.execute(
        "UPDATE training_tasks SET retired = 1 WHERE project_id = ?1",
        [project_id],
    )?;
    let mut upsert = conn.prepare_cached(
        "INSERT INTO training_tasks \
           (project_id, ext_id, position, exam, text, suggestion, gold, hint, clip) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT (project_id, ext_id) DO UPDATE SET position = excluded.position, \
           exam = excluded.exam, text = excluded.text, suggestion = excluded.suggestion, \
           gold = excluded.gold, hint = excluded.hint, clip = excluded.clip, \
           retired = 0",
    )?;
    // A clip shared by several tasks (or imported before) is stored once.
    let mut insert_clip = conn.prepare_cached(
        "INSERT INTO clips (hash, wire, wire_bytes, duration_ms, original, original_ext) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (hash) DO NOTHING",
    )?;
    let mut counts = TrainingCounts::default();
    for (position, t) in tasks.iter().enumerate() {
        if let Some(clip) = &t.clip {
            insert_clip.execute(params![
                clip.hash,
                clip.wire,
                clip.wire.len() as i64,
                clip.duration_ms as i64,
                clip.original,
                clip.original_ext
            ])?;
        }
        upsert.execute(params![
            project_id,
            t.id,
            position as i64,
            t.exam,
            t.text,
            t.suggestion,
            t.gold,
            t.hint,
            t.clip.as_ref().map(|c| c.hash.as_str())
        ])?;
        if t.exam {
            counts.exam += 1;
        } else {
            counts.lessons += 1;
        }
    }
    let retired_now: i64 = conn.query_row(
        "SELECT COUNT(*) FROM training_tasks WHERE project_id = ?1 AND retired = 1",
        [project_id],
        |r| r.get(0),
    )?;
    counts.retired = (retired_now - retired_before).max(0) as u64;
    Ok(counts)
}

impl TrainingTx for SqliteTx<'_> {
    fn training_tasks(
        &mut self,
        project_id: i64,
        exam: bool,
    ) -> Result<Vec<TrainingTask>, StoreError> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} WHERE project_id = ?1 AND exam = ?2 AND retired = 0 \
             ORDER BY position"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map(params![project_id, exam], task_of)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn qualification(&mut self, project_id: i64, user_id: i64) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT granted FROM qualifications WHERE project_id = ?1 AND user_id = ?2",
            )?
            .query_row([project_id, user_id], |r| r.get(0))
            .optional()?)
    }

    fn grant_qualification(
        &mut self,
        project_id: i64,
        user_id: i64,
        at: i64,
        attempt: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO qualifications (user_id, project_id, granted, attempt_id) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (user_id, project_id) DO NOTHING",
            )?
            .execute([user_id, project_id, at, attempt])?;
        Ok(())
    }

    fn exam_attempts(
        &mut self,
        project_id: i64,
        user_id: i64,
    ) -> Result<Vec<ExamAttemptRow>, StoreError> {
        let sql =
            format!("SELECT {ATTEMPT_COLUMNS} WHERE project_id = ?1 AND user_id = ?2 ORDER BY id");
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt
            .query_map([project_id, user_id], attempt_of)?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(attempt_row).collect()
    }

    fn exam_attempt(
        &mut self,
        attempt: i64,
        user_id: i64,
    ) -> Result<Option<(i64, ExamAttemptRow)>, StoreError> {
        let sql = format!("SELECT {ATTEMPT_COLUMNS} WHERE id = ?1 AND user_id = ?2");
        let row = self
            .conn()
            .prepare_cached(&sql)?
            .query_row([attempt, user_id], |r| {
                Ok((r.get::<_, i64>(7)?, attempt_of(r)?))
            })
            .optional()?;
        row.map(|(project_id, row)| Ok((project_id, attempt_row(row)?)))
            .transpose()
    }

    fn insert_exam_attempt(
        &mut self,
        project_id: i64,
        user_id: i64,
        items: &[i64],
        at: i64,
    ) -> Result<i64, StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO exam_attempts (project_id, user_id, items, created) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![project_id, user_id, items_json(items), at])?;
        Ok(self.conn().last_insert_rowid())
    }

    fn grade_exam_attempt(
        &mut self,
        attempt: i64,
        graded: &GradedAttempt,
    ) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "UPDATE exam_attempts SET graded = ?2, correct = ?3, passed = ?4, result = ?5 \
                 WHERE id = ?1 AND graded IS NULL",
            )?
            .execute(params![
                attempt,
                graded.at,
                graded.correct,
                graded.passed,
                graded.result
            ])?;
        Ok(())
    }

    fn training_items(&mut self, items: &[i64]) -> Result<Vec<TrainingTask>, StoreError> {
        let sql = format!("SELECT {TASK_COLUMNS} WHERE id = ?1");
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let mut tasks = Vec::with_capacity(items.len());
        for &item in items {
            if let Some(task) = stmt.query_row([item], task_of).optional()? {
                tasks.push(task);
            }
        }
        Ok(tasks)
    }
}

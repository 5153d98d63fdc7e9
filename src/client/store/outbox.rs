//! The outbox: answers saved here until the server acknowledges them, undo, and the
//! snapshot the sync planner reads. An answer that cannot be read back is never skipped
//! in silence: it is set aside as refused, with the reason, and its task queued again.

use rusqlite::{OptionalExtension, params};

use crate::model::{AnswerValue, Task};
use crate::protocol::AnswerUpload;

use super::super::plan::{LocalState, UnsentAnswer};
use super::{LocalStore, StoreError, Undone, begin_write, db_error, local_now, to_json};

impl LocalStore {
    /// Save an answer durably (committed and fsynced on return) and take the task out of
    /// the queue. Returns the answer's id.
    pub fn record_answer(&mut self, task: &Task, value: &AnswerValue) -> Result<u64, StoreError> {
        let json = to_json("the answer", value)?;
        let db = db_error(&self.path);
        let tx = begin_write(&mut self.conn).map_err(db)?;
        // Cached statements: this runs on every answer key, between key and frame.
        let replaces: Option<Option<i64>> = tx
            .prepare_cached("SELECT replaces FROM tasks WHERE id = ?1")
            .and_then(|mut stmt| stmt.query_row([task.id], |r| r.get(0)).optional())
            .map_err(db)?;
        let Some(replaces) = replaces else {
            return Err(StoreError::NoTask(task.id));
        };
        tx.prepare_cached(
            "INSERT INTO outbox (task, project, value, answered_at, replaces)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![task.id, task.project, json, local_now(), replaces])
        })
        .map_err(db)?;
        let id = tx.last_insert_rowid();
        for sql in [
            "UPDATE tasks SET state = 1, replaces = NULL WHERE id = ?1",
            "DELETE FROM drafts WHERE task = ?1",
        ] {
            tx.prepare_cached(sql)
                .and_then(|mut stmt| stmt.execute([task.id]))
                .map_err(db)?;
        }
        tx.commit().map_err(db)?;
        Ok(id as u64)
    }

    /// Take back the newest answer of `project` not already taken back. An unsent answer is
    /// withdrawn; a sent one stays on the server until the task's next answer replaces it.
    /// An answer that cannot be read is an error (`BadAnswer`), not "nothing to undo".
    pub fn undo_last(&mut self, project: &str) -> Result<Option<Undone>, StoreError> {
        let db = db_error(&self.path);
        let tx = begin_write(&mut self.conn).map_err(db)?;
        let last = tx
            .query_row(
                "SELECT o.id, o.task, o.value, o.sent, o.replaces, t.text, t.suggestion, t.clip
                 FROM outbox o JOIN tasks t ON t.id = o.task
                 WHERE o.project = ?1 AND o.undone = 0 AND o.sent != 2
                 ORDER BY o.id DESC LIMIT 1",
                [project],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        super::clip_column(r, 7)?,
                    ))
                },
            )
            .optional()
            .map_err(db)?;
        let Some((id, task_id, value, sent, replaces, text, suggestion, clip)) = last else {
            return Ok(None);
        };
        let previous = serde_json::from_str::<AnswerValue>(&value).map_err(|source| {
            StoreError::BadAnswer {
                id: id as u64,
                task: task_id,
                source,
            }
        })?;
        // The answer the task's next answer corrects on the server, if any.
        let corrects = if sent == 0 {
            // Never left the device: withdraw it. If it was itself a correction, the
            // answer it corrected is still the one to replace.
            tx.execute("DELETE FROM outbox WHERE id = ?1", [id])
                .map_err(db)?;
            replaces
        } else {
            tx.execute("UPDATE outbox SET undone = 1 WHERE id = ?1", [id])
                .map_err(db)?;
            Some(id)
        };
        tx.execute(
            "UPDATE tasks SET state = 0, replaces = ?2 WHERE id = ?1",
            params![task_id, corrects],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Some(Undone {
            task: Task {
                id: task_id,
                project: project.to_string(),
                text,
                suggestion,
                clip,
            },
            previous,
        }))
    }

    /// The unsent answers, oldest first. Any that cannot be read are set aside first
    /// (refused here, with the reason; their task back in the queue), so they are shown
    /// among refused answers instead of counting as unsent for ever.
    pub(super) fn unsent_answers(&self) -> Result<Vec<UnsentAnswer>, StoreError> {
        let now = local_now();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, task, value, answered_at, replaces FROM outbox WHERE sent = 0 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let (mut unsent, mut unreadable) = (Vec::new(), Vec::new());
        for row in rows {
            let (id, task, value, at, replaces) = row.map_err(|e| self.err(e))?;
            match serde_json::from_str(&value) {
                Ok(value) => unsent.push(UnsentAnswer {
                    upload: AnswerUpload {
                        id: id as u64,
                        task,
                        value,
                        // A clock set back makes this negative: treat as "just now".
                        ago: (now - at).clamp(0, u32::MAX as i64) as u32,
                        replaces: replaces.map(|r| r as u64),
                    },
                }),
                Err(e) => unreadable.push((id, task, e)),
            }
        }
        if !unreadable.is_empty() {
            self.set_aside(&unreadable)?;
        }
        Ok(unsent)
    }

    fn set_aside(&self, answers: &[(i64, i64, serde_json::Error)]) -> Result<(), StoreError> {
        let db = db_error(&self.path);
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )
        .map_err(db)?;
        for (id, task, e) in answers {
            let reason = format!(
                "stored answer cannot be read ({e}); the task is back in the queue to answer again"
            );
            let n = tx
                .execute(
                    "UPDATE outbox SET sent = 2, reason = ?2 WHERE id = ?1 AND sent = 0",
                    params![id, reason],
                )
                .map_err(db)?;
            // None changed: another connection set it aside first.
            if n > 0 {
                // Back to the queue, still correcting what the lost answer corrected.
                tx.execute(
                    "UPDATE tasks SET state = 0,
                       replaces = (SELECT replaces FROM outbox WHERE id = ?2)
                     WHERE id = ?1 AND state = 1",
                    params![task, id],
                )
                .map_err(db)?;
            }
        }
        tx.commit().map_err(db)
    }

    /// A snapshot of what the sync planner needs.
    pub fn local_state(&self, active: Option<&str>) -> Result<LocalState, StoreError> {
        let unsent = self.unsent_answers()?;
        let released = self
            .conn
            .prepare_cached("SELECT task FROM released ORDER BY task")
            .and_then(|mut s| {
                s.query_map([], |r| r.get(0))?
                    .collect::<Result<Vec<i64>, _>>()
            })
            .map_err(|e| self.err(e))?;
        let known = self.pairs::<String>("SELECT name, version FROM projects")?;
        let (lessons, exams, training_due) = self.training_state()?;
        let queued = self
            .pairs::<i64>("SELECT project, count(*) FROM tasks WHERE state = 0 GROUP BY project")?
            .into_iter()
            .map(|(p, n)| (p, n as usize))
            .collect();
        Ok(LocalState {
            unsent,
            released,
            known,
            queued,
            active: active.map(str::to_string),
            synced_before: self.meta("last_sync")?.is_some(),
            seen: self.meta("seen_reply")?.unwrap_or(0) as u64,
            feedback_seen: self.feedback_seen()?,
            reports: self.unsent_reports(crate::protocol::MAX_REPORTS_PER_SYNC)?,
            lessons: Some(lessons),
            exams,
            training_due,
            exam_answers: self.exam_submissions()?,
            // Not with the very first sync: login to first task stays as lean as it was.
            progress_due: self.meta("last_sync")?.is_some() && self.progress_due()?,
            progress_asked: self.progress_asked()?,
        })
    }
}

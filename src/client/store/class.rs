//! A class session's answers on this computer: each is committed here before the screen
//! moves on, sent with the next presence message of its class, and kept (with the
//! server's score) once the server has it. A student who was offline sends the rest when
//! the link returns, even after the class ended.

use rusqlite::params;

use crate::model::AnswerValue;
use crate::protocol::{ClassAnswer, ScoredAnswer};

use super::{LocalStore, StoreError, db_error, local_now, to_json};

impl LocalStore {
    /// Keep an answer to `step` of class `code` (committed before returning); its id.
    pub fn record_class_answer(
        &mut self,
        code: &str,
        step: u32,
        value: &AnswerValue,
        took: u32,
    ) -> Result<u64, StoreError> {
        let db = db_error(&self.path);
        let json = to_json("a class answer", value)?;
        let tx = super::begin_write(&mut self.conn).map_err(db)?;
        tx.execute(
            "INSERT INTO class_answers (code, step, value, took, answered_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![code, step, json, took, local_now()],
        )
        .map_err(db)?;
        let id = tx.last_insert_rowid() as u64;
        tx.commit().map_err(db)?;
        Ok(id)
    }

    /// Unsent answers of class `code`, oldest first, as the presence message carries
    /// them (`ago` by this computer's clock). An answer that cannot be read back is an
    /// error, never skipped.
    pub fn unsent_class_answers(
        &self,
        code: &str,
        limit: usize,
    ) -> Result<Vec<ClassAnswer>, StoreError> {
        let rows: Vec<(i64, u32, String, u32, i64)> = self
            .conn
            .prepare_cached(
                "SELECT id, step, value, took, answered_at FROM class_answers \
                 WHERE state = 0 AND code = ?1 ORDER BY id LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![code, limit as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<Result<_, _>>()
            })
            .map_err(|e| self.err(e))?;
        let now = local_now();
        rows.into_iter()
            .map(|(id, step, json, took, at)| {
                let value =
                    serde_json::from_str(&json).map_err(|source| StoreError::Unreadable {
                        what: "a class answer",
                        source,
                    })?;
                Ok(ClassAnswer {
                    id: id as u64,
                    step,
                    value,
                    took,
                    ago: u32::try_from((now - at).max(0)).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    /// Unsent answers of class `code`.
    pub fn unsent_class_count(&self, code: &str) -> Result<u32, StoreError> {
        self.conn
            .prepare_cached("SELECT COUNT(*) FROM class_answers WHERE state = 0 AND code = ?1")
            .and_then(|mut s| s.query_row([code], |r| r.get(0)))
            .map_err(|e| self.err(e))
    }

    /// Classes with answers not yet sent (from a session that ended offline), oldest
    /// first.
    pub fn classes_with_unsent(&self) -> Result<Vec<String>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT code FROM class_answers WHERE state = 0 GROUP BY code ORDER BY MIN(id)",
            )
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect::<Result<_, _>>())
            .map_err(|e| self.err(e))
    }

    /// The server has these answers (scored), or refused them (never to be sent again).
    pub fn class_answers_stored(
        &mut self,
        code: &str,
        stored: &[ScoredAnswer],
    ) -> Result<(), StoreError> {
        let db = db_error(&self.path);
        let tx = super::begin_write(&mut self.conn).map_err(db)?;
        for s in stored {
            let state = if s.refused.is_some() { 2 } else { 1 };
            tx.execute(
                "UPDATE class_answers SET state = ?3, correct = ?4, reason = ?5 \
                 WHERE id = ?1 AND code = ?2",
                params![s.id as i64, code, state, s.correct, s.refused],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)
    }
}

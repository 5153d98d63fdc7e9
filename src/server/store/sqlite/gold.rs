//! `GoldTx` on SQLite: public ids, the gold pool and mix, gold results and feedback, one
//! cached statement each on the writer's connection.

use rusqlite::{OptionalExtension, params};

use super::sync_tx::{SqliteTx, parse_value, value_json};
use crate::model::AnswerValue;
use crate::protocol::{FeedbackItem, FeedbackKind};
use crate::server::store::gold_tx::{
    FEEDBACK_TEXT_CHARS, GoldAnswered, GoldRecord, GoldResult, GoldTally, GoldTx, NewFeedback,
    StoredGold,
};
use crate::server::store::sync_tx::clip_ref;
use crate::server::store::{OpenTask, StoreError};

impl GoldTx for SqliteTx<'_> {
    fn task_by_public(&mut self, public: i64) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM tasks WHERE public_id = ?1")?
            .query_row([public], |r| r.get(0))
            .optional()?)
    }

    fn task_gold(&mut self, task: i64) -> Result<Option<StoredGold>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT project_id, gold, gold_spec FROM tasks WHERE id = ?1 AND gold IS NOT NULL",
            )?
            .query_row([task], |r| {
                Ok(StoredGold {
                    project_id: r.get(0)?,
                    first: r.get(1)?,
                    spec: r.get(2)?,
                })
            })
            .optional()?)
    }

    fn pick_gold_tasks(
        &mut self,
        project_id: i64,
        user_id: i64,
        limit: usize,
    ) -> Result<Vec<OpenTask>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.id, t.public_id, t.text, t.suggestion, t.clip, c.wire_bytes, c.duration_ms \
             FROM tasks t LEFT JOIN clips c ON c.hash = t.clip \
             WHERE t.project_id = ?1 AND t.gold IS NOT NULL \
               AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.task_id = t.id AND l.user_id = ?2) \
               AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task_id = t.id AND a.user_id = ?2) \
             ORDER BY t.public_id LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![project_id, user_id, limit], |r| {
            Ok(OpenTask {
                task: r.get(0)?,
                public: r.get(1)?,
                text: r.get(2)?,
                suggestion: r.get(3)?,
                clip: clip_ref(r.get(4)?, r.get(5)?, r.get(6)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn gold_mix(&mut self, project_id: i64, user_id: i64) -> Result<(u64, u64), StoreError> {
        let row: Option<(i64, i64)> = self
            .conn
            .prepare_cached(
                "SELECT leased, gold FROM gold_mix WHERE project_id = ?1 AND user_id = ?2",
            )?
            .query_row([project_id, user_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (leased, gold) = row.unwrap_or((0, 0));
        Ok((leased.max(0) as u64, gold.max(0) as u64))
    }

    fn add_gold_mix(
        &mut self,
        project_id: i64,
        user_id: i64,
        leased: u64,
        gold: u64,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO gold_mix (project_id, user_id, leased, gold) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (project_id, user_id) DO UPDATE SET \
                   leased = leased + excluded.leased, gold = gold + excluded.gold",
            )?
            .execute(params![project_id, user_id, leased as i64, gold as i64])?;
        Ok(())
    }

    fn record_gold_result(&mut self, result: &GoldResult) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO gold_results (answer_id, task_id, user_id, project_id, correct, confusions, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (answer_id) DO UPDATE SET correct = excluded.correct, \
                   confusions = excluded.confusions",
            )?
            .execute(params![
                result.answer_id,
                result.task,
                result.user_id,
                result.project_id,
                result.correct,
                result.confusions,
                result.at
            ])?;
        Ok(())
    }

    fn give_feedback(&mut self, item: &NewFeedback<'_>) -> Result<u64, StoreError> {
        let answer = item.answer.map(value_json).transpose()?;
        let expected = item.expected.map(value_json).transpose()?;
        let missed =
            serde_json::to_string(item.missed_fields).map_err(super::corrupt("missed fields"))?;
        self.conn
            .prepare_cached(
                "INSERT INTO feedback (user_id, project_id, task_id, kind, correct, answer, expected, \
                   note, missed_fields, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                item.user_id,
                item.project_id,
                item.task,
                item.kind.as_str(),
                item.correct,
                answer,
                expected,
                item.note,
                missed,
                item.at
            ])?;
        Ok(self.conn.last_insert_rowid() as u64)
    }

    fn feedback_after(
        &mut self,
        user_id: i64,
        after: u64,
        limit: usize,
    ) -> Result<Vec<FeedbackItem>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.id, f.kind, p.name, t.public_id, \
               CASE WHEN f.correct THEN '' ELSE substr(t.text, 1, ?4) END, \
               f.correct, f.answer, f.expected, f.note, f.missed_fields, f.at \
             FROM feedback f JOIN tasks t ON t.id = f.task_id JOIN projects p ON p.id = f.project_id \
             WHERE f.user_id = ?1 AND f.id > ?2 ORDER BY f.id LIMIT ?3",
        )?;
        type Row = (
            i64,
            String,
            String,
            i64,
            String,
            bool,
            Option<String>,
            Option<String>,
            String,
            String,
            i64,
        );
        let rows = stmt
            .query_map(
                params![user_id, after as i64, limit, FEEDBACK_TEXT_CHARS],
                |r| -> rusqlite::Result<Row> {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                    ))
                },
            )?
            .collect::<Result<Vec<Row>, _>>()?;
        rows.into_iter()
            .map(
                |(id, kind, project, task, text, correct, answer, expected, note, missed, at)| {
                    Ok(FeedbackItem {
                        id: id as u64,
                        kind: FeedbackKind::parse(&kind),
                        project,
                        task,
                        text,
                        correct,
                        answer: answer.as_deref().map(parse_value).transpose()?,
                        expected: expected.as_deref().map(parse_value).transpose()?,
                        note,
                        missed_fields: serde_json::from_str(&missed)
                            .map_err(super::corrupt("missed fields"))?,
                        at,
                    })
                },
            )
            .collect()
    }

    fn gold_tally(
        &mut self,
        user_id: i64,
        project_id: i64,
        recent: u32,
    ) -> Result<GoldTally, StoreError> {
        let conn = self.conn;
        let (all_total, all_correct): (i64, i64) = conn
            .prepare_cached(
                "SELECT COUNT(*), COALESCE(SUM(r.correct), 0) FROM gold_results r \
                 JOIN answers a ON a.id = r.answer_id \
                 WHERE r.user_id = ?1 AND r.project_id = ?2 AND a.superseded_by IS NULL",
            )?
            .query_row([user_id, project_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let (recent_total, recent_correct): (i64, i64) = conn
            .prepare_cached(
                "SELECT COUNT(*), COALESCE(SUM(correct), 0) FROM ( \
                   SELECT r.correct FROM gold_results r JOIN answers a ON a.id = r.answer_id \
                   WHERE r.user_id = ?1 AND r.project_id = ?2 AND a.superseded_by IS NULL \
                   ORDER BY r.at DESC, r.answer_id DESC LIMIT ?3)",
            )?
            .query_row(params![user_id, project_id, i64::from(recent)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok(GoldTally {
            recent_correct: recent_correct as u32,
            recent_total: recent_total as u32,
            all_correct: all_correct as u64,
            all_total: all_total as u64,
        })
    }

    fn live_answers_with_gold(
        &mut self,
        task: i64,
    ) -> Result<Vec<(AnswerValue, GoldRecord)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT v.value, \
               (SELECT COUNT(*) FROM gold_results r JOIN answers g ON g.id = r.answer_id \
                WHERE r.user_id = v.user_id AND r.project_id = t.project_id \
                  AND g.superseded_by IS NULL), \
               (SELECT COALESCE(SUM(r.correct), 0) FROM gold_results r \
                JOIN answers g ON g.id = r.answer_id \
                WHERE r.user_id = v.user_id AND r.project_id = t.project_id \
                  AND g.superseded_by IS NULL) \
             FROM (SELECT value, 0 AS kazi, id, NULL AS user_id FROM prior_answers \
                   WHERE task_id = ?1 \
                   UNION ALL \
                   SELECT value, 1, id, user_id FROM answers \
                   WHERE task_id = ?1 AND superseded_by IS NULL) v \
             JOIN tasks t ON t.id = ?1 \
             ORDER BY v.kazi, v.id",
        )?;
        let rows = stmt
            .query_map([task], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(value, seen, correct)| {
                let record = GoldRecord {
                    correct: correct as u64,
                    seen: seen as u64,
                };
                Ok((parse_value(&value)?, record))
            })
            .collect()
    }

    fn recent_confusions(
        &mut self,
        user_id: i64,
        project_id: i64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.confusions FROM gold_results r JOIN answers a ON a.id = r.answer_id \
             WHERE r.user_id = ?1 AND r.project_id = ?2 AND r.correct = 0 \
               AND a.superseded_by IS NULL \
             ORDER BY r.at DESC, r.answer_id DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![user_id, project_id, limit], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn gold_answers_of_task(&mut self, task: i64) -> Result<Vec<GoldAnswered>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, user_id, value, at FROM answers \
             WHERE task_id = ?1 AND superseded_by IS NULL ORDER BY id",
        )?;
        let rows = stmt
            .query_map([task], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get(1)?,
                    r.get::<_, String>(2)?,
                    r.get(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(answer_id, user_id, value, at)| {
                Ok(GoldAnswered {
                    answer_id,
                    user_id,
                    value: parse_value(&value)?,
                    at,
                })
            })
            .collect()
    }

    fn set_task_gold(&mut self, task: i64, first: &str, spec: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE tasks SET gold = ?2, gold_spec = ?3 WHERE id = ?1")?
            .execute(params![task, first, spec])?;
        Ok(())
    }
}

/// Correct the gold of task `ext_id` of `project` (`Store::correct_gold`).
pub(super) fn correct_gold(
    conn: &rusqlite::Connection,
    project: &str,
    ext_id: &str,
    gold: &crate::model::Gold,
    now: i64,
) -> Result<crate::server::scheduler::gold::Correction, StoreError> {
    let (project_id, schema): (i64, String) = conn
        .prepare_cached("SELECT id, schema FROM projects WHERE name = ?1")?
        .query_row([project], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| StoreError::NoProject(project.to_string()))?;
    let schema = super::catalogue::parse_schema(&schema)?;
    let task: i64 = conn
        .prepare_cached("SELECT id FROM tasks WHERE project_id = ?1 AND ext_id = ?2")?
        .query_row(params![project_id, ext_id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NoTask {
            project: project.to_string(),
            id: ext_id.to_string(),
        })?;
    gold.fits(&schema).map_err(StoreError::Aborted)?;
    crate::server::scheduler::gold::correct(&mut SqliteTx::new(conn), &schema, task, gold, now)
}

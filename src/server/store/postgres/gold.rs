//! `GoldTx` on PostgreSQL: public ids, the gold pool and mix, gold results and feedback.
//! Counts move by increments (`leased = leased + n`), never by values read earlier, so
//! instances writing at once keep them right.

use super::db::get;
use super::sync_tx::{PgTx, parse_value, value_json};
use crate::model::AnswerValue;
use crate::protocol::{FeedbackItem, FeedbackKind};
use crate::server::store::gold_tx::FEEDBACK_TEXT_CHARS;
use crate::server::store::gold_tx::{
    GoldAnswered, GoldRecord, GoldResult, GoldTally, GoldTx, NewFeedback, StoredGold,
};
use crate::server::store::sync_tx::clip_ref;
use crate::server::store::{OpenTask, StoreError};

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl GoldTx for PgTx<'_, '_> {
    fn task_by_public(&mut self, public: i64) -> Result<Option<i64>, StoreError> {
        let row = self
            .db
            .query_opt("SELECT id FROM tasks WHERE public_id = $1", &[&public])?;
        row.map(|r| get(&r, 0)).transpose()
    }

    fn task_gold(&mut self, task: i64) -> Result<Option<StoredGold>, StoreError> {
        let row = self.db.query_opt(
            "SELECT project_id, gold, gold_spec FROM tasks WHERE id = $1 AND gold IS NOT NULL",
            &[&task],
        )?;
        row.map(|r| {
            Ok(StoredGold {
                project_id: get(&r, 0)?,
                first: get(&r, 1)?,
                spec: get(&r, 2)?,
            })
        })
        .transpose()
    }

    fn pick_gold_tasks(
        &mut self,
        project_id: i64,
        user_id: i64,
        limit: usize,
    ) -> Result<Vec<OpenTask>, StoreError> {
        // No row lock: gold is not held by slots, so two instances may hand the same gold
        // task to two workers at once, as they should.
        let rows = self.db.query(
            "SELECT t.id, t.public_id, t.text, t.suggestion, t.clip, c.wire_bytes, c.duration_ms \
             FROM tasks t LEFT JOIN clips c ON c.hash = t.clip \
             WHERE t.project_id = $1 AND t.gold IS NOT NULL \
               AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.task_id = t.id AND l.user_id = $2) \
               AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task_id = t.id AND a.user_id = $2) \
             ORDER BY t.public_id LIMIT $3",
            &[&project_id, &user_id, &limit_of(limit)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(OpenTask {
                    task: get(r, 0)?,
                    public: get(r, 1)?,
                    text: get(r, 2)?,
                    suggestion: get(r, 3)?,
                    clip: clip_ref(get(r, 4)?, get(r, 5)?, get(r, 6)?),
                })
            })
            .collect()
    }

    fn gold_mix(&mut self, project_id: i64, user_id: i64) -> Result<(u64, u64), StoreError> {
        let row = self.db.query_opt(
            "SELECT leased, gold FROM gold_mix WHERE project_id = $1 AND user_id = $2",
            &[&project_id, &user_id],
        )?;
        match row {
            Some(r) => {
                let (leased, gold): (i64, i64) = (get(&r, 0)?, get(&r, 1)?);
                Ok((leased.max(0) as u64, gold.max(0) as u64))
            }
            None => Ok((0, 0)),
        }
    }

    fn add_gold_mix(
        &mut self,
        project_id: i64,
        user_id: i64,
        leased: u64,
        gold: u64,
    ) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO gold_mix (project_id, user_id, leased, gold) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (project_id, user_id) DO UPDATE SET \
               leased = gold_mix.leased + excluded.leased, gold = gold_mix.gold + excluded.gold",
            &[&project_id, &user_id, &(leased as i64), &(gold as i64)],
        )?;
        Ok(())
    }

    fn record_gold_result(&mut self, result: &GoldResult) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO gold_results (answer_id, task_id, user_id, project_id, correct, confusions, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (answer_id) DO UPDATE SET correct = excluded.correct, \
               confusions = excluded.confusions",
            &[
                &result.answer_id,
                &result.task,
                &result.user_id,
                &result.project_id,
                &result.correct,
                &result.confusions,
                &result.at,
            ],
        )?;
        Ok(())
    }

    fn give_feedback(&mut self, item: &NewFeedback<'_>) -> Result<u64, StoreError> {
        let answer = item.answer.map(value_json).transpose()?;
        let expected = item.expected.map(value_json).transpose()?;
        let missed =
            serde_json::to_string(item.missed_fields).map_err(super::corrupt("missed fields"))?;
        let row = self.db.query_one(
            "INSERT INTO feedback (user_id, project_id, task_id, kind, correct, answer, expected, \
               note, missed_fields, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            &[
                &item.user_id,
                &item.project_id,
                &item.task,
                &item.kind.as_str(),
                &item.correct,
                &answer,
                &expected,
                &item.note,
                &missed,
                &item.at,
            ],
        )?;
        Ok(get::<i64>(&row, 0)? as u64)
    }

    fn feedback_after(
        &mut self,
        user_id: i64,
        after: u64,
        limit: usize,
    ) -> Result<Vec<FeedbackItem>, StoreError> {
        let rows = self.db.query(
            "SELECT f.id, f.kind, p.name, t.public_id, \
               CASE WHEN f.correct THEN '' ELSE substr(t.text, 1, $4::INT) END, \
               f.correct, f.answer, f.expected, f.note, f.missed_fields, f.at \
             FROM feedback f JOIN tasks t ON t.id = f.task_id JOIN projects p ON p.id = f.project_id \
             WHERE f.user_id = $1 AND f.id > $2 ORDER BY f.id LIMIT $3",
            &[
                &user_id,
                &(after as i64),
                &limit_of(limit),
                &(FEEDBACK_TEXT_CHARS as i32),
            ],
        )?;
        rows.iter()
            .map(|r| {
                let answer: Option<String> = get(r, 6)?;
                let expected: Option<String> = get(r, 7)?;
                let missed: String = get(r, 9)?;
                Ok(FeedbackItem {
                    id: get::<i64>(r, 0)? as u64,
                    kind: FeedbackKind::parse(&get::<String>(r, 1)?),
                    project: get(r, 2)?,
                    task: get(r, 3)?,
                    text: get(r, 4)?,
                    correct: get(r, 5)?,
                    answer: answer.as_deref().map(parse_value).transpose()?,
                    expected: expected.as_deref().map(parse_value).transpose()?,
                    note: get(r, 8)?,
                    missed_fields: serde_json::from_str(&missed)
                        .map_err(super::corrupt("missed fields"))?,
                    at: get(r, 10)?,
                })
            })
            .collect()
    }

    fn gold_tally(
        &mut self,
        user_id: i64,
        project_id: i64,
        recent: u32,
    ) -> Result<GoldTally, StoreError> {
        let all = self.db.query_one(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE r.correct) FROM gold_results r \
             JOIN answers a ON a.id = r.answer_id \
             WHERE r.user_id = $1 AND r.project_id = $2 AND a.superseded_by IS NULL",
            &[&user_id, &project_id],
        )?;
        let recent = self.db.query_one(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE correct) FROM ( \
               SELECT r.correct FROM gold_results r JOIN answers a ON a.id = r.answer_id \
               WHERE r.user_id = $1 AND r.project_id = $2 AND a.superseded_by IS NULL \
               ORDER BY r.at DESC, r.answer_id DESC LIMIT $3) last",
            &[&user_id, &project_id, &i64::from(recent)],
        )?;
        Ok(GoldTally {
            recent_correct: get::<i64>(&recent, 1)? as u32,
            recent_total: get::<i64>(&recent, 0)? as u32,
            all_correct: get::<i64>(&all, 1)? as u64,
            all_total: get::<i64>(&all, 0)? as u64,
        })
    }

    fn live_answers_with_gold(
        &mut self,
        task: i64,
    ) -> Result<Vec<(AnswerValue, GoldRecord)>, StoreError> {
        let rows = self.db.query(
            "SELECT v.value, \
               (SELECT COUNT(*) FROM gold_results r JOIN answers g ON g.id = r.answer_id \
                WHERE r.user_id = v.user_id AND r.project_id = t.project_id \
                  AND g.superseded_by IS NULL), \
               (SELECT COUNT(*) FILTER (WHERE r.correct) FROM gold_results r \
                JOIN answers g ON g.id = r.answer_id \
                WHERE r.user_id = v.user_id AND r.project_id = t.project_id \
                  AND g.superseded_by IS NULL) \
             FROM (SELECT value, 0 AS kazi, id, NULL::BIGINT AS user_id FROM prior_answers \
                   WHERE task_id = $1 \
                   UNION ALL \
                   SELECT value, 1, id, user_id FROM answers \
                   WHERE task_id = $1 AND superseded_by IS NULL) v \
             JOIN tasks t ON t.id = $1 \
             ORDER BY v.kazi, v.id",
            &[&task],
        )?;
        rows.iter()
            .map(|r| {
                let record = GoldRecord {
                    correct: get::<i64>(r, 2)? as u64,
                    seen: get::<i64>(r, 1)? as u64,
                };
                Ok((parse_value(&get::<String>(r, 0)?)?, record))
            })
            .collect()
    }

    fn recent_confusions(
        &mut self,
        user_id: i64,
        project_id: i64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let rows = self.db.query(
            "SELECT r.confusions FROM gold_results r JOIN answers a ON a.id = r.answer_id \
             WHERE r.user_id = $1 AND r.project_id = $2 AND NOT r.correct \
               AND a.superseded_by IS NULL \
             ORDER BY r.at DESC, r.answer_id DESC LIMIT $3",
            &[&user_id, &project_id, &limit_of(limit)],
        )?;
        rows.iter().map(|r| get(r, 0)).collect()
    }

    fn gold_answers_of_task(&mut self, task: i64) -> Result<Vec<GoldAnswered>, StoreError> {
        let rows = self.db.query(
            "SELECT id, user_id, value, at FROM answers \
             WHERE task_id = $1 AND superseded_by IS NULL ORDER BY id",
            &[&task],
        )?;
        rows.iter()
            .map(|r| {
                Ok(GoldAnswered {
                    answer_id: get(r, 0)?,
                    user_id: get(r, 1)?,
                    value: parse_value(&get::<String>(r, 2)?)?,
                    at: get(r, 3)?,
                })
            })
            .collect()
    }

    fn set_task_gold(&mut self, task: i64, first: &str, spec: &str) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE tasks SET gold = $2, gold_spec = $3 WHERE id = $1",
            &[&task, &first, &spec],
        )?;
        Ok(())
    }
}

/// Correct the gold of task `ext_id` of `project` (`Store::correct_gold`).
pub(super) fn correct_gold(
    db: &mut super::Db<'_>,
    project: &str,
    ext_id: &str,
    gold: &crate::model::Gold,
    now: i64,
) -> Result<crate::server::scheduler::gold::Correction, StoreError> {
    let row = db
        .query_opt(
            "SELECT id, schema FROM projects WHERE name = $1",
            &[&project],
        )?
        .ok_or_else(|| StoreError::NoProject(project.to_string()))?;
    let project_id: i64 = get(&row, 0)?;
    let schema = super::catalogue::parse_schema(&get::<String>(&row, 1)?)?;
    // The task's row lock: two corrections of one task run one after the other.
    let task: i64 = db
        .query_opt(
            "SELECT id FROM tasks WHERE project_id = $1 AND ext_id = $2 FOR UPDATE",
            &[&project_id, &ext_id],
        )?
        .map(|r| get(&r, 0))
        .transpose()?
        .ok_or_else(|| StoreError::NoTask {
            project: project.to_string(),
            id: ext_id.to_string(),
        })?;
    gold.fits(&schema).map_err(StoreError::Aborted)?;
    crate::server::scheduler::gold::correct(&mut PgTx::new(db), &schema, task, gold, now)
}

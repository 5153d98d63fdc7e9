//! The scheduler's transaction on PostgreSQL, safe with several instances writing at
//! once under READ COMMITTED: the worker's row is locked for the whole sync (by the
//! store), a lease is read `FOR UPDATE` so an expiry elsewhere is seen, expiry takes
//! each lease once (`SKIP LOCKED`), and open tasks are picked `FOR UPDATE SKIP LOCKED`.
//! Slot counts move by increments, never by values read earlier. No rule lives here.

use std::collections::BTreeMap;

use super::Db;
use super::catalogue::parse_schema;
use super::corrupt;
use super::db::get;
use super::review;
use crate::model::{AnswerValue, Project};
use crate::protocol::Lease;
use crate::quality::Decision;
use crate::server::store::review::{AnswerUnderReview, TaskUnderReview};
use crate::server::store::review::{NewReviewItem, ReviewFilter, ReviewItem, ReviewLease, Verdict};
use crate::server::store::sync_tx::clip_ref;
use crate::server::store::{
    CatalogueEntry, EarlierAnswer, LeaseState, NewAnswer, OpenTask, StoreError, SyncTx, TaskHome,
};

/// A `SyncTx` on a connection whose transaction the caller owns.
pub(super) struct PgTx<'d, 'r> {
    pub(super) db: &'d mut Db<'r>,
}

impl<'d, 'r> PgTx<'d, 'r> {
    pub(super) fn new(db: &'d mut Db<'r>) -> PgTx<'d, 'r> {
        PgTx { db }
    }

    pub(super) fn db(&mut self) -> &mut Db<'r> {
        self.db
    }
}

/// Tasks of project $1 that user $2 may lease, in import order, at most $3. Rows another
/// transaction holds are skipped, not waited for; a locked row's `open_slots > 0` is
/// checked again on its newest version, so a slot taken meanwhile is never taken twice.
pub(super) const PICK_TASKS: &str = "SELECT t.id, t.public_id, t.text, t.suggestion, \
       t.clip, c.wire_bytes, c.duration_ms \
     FROM tasks t LEFT JOIN clips c ON c.hash = t.clip \
     WHERE t.project_id = $1 AND t.open_slots > 0 AND (NOT $4 OR t.gold IS NULL) \
       AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task_id = t.id AND a.user_id = $2) \
       AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.task_id = t.id AND l.user_id = $2 \
                       AND (l.live OR l.released)) \
     ORDER BY t.id LIMIT $3 FOR UPDATE OF t SKIP LOCKED";

/// What `PICK_TASKS` would pick from, production tasks only, counted up to `$3`.
const COUNT_OPEN_TASKS: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM tasks t \
     WHERE t.project_id = $1 AND t.open_slots > 0 AND t.gold IS NULL \
       AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task_id = t.id AND a.user_id = $2) \
       AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.task_id = t.id AND l.user_id = $2 \
                       AND (l.live OR l.released)) \
     LIMIT $3) AS open";

pub(super) fn value_json(value: &AnswerValue) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(corrupt("answer value"))
}

pub(super) fn parse_value(json: &str) -> Result<AnswerValue, StoreError> {
    serde_json::from_str(json).map_err(corrupt("answer"))
}

impl SyncTx for PgTx<'_, '_> {
    fn expire_leases(&mut self, now: i64) -> Result<(), StoreError> {
        // One statement: each expired lease is ended once and gives back its slot once,
        // whichever instance gets there first; leases another sync holds wait for a
        // later round.
        self.db.execute(
            "WITH expired AS ( \
                 UPDATE leases SET live = FALSE \
                 WHERE (task_id, user_id) IN ( \
                     SELECT task_id, user_id FROM leases \
                     WHERE live AND expires <= $1 FOR UPDATE SKIP LOCKED) \
                 RETURNING task_id), \
             per_task AS (SELECT task_id, COUNT(*) AS n FROM expired GROUP BY task_id) \
             UPDATE tasks SET open_slots = open_slots + per_task.n \
             FROM per_task WHERE tasks.id = per_task.task_id",
            &[&now],
        )?;
        Ok(())
    }

    fn catalogue(&mut self) -> Result<BTreeMap<String, CatalogueEntry>, StoreError> {
        let rows = self
            .db
            .query("SELECT id, name, version, lease_secs FROM projects", &[])?;
        rows.iter()
            .map(|r| {
                Ok((
                    get(r, 1)?,
                    CatalogueEntry {
                        id: get(r, 0)?,
                        version: get(r, 2)?,
                        lease_secs: get(r, 3)?,
                    },
                ))
            })
            .collect()
    }

    fn project_schema(&mut self, project_id: i64) -> Result<Project, StoreError> {
        let row = self
            .db
            .query_one("SELECT schema FROM projects WHERE id = $1", &[&project_id])?;
        parse_schema(&get::<String>(&row, 0)?)
    }

    fn task_home(&mut self, task: i64) -> Result<Option<TaskHome>, StoreError> {
        let row = self.db.query_opt(
            "SELECT t.project_id, p.overlap FROM tasks t \
             JOIN projects p ON p.id = t.project_id WHERE t.id = $1",
            &[&task],
        )?;
        row.map(|r| {
            Ok(TaskHome {
                project_id: get(&r, 0)?,
                overlap: get(&r, 1)?,
            })
        })
        .transpose()
    }

    fn answer_by_client_id(
        &mut self,
        device_id: i64,
        client_id: u64,
    ) -> Result<Option<EarlierAnswer>, StoreError> {
        // Client ids are u64 sequence numbers, stored bit for bit in a BIGINT.
        let row = self.db.query_opt(
            "SELECT id, task_id, value, superseded_by IS NOT NULL FROM answers \
             WHERE device_id = $1 AND client_id = $2",
            &[&device_id, &(client_id as i64)],
        )?;
        row.map(|r| {
            Ok(EarlierAnswer {
                id: get(&r, 0)?,
                task: get(&r, 1)?,
                value: parse_value(&get::<String>(&r, 2)?)?,
                superseded: get(&r, 3)?,
            })
        })
        .transpose()
    }

    fn lease(&mut self, task: i64, user_id: i64) -> Result<Option<LeaseState>, StoreError> {
        // FOR UPDATE: waits for an expiry in flight elsewhere and reads its outcome, so
        // a slot is never both given back by expiry and kept by this answer.
        let row = self.db.query_opt(
            "SELECT granted, live FROM leases WHERE task_id = $1 AND user_id = $2 FOR UPDATE",
            &[&task, &user_id],
        )?;
        row.map(|r| {
            Ok(LeaseState {
                granted: get(&r, 0)?,
                live: get(&r, 1)?,
            })
        })
        .transpose()
    }

    fn has_counted_answer(&mut self, task: i64, user_id: i64) -> Result<bool, StoreError> {
        let row = self.db.query_one(
            "SELECT EXISTS (SELECT 1 FROM answers \
             WHERE task_id = $1 AND user_id = $2 AND superseded_by IS NULL)",
            &[&task, &user_id],
        )?;
        get(&row, 0)
    }

    fn insert_answer(&mut self, answer: &NewAnswer<'_>) -> Result<i64, StoreError> {
        let value = value_json(answer.value)?;
        let row = self.db.query_one(
            "INSERT INTO answers (device_id, client_id, task_id, user_id, value, at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                &answer.device_id,
                &(answer.client_id as i64),
                &answer.task,
                &answer.user_id,
                &value,
                &answer.at,
            ],
        )?;
        get(&row, 0)
    }

    fn supersede(&mut self, old: i64, by: i64) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE answers SET superseded_by = $1 WHERE id = $2",
            &[&by, &old],
        )?;
        Ok(())
    }

    fn count_answer(&mut self, task: i64, slot_delta: i64) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE tasks SET counted = counted + 1, open_slots = open_slots + $1 WHERE id = $2",
            &[&slot_delta, &task],
        )?;
        Ok(())
    }

    fn move_open_slots(&mut self, task: i64, delta: i64) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE tasks SET open_slots = open_slots + $1 WHERE id = $2",
            &[&delta, &task],
        )?;
        Ok(())
    }

    fn end_lease(&mut self, task: i64, user_id: i64, released: bool) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE leases SET live = FALSE, released = released OR $3 \
             WHERE task_id = $1 AND user_id = $2",
            &[&task, &user_id, &released],
        )?;
        Ok(())
    }

    fn counted_answers(&mut self, task: i64) -> Result<i64, StoreError> {
        let row = self
            .db
            .query_one("SELECT counted FROM tasks WHERE id = $1", &[&task])?;
        get(&row, 0)
    }

    fn live_answer_values(&mut self, task: i64) -> Result<Vec<AnswerValue>, StoreError> {
        let rows = self.db.query(
            "SELECT value FROM ( \
               SELECT value, 0 AS kazi, id FROM prior_answers WHERE task_id = $1 \
               UNION ALL \
               SELECT value, 1, id FROM answers WHERE task_id = $1 AND superseded_by IS NULL) v \
             ORDER BY kazi, id",
            &[&task],
        )?;
        rows.iter()
            .map(|r| parse_value(&get::<String>(r, 0)?))
            .collect()
    }

    fn record_decision(&mut self, task: i64, decision: &Decision) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE tasks SET decided = $1, agreement = $2, method = $3, confidence = $4 \
             WHERE id = $5",
            &[
                &decision.value,
                &decision.agreement,
                &decision.method.as_str(),
                &decision.confidence,
                &task,
            ],
        )?;
        Ok(())
    }

    fn unseen_leases(
        &mut self,
        device_id: i64,
        seen: u64,
        limit: usize,
    ) -> Result<Vec<Lease>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.db.query(
            "SELECT t.public_id, p.name, t.text, t.suggestion, l.expires, \
             t.clip, c.wire_bytes, c.duration_ms FROM leases l \
             JOIN tasks t ON t.id = l.task_id JOIN projects p ON p.id = t.project_id \
             LEFT JOIN clips c ON c.hash = t.clip \
             WHERE l.device_id = $1 AND l.live AND l.reply > $2 ORDER BY t.public_id LIMIT $3",
            &[&device_id, &(seen as i64), &limit],
        )?;
        rows.iter()
            .map(|r| {
                Ok(Lease {
                    task: get(r, 0)?,
                    project: get(r, 1)?,
                    text: get(r, 2)?,
                    suggestion: get(r, 3)?,
                    expires: get(r, 4)?,
                    clip: clip_ref(get(r, 5)?, get(r, 6)?, get(r, 7)?),
                })
            })
            .collect()
    }

    fn defer_unseen_leases(
        &mut self,
        device_id: i64,
        seen: u64,
        before: u64,
        to: u64,
    ) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE leases SET reply = $4 \
             WHERE device_id = $1 AND live AND reply > $2 AND reply < $3",
            &[&device_id, &(seen as i64), &(before as i64), &(to as i64)],
        )?;
        Ok(())
    }

    fn note_sync(&mut self, device_id: i64, now: i64) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE devices SET last_sync = $1 WHERE id = $2",
            &[&now, &device_id],
        )?;
        Ok(())
    }

    fn live_leases_of_device(&mut self, device_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        // FOR UPDATE: an expiry in flight elsewhere is waited for and its outcome read
        // (a lease it ended is no longer live here), so no slot is given back twice.
        let rows = self.db.query(
            "SELECT task_id, user_id FROM leases WHERE device_id = $1 AND live \
             ORDER BY task_id FOR UPDATE",
            &[&device_id],
        )?;
        rows.iter().map(|r| Ok((get(r, 0)?, get(r, 1)?))).collect()
    }

    fn live_leases_held(&mut self, project_id: i64, user_id: i64) -> Result<u64, StoreError> {
        let row = self.db.query_one(
            "SELECT COUNT(*) FROM leases l JOIN tasks t ON t.id = l.task_id \
             WHERE l.user_id = $1 AND l.live AND t.project_id = $2",
            &[&user_id, &project_id],
        )?;
        let n: i64 = get(&row, 0)?;
        u64::try_from(n).map_err(corrupt("lease count"))
    }

    fn open_tasks_for(
        &mut self,
        project_id: i64,
        user_id: i64,
        cap: u32,
    ) -> Result<u32, StoreError> {
        let row = self
            .db
            .query_one(COUNT_OPEN_TASKS, &[&project_id, &user_id, &i64::from(cap)])?;
        let n: i64 = get(&row, 0)?;
        u32::try_from(n).map_err(corrupt("open task count"))
    }

    fn tag_lease_reply(&mut self, public: i64, user_id: i64, reply: u64) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE leases SET reply = $1 \
             WHERE task_id = (SELECT id FROM tasks WHERE public_id = $2) AND user_id = $3",
            &[&(reply as i64), &public, &user_id],
        )?;
        Ok(())
    }

    fn next_reply(&mut self, device_id: i64) -> Result<u64, StoreError> {
        let row = self.db.query_one(
            "UPDATE devices SET replies = replies + 1 WHERE id = $1 RETURNING replies",
            &[&device_id],
        )?;
        let n: i64 = get(&row, 0)?;
        u64::try_from(n).map_err(corrupt("reply number"))
    }

    fn pick_open_tasks(
        &mut self,
        project_id: i64,
        user_id: i64,
        limit: usize,
        skip_gold: bool,
    ) -> Result<Vec<OpenTask>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .db
            .query(PICK_TASKS, &[&project_id, &user_id, &limit, &skip_gold])?;
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

    fn hold_lease(
        &mut self,
        task: i64,
        user_id: i64,
        device_id: i64,
        granted: i64,
        expires: i64,
        reply: u64,
    ) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO leases (task_id, user_id, granted, expires, live, device_id, reply) \
             VALUES ($1, $2, $3, $4, TRUE, $5, $6) \
             ON CONFLICT (task_id, user_id) DO UPDATE SET granted = excluded.granted, \
               expires = excluded.expires, live = TRUE, device_id = excluded.device_id, \
               reply = excluded.reply",
            &[
                &task,
                &user_id,
                &granted,
                &expires,
                &device_id,
                &(reply as i64),
            ],
        )?;
        Ok(())
    }

    fn answers_since(&mut self, user_id: i64, since: i64) -> Result<u64, StoreError> {
        let row = self.db.query_one(
            "SELECT COUNT(*) FROM answers \
             WHERE user_id = $1 AND at >= $2 AND superseded_by IS NULL",
            &[&user_id, &since],
        )?;
        let n: i64 = get(&row, 0)?;
        u64::try_from(n).map_err(corrupt("answer count"))
    }

    fn move_project_open_slots(&mut self, project_id: i64, delta: i64) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE tasks SET open_slots = open_slots + $1 WHERE project_id = $2",
            &[&delta, &project_id],
        )?;
        Ok(())
    }

    fn clear_decisions_below(&mut self, project_id: i64, overlap: i64) -> Result<(), StoreError> {
        self.db.execute(
            "UPDATE tasks SET decided = NULL, agreement = NULL, method = NULL, \
             confidence = NULL WHERE project_id = $1 AND counted < $2",
            &[&project_id, &overlap],
        )?;
        Ok(())
    }

    fn undecided_complete_tasks(
        &mut self,
        project_id: i64,
        overlap: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let rows = self.db.query(
            "SELECT id FROM tasks WHERE project_id = $1 AND counted >= $2 AND agreement IS NULL",
            &[&project_id, &overlap],
        )?;
        rows.iter().map(|r| get(r, 0)).collect()
    }

    fn enqueue_review(
        &mut self,
        item: &NewReviewItem,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        review::enqueue(self.db, item, now)
    }

    fn next_review_item(
        &mut self,
        filter: &ReviewFilter,
        reviewer: i64,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        review::next_free(self.db, filter, reviewer, now)
    }

    fn review_item(&mut self, id: i64) -> Result<Option<ReviewItem>, StoreError> {
        review::item(self.db, id)
    }

    fn lease_review_item(&mut self, id: i64, lease: Option<ReviewLease>) -> Result<(), StoreError> {
        review::lease(self.db, id, lease)
    }

    fn decide_review_item(&mut self, id: i64, verdict: &Verdict) -> Result<(), StoreError> {
        review::decide(self.db, id, verdict)
    }

    fn is_assigned_reviewer(&mut self, user_id: i64, project_id: i64) -> Result<bool, StoreError> {
        review::is_assigned(self.db, user_id, project_id)
    }

    fn pseudonym_key(&mut self) -> Result<crate::server::pseudonym::PseudonymKey, StoreError> {
        super::impact::pseudonym_key(self.db)
    }

    fn task_under_review(&mut self, task: i64) -> Result<Option<TaskUnderReview>, StoreError> {
        review::task_under_review(self.db, task)
    }

    fn answers_under_review(&mut self, task: i64) -> Result<Vec<AnswerUnderReview>, StoreError> {
        review::answers_under_review(self.db, task)
    }
}

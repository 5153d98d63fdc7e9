//! The scheduler's transaction on SQLite: each `SyncTx` method is one cached statement
//! on the writer's connection, inside the writer's group-commit transaction. No rule
//! lives here; `server::scheduler` decides what to call.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::catalogue::parse_schema;
use super::corrupt;
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
pub(super) struct SqliteTx<'c> {
    pub(super) conn: &'c Connection,
}

impl<'c> SqliteTx<'c> {
    pub(super) fn new(conn: &'c Connection) -> SqliteTx<'c> {
        SqliteTx { conn }
    }

    pub(super) fn conn(&self) -> &'c Connection {
        self.conn
    }
}

/// Tasks of project ?1 that user ?2 may lease, in import order, at most ?3. Walks the
/// partial index of tasks with open slots, so leased and finished tasks cost nothing.
pub(super) const PICK_TASKS: &str = "SELECT t.id, t.public_id, t.text, t.suggestion, \
       t.clip, c.wire_bytes, c.duration_ms \
     FROM tasks t LEFT JOIN clips c ON c.hash = t.clip \
     WHERE t.project_id = ?1 AND t.open_slots > 0 AND (?4 = 0 OR t.gold IS NULL) \
       AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task_id = t.id AND a.user_id = ?2) \
       AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.task_id = t.id AND l.user_id = ?2 \
                       AND (l.live = 1 OR l.released = 1)) \
     ORDER BY t.id LIMIT ?3";

/// What `PICK_TASKS` would pick from, production tasks only, counted up to `?3`.
const COUNT_OPEN_TASKS: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM tasks t \
     WHERE t.project_id = ?1 AND t.open_slots > 0 AND t.gold IS NULL \
       AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.task_id = t.id AND a.user_id = ?2) \
       AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.task_id = t.id AND l.user_id = ?2 \
                       AND (l.live = 1 OR l.released = 1)) \
     LIMIT ?3)";

pub(super) fn value_json(value: &AnswerValue) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(corrupt("answer value"))
}

pub(super) fn parse_value(json: &str) -> Result<AnswerValue, StoreError> {
    serde_json::from_str(json).map_err(corrupt("answer"))
}

impl SyncTx for SqliteTx<'_> {
    fn expire_leases(&mut self, now: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE tasks SET open_slots = open_slots + \
                   (SELECT COUNT(*) FROM leases l \
                    WHERE l.task_id = tasks.id AND l.live = 1 AND l.expires <= ?1) \
                 WHERE id IN (SELECT task_id FROM leases WHERE live = 1 AND expires <= ?1)",
            )?
            .execute([now])?;
        self.conn
            .prepare_cached("UPDATE leases SET live = 0 WHERE live = 1 AND expires <= ?1")?
            .execute([now])?;
        Ok(())
    }

    fn catalogue(&mut self) -> Result<BTreeMap<String, CatalogueEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, version, lease_secs FROM projects")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(1)?,
                CatalogueEntry {
                    id: r.get(0)?,
                    version: r.get(2)?,
                    lease_secs: r.get(3)?,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn project_schema(&mut self, project_id: i64) -> Result<Project, StoreError> {
        let schema: String = self
            .conn
            .prepare_cached("SELECT schema FROM projects WHERE id = ?1")?
            .query_row([project_id], |r| r.get(0))?;
        parse_schema(&schema)
    }

    fn task_home(&mut self, task: i64) -> Result<Option<TaskHome>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT t.project_id, p.overlap FROM tasks t \
                 JOIN projects p ON p.id = t.project_id WHERE t.id = ?1",
            )?
            .query_row([task], |r| {
                Ok(TaskHome {
                    project_id: r.get(0)?,
                    overlap: r.get(1)?,
                })
            })
            .optional()?)
    }

    fn answer_by_client_id(
        &mut self,
        device_id: i64,
        client_id: u64,
    ) -> Result<Option<EarlierAnswer>, StoreError> {
        // Client ids are u64 sequence numbers; stored bit for bit in SQLite's i64.
        let row: Option<(i64, i64, String, bool)> = self
            .conn
            .prepare_cached(
                "SELECT id, task_id, value, superseded_by IS NOT NULL FROM answers \
                 WHERE device_id = ?1 AND client_id = ?2",
            )?
            .query_row(params![device_id, client_id as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        row.map(|(id, task, value, superseded)| {
            Ok(EarlierAnswer {
                id,
                task,
                value: parse_value(&value)?,
                superseded,
            })
        })
        .transpose()
    }

    fn lease(&mut self, task: i64, user_id: i64) -> Result<Option<LeaseState>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT granted, live FROM leases WHERE task_id = ?1 AND user_id = ?2")?
            .query_row(params![task, user_id], |r| {
                Ok(LeaseState {
                    granted: r.get(0)?,
                    live: r.get(1)?,
                })
            })
            .optional()?)
    }

    fn has_counted_answer(&mut self, task: i64, user_id: i64) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM answers \
                 WHERE task_id = ?1 AND user_id = ?2 AND superseded_by IS NULL)",
            )?
            .query_row(params![task, user_id], |r| r.get(0))?)
    }

    fn insert_answer(&mut self, answer: &NewAnswer<'_>) -> Result<i64, StoreError> {
        let value = value_json(answer.value)?;
        self.conn
            .prepare_cached(
                "INSERT INTO answers (device_id, client_id, task_id, user_id, value, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                answer.device_id,
                answer.client_id as i64,
                answer.task,
                answer.user_id,
                value,
                answer.at
            ])?;
        Ok(self.conn.last_insert_rowid())
    }

    fn supersede(&mut self, old: i64, by: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE answers SET superseded_by = ?1 WHERE id = ?2")?
            .execute(params![by, old])?;
        Ok(())
    }

    fn count_answer(&mut self, task: i64, slot_delta: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE tasks SET counted = counted + 1, open_slots = open_slots + ?1 \
                 WHERE id = ?2",
            )?
            .execute(params![slot_delta, task])?;
        Ok(())
    }

    fn move_open_slots(&mut self, task: i64, delta: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE tasks SET open_slots = open_slots + ?1 WHERE id = ?2")?
            .execute(params![delta, task])?;
        Ok(())
    }

    fn end_lease(&mut self, task: i64, user_id: i64, released: bool) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE leases SET live = 0, released = MAX(released, ?3) \
                 WHERE task_id = ?1 AND user_id = ?2",
            )?
            .execute(params![task, user_id, released])?;
        Ok(())
    }

    fn counted_answers(&mut self, task: i64) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT counted FROM tasks WHERE id = ?1")?
            .query_row([task], |r| r.get(0))?)
    }

    fn live_answer_values(&mut self, task: i64) -> Result<Vec<AnswerValue>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT value FROM (\
               SELECT value, 0 AS kazi, id FROM prior_answers WHERE task_id = ?1 \
               UNION ALL \
               SELECT value, 1, id FROM answers WHERE task_id = ?1 AND superseded_by IS NULL) \
             ORDER BY kazi, id",
        )?;
        let values = stmt
            .query_map([task], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        values.iter().map(|v| parse_value(v)).collect()
    }

    fn record_decision(&mut self, task: i64, decision: &Decision) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE tasks SET decided = ?1, agreement = ?2, method = ?3, confidence = ?4 \
                 WHERE id = ?5",
            )?
            .execute(params![
                decision.value,
                decision.agreement,
                decision.method.as_str(),
                decision.confidence,
                task
            ])?;
        Ok(())
    }

    fn unseen_leases(
        &mut self,
        device_id: i64,
        seen: u64,
        limit: usize,
    ) -> Result<Vec<Lease>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.public_id, p.name, t.text, t.suggestion, l.expires, \
             t.clip, c.wire_bytes, c.duration_ms FROM leases l \
             JOIN tasks t ON t.id = l.task_id JOIN projects p ON p.id = t.project_id \
             LEFT JOIN clips c ON c.hash = t.clip \
             WHERE l.device_id = ?1 AND l.live = 1 AND l.reply > ?2 \
             ORDER BY t.public_id LIMIT ?3",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![device_id, seen as i64, limit], |r| {
            Ok(Lease {
                task: r.get(0)?,
                project: r.get(1)?,
                text: r.get(2)?,
                suggestion: r.get(3)?,
                expires: r.get(4)?,
                clip: clip_ref(r.get(5)?, r.get(6)?, r.get(7)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn defer_unseen_leases(
        &mut self,
        device_id: i64,
        seen: u64,
        before: u64,
        to: u64,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE leases SET reply = ?4 \
                 WHERE device_id = ?1 AND live = 1 AND reply > ?2 AND reply < ?3",
            )?
            .execute(params![device_id, seen as i64, before as i64, to as i64])?;
        Ok(())
    }

    fn note_sync(&mut self, device_id: i64, now: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE devices SET last_sync = ?1 WHERE id = ?2")?
            .execute(params![now, device_id])?;
        Ok(())
    }

    fn live_leases_of_device(&mut self, device_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT task_id, user_id FROM leases WHERE device_id = ?1 AND live = 1 \
             ORDER BY task_id",
        )?;
        let held = stmt
            .query_map([device_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(held)
    }

    fn live_leases_held(&mut self, project_id: i64, user_id: i64) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM leases l JOIN tasks t ON t.id = l.task_id \
                 WHERE l.user_id = ?1 AND l.live = 1 AND t.project_id = ?2",
            )?
            .query_row(params![user_id, project_id], |r| r.get(0))?;
        u64::try_from(n).map_err(corrupt("lease count"))
    }

    fn tag_lease_reply(&mut self, public: i64, user_id: i64, reply: u64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE leases SET reply = ?1 \
                 WHERE task_id = (SELECT id FROM tasks WHERE public_id = ?2) AND user_id = ?3",
            )?
            .execute(params![reply as i64, public, user_id])?;
        Ok(())
    }

    fn next_reply(&mut self, device_id: i64) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "UPDATE devices SET replies = replies + 1 WHERE id = ?1 RETURNING replies",
            )?
            .query_row([device_id], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn pick_open_tasks(
        &mut self,
        project_id: i64,
        user_id: i64,
        limit: usize,
        skip_gold: bool,
    ) -> Result<Vec<OpenTask>, StoreError> {
        // The writer is the only one: no row locks needed.
        let mut pick = self.conn.prepare_cached(PICK_TASKS)?;
        let picked = pick
            .query_map(params![project_id, user_id, limit as i64, skip_gold], |r| {
                Ok(OpenTask {
                    task: r.get(0)?,
                    public: r.get(1)?,
                    text: r.get(2)?,
                    suggestion: r.get(3)?,
                    clip: clip_ref(r.get(4)?, r.get(5)?, r.get(6)?),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(picked)
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
        self.conn
            .prepare_cached(
                "INSERT INTO leases (task_id, user_id, granted, expires, live, device_id, reply) \
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6) \
                 ON CONFLICT (task_id, user_id) DO UPDATE SET granted = excluded.granted, \
                   expires = excluded.expires, live = 1, device_id = excluded.device_id, \
                   reply = excluded.reply",
            )?
            .execute(params![
                task,
                user_id,
                granted,
                expires,
                device_id,
                reply as i64
            ])?;
        Ok(())
    }

    fn open_tasks_for(
        &mut self,
        project_id: i64,
        user_id: i64,
        cap: u32,
    ) -> Result<u32, StoreError> {
        let n: i64 = self
            .conn
            .prepare_cached(COUNT_OPEN_TASKS)?
            .query_row(params![project_id, user_id, cap], |r| r.get(0))?;
        Ok(u32::try_from(n).unwrap_or(cap))
    }

    fn answers_since(&mut self, user_id: i64, since: i64) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM answers \
                 WHERE user_id = ?1 AND at >= ?2 AND superseded_by IS NULL",
            )?
            .query_row(params![user_id, since], |r| r.get(0))?;
        u64::try_from(n).map_err(corrupt("answer count"))
    }

    fn move_project_open_slots(&mut self, project_id: i64, delta: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("UPDATE tasks SET open_slots = open_slots + ?1 WHERE project_id = ?2")?
            .execute(params![delta, project_id])?;
        Ok(())
    }

    fn clear_decisions_below(&mut self, project_id: i64, overlap: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE tasks SET decided = NULL, agreement = NULL, method = NULL, \
                 confidence = NULL WHERE project_id = ?1 AND counted < ?2",
            )?
            .execute(params![project_id, overlap])?;
        Ok(())
    }

    fn undecided_complete_tasks(
        &mut self,
        project_id: i64,
        overlap: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM tasks WHERE project_id = ?1 AND counted >= ?2 AND agreement IS NULL",
        )?;
        let ready = stmt
            .query_map(params![project_id, overlap], |r| r.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ready)
    }

    fn enqueue_review(
        &mut self,
        item: &NewReviewItem,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        review::enqueue(self.conn, item, now)
    }

    fn next_review_item(
        &mut self,
        filter: &ReviewFilter,
        reviewer: i64,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        review::next_free(self.conn, filter, reviewer, now)
    }

    fn review_item(&mut self, id: i64) -> Result<Option<ReviewItem>, StoreError> {
        review::item(self.conn, id)
    }

    fn lease_review_item(&mut self, id: i64, lease: Option<ReviewLease>) -> Result<(), StoreError> {
        review::lease(self.conn, id, lease)
    }

    fn decide_review_item(&mut self, id: i64, verdict: &Verdict) -> Result<(), StoreError> {
        review::decide(self.conn, id, verdict)
    }

    fn is_assigned_reviewer(&mut self, user_id: i64, project_id: i64) -> Result<bool, StoreError> {
        review::is_assigned(self.conn, user_id, project_id)
    }

    fn pseudonym_key(&mut self) -> Result<crate::server::pseudonym::PseudonymKey, StoreError> {
        super::impact::pseudonym_key(self.conn)
    }

    fn task_under_review(&mut self, task: i64) -> Result<Option<TaskUnderReview>, StoreError> {
        review::task_under_review(self.conn, task)
    }

    fn answers_under_review(&mut self, task: i64) -> Result<Vec<AnswerUnderReview>, StoreError> {
        review::answers_under_review(self.conn, task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;
    use crate::protocol::Want;
    use crate::protocol::{AnswerUpload, SyncRequest};
    use crate::server::store::NewTask;
    use crate::server::store::{Principal, SqliteStore, Store};

    fn principal(store: &SqliteStore, name: &str) -> Principal {
        let code = [1u8; 32];
        let token = crate::server::secret::hash_token(name);
        store
            .put_user(name, Role::Worker, &code, i64::MAX, 0)
            .unwrap();
        store.redeem_enrolment(name, &code, "d", &token, 0).unwrap();
        store.authenticate(&token).unwrap().unwrap()
    }

    fn want(n: u32) -> SyncRequest {
        SyncRequest {
            want: vec![Want {
                project: "p".into(),
                count: n,
            }],
            ..SyncRequest::default()
        }
    }

    fn answer(id: u64, task: i64) -> AnswerUpload {
        AnswerUpload {
            id,
            task,
            value: AnswerValue::Labels(vec!["a".into()]),
            ago: 0,
            replaces: None,
        }
    }

    /// Rows stored before answers were normalised (labels in the order clicked) still
    /// vote with the same labels in another order.
    #[test]
    fn older_rows_in_another_label_order_are_one_vote() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
        let project = Project::from_toml(
            "p.toml",
            "name = \"p\"\ntitle = \"P\"\nkind = \"classify\"\nmulti_label = true\n\
             overlap = 2\nlease = \"1h\"\n\
             [[labels]]\nid = \"a\"\nname = \"A\"\nkey = \"1\"\n\
             [[labels]]\nid = \"b\"\nname = \"B\"\nkey = \"2\"\n",
        )
        .unwrap();
        store.put_project(&project, 0).unwrap();
        let mut tasks = std::iter::once(Ok(NewTask {
            id: "t1".into(),
            text: "task 1".into(),
            suggestion: None,
            gold: None,
            gold_spec: None,
            prior: Vec::new(),
            clip: None,
        }));
        store.import_tasks("p", &mut tasks).unwrap();
        let (x, y) = (principal(&store, "x"), principal(&store, "y"));
        let now = 1_000_000;
        let task = store.sync(&x, want(1), now).unwrap().leases[0].task;
        store.sync(&y, want(1), now).unwrap();
        let both = |id| AnswerUpload {
            value: AnswerValue::Labels(vec!["a".into(), "b".into()]),
            ..answer(id, task)
        };
        let mut req = want(0);
        req.answers = vec![both(1)];
        store.sync(&x, req, now).unwrap();
        // As an older build stored it: in the order the worker pressed the keys.
        let old_row = r#"{"labels":["b","a"]}"#;
        let changed = store
            .writer
            .run(move |conn| Ok(conn.execute("UPDATE answers SET value = ?1", [old_row])?))
            .unwrap();
        assert_eq!(changed, 1);

        let mut req = want(0);
        req.answers = vec![both(1)];
        store.sync(&y, req, now).unwrap();
        let mut decided = Vec::new();
        store
            .export("p", &mut |t| {
                decided.push((t.decided, t.agreement));
                Ok(())
            })
            .unwrap();
        assert_eq!(decided, [(Some("a|b".to_string()), Some(1.0))]);
    }

    /// The lease query must stay cheap on big projects: it walks the partial index of
    /// tasks with open slots and sorts nothing.
    #[test]
    fn lease_query_walks_the_open_task_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
        let plan: Vec<String> = store
            .read(|conn| {
                let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {PICK_TASKS}"))?;
                let rows = stmt.query_map(params![1, 1, 5, true], |r| r.get::<_, String>(3))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .unwrap();
        assert!(
            plan.iter().any(|p| p.contains("tasks_open")),
            "plan: {plan:?}"
        );
        assert!(
            !plan.iter().any(|p| p.contains("TEMP B-TREE")),
            "plan: {plan:?}"
        );
    }
}

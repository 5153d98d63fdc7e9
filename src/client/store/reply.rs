//! Applying a server reply: acknowledgements, schemas, new leases, pruning and sync
//! state, all in one transaction.

use rusqlite::params;

use crate::protocol::{AckStatus, SyncRequest, SyncResponse};

use super::{KEEP_ANSWERED, LocalStore, StoreError, begin_write, db_error, local_now, to_json};

impl LocalStore {
    /// Apply a server reply to the request it answers, in one transaction.
    pub fn apply(
        &mut self,
        request: &SyncRequest,
        response: &SyncResponse,
    ) -> Result<Applied, StoreError> {
        let db = db_error(&self.path);
        let tx = begin_write(&mut self.conn).map_err(db)?;
        let mut applied = Applied::default();
        for ack in &response.acks {
            // Only acks for answers this request carried count; anything else is ignored.
            if !request.answers.iter().any(|a| a.id == ack.id) {
                continue;
            }
            match &ack.status {
                AckStatus::Ok | AckStatus::Dup => {
                    tx.execute("UPDATE outbox SET sent = 1 WHERE id = ?1", [ack.id as i64])
                        .map_err(db)?;
                    applied.stored += 1;
                }
                AckStatus::Conflict(why) | AckStatus::Rejected(why) => {
                    tx.execute(
                        "UPDATE outbox SET sent = 2, reason = ?2 WHERE id = ?1",
                        params![ack.id as i64, why],
                    )
                    .map_err(db)?;
                    applied.refused.push(why.clone());
                }
            }
        }
        for task in &request.released {
            tx.execute("DELETE FROM released WHERE task = ?1", [task])
                .map_err(db)?;
        }
        for p in &response.projects {
            let json = to_json("a project's schema", p)?;
            tx.execute(
                "INSERT INTO projects (name, version, schema) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET version = excluded.version, schema = excluded.schema",
                params![p.name, p.version(), json],
            )
            .map_err(db)?;
            applied.schemas += 1;
        }
        for w in &response.waiting {
            tx.execute(
                "UPDATE projects SET waiting = ?2 WHERE name = ?1",
                params![w.project, w.tasks],
            )
            .map_err(db)?;
        }
        applied.training = super::training::apply(&tx, &self.path, request, response)?;
        for name in &response.removed {
            tx.execute("DELETE FROM projects WHERE name = ?1", [name])
                .map_err(db)?;
            tx.execute("DELETE FROM tasks WHERE project = ?1 AND state = 0", [name])
                .map_err(db)?;
        }
        // Arrival numbers only grow, even after pruning removed the newest task: the screen
        // pages through the queue by them and would never see a reused one.
        let mut seq: i64 = tx
            .query_row(
                "SELECT max(coalesce((SELECT value FROM meta WHERE key = 'task_seq'), 0),
                            coalesce((SELECT max(seq) FROM tasks), 0))",
                [],
                |r| r.get(0),
            )
            .map_err(db)?;
        for lease in &response.leases {
            seq += 1;
            let clip = match &lease.clip {
                Some(c) => Some(to_json("a task's clip", c)?),
                None => None,
            };
            let n = tx
                .execute(
                    "INSERT OR IGNORE INTO tasks (id, project, text, suggestion, expires, seq, clip)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        lease.task,
                        lease.project,
                        lease.text,
                        lease.suggestion,
                        lease.expires,
                        seq,
                        clip
                    ],
                )
                .map_err(db)?;
            applied.new_tasks += n;
            // The server's count included this task; until it counts again, it is here.
            if n > 0 && !response.waiting.iter().any(|w| w.project == lease.project) {
                tx.execute(
                    "UPDATE projects SET waiting = max(waiting - 1, 0)
                     WHERE name = ?1 AND waiting IS NOT NULL",
                    [&lease.project],
                )
                .map_err(db)?;
            }
        }
        // Prune old answered tasks whose answers the server holds; keep some for undo.
        tx.execute(
            "DELETE FROM tasks WHERE state != 0 AND id NOT IN
               (SELECT task FROM outbox WHERE sent = 0 OR id > (SELECT coalesce(max(id), 0) - ?1 FROM outbox))",
            [KEEP_ANSWERED],
        )
        .map_err(db)?;
        tx.execute(
            "DELETE FROM outbox WHERE sent = 1 AND id <= (SELECT coalesce(max(id), 0) - ?1 FROM outbox)",
            [KEEP_ANSWERED],
        )
        .map_err(db)?;
        if response.reply > 0 {
            // Never backwards: a slower concurrent sync (kazi sync beside kazi work) may
            // apply an older reply after a newer one.
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('seen_reply', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
                [response.reply as i64],
            )
            .map_err(db)?;
        }
        for (key, value) in [
            ("task_seq", seq),
            ("last_sync", response.now),
            ("clock_offset", response.now - local_now()),
            ("done_today", i64::from(response.done_today)),
        ] {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map_err(db)?;
        }
        applied.feedback = super::feedback::apply_feedback(&tx, &self.path, response)?;
        applied.progress = super::progress::apply_progress(&tx, &self.path, response)?;
        tx.commit().map_err(db)?;
        Ok(applied)
    }
}

/// What one applied sync changed locally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub stored: usize,
    pub refused: Vec<String>,
    pub new_tasks: usize,
    pub schemas: usize,
    /// Feedback items this reply brought that were not here before.
    pub feedback: Vec<crate::protocol::FeedbackItem>,
    /// Lesson sets, exam standings and attempts that changed.
    pub training: usize,
    /// The reply brought fresh progress figures.
    pub progress: bool,
}

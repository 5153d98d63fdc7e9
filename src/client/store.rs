//! The local store: one SQLite file per profile (WAL, synchronous=FULL) holding the task
//! cache, the outbox of answers, drafts, and sync state. An answer is committed here,
//! fsynced, before the screen moves on.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::model::{AnswerValue, Project, Task};
use crate::protocol::{AckStatus, AnswerUpload, SyncRequest, SyncResponse};

use super::plan::{LocalState, UnsentAnswer};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("local database {path}: {message}")]
    Db { path: String, message: String },
    #[error("task {0} is not in the local cache")]
    NoTask(i64),
}

/// What `kazi status` and the status line show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Tasks cached and not yet answered or skipped.
    pub queued: u32,
    /// Answers saved here and not yet acknowledged by the server.
    pub unsent: u32,
    /// Answers the server refused (kept for the record).
    pub refused: u32,
    /// Answers today: the server's count at the last sync plus those not yet sent.
    pub done_today: u32,
    /// Server time of the last successful sync, if any.
    pub last_sync: Option<i64>,
}

/// An answer taken back by undo: the task returns to the front of the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undone {
    pub task: Task,
    pub previous: AnswerValue,
}

pub struct LocalStore {
    conn: Connection,
    path: String,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    name TEXT PRIMARY KEY, version TEXT NOT NULL, schema TEXT NOT NULL);
-- state: 0 queued, 1 answered, 2 skipped. `replaces`: a sent answer taken back by undo,
-- which the next answer to this task corrects on the server.
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY, project TEXT NOT NULL, text TEXT NOT NULL, suggestion TEXT,
    expires INTEGER NOT NULL, seq INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0,
    replaces INTEGER);
CREATE INDEX IF NOT EXISTS tasks_queue ON tasks(project, state, seq);
-- AUTOINCREMENT: an answer id is never reused, even after a withdrawn answer is deleted,
-- because the server treats a reused id with other content as a conflict.
-- sent: 0 unsent, 1 stored by the server, 2 refused by the server. undone: taken back.
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, task INTEGER NOT NULL, project TEXT NOT NULL,
    value TEXT NOT NULL, answered_at INTEGER NOT NULL, replaces INTEGER,
    sent INTEGER NOT NULL DEFAULT 0, undone INTEGER NOT NULL DEFAULT 0, reason TEXT);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox(sent, id);
CREATE TABLE IF NOT EXISTS released (task INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS drafts (task INTEGER PRIMARY KEY, value TEXT NOT NULL);
";

/// Answered tasks kept in the cache for undo; older ones are pruned once acknowledged.
const KEEP_ANSWERED: i64 = 200;

/// Turns SQLite errors into `StoreError`s naming this database file.
fn db_error(path: &str) -> impl Fn(rusqlite::Error) -> StoreError + Copy + '_ {
    move |e| StoreError::Db {
        path: path.to_string(),
        message: e.to_string(),
    }
}

fn local_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A write transaction, started IMMEDIATE: the screen and the sync engine hold separate
/// connections, and a deferred transaction that read before the other's commit cannot
/// become a writer (SQLite answers "database is locked" at once, without waiting).
fn begin_write(conn: &mut Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

impl LocalStore {
    pub fn open(path: &Path) -> Result<LocalStore, StoreError> {
        let shown = path.display().to_string();
        let err = |e: rusqlite::Error| StoreError::Db {
            path: shown.clone(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Db {
                path: shown.clone(),
                message: e.to_string(),
            })?;
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;",
        )
        .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(LocalStore { conn, path: shown })
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        db_error(&self.path)(e)
    }

    fn meta(&self, key: &str) -> Result<Option<i64>, StoreError> {
        self.conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")
            .and_then(|mut stmt| stmt.query_row([key], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))
    }

    /// Projects whose schema this device holds, by name.
    pub fn projects(&self) -> Result<Vec<Project>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT schema FROM projects ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for json in rows {
            let json = json.map_err(|e| self.err(e))?;
            // A schema this build cannot read (from a newer server) is left out of the
            // list rather than crashing; the next sync replaces it.
            if let Ok(p) = serde_json::from_str::<Project>(&json) {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// Up to `limit` queued tasks of `project` that arrived after `after_seq`, in order,
    /// with the seq of the last one (to ask for the next page).
    pub fn queued_tasks(
        &self,
        project: &str,
        after_seq: i64,
        limit: usize,
    ) -> Result<(Vec<Task>, i64), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, text, suggestion, seq FROM tasks
                 WHERE project = ?1 AND state = 0 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )
            .map_err(|e| self.err(e))?;
        let mut last = after_seq;
        let rows = stmt
            .query_map(params![project, after_seq, limit as i64], |r| {
                Ok((
                    Task {
                        id: r.get(0)?,
                        project: project.to_string(),
                        text: r.get(1)?,
                        suggestion: r.get(2)?,
                    },
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut tasks = Vec::new();
        for row in rows {
            let (task, seq) = row.map_err(|e| self.err(e))?;
            last = last.max(seq);
            tasks.push(task);
        }
        Ok((tasks, last))
    }

    /// Save an answer durably (committed and fsynced on return) and take the task out of
    /// the queue. Returns the answer's id.
    pub fn record_answer(&mut self, task: &Task, value: &AnswerValue) -> Result<u64, StoreError> {
        let json = serde_json::to_string(value).unwrap_or_default();
        let db = db_error(&self.path);
        let tx = begin_write(&mut self.conn).map_err(&db)?;
        // Cached statements: this runs on every answer key, between key and frame.
        let replaces: Option<Option<i64>> = tx
            .prepare_cached("SELECT replaces FROM tasks WHERE id = ?1")
            .and_then(|mut stmt| stmt.query_row([task.id], |r| r.get(0)).optional())
            .map_err(&db)?;
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
        .map_err(&db)?;
        let id = tx.last_insert_rowid();
        for sql in [
            "UPDATE tasks SET state = 1, replaces = NULL WHERE id = ?1",
            "DELETE FROM drafts WHERE task = ?1",
        ] {
            tx.prepare_cached(sql)
                .and_then(|mut stmt| stmt.execute([task.id]))
                .map_err(&db)?;
        }
        tx.commit().map_err(&db)?;
        Ok(id as u64)
    }

    /// Take back the newest answer of `project` not already taken back. An unsent answer is
    /// withdrawn; a sent one stays on the server until the task's next answer replaces it.
    pub fn undo_last(&mut self, project: &str) -> Result<Option<Undone>, StoreError> {
        let db = db_error(&self.path);
        let tx = begin_write(&mut self.conn).map_err(db)?;
        let last = tx
            .query_row(
                "SELECT o.id, o.task, o.value, o.sent, o.replaces, t.text, t.suggestion
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
                    ))
                },
            )
            .optional()
            .map_err(db)?;
        let Some((id, task_id, value, sent, replaces, text, suggestion)) = last else {
            return Ok(None);
        };
        let Ok(previous) = serde_json::from_str::<AnswerValue>(&value) else {
            return Ok(None);
        };
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
            },
            previous,
        }))
    }

    /// Skip a task: it leaves the queue and its lease goes back at the next sync.
    pub fn skip(&mut self, task_id: i64) -> Result<(), StoreError> {
        let db = db_error(&self.path);
        let tx = begin_write(&mut self.conn).map_err(db)?;
        let n = tx
            .execute(
                "UPDATE tasks SET state = 2 WHERE id = ?1 AND state = 0",
                [task_id],
            )
            .map_err(db)?;
        if n == 0 {
            return Err(StoreError::NoTask(task_id));
        }
        tx.execute(
            "INSERT OR IGNORE INTO released (task) VALUES (?1)",
            [task_id],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// Keep a half-done answer (saved as typed).
    pub fn save_draft(&self, task_id: i64, value: &AnswerValue) -> Result<(), StoreError> {
        let json = serde_json::to_string(value).unwrap_or_default();
        self.conn
            .execute(
                "INSERT INTO drafts (task, value) VALUES (?1, ?2)
                 ON CONFLICT(task) DO UPDATE SET value = excluded.value",
                params![task_id, json],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    pub fn draft(&self, task_id: i64) -> Result<Option<AnswerValue>, StoreError> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT value FROM drafts WHERE task = ?1", [task_id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    pub fn counts(&self, project: Option<&str>) -> Result<Counts, StoreError> {
        // Cached, and one query per case so the project's count walks its index: this
        // runs after every answer key.
        let count = |sql: &str, args: &[&dyn rusqlite::ToSql]| -> Result<u32, StoreError> {
            self.conn
                .prepare_cached(sql)
                .and_then(|mut stmt| stmt.query_row(args, |r| r.get::<_, i64>(0)))
                .map(|n| n as u32)
                .map_err(|e| self.err(e))
        };
        let queued = match project {
            Some(p) => count(
                "SELECT count(*) FROM tasks WHERE project = ?1 AND state = 0",
                &[&p],
            )?,
            None => count("SELECT count(*) FROM tasks WHERE state = 0", &[])?,
        };
        let unsent = count("SELECT count(*) FROM outbox WHERE sent = 0", &[])?;
        let refused = count("SELECT count(*) FROM outbox WHERE sent = 2", &[])?;
        let done_server = self.meta("done_today")?.unwrap_or(0) as u32;
        Ok(Counts {
            queued,
            unsent,
            refused,
            done_today: done_server + unsent,
            last_sync: self.meta("last_sync")?,
        })
    }

    /// Answers the server refused, newest first, with its reason.
    pub fn refused(&self, limit: usize) -> Result<Vec<(u64, i64, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, task, coalesce(reason, '') FROM outbox WHERE sent = 2 ORDER BY id DESC LIMIT ?1")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// A two-column query as a map from the first column.
    fn pairs<T: rusqlite::types::FromSql>(
        &self,
        sql: &str,
    ) -> Result<BTreeMap<String, T>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, T>(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// A snapshot of what the sync planner needs.
    pub fn local_state(&self, active: Option<&str>) -> Result<LocalState, StoreError> {
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
        let mut unsent = Vec::new();
        for row in rows {
            let (id, task, value, at, replaces) = row.map_err(|e| self.err(e))?;
            let Ok(value) = serde_json::from_str(&value) else {
                continue;
            };
            unsent.push(UnsentAnswer {
                upload: AnswerUpload {
                    id: id as u64,
                    task,
                    value,
                    // A clock set back makes this negative: treat as "just now".
                    ago: (now - at).clamp(0, u32::MAX as i64) as u32,
                    replaces: replaces.map(|r| r as u64),
                },
            });
        }
        let released = self
            .conn
            .prepare_cached("SELECT task FROM released ORDER BY task")
            .and_then(|mut s| {
                s.query_map([], |r| r.get(0))?
                    .collect::<Result<Vec<i64>, _>>()
            })
            .map_err(|e| self.err(e))?;
        let known = self.pairs::<String>("SELECT name, version FROM projects")?;
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
        })
    }

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
            let json = serde_json::to_string(p).unwrap_or_default();
            tx.execute(
                "INSERT INTO projects (name, version, schema) VALUES (?1, ?2, ?3)
                 ON CONFLICT(name) DO UPDATE SET version = excluded.version, schema = excluded.schema",
                params![p.name, p.version(), json],
            )
            .map_err(db)?;
            applied.schemas += 1;
        }
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
            let n = tx
                .execute(
                    "INSERT OR IGNORE INTO tasks (id, project, text, suggestion, expires, seq)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        lease.task,
                        lease.project,
                        lease.text,
                        lease.suggestion,
                        lease.expires,
                        seq
                    ],
                )
                .map_err(db)?;
            applied.new_tasks += n;
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
}

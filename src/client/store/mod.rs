//! The local store: one SQLite file per profile (WAL, synchronous=FULL) holding the task
//! cache, the outbox of answers, drafts, and sync state. An answer is committed here,
//! fsynced, before the screen moves on. The schema is versioned (schema.rs).

mod class;
mod clips;
mod feedback;
mod outbox;
mod progress;
mod reply;
mod schema;
mod training;

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use crate::model::{AnswerValue, Project, Task};

pub use reply::Applied;
pub use schema::STORE_VERSION;
pub use training::{HeldAttempt, LessonPlace, TrainingBook};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another connection holds the write lock past the busy timeout: try again.
    #[error("local database {path} is busy (another Kazi is writing to it); try again")]
    Busy {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("local database {path}: {source}")]
    Db {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot create the folder of local database {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: this profile's data was written by a newer Kazi (store version {found}, this Kazi knows {known}): update Kazi"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("task {0} is not in the local cache")]
    NoTask(i64),
    #[error("{what} cannot be saved: {source}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{what} saved here cannot be read: {source}")]
    Unreadable {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("the kept choice for task {task} cannot be read: {source}")]
    BadDraft {
        task: i64,
        #[source]
        source: serde_json::Error,
    },
    #[error("answer {id} (task {task}) saved here cannot be read: {source}")]
    BadAnswer {
        id: u64,
        task: i64,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0} answer(s) here are not sent yet")]
    Unsent(u32),
    /// A training record kept here (lesson set, exam standing or attempt) is damaged.
    #[error("{what} kept on this computer cannot be read: {source}")]
    BadTraining {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

impl StoreError {
    /// Whether the same call may succeed if made again shortly.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Busy { .. })
    }
}

/// What `kazi status` and the status line show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Tasks cached and not yet answered or skipped.
    pub queued: u32,
    /// Answers saved here and not yet acknowledged by the server, and exam attempts
    /// answered whole and not yet graded.
    pub unsent: u32,
    /// Answers refused (kept for the record): by the server, or set aside here because
    /// they could not be read.
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

/// A cached project schema this build cannot read (written by a newer Kazi, or damaged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableProject {
    pub name: String,
    pub reason: String,
}

pub struct LocalStore {
    conn: Connection,
    path: String,
}

/// Answered tasks kept in the cache for undo; older ones are pruned once acknowledged.
const KEEP_ANSWERED: i64 = 200;

/// Turns SQLite errors into `StoreError`s naming this database file, keeping the kind.
fn db_error(path: &str) -> impl Fn(rusqlite::Error) -> StoreError + Copy + '_ {
    move |source| {
        let path = path.to_string();
        match source.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                StoreError::Busy { path, source }
            }
            _ => StoreError::Db { path, source },
        }
    }
}

/// JSON for a column, or an error: never an empty string in place of a worker's answer.
fn to_json<T: Serialize + ?Sized>(what: &'static str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Encode { what, source })
}

/// A task's clip column (JSON of its `ClipRef`); a value that does not parse is an
/// error of the row, never a task without audio.
pub(super) fn clip_column(
    r: &rusqlite::Row<'_>,
    idx: usize,
) -> rusqlite::Result<Option<crate::model::ClipRef>> {
    match r.get::<_, Option<String>>(idx)? {
        None => Ok(None),
        Some(json) => serde_json::from_str(&json).map(Some).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, e.into())
        }),
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
    /// Open (or create) the store at `path` and bring its schema up to date. A store
    /// written by a newer Kazi is refused and left as it is.
    pub fn open(path: &Path) -> Result<LocalStore, StoreError> {
        let shown = path.display().to_string();
        let err = db_error(&shown);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: shown.clone(),
                source,
            })?;
        }
        let mut conn = Connection::open(path).map_err(err)?;
        conn.execute_batch("PRAGMA busy_timeout=5000;")
            .map_err(err)?;
        // Before WAL is switched on: that alone would rewrite a newer build's file.
        schema::refuse_newer(&conn, &shown)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;")
            .map_err(err)?;
        schema::migrate(&mut conn, &shown)?;
        let store = LocalStore { conn, path: shown };
        // Unreadable answers are set aside now, so the counts shown are honest at once.
        store.unsent_answers()?;
        Ok(store)
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

    /// Every cached schema, parsed: readable projects by name, and those this build
    /// cannot read.
    fn project_rows(&self) -> Result<(Vec<Project>, Vec<UnreadableProject>), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name, schema FROM projects ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        let (mut readable, mut unreadable) = (Vec::new(), Vec::new());
        for row in rows {
            let (name, json) = row.map_err(|e| self.err(e))?;
            match serde_json::from_str::<Project>(&json) {
                Ok(p) => readable.push(p),
                Err(e) => unreadable.push(UnreadableProject {
                    name,
                    reason: e.to_string(),
                }),
            }
        }
        Ok((readable, unreadable))
    }

    /// Projects whose schema this device holds and can read, by name. Those it cannot
    /// read are listed by `unreadable_projects`.
    pub fn projects(&self) -> Result<Vec<Project>, StoreError> {
        Ok(self.project_rows()?.0)
    }

    /// Cached schemas this build cannot read (a newer server's, or damaged), so the
    /// caller can say "project X needs a newer Kazi"; the next sync replaces them.
    pub fn unreadable_projects(&self) -> Result<Vec<UnreadableProject>, StoreError> {
        Ok(self.project_rows()?.1)
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
                "SELECT id, text, suggestion, seq, clip FROM tasks
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
                        clip: clip_column(r, 4)?,
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
        let json = to_json("the choice", value)?;
        self.conn
            .execute(
                "INSERT INTO drafts (task, value) VALUES (?1, ?2)
                 ON CONFLICT(task) DO UPDATE SET value = excluded.value",
                params![task_id, json],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The draft kept for a task, if any. One that cannot be read is an error
    /// (`BadDraft`), not a missing draft: the worker is told their choice was lost.
    pub fn draft(&self, task_id: i64) -> Result<Option<AnswerValue>, StoreError> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT value FROM drafts WHERE task = ?1", [task_id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|source| StoreError::BadDraft {
                task: task_id,
                source,
            })
        })
        .transpose()
    }

    /// Tasks waiting for this worker per project: cached here and not yet answered or
    /// skipped, plus those the server last said it holds for them (projects with neither
    /// known are left out).
    pub fn waiting_by_project(
        &self,
    ) -> Result<std::collections::BTreeMap<String, u32>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT name, coalesce(waiting, 0) + coalesce(q.n, 0) \
                 FROM projects p LEFT JOIN queued q ON q.project = p.name \
                 WHERE waiting IS NOT NULL OR q.n > 0",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u32))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// What the status line shows; asked for after every key, so each figure is read
    /// from an index or a kept count (the queued count is kept by the store's triggers).
    pub fn counts(&self, project: Option<&str>) -> Result<Counts, StoreError> {
        let count = |sql: &str, args: &[&dyn rusqlite::ToSql]| -> Result<u32, StoreError> {
            self.conn
                .prepare_cached(sql)
                .and_then(|mut stmt| stmt.query_row(args, |r| r.get::<_, i64>(0)))
                .map(|n| n as u32)
                .map_err(|e| self.err(e))
        };
        let queued = match project {
            Some(p) => count(
                "SELECT coalesce(sum(n), 0) FROM queued WHERE project = ?1",
                &[&p],
            )?,
            None => count("SELECT coalesce(sum(n), 0) FROM queued", &[])?,
        };
        // An exam answered whole waits to be sent like an answer.
        let unsent =
            count("SELECT count(*) FROM outbox WHERE sent = 0", &[])? + self.exams_waiting()?;
        let refused = count("SELECT count(*) FROM outbox WHERE sent = 2", &[])?;
        let done_server = self.meta("done_today")?.unwrap_or(0) as u32;
        // A correction replaces an answer the server already counted: not more work.
        let new_unsent = count(
            "SELECT count(*) FROM outbox WHERE sent = 0 AND replaces IS NULL",
            &[],
        )?;
        Ok(Counts {
            queued,
            unsent,
            refused,
            done_today: done_server + new_unsent,
            last_sync: self.meta("last_sync")?,
        })
    }

    /// Answers refused, newest first, with the reason.
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

    /// Before another user logs in on this profile: drop what the last user was given
    /// (cached tasks and their leases, drafts, answer history, schemas, sync state), so
    /// nothing is answered under the wrong name. Refused with `Unsent` while any answer
    /// waits to be sent; checked and cleared in one transaction.
    pub fn forget_user(&mut self) -> Result<(), StoreError> {
        let db = db_error(&self.path);
        let tx = begin_write(&mut self.conn).map_err(db)?;
        let unsent: i64 = tx
            .query_row("SELECT count(*) FROM outbox WHERE sent = 0", [], |r| {
                r.get(0)
            })
            .map_err(db)?;
        let exams: i64 = tx
            .query_row(
                "SELECT count(*) FROM exam_attempts WHERE state = 1",
                [],
                |r| r.get(0),
            )
            .map_err(db)?;
        if unsent + exams > 0 {
            return Err(StoreError::Unsent((unsent + exams) as u32));
        }
        // `task_seq` stays: arrival numbers only grow.
        tx.execute_batch(
            "DELETE FROM tasks; DELETE FROM released; DELETE FROM drafts; DELETE FROM outbox;
             DELETE FROM projects; DELETE FROM meta WHERE key != 'task_seq';
             DELETE FROM lesson_sets; DELETE FROM exam_standings; DELETE FROM exam_attempts;
             DELETE FROM exam_answers; DELETE FROM lesson_places;",
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// After a new login by the same user: the server numbers the replies of each
    /// device (token) from the start, so the last number seen by the old one means
    /// nothing to the new one and would hide lost leases.
    pub fn forget_reply_numbers(&self) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM meta WHERE key = 'seen_reply'", [])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_that_cannot_be_serialised_is_an_error_not_an_empty_string() {
        // JSON object keys must be strings: this map cannot be written.
        let value: BTreeMap<Vec<u8>, u8> = [(vec![1u8], 1u8)].into();
        let err = to_json("the answer", &value).unwrap_err();
        assert!(matches!(err, StoreError::Encode { .. }), "{err}");
        assert!(err.to_string().starts_with("the answer cannot be saved"));
    }

    #[test]
    fn a_busy_database_is_its_own_kind() {
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            None,
        );
        let err = db_error("x.db")(busy);
        assert!(err.is_retryable(), "{err}");
        assert!(std::error::Error::source(&err).is_some());
        let other = db_error("x.db")(rusqlite::Error::InvalidQuery);
        assert!(!other.is_retryable());
    }
}

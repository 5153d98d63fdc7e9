//! The local store's schema and its versions. A store lives on a worker's machine for
//! years, so its version is kept in `PRAGMA user_version` and every change is a new
//! migration appended to `MIGRATIONS`, run in order in one transaction.

use rusqlite::{Connection, TransactionBehavior};

use super::{StoreError, db_error};

/// `MIGRATIONS[i]` brings a store from version `i` to `i + 1`. Never edit a shipped
/// entry: stores on workers' machines already ran it. Append a new one.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the task cache, the outbox, drafts and sync state.
    "
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE projects (
    name TEXT PRIMARY KEY, version TEXT NOT NULL, schema TEXT NOT NULL);
-- state: 0 queued, 1 answered, 2 skipped. `replaces`: a sent answer taken back by undo,
-- which the next answer to this task corrects on the server.
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY, project TEXT NOT NULL, text TEXT NOT NULL, suggestion TEXT,
    expires INTEGER NOT NULL, seq INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0,
    replaces INTEGER);
CREATE INDEX tasks_queue ON tasks(project, state, seq);
-- AUTOINCREMENT: an answer id is never reused, even after a withdrawn answer is deleted,
-- because the server treats a reused id with other content as a conflict.
-- sent: 0 unsent, 1 stored by the server, 2 refused (by the server, or set aside here
-- because it could not be read). undone: taken back.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, task INTEGER NOT NULL, project TEXT NOT NULL,
    value TEXT NOT NULL, answered_at INTEGER NOT NULL, replaces INTEGER,
    sent INTEGER NOT NULL DEFAULT 0, undone INTEGER NOT NULL DEFAULT 0, reason TEXT);
CREATE INDEX outbox_unsent ON outbox(sent, id);
CREATE TABLE released (task INTEGER PRIMARY KEY);
CREATE TABLE drafts (task INTEGER PRIMARY KEY, value TEXT NOT NULL);
",
    // 2: the feedback inbox (items as the server numbered them, JSON), the worker's
    // accuracy per project (cached for offline), and contests and flags waiting to go.
    "
CREATE TABLE feedback (id INTEGER PRIMARY KEY, item TEXT NOT NULL);
CREATE TABLE accuracy (project TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT, report TEXT NOT NULL, sent INTEGER NOT NULL DEFAULT 0);
",
    // 3: a task's audio clip (JSON of its ClipRef), fetched into the clip cache.
    "
ALTER TABLE tasks ADD COLUMN clip TEXT;
",
    // 4: training: lesson sets (with gold), exam standings, the attempts held and their
    // answers as given. state: 0 open, 1 answered whole (waits for the server's grade),
    // 2 graded, 3 not taken by the server (reason says why).
    "
CREATE TABLE lesson_sets (project TEXT PRIMARY KEY, version TEXT NOT NULL, tasks TEXT NOT NULL);
CREATE TABLE exam_standings (project TEXT PRIMARY KEY, standing TEXT NOT NULL);
CREATE TABLE exam_attempts (
    id INTEGER PRIMARY KEY, project TEXT NOT NULL, pass_mark INTEGER NOT NULL,
    tasks TEXT NOT NULL, state INTEGER NOT NULL DEFAULT 0, reason TEXT);
CREATE TABLE exam_answers (
    attempt INTEGER NOT NULL, item INTEGER NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (attempt, item));
",
    // 5: tasks waiting on the server for this worker per project, as the server last
    // said (NULL: not said yet); the picker adds them to the tasks cached here.
    "
ALTER TABLE projects ADD COLUMN waiting INTEGER;
",
    // 6: where the worker is in each project's lessons: the lesson on screen (its item),
    // or NULL once every lesson went by. Reopening the lessons continues there.
    "
CREATE TABLE lesson_places (project TEXT PRIMARY KEY, item INTEGER);
",
    // 7: the worker's progress as the server last computed it (JSON), and when it came
    // (this computer's clock: it only decides when to ask again).
    "
CREATE TABLE progress (
    id INTEGER PRIMARY KEY CHECK (id = 1), summary TEXT NOT NULL, fetched INTEGER NOT NULL);
",
    // 8: a class session's answers, kept until the server has them. AUTOINCREMENT: the
    // id is the answer's key on the server, never reused. state: 0 unsent, 1 stored by
    // the server (correct as it scored), 2 refused (reason says why).
    "
CREATE TABLE class_answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL, step INTEGER NOT NULL,
    value TEXT NOT NULL, took INTEGER NOT NULL, answered_at INTEGER NOT NULL,
    state INTEGER NOT NULL DEFAULT 0, correct INTEGER, reason TEXT);
CREATE INDEX class_answers_unsent ON class_answers(state, code, id);
",
    // 9: tasks queued per project, kept by triggers: the status line asks after every
    // key, and counting 10,000 cached rows each time took milliseconds on an old machine.
    // Rows that drop to 0 stay. A REPLACE would not fire the delete trigger: tasks are
    // only ever inserted OR IGNORE.
    "
CREATE TABLE queued (project TEXT PRIMARY KEY, n INTEGER NOT NULL);
INSERT INTO queued SELECT project, count(*) FROM tasks WHERE state = 0 GROUP BY project;
CREATE TRIGGER queued_insert AFTER INSERT ON tasks WHEN new.state = 0 BEGIN
    INSERT INTO queued VALUES (new.project, 1)
        ON CONFLICT (project) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER queued_delete AFTER DELETE ON tasks WHEN old.state = 0 BEGIN
    UPDATE queued SET n = n - 1 WHERE project = old.project;
END;
CREATE TRIGGER queued_update AFTER UPDATE OF state, project ON tasks BEGIN
    UPDATE queued SET n = n - 1 WHERE old.state = 0 AND project = old.project;
    INSERT INTO queued SELECT new.project, 1 WHERE new.state = 0
        ON CONFLICT (project) DO UPDATE SET n = n + 1;
END;
",
];

/// The schema version this build writes.
pub const STORE_VERSION: i64 = MIGRATIONS.len() as i64;

/// Stores made before versioning (user_version 0) were created by exactly this text, run
/// on every open outside a transaction. Running it again completes one that a power cut
/// left half made; what it then holds is version 1.
const UNVERSIONED: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS projects (
    name TEXT PRIMARY KEY, version TEXT NOT NULL, schema TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY, project TEXT NOT NULL, text TEXT NOT NULL, suggestion TEXT,
    expires INTEGER NOT NULL, seq INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 0,
    replaces INTEGER);
CREATE INDEX IF NOT EXISTS tasks_queue ON tasks(project, state, seq);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, task INTEGER NOT NULL, project TEXT NOT NULL,
    value TEXT NOT NULL, answered_at INTEGER NOT NULL, replaces INTEGER,
    sent INTEGER NOT NULL DEFAULT 0, undone INTEGER NOT NULL DEFAULT 0, reason TEXT);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox(sent, id);
CREATE TABLE IF NOT EXISTS released (task INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS drafts (task INTEGER PRIMARY KEY, value TEXT NOT NULL);
";

/// The tables of an unversioned store: any of them present means the file was made by
/// the code before versioning, not a fresh one.
const UNVERSIONED_TABLES: &str = "'meta', 'projects', 'tasks', 'outbox', 'released', 'drafts'";

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Refuse a store written by a newer build, before anything is written to it.
pub(super) fn refuse_newer(conn: &Connection, path: &str) -> Result<(), StoreError> {
    let found = user_version(conn).map_err(db_error(path))?;
    if found > STORE_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_string(),
            found,
            known: STORE_VERSION,
        });
    }
    Ok(())
}

/// Bring the store to `STORE_VERSION`, in one transaction: a failure or a power cut
/// leaves it at the version it had. IMMEDIATE, so two connections opening a fresh store
/// at once (the screen and the sync engine) migrate it once.
pub(super) fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let db = db_error(path);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db)?;
    let mut version = user_version(&tx).map_err(db)?;
    if version > STORE_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_string(),
            found: version,
            known: STORE_VERSION,
        });
    }
    if version == STORE_VERSION {
        return Ok(());
    }
    if version == 0 {
        let unversioned: i64 = tx
            .query_row(
                &format!(
                    "SELECT count(*) FROM sqlite_master
                     WHERE type = 'table' AND name IN ({UNVERSIONED_TABLES})"
                ),
                [],
                |r| r.get(0),
            )
            .map_err(db)?;
        if unversioned > 0 {
            tx.execute_batch(UNVERSIONED).map_err(db)?;
            version = 1;
        }
    }
    for sql in &MIGRATIONS[version as usize..] {
        tx.execute_batch(sql).map_err(db)?;
    }
    // The header field is written in the same transaction as the tables.
    tx.execute_batch(&format!("PRAGMA user_version = {STORE_VERSION}"))
        .map_err(db)?;
    tx.commit().map_err(db)
}

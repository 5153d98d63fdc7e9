//! The server's SQLite schema and its versions: `schema_version` holds how many of
//! `MIGRATIONS` have run; each runs once, in order, in one transaction.

use rusqlite::{Connection, OptionalExtension};

use super::{class, training};
use crate::server::store::StoreError;

/// Migrations in order; `schema_version` holds how many have run. Never edit one that
/// has shipped: append a new one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created INTEGER NOT NULL
);
-- At most one unused code per user; deleted when used.
CREATE TABLE enrolment_codes (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    code_hash BLOB NOT NULL,
    expires INTEGER NOT NULL
);
CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created INTEGER NOT NULL
);
CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    version TEXT NOT NULL,
    schema TEXT NOT NULL,
    overlap INTEGER NOT NULL,
    lease_secs INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
-- open_slots = overlap - counted answers - live leases: a task is offered while > 0.
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    ext_id TEXT NOT NULL,
    text TEXT NOT NULL,
    suggestion TEXT,
    gold TEXT,
    counted INTEGER NOT NULL DEFAULT 0,
    open_slots INTEGER NOT NULL,
    decided TEXT,
    agreement REAL,
    UNIQUE (project_id, ext_id)
);
CREATE INDEX tasks_open ON tasks(project_id, id) WHERE open_slots > 0;
-- A row per task and worker ever leased; live while it holds a slot. Released rows
-- remember that the worker skipped the task.
CREATE TABLE leases (
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    granted INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    live INTEGER NOT NULL,
    released INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, user_id)
) WITHOUT ROWID;
CREATE INDEX leases_live ON leases(expires) WHERE live = 1;
CREATE TABLE answers (
    id INTEGER PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES devices(id),
    client_id INTEGER NOT NULL,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    value TEXT NOT NULL,
    at INTEGER NOT NULL,
    superseded_by INTEGER REFERENCES answers(id),
    UNIQUE (device_id, client_id)
);
CREATE INDEX answers_task ON answers(task_id, user_id);
-- Covers the day's count of a worker's answers.
CREATE INDEX answers_user_at ON answers(user_id, at, superseded_by);
"#,
    // Leases remember the device and the reply that carried them, so leases in a reply the
    // link lost are sent again instead of being held out of everyone's reach until expiry.
    r#"
ALTER TABLE devices ADD COLUMN replies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leases ADD COLUMN device_id INTEGER;
ALTER TABLE leases ADD COLUMN reply INTEGER NOT NULL DEFAULT 0;
CREATE INDEX leases_unseen ON leases(device_id, reply) WHERE live = 1;
"#,
    // Answers a task brought from another tool (Label Studio, Prodigy): kept apart from
    // Kazi's answers, which belong to users and devices; counted in tasks.counted.
    r#"
CREATE TABLE prior_answers (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    annotator TEXT NOT NULL,
    value TEXT NOT NULL,
    at INTEGER NOT NULL,
    UNIQUE (task_id, annotator)
);
"#,
    // A decision says which method made it (mv, wmv, ds) and how sure it is.
    r#"
ALTER TABLE tasks ADD COLUMN method TEXT;
ALTER TABLE tasks ADD COLUMN confidence REAL;
"#,
    // Leases a worker holds are counted against the project's lease cap on every sync;
    // devices can be revoked (their token stops working) and show when they last synced.
    r#"
CREATE INDEX leases_held ON leases(user_id) WHERE live = 1;
ALTER TABLE devices ADD COLUMN last_sync INTEGER;
ALTER TABLE devices ADD COLUMN revoked INTEGER;
CREATE INDEX leases_device ON leases(device_id) WHERE live = 1;
"#,
    // A user can be disabled (no device works, no code redeems, until enabled) or
    // removed (closed for good; kept only while answers carry the name).
    r#"
ALTER TABLE users ADD COLUMN disabled INTEGER;
ALTER TABLE users ADD COLUMN removed INTEGER;
"#,
    // The review queue: one row per reason to look at a task (dispute, field_dispute,
    // spot_check, flag, contest), at most one per task, reason and worker ever, leased to
    // one reviewer at a time; a decided row keeps the verdict and its audit (who, when,
    // what, why). Reviewers act only in the projects they are assigned to.
    r#"
CREATE TABLE review_items (
    id INTEGER PRIMARY KEY,
    reason TEXT NOT NULL,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    fields TEXT,
    worker_id INTEGER REFERENCES users(id),
    note TEXT,
    created INTEGER NOT NULL,
    lease_holder INTEGER REFERENCES users(id),
    lease_expires INTEGER,
    state TEXT NOT NULL,
    verdict_kind TEXT,
    verdict TEXT,
    decided_by INTEGER REFERENCES users(id),
    decided_at INTEGER,
    decision_note TEXT
);
CREATE UNIQUE INDEX review_items_once ON review_items(task_id, reason, COALESCE(worker_id, 0));
CREATE INDEX review_items_open ON review_items(project_id, id) WHERE state = 'open';
CREATE TABLE review_assignments (
    user_id INTEGER NOT NULL REFERENCES users(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    assigned INTEGER NOT NULL,
    PRIMARY KEY (user_id, project_id)
) WITHOUT ROWID;
"#,
    // Gold (issue 11). gold_spec: every accepted answer and the explanation (JSON of
    // model::Gold; tasks.gold keeps the first accepted one for aggregation and export).
    // public_id: what the wire calls a task, random so ids tell nothing of import
    // batches (gold imported apart); tasks already sent to devices keep their id. The
    // gold mix per worker keeps the project's rate; gold results and feedback items are
    // the worker's record, by server time.
    r#"
ALTER TABLE tasks ADD COLUMN gold_spec TEXT;
ALTER TABLE tasks ADD COLUMN public_id INTEGER;
UPDATE tasks SET public_id = id WHERE EXISTS (SELECT 1 FROM leases l WHERE l.task_id = tasks.id);
UPDATE tasks SET public_id = 4294967296 + abs(random() % 9007194959773696) WHERE public_id IS NULL;
CREATE UNIQUE INDEX tasks_public ON tasks(public_id);
CREATE INDEX tasks_gold ON tasks(project_id, public_id) WHERE gold IS NOT NULL;
CREATE TABLE gold_mix (
    project_id INTEGER NOT NULL REFERENCES projects(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    leased INTEGER NOT NULL,
    gold INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;
CREATE TABLE gold_results (
    answer_id INTEGER PRIMARY KEY REFERENCES answers(id),
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    correct INTEGER NOT NULL,
    confusions TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX gold_results_user ON gold_results(user_id, project_id, at);
CREATE INDEX gold_results_task ON gold_results(task_id);
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    kind TEXT NOT NULL,
    correct INTEGER NOT NULL,
    answer TEXT,
    expected TEXT,
    note TEXT NOT NULL,
    missed_fields TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX feedback_user ON feedback(user_id, id);
"#,
    // SSH public keys (kazi serve --ssh-listen): each signs in as a device of its user,
    // so a session leases and answers as a logged-in computer does, and is revoked so.
    r#"
CREATE TABLE ssh_keys (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    fingerprint TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL,
    comment TEXT NOT NULL,
    device_id INTEGER NOT NULL REFERENCES devices(id),
    added INTEGER NOT NULL
);
CREATE INDEX ssh_keys_user ON ssh_keys(user_id);
"#,
    // Audio clips, once each by the hash of their wire form; a task names its clip.
    r#"
CREATE TABLE clips (
    hash TEXT PRIMARY KEY,
    wire BLOB NOT NULL,
    wire_bytes INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    original BLOB NOT NULL,
    original_ext TEXT NOT NULL
);
ALTER TABLE tasks ADD COLUMN clip TEXT REFERENCES clips(hash);
"#,
    // Training: lessons and exam pools, workers' exam attempts, qualifications.
    training::MIGRATION,
    // Impact: the centre's settings (its intake form), and each worker's intake record
    // (cohort, self-reported fields) in a table of its own, apart from task data.
    r#"
CREATE TABLE centre_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE intakes (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    record TEXT NOT NULL,
    updated INTEGER NOT NULL
);
CREATE INDEX answers_at ON answers(at);
"#,
    // Class sessions: classes, who joined, the students' answers.
    class::MIGRATION,
    // Lesson audio: a transcribe project's training tasks name their clip.
    training::CLIP_MIGRATION,
];

/// Runs the migrations this database has not had yet, all in one transaction; a database
/// from a newer Kazi (more migrations than this build knows) is refused as `TooNew`.
pub(super) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
        let found: Option<i64> = conn
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .optional()?;
        let found = match found {
            Some(v) => v,
            None => {
                conn.execute("INSERT INTO schema_version (version) VALUES (0)", [])?;
                0
            }
        };
        let known = MIGRATIONS.len() as i64;
        if found > known {
            return Err(StoreError::TooNew { found, known });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            conn.execute_batch(sql)?;
            conn.execute("UPDATE schema_version SET version = ?1", [i as i64 + 1])?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT").map_err(StoreError::from),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

//! PostgreSQL's own migrations, in order; `schema_version` holds how many have run.
//! Instances that start at once migrate one at a time under an advisory lock. Never
//! edit one that has shipped: append a new one.

use super::Db;
use super::db::get;
use crate::server::store::StoreError;

/// Key of the advisory lock held while migrating ("kazi" in ASCII).
const MIGRATION_LOCK: i64 = 0x6b61_7a69;

/// The tables mirror SQLite's so `kazi admin migrate` can copy a centre column by
/// column; only the types are PostgreSQL's (BIGINT ids, BOOLEAN flags, BYTEA hashes).
pub(crate) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created BIGINT NOT NULL
);
CREATE TABLE enrolment_codes (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    code_hash BYTEA NOT NULL,
    expires BIGINT NOT NULL
);
CREATE TABLE devices (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    created BIGINT NOT NULL,
    replies BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE projects (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    version TEXT NOT NULL,
    schema TEXT NOT NULL,
    overlap BIGINT NOT NULL,
    lease_secs BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
-- open_slots = overlap - counted answers - live leases: a task is offered while > 0.
CREATE TABLE tasks (
    id BIGSERIAL PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    ext_id TEXT NOT NULL,
    text TEXT NOT NULL,
    suggestion TEXT,
    gold TEXT,
    counted BIGINT NOT NULL DEFAULT 0,
    open_slots BIGINT NOT NULL,
    decided TEXT,
    agreement DOUBLE PRECISION,
    UNIQUE (project_id, ext_id)
);
CREATE INDEX tasks_open ON tasks(project_id, id) WHERE open_slots > 0;
CREATE TABLE leases (
    task_id BIGINT NOT NULL REFERENCES tasks(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    granted BIGINT NOT NULL,
    expires BIGINT NOT NULL,
    live BOOLEAN NOT NULL,
    released BOOLEAN NOT NULL DEFAULT FALSE,
    device_id BIGINT,
    reply BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (task_id, user_id)
);
CREATE INDEX leases_live ON leases(expires) WHERE live;
CREATE INDEX leases_unseen ON leases(device_id, reply) WHERE live;
CREATE TABLE answers (
    id BIGSERIAL PRIMARY KEY,
    device_id BIGINT NOT NULL REFERENCES devices(id),
    client_id BIGINT NOT NULL,
    task_id BIGINT NOT NULL REFERENCES tasks(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    value TEXT NOT NULL,
    at BIGINT NOT NULL,
    -- Deferrable: a copied centre inserts an answer before the later one replacing it.
    superseded_by BIGINT REFERENCES answers(id) DEFERRABLE INITIALLY IMMEDIATE,
    UNIQUE (device_id, client_id)
);
CREATE INDEX answers_task ON answers(task_id, user_id);
CREATE INDEX answers_user_at ON answers(user_id, at);
"#,
    // Answers a task brought from another tool (Label Studio, Prodigy): kept apart from
    // Kazi's answers, which belong to users and devices; counted in tasks.counted.
    r#"
CREATE TABLE prior_answers (
    id BIGSERIAL PRIMARY KEY,
    task_id BIGINT NOT NULL REFERENCES tasks(id),
    annotator TEXT NOT NULL,
    value TEXT NOT NULL,
    at BIGINT NOT NULL,
    UNIQUE (task_id, annotator)
);
"#,
    // A decision says which method made it (mv, wmv, ds) and how sure it is.
    r#"
ALTER TABLE tasks ADD COLUMN method TEXT;
ALTER TABLE tasks ADD COLUMN confidence DOUBLE PRECISION;
"#,
    // Leases a worker holds are counted against the project's lease cap on every sync;
    // devices can be revoked (their token stops working) and show when they last synced.
    r#"
CREATE INDEX leases_held ON leases(user_id) WHERE live;
ALTER TABLE devices ADD COLUMN last_sync BIGINT;
ALTER TABLE devices ADD COLUMN revoked BIGINT;
CREATE INDEX leases_device ON leases(device_id) WHERE live;
"#,
    // A user can be disabled (no device works, no code redeems, until enabled) or
    // removed (closed for good; kept only while answers carry the name).
    r#"
ALTER TABLE users ADD COLUMN disabled BIGINT;
ALTER TABLE users ADD COLUMN removed BIGINT;
"#,
    // The review queue: one row per reason to look at a task (dispute, field_dispute,
    // spot_check, flag, contest), at most one per task, reason and worker ever, leased to
    // one reviewer at a time; a decided row keeps the verdict and its audit (who, when,
    // what, why). Reviewers act only in the projects they are assigned to.
    r#"
CREATE TABLE review_items (
    id BIGSERIAL PRIMARY KEY,
    reason TEXT NOT NULL,
    project_id BIGINT NOT NULL REFERENCES projects(id),
    task_id BIGINT NOT NULL REFERENCES tasks(id),
    fields TEXT,
    worker_id BIGINT REFERENCES users(id),
    note TEXT,
    created BIGINT NOT NULL,
    lease_holder BIGINT REFERENCES users(id),
    lease_expires BIGINT,
    state TEXT NOT NULL,
    verdict_kind TEXT,
    verdict TEXT,
    decided_by BIGINT REFERENCES users(id),
    decided_at BIGINT,
    decision_note TEXT
);
CREATE UNIQUE INDEX review_items_once ON review_items(task_id, reason, COALESCE(worker_id, 0));
CREATE INDEX review_items_open ON review_items(project_id, id) WHERE state = 'open';
CREATE TABLE review_assignments (
    user_id BIGINT NOT NULL REFERENCES users(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    assigned BIGINT NOT NULL,
    PRIMARY KEY (user_id, project_id)
);
"#,
    // Gold (issue 11): as SQLite's migration of the same name says.
    r#"
ALTER TABLE tasks ADD COLUMN gold_spec TEXT;
ALTER TABLE tasks ADD COLUMN public_id BIGINT;
UPDATE tasks SET public_id = id WHERE EXISTS (SELECT 1 FROM leases l WHERE l.task_id = tasks.id);
UPDATE tasks SET public_id = 4294967296 + floor(random() * 9007194959773696)::BIGINT WHERE public_id IS NULL;
CREATE UNIQUE INDEX tasks_public ON tasks(public_id);
CREATE INDEX tasks_gold ON tasks(project_id, public_id) WHERE gold IS NOT NULL;
CREATE TABLE gold_mix (
    project_id BIGINT NOT NULL REFERENCES projects(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    leased BIGINT NOT NULL,
    gold BIGINT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE TABLE gold_results (
    answer_id BIGINT PRIMARY KEY REFERENCES answers(id),
    task_id BIGINT NOT NULL REFERENCES tasks(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    correct BOOLEAN NOT NULL,
    confusions TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX gold_results_user ON gold_results(user_id, project_id, at);
CREATE INDEX gold_results_task ON gold_results(task_id);
CREATE TABLE feedback (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    task_id BIGINT NOT NULL REFERENCES tasks(id),
    kind TEXT NOT NULL,
    correct BOOLEAN NOT NULL,
    answer TEXT,
    expected TEXT,
    note TEXT NOT NULL,
    missed_fields TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX feedback_user ON feedback(user_id, id);
"#,
    // SSH public keys (kazi serve --ssh-listen): each signs in as a device of its user,
    // so a session leases and answers as a logged-in computer does, and is revoked so.
    r#"
CREATE TABLE ssh_keys (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    fingerprint TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL,
    comment TEXT NOT NULL,
    device_id BIGINT NOT NULL REFERENCES devices(id),
    added BIGINT NOT NULL
);
CREATE INDEX ssh_keys_user ON ssh_keys(user_id);
"#,
    // Audio clips, once each by the hash of their wire form; a task names its clip. In
    // the database, so every instance serves every clip.
    r#"
CREATE TABLE clips (
    hash TEXT PRIMARY KEY,
    wire BYTEA NOT NULL,
    wire_bytes BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    original BYTEA NOT NULL,
    original_ext TEXT NOT NULL
);
ALTER TABLE tasks ADD COLUMN clip TEXT REFERENCES clips(hash);
"#,
    // Training: lessons and exam pools, workers' exam attempts, qualifications.
    super::training::MIGRATION,
    // Impact: the centre's settings (its intake form), and each worker's intake record
    // (cohort, self-reported fields) in a table of its own, apart from task data.
    r#"
CREATE TABLE centre_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE intakes (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    record TEXT NOT NULL,
    updated BIGINT NOT NULL
);
CREATE INDEX answers_at ON answers(at);
"#,
    // Class sessions: classes, who joined, the students' answers.
    super::class::MIGRATION,
    // Lesson audio: a transcribe project's training tasks name their clip.
    super::training::CLIP_MIGRATION,
];

pub(super) fn migrate(db: &mut Db<'_>) -> Result<(), StoreError> {
    db.transaction(|db| {
        db.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        db.batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
        let found = match db.query_opt("SELECT version FROM schema_version", &[])? {
            Some(row) => get::<i64>(&row, 0)?,
            None => {
                db.execute("INSERT INTO schema_version (version) VALUES (0)", &[])?;
                0
            }
        };
        let known = MIGRATIONS.len() as i64;
        if found > known {
            return Err(StoreError::TooNew { found, known });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            db.batch(sql)?;
            db.execute("UPDATE schema_version SET version = $1", &[&(i as i64 + 1)])?;
        }
        Ok(())
    })
}

//! Users, enrolment, projects, task import and export on SQLite.

use rusqlite::{Connection, OptionalExtension, params};

use super::sync_tx::{SqliteTx, parse_value, value_json};
use super::{corrupt, role_of};
use crate::model::{Project, Role};
use crate::server::scheduler;
use crate::server::store::{
    AnswerRecord, ImportCounts, PROJECT_COUNTS_SQL, PriorAnswer, ProjectAdded, ProjectCounts,
    SecretHash, StoreError, TaskList, TaskRecord, TaskRow, TaskState, TaskStream, UserPut,
    task_count_sql, task_list_sql,
};

pub(super) fn put_user(
    conn: &Connection,
    name: &str,
    role: Role,
    code_hash: &SecretHash,
    code_expires: i64,
    now: i64,
) -> Result<UserPut, StoreError> {
    let existing: Option<(i64, String, Option<i64>)> = conn
        .query_row(
            "SELECT id, role, removed FROM users WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (user_id, put) = match existing {
        Some((_, _, Some(_))) => return Err(StoreError::UserRemoved(name.to_string())),
        Some((id, old, None)) => {
            conn.execute(
                "UPDATE users SET role = ?1 WHERE id = ?2",
                params![role.as_str(), id],
            )?;
            (
                id,
                UserPut::Renewed {
                    old_role: role_of(&old)?,
                },
            )
        }
        None => {
            conn.execute(
                "INSERT INTO users (name, role, created) VALUES (?1, ?2, ?3)",
                params![name, role.as_str(), now],
            )?;
            (conn.last_insert_rowid(), UserPut::Created)
        }
    };
    conn.execute(
        "INSERT INTO enrolment_codes (user_id, code_hash, expires) VALUES (?1, ?2, ?3) \
         ON CONFLICT (user_id) DO UPDATE SET code_hash = excluded.code_hash, expires = excluded.expires",
        params![user_id, &code_hash[..], code_expires],
    )?;
    Ok(put)
}

/// Whether the user has an unexpired code with this hash. Read-only.
pub(super) fn enrolment_matches(
    conn: &Connection,
    user: &str,
    code_hash: &SecretHash,
    now: i64,
) -> Result<bool, StoreError> {
    let row: Option<(Vec<u8>, i64)> = conn
        .prepare_cached(
            "SELECT c.code_hash, c.expires FROM users u \
             JOIN enrolment_codes c ON c.user_id = u.id WHERE u.name = ?1",
        )?
        .query_row([user], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.is_some_and(|(stored, expires)| {
        crate::server::secret::same_hash(&stored, code_hash) && expires > now
    }))
}

pub(super) fn redeem_enrolment(
    conn: &Connection,
    user: &str,
    code_hash: &SecretHash,
    device: &str,
    token_hash: &SecretHash,
    now: i64,
) -> Result<Role, StoreError> {
    // User id, role, code hash, code expiry, disabled since.
    type Row = (i64, String, Vec<u8>, i64, Option<i64>);
    let row: Option<Row> = conn
        .query_row(
            "SELECT u.id, u.role, c.code_hash, c.expires, u.disabled FROM users u \
             JOIN enrolment_codes c ON c.user_id = u.id WHERE u.name = ?1",
            [user],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    // One answer for every failure: a guesser learns nothing about which part was wrong.
    let Some((user_id, role, stored, expires, disabled)) = row else {
        return Err(StoreError::BadEnrolment);
    };
    if !crate::server::secret::same_hash(&stored, code_hash) || expires <= now {
        return Err(StoreError::BadEnrolment);
    }
    // Told only to someone holding the right code; the code stays for after `enable`.
    if disabled.is_some() {
        return Err(StoreError::UserDisabled(user.to_string()));
    }
    conn.execute("DELETE FROM enrolment_codes WHERE user_id = ?1", [user_id])?;
    conn.execute(
        "INSERT INTO devices (user_id, name, token_hash, created) VALUES (?1, ?2, ?3, ?4)",
        params![user_id, device, &token_hash[..], now],
    )?;
    role_of(&role)
}

pub(super) fn put_project(
    conn: &Connection,
    project: &Project,
    now: i64,
) -> Result<ProjectAdded, StoreError> {
    let version = project.version();
    let schema = serde_json::to_string(project).map_err(corrupt("project schema"))?;
    let existing: Option<(i64, String, i64)> = conn
        .query_row(
            "SELECT id, version, overlap FROM projects WHERE name = ?1",
            [&project.name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let overlap = i64::from(project.overlap);
    let lease_secs = i64::try_from(project.lease_secs).unwrap_or(i64::MAX);
    match existing {
        None => {
            conn.execute(
                "INSERT INTO projects (name, version, schema, overlap, lease_secs, updated) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![project.name, version, schema, overlap, lease_secs, now],
            )?;
            Ok(ProjectAdded::New)
        }
        Some((_, old_version, _)) if old_version == version => Ok(ProjectAdded::Unchanged),
        Some((id, _, old_overlap)) => {
            conn.execute(
                "UPDATE projects SET version = ?1, schema = ?2, overlap = ?3, lease_secs = ?4, \
                 updated = ?5 WHERE id = ?6",
                params![version, schema, overlap, lease_secs, now, id],
            )?;
            scheduler::overlap_changed(&mut SqliteTx::new(conn), id, project, old_overlap, now)?;
            Ok(ProjectAdded::Updated)
        }
    }
}

pub(super) fn project(conn: &Connection, name: &str) -> Result<Option<Project>, StoreError> {
    let schema: Option<String> = conn
        .prepare_cached("SELECT schema FROM projects WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?;
    schema.map(|s| parse_schema(&s)).transpose()
}

pub(super) fn parse_schema(json: &str) -> Result<Project, StoreError> {
    serde_json::from_str(json).map_err(corrupt("project schema"))
}

/// Gold is stored in compact form: label ids joined by '|' (ids never contain '|').
fn gold_text(gold: &Option<Vec<String>>) -> Option<String> {
    gold.as_ref().map(|labels| labels.join("|"))
}

pub(super) fn import_tasks(
    conn: &Connection,
    project: &str,
    tasks: &mut TaskStream<'_>,
) -> Result<ImportCounts, StoreError> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = import_in_transaction(conn, project, tasks);
    match result {
        Ok(counts) => {
            conn.execute_batch("COMMIT")?;
            Ok(counts)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn import_in_transaction(
    conn: &Connection,
    project: &str,
    tasks: &mut TaskStream<'_>,
) -> Result<ImportCounts, StoreError> {
    let (project_id, overlap, schema): (i64, i64, String) = conn
        .query_row(
            "SELECT id, overlap, schema FROM projects WHERE name = ?1",
            [project],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or_else(|| StoreError::NoProject(project.to_string()))?;
    let schema = parse_schema(&schema)?;
    // Any conflict: the same task id (compared below) or, rarely, a public id taken.
    let mut insert = conn.prepare(
        "INSERT INTO tasks (project_id, ext_id, text, suggestion, gold, open_slots, gold_spec, \
           public_id, clip) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
    )?;
    // A clip shared by several tasks (or imported before) is stored once.
    let mut insert_clip = conn.prepare(
        "INSERT INTO clips (hash, wire, wire_bytes, duration_ms, original, original_ext) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (hash) DO NOTHING",
    )?;
    let mut insert_prior = conn.prepare(
        "INSERT INTO prior_answers (task_id, annotator, value, at) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut existing = conn.prepare(
        "SELECT id, text, suggestion, gold, gold_spec, clip FROM tasks WHERE project_id = ?1 AND ext_id = ?2",
    )?;
    let mut counts = ImportCounts::default();
    for task in tasks {
        let task = task.map_err(StoreError::Aborted)?;
        let gold = gold_text(&task.gold);
        if let Some(clip) = &task.clip {
            insert_clip.execute(params![
                clip.hash,
                clip.wire,
                clip.wire.len() as i64,
                clip.duration_ms as i64,
                clip.original,
                clip.original_ext
            ])?;
        }
        let clip_hash = task.clip.as_ref().map(|c| c.hash.as_str());
        let mut inserted = 0;
        for _ in 0..crate::server::store::PUBLIC_ID_TRIES {
            inserted = insert.execute(params![
                project_id,
                task.id,
                task.text,
                task.suggestion,
                gold,
                overlap,
                task.gold_spec,
                crate::server::store::new_public_id()?,
                clip_hash
            ])?;
            let present = existing.exists(params![project_id, task.id])?;
            if inserted == 1 || present {
                break;
            }
        }
        if inserted == 1 {
            let row = conn.last_insert_rowid();
            for prior in &task.prior {
                insert_prior.execute(params![
                    row,
                    prior.annotator,
                    value_json(&prior.value)?,
                    prior.at
                ])?;
            }
            scheduler::prior_answers_counted(&mut SqliteTx::new(conn), &schema, row, &task.prior)?;
            counts.added += 1;
            continue;
        }
        type Stored = (
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let (row, text, suggestion, old_gold, old_spec, old_clip): Stored =
            existing.query_row(params![project_id, task.id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?;
        let same = text == task.text
            && suggestion == task.suggestion
            && old_gold == gold
            && (old_spec.is_none() || old_spec == task.gold_spec)
            && old_clip.as_deref() == clip_hash
            && same_prior_answers(conn, row, &task.prior)?;
        if same {
            counts.already_present += 1;
        } else {
            return Err(StoreError::TaskClash {
                project: project.to_string(),
                id: task.id,
            });
        }
    }
    Ok(counts)
}

/// Whether a stored task holds these prior answers: the same annotators with the same
/// answers (their times are not compared: a file without times gets the import's).
fn same_prior_answers(
    conn: &Connection,
    task: i64,
    prior: &[PriorAnswer],
) -> Result<bool, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT annotator, value FROM prior_answers WHERE task_id = ?1")?;
    let mut stored = stmt
        .query_map([task], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|(who, value)| Ok((who, parse_value(&value)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut given: Vec<_> = prior
        .iter()
        .map(|p| (p.annotator.clone(), p.value.clone()))
        .collect();
    stored.sort_by(|a, b| a.0.cmp(&b.0));
    given.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(stored == given)
}

pub(super) fn export(
    conn: &Connection,
    project: &str,
    each: &mut dyn FnMut(TaskRecord) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    let project_id: i64 = conn
        .query_row("SELECT id FROM projects WHERE name = ?1", [project], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| StoreError::NoProject(project.to_string()))?;
    // One statement: a consistent snapshot even while the server keeps writing.
    // Prior answers (imported = 1) come before Kazi's on each task.
    let mut stmt = conn.prepare(
        "SELECT t.id, t.ext_id, t.text, t.gold, t.decided, t.agreement, \
                u.name, a.value, a.at, a.superseded_by IS NOT NULL, 0 AS imported, a.id, \
                t.suggestion, t.method, t.confidence, u.id \
         FROM tasks t \
         LEFT JOIN answers a ON a.task_id = t.id \
         LEFT JOIN users u ON u.id = a.user_id \
         WHERE t.project_id = ?1 \
         UNION ALL \
         SELECT t.id, t.ext_id, t.text, t.gold, t.decided, t.agreement, \
                p.annotator, p.value, p.at, 0, 1, p.id, t.suggestion, t.method, t.confidence, \
                NULL \
         FROM tasks t JOIN prior_answers p ON p.task_id = t.id \
         WHERE t.project_id = ?1 \
         ORDER BY 1, 11 DESC, 12",
    )?;
    let mut verdicts = super::review::outcomes(conn, project_id)?;
    let mut rows = stmt.query([project_id])?;
    let mut current: Option<(i64, TaskRecord)> = None;
    let mut count = 0u64;
    while let Some(row) = rows.next()? {
        let task_id: i64 = row.get(0)?;
        if current.as_ref().map(|(id, _)| *id) != Some(task_id) {
            if let Some((_, record)) = current.take() {
                each(record)?;
                count += 1;
            }
            let gold: Option<String> = row.get(3)?;
            current = Some((
                task_id,
                TaskRecord {
                    id: row.get(1)?,
                    text: row.get(2)?,
                    suggestion: row.get(12)?,
                    gold: gold.map(|g| g.split('|').map(str::to_string).collect()),
                    decided: row.get(4)?,
                    agreement: row.get(5)?,
                    method: row.get(13)?,
                    confidence: row.get(14)?,
                    answers: Vec::new(),
                    review: verdicts.remove(&task_id),
                },
            ));
        }
        let worker: Option<String> = row.get(6)?;
        if let (Some(worker), Some((_, record))) = (worker, current.as_mut()) {
            let value: String = row.get(7)?;
            let value = parse_value(&value)?;
            record.answers.push(AnswerRecord {
                worker,
                user_id: row.get(15)?,
                value,
                at: row.get(8)?,
                superseded: row.get(9)?,
                imported: row.get(10)?,
            });
        }
    }
    if let Some((_, record)) = current {
        each(record)?;
        count += 1;
    }
    Ok(count)
}

pub(super) fn project_counts(conn: &Connection) -> Result<Vec<ProjectCounts>, StoreError> {
    let mut stmt = conn.prepare_cached(PROJECT_COUNTS_SQL)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            [
                r.get::<_, i64>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ],
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (schema, [total, waiting, leased, done, decided, disputes]) = row?;
        out.push(ProjectCounts {
            project: parse_schema(&schema)?,
            total: total as u64,
            waiting: waiting as u64,
            leased: leased as u64,
            done: done as u64,
            decided: decided as u64,
            disputes: disputes as u64,
        });
    }
    Ok(out)
}

pub(super) fn task_list(
    conn: &Connection,
    project: &str,
    state: Option<TaskState>,
    limit: u32,
) -> Result<TaskList, StoreError> {
    let (project_id, overlap): (i64, i64) = conn
        .query_row(
            "SELECT id, overlap FROM projects WHERE name = ?1",
            [project],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| StoreError::NoProject(project.to_string()))?;
    let matching: i64 = conn.query_row(&task_count_sql("?1", state), [project_id], |r| r.get(0))?;
    let mut stmt = conn.prepare(&task_list_sql("?1", "?2", state))?;
    let tasks = stmt
        .query_map(params![project_id, i64::from(limit)], |r| {
            Ok(TaskRow {
                id: r.get(0)?,
                text: r.get(1)?,
                counted: r.get::<_, i64>(2)? as u64,
                live_leases: r.get::<_, i64>(3)? as u64,
                decided: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(TaskList {
        overlap: u32::try_from(overlap).map_err(corrupt("project overlap"))?,
        tasks,
        matching: matching as u64,
    })
}

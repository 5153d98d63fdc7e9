//! Users, enrolment, tokens, projects, task import and export on PostgreSQL.

use super::db::get;
use super::sync_tx::{PgTx, parse_value, value_json};
use super::{Db, corrupt, role_of};
use crate::model::{Project, Role};
use crate::server::scheduler;
use crate::server::store::{
    AnswerRecord, ImportCounts, PROJECT_COUNTS_SQL, Principal, PriorAnswer, ProjectAdded,
    ProjectCounts, SecretHash, StoreError, TaskList, TaskRecord, TaskRow, TaskState, TaskStream,
    TokenStanding, UserPut, task_count_sql, task_list_sql,
};

/// Export rows fetched per round trip: bounds memory on projects of any size.
pub(super) const EXPORT_BATCH: i32 = 1000;

pub(super) fn put_user(
    db: &mut Db<'_>,
    name: &str,
    role: Role,
    code_hash: &SecretHash,
    code_expires: i64,
    now: i64,
) -> Result<UserPut, StoreError> {
    // The old role (if any) is read under the row lock the upsert takes, so two admins
    // adding one name at once on two machines both succeed.
    let old = db.query_opt(
        "SELECT role, removed FROM users WHERE name = $1 FOR UPDATE",
        &[&name],
    )?;
    if let Some(row) = &old
        && get::<Option<i64>>(row, 1)?.is_some()
    {
        return Err(StoreError::UserRemoved(name.to_string()));
    }
    let row = db.query_one(
        "INSERT INTO users (name, role, created) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET role = excluded.role RETURNING id",
        &[&name, &role.as_str(), &now],
    )?;
    let user_id: i64 = get(&row, 0)?;
    db.execute(
        "INSERT INTO enrolment_codes (user_id, code_hash, expires) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET code_hash = excluded.code_hash, \
           expires = excluded.expires",
        &[&user_id, &&code_hash[..], &code_expires],
    )?;
    match old {
        Some(row) => Ok(UserPut::Renewed {
            old_role: role_of(&get::<String>(&row, 0)?)?,
        }),
        None => Ok(UserPut::Created),
    }
}

pub(super) fn redeem_enrolment(
    db: &mut Db<'_>,
    user: &str,
    code_hash: &SecretHash,
    device: &str,
    token_hash: &SecretHash,
    now: i64,
) -> Result<Role, StoreError> {
    let row = db.query_opt(
        "SELECT u.id, u.role, c.code_hash, c.expires, u.disabled FROM users u \
         JOIN enrolment_codes c ON c.user_id = u.id WHERE u.name = $1 FOR UPDATE OF c",
        &[&user],
    )?;
    // One answer for every failure: a guesser learns nothing about which part was wrong.
    let Some(row) = row else {
        return Err(StoreError::BadEnrolment);
    };
    let (user_id, role): (i64, String) = (get(&row, 0)?, get(&row, 1)?);
    let (stored, expires): (Vec<u8>, i64) = (get(&row, 2)?, get(&row, 3)?);
    if !crate::server::secret::same_hash(&stored, code_hash) || expires <= now {
        return Err(StoreError::BadEnrolment);
    }
    // Told only to someone holding the right code; the code stays for after `enable`.
    if get::<Option<i64>>(&row, 4)?.is_some() {
        return Err(StoreError::UserDisabled(user.to_string()));
    }
    // Two logins racing with one code on two instances: only one deletes it.
    let used = db.execute(
        "DELETE FROM enrolment_codes WHERE user_id = $1 AND code_hash = $2",
        &[&user_id, &stored],
    )?;
    if used != 1 {
        return Err(StoreError::BadEnrolment);
    }
    db.execute(
        "INSERT INTO devices (user_id, name, token_hash, created) VALUES ($1, $2, $3, $4)",
        &[&user_id, &device, &&token_hash[..], &now],
    )?;
    role_of(&role)
}

pub(super) fn authenticate(
    db: &mut Db<'_>,
    token_hash: &SecretHash,
) -> Result<Option<Principal>, StoreError> {
    let row = db.query_opt(
        "SELECT d.id, u.id, u.name, u.role FROM devices d \
         JOIN users u ON u.id = d.user_id WHERE d.token_hash = $1 AND d.revoked IS NULL \
           AND u.disabled IS NULL AND u.removed IS NULL",
        &[&&token_hash[..]],
    )?;
    row.as_ref().map(principal_of).transpose()
}

pub(super) fn token_standing(
    db: &mut Db<'_>,
    token_hash: &SecretHash,
) -> Result<TokenStanding, StoreError> {
    let row = db.query_opt(
        "SELECT d.revoked, u.disabled, u.removed FROM devices d \
         JOIN users u ON u.id = d.user_id WHERE d.token_hash = $1",
        &[&&token_hash[..]],
    )?;
    let row = match row {
        Some(r) => Some((get(&r, 0)?, get(&r, 1)?, get(&r, 2)?)),
        None => None,
    };
    Ok(TokenStanding::of(row))
}

/// A principal from a row of device id, user id, user name and role, in that order.
pub(super) fn principal_of(r: &tokio_postgres::Row) -> Result<Principal, StoreError> {
    Ok(Principal {
        device_id: get(r, 0)?,
        user_id: get(r, 1)?,
        user: get(r, 2)?,
        role: role_of(&get::<String>(r, 3)?)?,
    })
}

pub(super) fn put_project(
    db: &mut Db<'_>,
    project: &Project,
    now: i64,
) -> Result<ProjectAdded, StoreError> {
    let version = project.version();
    let schema = serde_json::to_string(project).map_err(corrupt("project schema"))?;
    let overlap = i64::from(project.overlap);
    let lease_secs = i64::try_from(project.lease_secs).unwrap_or(i64::MAX);
    // Insert or lock: an update elsewhere at the same time waits for this one.
    let inserted = db.execute(
        "INSERT INTO projects (name, version, schema, overlap, lease_secs, updated) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
        &[
            &project.name,
            &version,
            &schema,
            &overlap,
            &lease_secs,
            &now,
        ],
    )?;
    if inserted == 1 {
        return Ok(ProjectAdded::New);
    }
    let row = db.query_one(
        "SELECT id, version, overlap FROM projects WHERE name = $1 FOR UPDATE",
        &[&project.name],
    )?;
    let (id, old_version, old_overlap): (i64, String, i64) =
        (get(&row, 0)?, get(&row, 1)?, get(&row, 2)?);
    if old_version == version {
        return Ok(ProjectAdded::Unchanged);
    }
    db.execute(
        "UPDATE projects SET version = $1, schema = $2, overlap = $3, lease_secs = $4, \
         updated = $5 WHERE id = $6",
        &[&version, &schema, &overlap, &lease_secs, &now, &id],
    )?;
    scheduler::overlap_changed(&mut PgTx::new(db), id, project, old_overlap, now)?;
    Ok(ProjectAdded::Updated)
}

pub(super) fn project(db: &mut Db<'_>, name: &str) -> Result<Option<Project>, StoreError> {
    let row = db.query_opt("SELECT schema FROM projects WHERE name = $1", &[&name])?;
    row.map(|r| parse_schema(&get::<String>(&r, 0)?))
        .transpose()
}

pub(super) fn parse_schema(json: &str) -> Result<Project, StoreError> {
    serde_json::from_str(json).map_err(corrupt("project schema"))
}

/// Gold is stored in compact form: label ids joined by '|' (ids never contain '|').
fn gold_text(gold: &Option<Vec<String>>) -> Option<String> {
    gold.as_ref().map(|labels| labels.join("|"))
}

/// Import in the caller's transaction: all or nothing.
pub(super) fn import_tasks(
    db: &mut Db<'_>,
    project: &str,
    tasks: &mut TaskStream<'_>,
) -> Result<ImportCounts, StoreError> {
    // FOR SHARE: the overlap and schema cannot change under the import.
    let row = db
        .query_opt(
            "SELECT id, overlap, schema FROM projects WHERE name = $1 FOR SHARE",
            &[&project],
        )?
        .ok_or_else(|| StoreError::NoProject(project.to_string()))?;
    let (project_id, overlap): (i64, i64) = (get(&row, 0)?, get(&row, 1)?);
    let schema = parse_schema(&get::<String>(&row, 2)?)?;
    let mut counts = ImportCounts::default();
    for task in tasks {
        let task = task.map_err(StoreError::Aborted)?;
        let gold = gold_text(&task.gold);
        if let Some(clip) = &task.clip {
            // A clip shared by several tasks (or imported before) is stored once.
            db.execute(
                "INSERT INTO clips (hash, wire, wire_bytes, duration_ms, original, original_ext) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hash) DO NOTHING",
                &[
                    &clip.hash,
                    &clip.wire,
                    &(clip.wire.len() as i64),
                    &(clip.duration_ms as i64),
                    &clip.original,
                    &clip.original_ext,
                ],
            )?;
        }
        let clip_hash = task.clip.as_ref().map(|c| c.hash.clone());
        let mut inserted = None;
        // Any conflict: the same task id (compared below) or, rarely, a public id taken.
        for _ in 0..crate::server::store::PUBLIC_ID_TRIES {
            inserted = db.query_opt(
                "INSERT INTO tasks (project_id, ext_id, text, suggestion, gold, open_slots, \
                   gold_spec, public_id, clip) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING id",
                &[
                    &project_id,
                    &task.id,
                    &task.text,
                    &task.suggestion,
                    &gold,
                    &overlap,
                    &task.gold_spec,
                    &crate::server::store::new_public_id()?,
                    &clip_hash,
                ],
            )?;
            let present = db
                .query_opt(
                    "SELECT 1 FROM tasks WHERE project_id = $1 AND ext_id = $2",
                    &[&project_id, &task.id],
                )?
                .is_some();
            if inserted.is_some() || present {
                break;
            }
        }
        if let Some(row) = inserted {
            let id: i64 = get(&row, 0)?;
            for prior in &task.prior {
                db.execute(
                    "INSERT INTO prior_answers (task_id, annotator, value, at) \
                     VALUES ($1, $2, $3, $4)",
                    &[&id, &prior.annotator, &value_json(&prior.value)?, &prior.at],
                )?;
            }
            scheduler::prior_answers_counted(&mut PgTx::new(db), &schema, id, &task.prior)?;
            counts.added += 1;
            continue;
        }
        let row = db.query_one(
            "SELECT id, text, suggestion, gold, gold_spec, clip FROM tasks \
             WHERE project_id = $1 AND ext_id = $2",
            &[&project_id, &task.id],
        )?;
        let old_clip: Option<String> = get(&row, 5)?;
        let (id, text): (i64, String) = (get(&row, 0)?, get(&row, 1)?);
        let (suggestion, old_gold): (Option<String>, Option<String>) =
            (get(&row, 2)?, get(&row, 3)?);
        let old_spec: Option<String> = get(&row, 4)?;
        let same = text == task.text
            && suggestion == task.suggestion
            && old_gold == gold
            && (old_spec.is_none() || old_spec == task.gold_spec)
            && old_clip == clip_hash
            && same_prior_answers(db, id, &task.prior)?;
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
    db: &mut Db<'_>,
    task: i64,
    prior: &[PriorAnswer],
) -> Result<bool, StoreError> {
    let rows = db.query(
        "SELECT annotator, value FROM prior_answers WHERE task_id = $1",
        &[&task],
    )?;
    let mut stored = rows
        .iter()
        .map(|r| Ok((get::<String>(r, 0)?, parse_value(&get::<String>(r, 1)?)?)))
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
    db: &mut Db<'_>,
    project: &str,
    each: &mut dyn FnMut(TaskRecord) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    let project_id: i64 = db
        .query_opt("SELECT id FROM projects WHERE name = $1", &[&project])?
        .map(|r| get(&r, 0))
        .transpose()?
        .ok_or_else(|| StoreError::NoProject(project.to_string()))?;
    // One statement (a consistent snapshot while instances keep writing), read through
    // a portal `EXPORT_BATCH` rows at a time.
    // Prior answers (imported) come before Kazi's on each task.
    let sql = "SELECT t.id, t.ext_id, t.text, t.gold, t.decided, t.agreement, \
                      u.name, a.value, a.at, a.superseded_by IS NOT NULL, FALSE AS imported, \
                      a.id, t.suggestion, t.method, t.confidence, u.id \
               FROM tasks t \
               LEFT JOIN answers a ON a.task_id = t.id \
               LEFT JOIN users u ON u.id = a.user_id \
               WHERE t.project_id = $1 \
               UNION ALL \
               SELECT t.id, t.ext_id, t.text, t.gold, t.decided, t.agreement, \
                      p.annotator, p.value, p.at, FALSE, TRUE, p.id, \
                      t.suggestion, t.method, t.confidence, NULL::BIGINT \
               FROM tasks t JOIN prior_answers p ON p.task_id = t.id \
               WHERE t.project_id = $1 \
               ORDER BY 1, 11 DESC, 12";
    let mut records = ExportRecords {
        verdicts: super::review::outcomes(db, project_id)?,
        ..ExportRecords::default()
    };
    db.with_client(|runtime, client| {
        runtime.block_on(async {
            let tx = client.transaction().await?;
            let portal = tx.bind(sql, &[&project_id]).await?;
            loop {
                let rows = tx.query_portal(&portal, EXPORT_BATCH).await?;
                if rows.is_empty() {
                    break;
                }
                for row in &rows {
                    records.row(row, each)?;
                }
            }
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })
    })??;
    records.finish(each)
}

/// Rows of the export query folded into one record per task.
#[derive(Default)]
struct ExportRecords {
    current: Option<(i64, TaskRecord)>,
    count: u64,
    verdicts: std::collections::HashMap<i64, crate::server::store::review::ReviewOutcome>,
}

impl ExportRecords {
    fn row(
        &mut self,
        row: &tokio_postgres::Row,
        each: &mut dyn FnMut(TaskRecord) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let task_id: i64 = get(row, 0)?;
        if self.current.as_ref().map(|(id, _)| *id) != Some(task_id) {
            if let Some((_, record)) = self.current.take() {
                each(record)?;
                self.count += 1;
            }
            let gold: Option<String> = get(row, 3)?;
            self.current = Some((
                task_id,
                TaskRecord {
                    id: get(row, 1)?,
                    text: get(row, 2)?,
                    suggestion: get(row, 12)?,
                    gold: gold.map(|g| g.split('|').map(str::to_string).collect()),
                    decided: get(row, 4)?,
                    agreement: get(row, 5)?,
                    method: get(row, 13)?,
                    confidence: get(row, 14)?,
                    answers: Vec::new(),
                    review: self.verdicts.remove(&task_id),
                },
            ));
        }
        let worker: Option<String> = get(row, 6)?;
        if let (Some(worker), Some((_, record))) = (worker, self.current.as_mut()) {
            record.answers.push(AnswerRecord {
                worker,
                user_id: get(row, 15)?,
                value: parse_value(&get::<String>(row, 7)?)?,
                at: get(row, 8)?,
                superseded: get(row, 9)?,
                imported: get(row, 10)?,
            });
        }
        Ok(())
    }

    fn finish(
        mut self,
        each: &mut dyn FnMut(TaskRecord) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        if let Some((_, record)) = self.current.take() {
            each(record)?;
            self.count += 1;
        }
        Ok(self.count)
    }
}

pub(super) fn project_counts(db: &mut Db<'_>) -> Result<Vec<ProjectCounts>, StoreError> {
    let rows = db.query(PROJECT_COUNTS_SQL, &[])?;
    let count = |row, i| get::<i64>(row, i).map(|n| n as u64);
    rows.iter()
        .map(|row| {
            Ok(ProjectCounts {
                project: parse_schema(&get::<String>(row, 0)?)?,
                total: count(row, 1)?,
                waiting: count(row, 2)?,
                leased: count(row, 3)?,
                done: count(row, 4)?,
                decided: count(row, 5)?,
                disputes: count(row, 6)?,
            })
        })
        .collect()
}

pub(super) fn task_list(
    db: &mut Db<'_>,
    project: &str,
    state: Option<TaskState>,
    limit: u32,
) -> Result<TaskList, StoreError> {
    let row = db
        .query_opt(
            "SELECT id, overlap FROM projects WHERE name = $1",
            &[&project],
        )?
        .ok_or_else(|| StoreError::NoProject(project.to_string()))?;
    let (project_id, overlap): (i64, i64) = (get(&row, 0)?, get(&row, 1)?);
    let matching: i64 = get(
        &db.query_one(&task_count_sql("$1", state), &[&project_id])?,
        0,
    )?;
    let rows = db.query(
        &task_list_sql("$1", "$2", state),
        &[&project_id, &i64::from(limit)],
    )?;
    let tasks = rows
        .iter()
        .map(|r| {
            Ok(TaskRow {
                id: get(r, 0)?,
                text: get(r, 1)?,
                counted: get::<i64>(r, 2)? as u64,
                live_leases: get::<i64>(r, 3)? as u64,
                decided: get(r, 4)?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(TaskList {
        overlap: u32::try_from(overlap).map_err(corrupt("project overlap"))?,
        tasks,
        matching: matching as u64,
    })
}

//! What impact figures read on PostgreSQL: the centre's intake form and its workers'
//! intake records (kept in their own tables, apart from task data), and the counted
//! answers of a period for reports and work records.

use super::catalogue::EXPORT_BATCH;
use super::db::get;
use super::{Db, corrupt};
use crate::model::intake::{Intake, IntakeForm};
use crate::server::pseudonym::PseudonymKey;
use crate::server::store::{Qualified, StoreError, WorkItem};

const INTAKE_FORM: &str = "intake_form";

pub(super) fn put_intake_form(db: &mut Db<'_>, form: &IntakeForm) -> Result<(), StoreError> {
    let json = serde_json::to_string(form).map_err(corrupt("intake form"))?;
    db.execute(
        "INSERT INTO centre_settings (name, value) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        &[&INTAKE_FORM, &json],
    )?;
    Ok(())
}

pub(super) fn intake_form(db: &mut Db<'_>) -> Result<IntakeForm, StoreError> {
    let row = db.query_opt(
        "SELECT value FROM centre_settings WHERE name = $1",
        &[&INTAKE_FORM],
    )?;
    match row {
        Some(row) => serde_json::from_str(&get::<String>(&row, 0)?).map_err(corrupt("intake form")),
        None => Ok(IntakeForm::default()),
    }
}

pub(super) fn put_intake(
    db: &mut Db<'_>,
    user: &str,
    intake: &Intake,
    now: i64,
) -> Result<(), StoreError> {
    let user_id: i64 = db
        .query_opt("SELECT id FROM users WHERE name = $1", &[&user])?
        .map(|r| get(&r, 0))
        .transpose()?
        .ok_or_else(|| StoreError::NoUser(user.to_string()))?;
    let json = serde_json::to_string(intake).map_err(corrupt("intake record"))?;
    db.execute(
        "INSERT INTO intakes (user_id, record, updated) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET record = excluded.record, updated = excluded.updated",
        &[&user_id, &json, &now],
    )?;
    Ok(())
}

pub(super) fn intakes(db: &mut Db<'_>) -> Result<Vec<(String, Intake)>, StoreError> {
    let rows = db.query(
        "SELECT u.name, i.record FROM intakes i JOIN users u ON u.id = i.user_id ORDER BY u.name",
        &[],
    )?;
    rows.iter()
        .map(|row| {
            let intake =
                serde_json::from_str(&get::<String>(row, 1)?).map_err(corrupt("intake record"))?;
            Ok((get(row, 0)?, intake))
        })
        .collect()
}

pub(super) fn work_history(
    db: &mut Db<'_>,
    user: Option<&str>,
    from: i64,
    to: i64,
    each: &mut dyn FnMut(WorkItem) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    // One statement (a consistent snapshot while instances keep writing), read through a
    // portal a batch at a time.
    let sql = "SELECT u.name, p.name, a.task_id, a.at, \
         CASE WHEN t.gold IS NOT NULL THEN g.correct END, \
         CASE WHEN t.gold IS NULL THEN g.correct END FROM answers a \
               JOIN users u ON u.id = a.user_id \
               JOIN tasks t ON t.id = a.task_id \
               JOIN projects p ON p.id = t.project_id \
               LEFT JOIN gold_results g ON g.answer_id = a.id \
               WHERE a.superseded_by IS NULL AND a.at >= $1 AND a.at < $2 \
                 AND ($3::TEXT IS NULL OR u.name = $3) \
               ORDER BY u.name, a.at, a.id";
    let mut count = 0u64;
    db.with_client(|runtime, client| {
        runtime.block_on(async {
            let tx = client.transaction().await?;
            let portal = tx.bind(sql, &[&from, &to, &user]).await?;
            loop {
                let rows = tx.query_portal(&portal, EXPORT_BATCH).await?;
                if rows.is_empty() {
                    break;
                }
                for row in &rows {
                    each(WorkItem {
                        user: get(row, 0)?,
                        project: get(row, 1)?,
                        task: get(row, 2)?,
                        at: get(row, 3)?,
                        gold_correct: get(row, 4)?,
                        review_correct: get(row, 5)?,
                    })?;
                    count += 1;
                }
            }
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })
    })??;
    Ok(count)
}

const PSEUDONYM_KEY: &str = "pseudonym_key";

pub(super) fn pseudonym_key(db: &mut Db<'_>) -> Result<PseudonymKey, StoreError> {
    let fresh = PseudonymKey::random().map_err(|e| StoreError::Backend(e.to_string().into()))?;
    db.execute(
        "INSERT INTO centre_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        &[&PSEUDONYM_KEY, &fresh.to_hex()],
    )?;
    let row = db.query_one(
        "SELECT value FROM centre_settings WHERE name = $1",
        &[&PSEUDONYM_KEY],
    )?;
    PseudonymKey::from_hex(&get::<String>(&row, 0)?).ok_or_else(|| StoreError::Corrupt {
        what: "pseudonym key",
        source: "not 64 hex digits".into(),
    })
}

pub(super) fn qualifications(
    db: &mut Db<'_>,
    user: Option<&str>,
) -> Result<Vec<Qualified>, StoreError> {
    let rows = db.query(
        "SELECT u.name, p.name, q.granted FROM qualifications q \
         JOIN users u ON u.id = q.user_id JOIN projects p ON p.id = q.project_id \
         WHERE $1::TEXT IS NULL OR u.name = $1 ORDER BY u.name, q.granted, p.name",
        &[&user],
    )?;
    rows.iter()
        .map(|row| {
            Ok(Qualified {
                user: get(row, 0)?,
                project: get(row, 1)?,
                granted: get(row, 2)?,
            })
        })
        .collect()
}

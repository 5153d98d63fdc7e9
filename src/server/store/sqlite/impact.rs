//! What impact figures read on SQLite: the centre's intake form and its workers' intake
//! records (kept in their own tables, apart from task data), and the counted answers of a
//! period for reports and work records.

use rusqlite::{Connection, OptionalExtension, params};

use super::corrupt;
use crate::model::intake::{Intake, IntakeForm};
use crate::server::pseudonym::PseudonymKey;
use crate::server::store::{Qualified, StoreError, WorkItem};

const INTAKE_FORM: &str = "intake_form";

pub(super) fn put_intake_form(conn: &Connection, form: &IntakeForm) -> Result<(), StoreError> {
    let json = serde_json::to_string(form).map_err(corrupt("intake form"))?;
    conn.execute(
        "INSERT INTO centre_settings (name, value) VALUES (?1, ?2) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![INTAKE_FORM, json],
    )?;
    Ok(())
}

pub(super) fn intake_form(conn: &Connection) -> Result<IntakeForm, StoreError> {
    let json: Option<String> = conn
        .query_row(
            "SELECT value FROM centre_settings WHERE name = ?1",
            [INTAKE_FORM],
            |r| r.get(0),
        )
        .optional()?;
    match json {
        Some(json) => serde_json::from_str(&json).map_err(corrupt("intake form")),
        None => Ok(IntakeForm::default()),
    }
}

pub(super) fn put_intake(
    conn: &Connection,
    user: &str,
    intake: &Intake,
    now: i64,
) -> Result<(), StoreError> {
    let user_id: i64 = conn
        .query_row("SELECT id FROM users WHERE name = ?1", [user], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NoUser(user.to_string()))?;
    let json = serde_json::to_string(intake).map_err(corrupt("intake record"))?;
    conn.execute(
        "INSERT INTO intakes (user_id, record, updated) VALUES (?1, ?2, ?3) \
         ON CONFLICT (user_id) DO UPDATE SET record = excluded.record, updated = excluded.updated",
        params![user_id, json, now],
    )?;
    Ok(())
}

pub(super) fn intakes(conn: &Connection) -> Result<Vec<(String, Intake)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT u.name, i.record FROM intakes i JOIN users u ON u.id = i.user_id ORDER BY u.name",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(name, json)| {
            let intake = serde_json::from_str(&json).map_err(corrupt("intake record"))?;
            Ok((name, intake))
        })
        .collect()
}

pub(super) fn work_history(
    conn: &Connection,
    user: Option<&str>,
    from: i64,
    to: i64,
    each: &mut dyn FnMut(WorkItem) -> Result<(), StoreError>,
) -> Result<u64, StoreError> {
    // One statement: a consistent snapshot while the server keeps writing.
    let mut stmt = conn.prepare(
        "SELECT u.name, p.name, a.task_id, a.at, \
         CASE WHEN t.gold IS NOT NULL THEN g.correct END, \
         CASE WHEN t.gold IS NULL THEN g.correct END FROM answers a \
         JOIN users u ON u.id = a.user_id \
         JOIN tasks t ON t.id = a.task_id \
         JOIN projects p ON p.id = t.project_id \
         LEFT JOIN gold_results g ON g.answer_id = a.id \
         WHERE a.superseded_by IS NULL AND a.at >= ?1 AND a.at < ?2 \
           AND (?3 IS NULL OR u.name = ?3) \
         ORDER BY u.name, a.at, a.id",
    )?;
    let mut rows = stmt.query(params![from, to, user])?;
    let mut count = 0u64;
    while let Some(row) = rows.next()? {
        each(WorkItem {
            user: row.get(0)?,
            project: row.get(1)?,
            task: row.get(2)?,
            at: row.get(3)?,
            gold_correct: row.get(4)?,
            review_correct: row.get(5)?,
        })?;
        count += 1;
    }
    Ok(count)
}

const PSEUDONYM_KEY: &str = "pseudonym_key";

pub(super) fn pseudonym_key(conn: &Connection) -> Result<PseudonymKey, StoreError> {
    let fresh = PseudonymKey::random().map_err(|e| StoreError::Backend(e.to_string().into()))?;
    conn.execute(
        "INSERT INTO centre_settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        params![PSEUDONYM_KEY, fresh.to_hex()],
    )?;
    let stored: String = conn.query_row(
        "SELECT value FROM centre_settings WHERE name = ?1",
        [PSEUDONYM_KEY],
        |r| r.get(0),
    )?;
    PseudonymKey::from_hex(&stored).ok_or_else(|| StoreError::Corrupt {
        what: "pseudonym key",
        source: "not 64 hex digits".into(),
    })
}

pub(super) fn qualifications(
    conn: &Connection,
    user: Option<&str>,
) -> Result<Vec<Qualified>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT u.name, p.name, q.granted FROM qualifications q \
         JOIN users u ON u.id = q.user_id JOIN projects p ON p.id = q.project_id \
         WHERE ?1 IS NULL OR u.name = ?1 ORDER BY u.name, q.granted, p.name",
    )?;
    let rows = stmt.query_map(params![user], |r| {
        Ok(Qualified {
            user: r.get(0)?,
            project: r.get(1)?,
            granted: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

//! Users and their devices on SQLite: the list `kazi admin user list` shows, revocation
//! (the token stops working at once; the device's live leases go back to the pool),
//! disabling and enabling a user, and removing one.

use rusqlite::{Connection, OptionalExtension, params};

use super::role_of;
use super::sync_tx::SqliteTx;
use crate::server::scheduler;
use crate::server::store::{DeviceSummary, StoreError, UserRemoved, UserSummary};

pub(super) fn users(conn: &Connection) -> Result<Vec<UserSummary>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.name, u.role, d.id, d.name, d.created, d.last_sync, d.revoked, \
                u.disabled, u.removed \
         FROM users u LEFT JOIN devices d ON d.user_id = u.id ORDER BY u.name, d.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<i64>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, Option<i64>>(5)?,
            r.get::<_, Option<i64>>(6)?,
            r.get::<_, Option<i64>>(7)?,
            r.get::<_, Option<i64>>(8)?,
        ))
    })?;
    let mut users: Vec<UserSummary> = Vec::new();
    for row in rows {
        let (name, role, device, device_name, created, last_sync, revoked, disabled, removed) =
            row?;
        if users.last().is_none_or(|u| u.name != name) {
            users.push(UserSummary {
                name,
                role: role_of(&role)?,
                disabled,
                removed,
                devices: Vec::new(),
            });
        }
        if let (Some(id), Some(user)) = (device, users.last_mut()) {
            user.devices.push(DeviceSummary {
                id,
                name: device_name.unwrap_or_default(),
                created: created.unwrap_or_default(),
                last_sync,
                revoked,
            });
        }
    }
    Ok(users)
}

/// The id of a user who has not been removed.
fn user_id(conn: &Connection, user: &str) -> Result<i64, StoreError> {
    conn.prepare_cached("SELECT id FROM users WHERE name = ?1 AND removed IS NULL")?
        .query_row([user], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NoUser(user.to_string()))
}

/// Every live lease of the user's devices goes back to the pool.
fn release_leases(conn: &Connection, user_id: i64) -> Result<(), StoreError> {
    let devices: Vec<i64> = conn
        .prepare_cached("SELECT id FROM devices WHERE user_id = ?1 ORDER BY id")?
        .query_map([user_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in devices {
        scheduler::device_revoked(&mut SqliteTx::new(conn), id)?;
    }
    Ok(())
}

pub(super) fn set_disabled(
    conn: &Connection,
    user: &str,
    disabled: bool,
    now: i64,
) -> Result<bool, StoreError> {
    let user_id = user_id(conn, user)?;
    let changed = if disabled {
        conn.prepare_cached("UPDATE users SET disabled = ?1 WHERE id = ?2 AND disabled IS NULL")?
            .execute(params![now, user_id])?
    } else {
        conn.prepare_cached(
            "UPDATE users SET disabled = NULL WHERE id = ?1 AND disabled IS NOT NULL",
        )?
        .execute([user_id])?
    };
    if disabled && changed > 0 {
        release_leases(conn, user_id)?;
    }
    Ok(changed > 0)
}

pub(super) fn remove(conn: &Connection, user: &str, now: i64) -> Result<UserRemoved, StoreError> {
    let user_id = user_id(conn, user)?;
    release_leases(conn, user_id)?;
    let answers: i64 = conn
        .prepare_cached("SELECT (SELECT COUNT(*) FROM answers WHERE user_id = ?1) + (SELECT COUNT(*) FROM review_items WHERE decided_by = ?1)")?
        .query_row([user_id], |r| r.get(0))?;
    conn.prepare_cached("DELETE FROM enrolment_codes WHERE user_id = ?1")?
        .execute([user_id])?;
    if answers == 0 {
        for sql in [
            "DELETE FROM leases WHERE user_id = ?1",
            "DELETE FROM gold_mix WHERE user_id = ?1",
            "DELETE FROM review_assignments WHERE user_id = ?1",
            "UPDATE review_items SET lease_holder = NULL, lease_expires = NULL WHERE lease_holder = ?1",
            "DELETE FROM ssh_keys WHERE user_id = ?1",
            "DELETE FROM devices WHERE user_id = ?1",
            "DELETE FROM users WHERE id = ?1",
        ] {
            conn.prepare_cached(sql)?.execute([user_id])?;
        }
        return Ok(UserRemoved::Deleted);
    }
    conn.prepare_cached("UPDATE devices SET revoked = ?1 WHERE user_id = ?2 AND revoked IS NULL")?
        .execute(params![now, user_id])?;
    conn.prepare_cached("UPDATE users SET removed = ?1 WHERE id = ?2")?
        .execute(params![now, user_id])?;
    Ok(UserRemoved::Retired {
        answers: answers as u64,
    })
}

/// Revoke one device of the user, or all of them: how many were still active.
pub(super) fn revoke(
    conn: &Connection,
    user: &str,
    device: Option<i64>,
    now: i64,
) -> Result<u64, StoreError> {
    let user_id = user_id(conn, user)?;
    let devices: Vec<i64> = match device {
        Some(id) => {
            let found: Option<Option<i64>> = conn
                .prepare_cached("SELECT revoked FROM devices WHERE id = ?1 AND user_id = ?2")?
                .query_row(params![id, user_id], |r| r.get(0))
                .optional()?;
            match found {
                None => {
                    return Err(StoreError::NoDevice {
                        user: user.to_string(),
                        device: id,
                    });
                }
                Some(Some(_)) => Vec::new(),
                Some(None) => vec![id],
            }
        }
        None => {
            let mut stmt = conn.prepare_cached(
                "SELECT id FROM devices WHERE user_id = ?1 AND revoked IS NULL ORDER BY id",
            )?;
            stmt.query_map([user_id], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        }
    };
    for &id in &devices {
        conn.prepare_cached("UPDATE devices SET revoked = ?1 WHERE id = ?2")?
            .execute(params![now, id])?;
        scheduler::device_revoked(&mut SqliteTx::new(conn), id)?;
    }
    Ok(devices.len() as u64)
}

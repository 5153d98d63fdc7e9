//! Users and their devices on PostgreSQL: the list `kazi admin user list` shows,
//! revocation (the token stops working at once; the device's live leases go back to the
//! pool), disabling and enabling a user, and removing one.

use super::db::get;
use super::sync_tx::PgTx;
use super::{Db, role_of};
use crate::server::scheduler;
use crate::server::store::{DeviceSummary, StoreError, UserRemoved, UserSummary};

pub(super) fn users(db: &mut Db<'_>) -> Result<Vec<UserSummary>, StoreError> {
    let rows = db.query(
        "SELECT u.name, u.role, d.id, d.name, d.created, d.last_sync, d.revoked, \
                u.disabled, u.removed \
         FROM users u LEFT JOIN devices d ON d.user_id = u.id ORDER BY u.name, d.id",
        &[],
    )?;
    let mut users: Vec<UserSummary> = Vec::new();
    for row in &rows {
        let name: String = get(row, 0)?;
        if users.last().is_none_or(|u| u.name != name) {
            users.push(UserSummary {
                name,
                role: role_of(&get::<String>(row, 1)?)?,
                disabled: get(row, 7)?,
                removed: get(row, 8)?,
                devices: Vec::new(),
            });
        }
        let device: Option<i64> = get(row, 2)?;
        if let (Some(id), Some(user)) = (device, users.last_mut()) {
            // A device row's name and creation time are NOT NULL.
            user.devices.push(DeviceSummary {
                id,
                name: get(row, 3)?,
                created: get(row, 4)?,
                last_sync: get(row, 5)?,
                revoked: get(row, 6)?,
            });
        }
    }
    Ok(users)
}

/// The id of a user who has not been removed, under the user's row lock as a sync takes
/// it: no sync of this worker on any instance runs between the change and the leases
/// going back.
fn lock_user(db: &mut Db<'_>, user: &str) -> Result<i64, StoreError> {
    db.query_opt(
        "SELECT id FROM users WHERE name = $1 AND removed IS NULL FOR UPDATE",
        &[&user],
    )?
    .map(|r| get(&r, 0))
    .transpose()?
    .ok_or_else(|| StoreError::NoUser(user.to_string()))
}

/// Every live lease of the user's devices goes back to the pool.
fn release_leases(db: &mut Db<'_>, user_id: i64) -> Result<(), StoreError> {
    let rows = db.query(
        "SELECT id FROM devices WHERE user_id = $1 ORDER BY id",
        &[&user_id],
    )?;
    for row in &rows {
        scheduler::device_revoked(&mut PgTx::new(db), get(row, 0)?)?;
    }
    Ok(())
}

pub(super) fn set_disabled(
    db: &mut Db<'_>,
    user: &str,
    disabled: bool,
    now: i64,
) -> Result<bool, StoreError> {
    let user_id = lock_user(db, user)?;
    let changed = if disabled {
        db.execute(
            "UPDATE users SET disabled = $1 WHERE id = $2 AND disabled IS NULL",
            &[&now, &user_id],
        )?
    } else {
        db.execute(
            "UPDATE users SET disabled = NULL WHERE id = $1 AND disabled IS NOT NULL",
            &[&user_id],
        )?
    };
    if disabled && changed > 0 {
        release_leases(db, user_id)?;
    }
    Ok(changed > 0)
}

pub(super) fn remove(db: &mut Db<'_>, user: &str, now: i64) -> Result<UserRemoved, StoreError> {
    let user_id = lock_user(db, user)?;
    release_leases(db, user_id)?;
    let answers: i64 = get(
        &db.query_one(
            "SELECT (SELECT COUNT(*) FROM answers WHERE user_id = $1) + (SELECT COUNT(*) FROM review_items WHERE decided_by = $1)",
            &[&user_id],
        )?,
        0,
    )?;
    db.execute(
        "DELETE FROM enrolment_codes WHERE user_id = $1",
        &[&user_id],
    )?;
    if answers == 0 {
        for sql in [
            "DELETE FROM leases WHERE user_id = $1",
            "DELETE FROM gold_mix WHERE user_id = $1",
            "DELETE FROM review_assignments WHERE user_id = $1",
            "UPDATE review_items SET lease_holder = NULL, lease_expires = NULL WHERE lease_holder = $1",
            "DELETE FROM ssh_keys WHERE user_id = $1",
            "DELETE FROM devices WHERE user_id = $1",
            "DELETE FROM users WHERE id = $1",
        ] {
            db.execute(sql, &[&user_id])?;
        }
        return Ok(UserRemoved::Deleted);
    }
    db.execute(
        "UPDATE devices SET revoked = $1 WHERE user_id = $2 AND revoked IS NULL",
        &[&now, &user_id],
    )?;
    db.execute(
        "UPDATE users SET removed = $1 WHERE id = $2",
        &[&now, &user_id],
    )?;
    Ok(UserRemoved::Retired {
        answers: answers as u64,
    })
}

/// Revoke one device of the user, or all of them, in the caller's transaction: how many
/// were still active.
pub(super) fn revoke(
    db: &mut Db<'_>,
    user: &str,
    device: Option<i64>,
    now: i64,
) -> Result<u64, StoreError> {
    let user_id = lock_user(db, user)?;
    let devices: Vec<i64> = match device {
        Some(id) => {
            let found = db.query_opt(
                "SELECT revoked FROM devices WHERE id = $1 AND user_id = $2 FOR UPDATE",
                &[&id, &user_id],
            )?;
            match found {
                None => {
                    return Err(StoreError::NoDevice {
                        user: user.to_string(),
                        device: id,
                    });
                }
                Some(row) if get::<Option<i64>>(&row, 0)?.is_some() => Vec::new(),
                Some(_) => vec![id],
            }
        }
        None => {
            let rows = db.query(
                "SELECT id FROM devices WHERE user_id = $1 AND revoked IS NULL \
                 ORDER BY id FOR UPDATE",
                &[&user_id],
            )?;
            rows.iter().map(|r| get(r, 0)).collect::<Result<_, _>>()?
        }
    };
    for &id in &devices {
        db.execute(
            "UPDATE devices SET revoked = $1 WHERE id = $2",
            &[&now, &id],
        )?;
        scheduler::device_revoked(&mut PgTx::new(db), id)?;
    }
    Ok(devices.len() as u64)
}

//! Users' devices on PostgreSQL: the list `kazi admin user list` shows, and revocation
//! (the token stops working at once; the device's live leases go back to the pool).

use super::db::get;
use super::sync_tx::PgTx;
use super::{Db, role_of};
use crate::server::scheduler;
use crate::server::store::{DeviceSummary, StoreError, UserSummary};

pub(super) fn users(db: &mut Db<'_>) -> Result<Vec<UserSummary>, StoreError> {
    let rows = db.query(
        "SELECT u.name, u.role, d.id, d.name, d.created, d.last_sync, d.revoked \
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

/// Revoke one device of the user, or all of them, in the caller's transaction: how many
/// were still active.
pub(super) fn revoke(
    db: &mut Db<'_>,
    user: &str,
    device: Option<i64>,
    now: i64,
) -> Result<u64, StoreError> {
    // The user's row lock, as a sync takes it: no sync of this worker on any instance
    // runs between the revocation and the leases going back.
    let user_id: i64 = db
        .query_opt("SELECT id FROM users WHERE name = $1 FOR UPDATE", &[&user])?
        .map(|r| get(&r, 0))
        .transpose()?
        .ok_or_else(|| StoreError::NoUser(user.to_string()))?;
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

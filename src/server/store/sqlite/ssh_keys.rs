//! SSH public keys on SQLite: each key signs in as a device of its user, so removing a
//! key is revoking that device (its live leases go back to the pool).

use rusqlite::{Connection, OptionalExtension, params};

use super::devices;
use crate::server::store::{
    NewSshKey, Principal, SecretHash, SshKeyAdded, SshKeySummary, StoreError,
};

fn user_id(conn: &Connection, user: &str) -> Result<i64, StoreError> {
    conn.prepare_cached("SELECT id FROM users WHERE name = ?1")?
        .query_row([user], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NoUser(user.to_string()))
}

fn new_device(
    conn: &Connection,
    user_id: i64,
    key: &NewSshKey,
    token: &SecretHash,
    now: i64,
) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO devices (user_id, name, token_hash, created) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        user_id,
        format!("ssh key {}", key.fingerprint),
        &token[..],
        now
    ])?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn add(
    conn: &Connection,
    user: &str,
    key: &NewSshKey,
    token: &SecretHash,
    now: i64,
) -> Result<SshKeyAdded, StoreError> {
    let user_id = user_id(conn, user)?;
    let existing: Option<(i64, String, i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT k.user_id, u.name, k.device_id, d.revoked FROM ssh_keys k \
             JOIN users u ON u.id = k.user_id JOIN devices d ON d.id = k.device_id \
             WHERE k.fingerprint = ?1",
        )?
        .query_row([&key.fingerprint], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    match existing {
        Some((owner_id, owner, _, _)) if owner_id != user_id => Err(StoreError::KeyTaken {
            fingerprint: key.fingerprint.clone(),
            owner,
        }),
        Some((_, _, device_id, None)) => Ok(SshKeyAdded::AlreadyThere { device_id }),
        Some((_, _, _, Some(_))) => {
            let device_id = new_device(conn, user_id, key, token, now)?;
            conn.prepare_cached(
                "UPDATE ssh_keys SET device_id = ?1, comment = ?2 WHERE fingerprint = ?3",
            )?
            .execute(params![device_id, key.comment, key.fingerprint])?;
            Ok(SshKeyAdded::Renewed { device_id })
        }
        None => {
            let device_id = new_device(conn, user_id, key, token, now)?;
            conn.prepare_cached(
                "INSERT INTO ssh_keys (user_id, fingerprint, public_key, comment, device_id, added) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                user_id,
                key.fingerprint,
                key.public_key,
                key.comment,
                device_id,
                now
            ])?;
            Ok(SshKeyAdded::New { device_id })
        }
    }
}

pub(super) fn list(conn: &Connection, user: &str) -> Result<Vec<SshKeySummary>, StoreError> {
    let user_id = user_id(conn, user)?;
    let mut stmt = conn.prepare_cached(
        "SELECT k.fingerprint, k.public_key, k.comment, k.added, k.device_id, d.revoked \
         FROM ssh_keys k JOIN devices d ON d.id = k.device_id \
         WHERE k.user_id = ?1 ORDER BY k.id",
    )?;
    let rows = stmt.query_map([user_id], |r| {
        Ok(SshKeySummary {
            fingerprint: r.get(0)?,
            public_key: r.get(1)?,
            comment: r.get(2)?,
            added: r.get(3)?,
            device_id: r.get(4)?,
            revoked: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn remove(
    conn: &Connection,
    user: &str,
    fingerprint: &str,
    now: i64,
) -> Result<(), StoreError> {
    let user_id = user_id(conn, user)?;
    let device: Option<i64> = conn
        .prepare_cached("SELECT device_id FROM ssh_keys WHERE user_id = ?1 AND fingerprint = ?2")?
        .query_row(params![user_id, fingerprint], |r| r.get(0))
        .optional()?;
    let Some(device) = device else {
        return Err(StoreError::NoKey {
            user: user.to_string(),
            fingerprint: fingerprint.to_string(),
        });
    };
    devices::revoke(conn, user, Some(device), now)?;
    conn.prepare_cached("DELETE FROM ssh_keys WHERE user_id = ?1 AND fingerprint = ?2")?
        .execute(params![user_id, fingerprint])?;
    Ok(())
}

pub(super) fn principal(
    conn: &Connection,
    fingerprint: &str,
) -> Result<Option<Principal>, StoreError> {
    let row: Option<(i64, i64, String, String)> = conn
        .prepare_cached(
            "SELECT d.id, u.id, u.name, u.role FROM ssh_keys k \
             JOIN devices d ON d.id = k.device_id JOIN users u ON u.id = k.user_id \
             WHERE k.fingerprint = ?1 AND d.revoked IS NULL \
             AND u.disabled IS NULL AND u.removed IS NULL",
        )?
        .query_row([fingerprint], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    row.map(super::principal_of).transpose()
}

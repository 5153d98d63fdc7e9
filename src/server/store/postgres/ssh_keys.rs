//! SSH public keys on PostgreSQL: each key signs in as a device of its user, so removing
//! a key is revoking that device (its live leases go back to the pool).

use super::db::get;
use super::{Db, catalogue, devices};
use crate::server::store::{
    NewSshKey, Principal, SecretHash, SshKeyAdded, SshKeySummary, StoreError,
};

fn user_id(db: &mut Db<'_>, user: &str) -> Result<i64, StoreError> {
    db.query_opt("SELECT id FROM users WHERE name = $1", &[&user])?
        .map(|r| get(&r, 0))
        .transpose()?
        .ok_or_else(|| StoreError::NoUser(user.to_string()))
}

fn new_device(
    db: &mut Db<'_>,
    user_id: i64,
    key: &NewSshKey,
    token: &SecretHash,
    now: i64,
) -> Result<i64, StoreError> {
    let name = format!("ssh key {}", key.fingerprint);
    let row = db.query_one(
        "INSERT INTO devices (user_id, name, token_hash, created) VALUES ($1, $2, $3, $4) \
         RETURNING id",
        &[&user_id, &name, &&token[..], &now],
    )?;
    get(&row, 0)
}

pub(super) fn add(
    db: &mut Db<'_>,
    user: &str,
    key: &NewSshKey,
    token: &SecretHash,
    now: i64,
) -> Result<SshKeyAdded, StoreError> {
    let user_id = user_id(db, user)?;
    let existing = db.query_opt(
        "SELECT k.user_id, u.name, k.device_id, d.revoked FROM ssh_keys k \
         JOIN users u ON u.id = k.user_id JOIN devices d ON d.id = k.device_id \
         WHERE k.fingerprint = $1 FOR UPDATE OF k",
        &[&key.fingerprint],
    )?;
    let Some(row) = existing else {
        let device_id = new_device(db, user_id, key, token, now)?;
        db.execute(
            "INSERT INTO ssh_keys (user_id, fingerprint, public_key, comment, device_id, added) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &user_id,
                &key.fingerprint,
                &key.public_key,
                &key.comment,
                &device_id,
                &now,
            ],
        )?;
        return Ok(SshKeyAdded::New { device_id });
    };
    let (owner_id, owner): (i64, String) = (get(&row, 0)?, get(&row, 1)?);
    let (device_id, revoked): (i64, Option<i64>) = (get(&row, 2)?, get(&row, 3)?);
    if owner_id != user_id {
        return Err(StoreError::KeyTaken {
            fingerprint: key.fingerprint.clone(),
            owner,
        });
    }
    if revoked.is_none() {
        return Ok(SshKeyAdded::AlreadyThere { device_id });
    }
    let device_id = new_device(db, user_id, key, token, now)?;
    db.execute(
        "UPDATE ssh_keys SET device_id = $1, comment = $2 WHERE fingerprint = $3",
        &[&device_id, &key.comment, &key.fingerprint],
    )?;
    Ok(SshKeyAdded::Renewed { device_id })
}

pub(super) fn list(db: &mut Db<'_>, user: &str) -> Result<Vec<SshKeySummary>, StoreError> {
    let user_id = user_id(db, user)?;
    let rows = db.query(
        "SELECT k.fingerprint, k.public_key, k.comment, k.added, k.device_id, d.revoked \
         FROM ssh_keys k JOIN devices d ON d.id = k.device_id \
         WHERE k.user_id = $1 ORDER BY k.id",
        &[&user_id],
    )?;
    rows.iter()
        .map(|r| {
            Ok(SshKeySummary {
                fingerprint: get(r, 0)?,
                public_key: get(r, 1)?,
                comment: get(r, 2)?,
                added: get(r, 3)?,
                device_id: get(r, 4)?,
                revoked: get(r, 5)?,
            })
        })
        .collect()
}

/// In the caller's transaction: the key's device is revoked, then the key forgotten.
pub(super) fn remove(
    db: &mut Db<'_>,
    user: &str,
    fingerprint: &str,
    now: i64,
) -> Result<(), StoreError> {
    let user_id = user_id(db, user)?;
    let device: Option<i64> = db
        .query_opt(
            "SELECT device_id FROM ssh_keys WHERE user_id = $1 AND fingerprint = $2",
            &[&user_id, &fingerprint],
        )?
        .map(|r| get(&r, 0))
        .transpose()?;
    let Some(device) = device else {
        return Err(StoreError::NoKey {
            user: user.to_string(),
            fingerprint: fingerprint.to_string(),
        });
    };
    devices::revoke(db, user, Some(device), now)?;
    db.execute(
        "DELETE FROM ssh_keys WHERE user_id = $1 AND fingerprint = $2",
        &[&user_id, &fingerprint],
    )?;
    Ok(())
}

pub(super) fn principal(
    db: &mut Db<'_>,
    fingerprint: &str,
) -> Result<Option<Principal>, StoreError> {
    let row = db.query_opt(
        "SELECT d.id, u.id, u.name, u.role FROM ssh_keys k \
         JOIN devices d ON d.id = k.device_id JOIN users u ON u.id = k.user_id \
         WHERE k.fingerprint = $1 AND d.revoked IS NULL \
         AND u.disabled IS NULL AND u.removed IS NULL",
        &[&fingerprint],
    )?;
    row.as_ref().map(catalogue::principal_of).transpose()
}

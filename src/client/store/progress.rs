//! The worker's progress as the server last computed it (`protocol::Progress`), kept
//! for offline viewing, and when to ask for it again: at most once an hour with a sync
//! going out anyway, or at once when the progress view is opened.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::protocol::{Progress, SyncResponse};

use super::{LocalStore, StoreError, db_error, local_now, to_json};

/// Figures older than this (by this computer's clock, which only decides when to ask)
/// are asked for again with the next sync.
const PROGRESS_MAX_AGE_SECS: i64 = 3600;

impl LocalStore {
    /// The progress last received, if any. A cache this build cannot read is an error,
    /// never "no progress yet".
    pub fn progress(&self) -> Result<Option<Progress>, StoreError> {
        let json: Option<String> = self
            .conn
            .prepare_cached("SELECT summary FROM progress WHERE id = 1")
            .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))?;
        json.map(|json| {
            serde_json::from_str::<Progress>(&json)
                .map(Progress::bounded)
                .map_err(|source| StoreError::Unreadable {
                    what: "the progress figures",
                    source,
                })
        })
        .transpose()
    }

    /// Ask for fresh figures with the next sync (the progress view was opened).
    pub fn ask_progress(&mut self) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES ('progress_asked', 1)
                 ON CONFLICT(key) DO UPDATE SET value = 1",
                [],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Whether the progress view asked for fresh figures not received yet.
    pub(super) fn progress_asked(&self) -> Result<bool, StoreError> {
        Ok(self.meta("progress_asked")?.unwrap_or(0) != 0)
    }

    /// Whether the next sync asks for the figures: asked, none here, or an hour old.
    pub(super) fn progress_due(&self) -> Result<bool, StoreError> {
        if self.progress_asked()? {
            return Ok(true);
        }
        let fetched: Option<i64> = self
            .conn
            .prepare_cached("SELECT fetched FROM progress WHERE id = 1")
            .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))?;
        Ok(fetched.is_none_or(|at| (local_now() - at).abs() >= PROGRESS_MAX_AGE_SECS))
    }
}

/// Keep a reply's progress, in the reply's transaction; whether it brought any.
pub(super) fn apply_progress(
    tx: &Transaction<'_>,
    path: &str,
    response: &SyncResponse,
) -> Result<bool, StoreError> {
    let Some(progress) = &response.progress else {
        return Ok(false);
    };
    let db = db_error(path);
    let progress = progress.clone().bounded();
    tx.execute(
        "INSERT INTO progress (id, summary, fetched) VALUES (1, ?1, ?2)
         ON CONFLICT(id) DO UPDATE SET summary = excluded.summary, fetched = excluded.fetched",
        params![to_json("the progress figures", &progress)?, local_now()],
    )
    .map_err(db)?;
    tx.execute("DELETE FROM meta WHERE key = 'progress_asked'", [])
        .map_err(db)?;
    Ok(true)
}

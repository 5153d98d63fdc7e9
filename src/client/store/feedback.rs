//! The feedback inbox on this computer: items the server sent (gold results, review
//! verdicts, gold corrections), the worker's accuracy per project as the server last
//! computed it (shown offline too), and contests and flags waiting to be sent.

use rusqlite::{Transaction, params};

use crate::protocol::{Accuracy, FeedbackItem, Report, ReportKind, SyncResponse};

use super::{LocalStore, StoreError, db_error, to_json};

/// Feedback items kept here; older ones are pruned (the server keeps them all).
const KEEP_FEEDBACK: i64 = 200;

impl LocalStore {
    /// The highest feedback item number stored here (`SyncRequest::feedback_seen`).
    pub fn feedback_seen(&self) -> Result<u64, StoreError> {
        Ok(self.meta("feedback_seen")?.unwrap_or(0).max(0) as u64)
    }

    /// The latest feedback items, newest first. An item this build cannot read back is
    /// an error, never skipped.
    pub fn recent_feedback(&self, limit: usize) -> Result<Vec<FeedbackItem>, StoreError> {
        let rows: Vec<String> = self
            .conn
            .prepare_cached("SELECT item FROM feedback ORDER BY id DESC LIMIT ?1")
            .and_then(|mut s| {
                s.query_map([limit as i64], |r| r.get(0))?
                    .collect::<Result<_, _>>()
            })
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|json| serde_json::from_str(json).map_err(|source| bad("a feedback item", source)))
            .collect()
    }

    /// The worker's accuracy per project, as the server last sent it, by project name.
    pub fn accuracy(&self) -> Result<Vec<Accuracy>, StoreError> {
        let rows: Vec<String> = self
            .conn
            .prepare_cached("SELECT value FROM accuracy ORDER BY project")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect::<Result<_, _>>())
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|json| serde_json::from_str(json).map_err(|source| bad("an accuracy", source)))
            .collect()
    }

    /// Keep a contest or flag to send with the next sync (committed before returning).
    pub fn record_report(
        &mut self,
        task: i64,
        kind: ReportKind,
        note: &str,
    ) -> Result<u64, StoreError> {
        let db = db_error(&self.path);
        let tx = super::begin_write(&mut self.conn).map_err(db)?;
        tx.execute("INSERT INTO reports (report) VALUES ('')", [])
            .map_err(db)?;
        let id = tx.last_insert_rowid() as u64;
        let report = Report {
            id,
            task,
            kind,
            note: note.to_string(),
        };
        tx.execute(
            "UPDATE reports SET report = ?2 WHERE id = ?1",
            params![id as i64, to_json("a report", &report)?],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(id)
    }

    /// Contests and flags not yet acknowledged, oldest first.
    pub fn unsent_reports(&self, limit: usize) -> Result<Vec<Report>, StoreError> {
        let rows: Vec<String> = self
            .conn
            .prepare_cached("SELECT report FROM reports WHERE sent = 0 ORDER BY id LIMIT ?1")
            .and_then(|mut s| {
                s.query_map([limit as i64], |r| r.get(0))?
                    .collect::<Result<_, _>>()
            })
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|json| serde_json::from_str(json).map_err(|source| bad("a report", source)))
            .collect()
    }
}

fn bad(what: &'static str, source: serde_json::Error) -> StoreError {
    StoreError::Unreadable { what, source }
}

/// Keep a reply's feedback, accuracy and acknowledged reports, in the reply's transaction.
/// The items newly stored, for the screen's notice.
pub(super) fn apply_feedback(
    tx: &Transaction<'_>,
    path: &str,
    response: &SyncResponse,
) -> Result<Vec<FeedbackItem>, StoreError> {
    let db = db_error(path);
    let mut fresh = Vec::new();
    for item in &response.feedback {
        let n = tx
            .execute(
                "INSERT OR IGNORE INTO feedback (id, item) VALUES (?1, ?2)",
                params![item.id as i64, to_json("a feedback item", item)?],
            )
            .map_err(db)?;
        if n == 1 {
            fresh.push(item.clone());
        }
    }
    if let Some(last) = response.feedback.iter().map(|i| i.id).max() {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('feedback_seen', ?1)
             ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
            [last as i64],
        )
        .map_err(db)?;
        tx.execute(
            "DELETE FROM feedback WHERE id <= (SELECT max(id) FROM feedback) - ?1",
            [KEEP_FEEDBACK],
        )
        .map_err(db)?;
    }
    for accuracy in &response.accuracy {
        tx.execute(
            "INSERT INTO accuracy (project, value) VALUES (?1, ?2)
             ON CONFLICT(project) DO UPDATE SET value = excluded.value",
            params![accuracy.project, to_json("an accuracy", accuracy)?],
        )
        .map_err(db)?;
    }
    for id in &response.reports_done {
        tx.execute("UPDATE reports SET sent = 1 WHERE id = ?1", [*id as i64])
            .map_err(db)?;
    }
    Ok(fresh)
}

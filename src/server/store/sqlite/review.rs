//! The review queue on SQLite: queueing (once per task, reason and worker), listings,
//! leases and verdicts, and reviewers' project assignments. One writer means a picked
//! item cannot be taken by anyone else before the lease is written.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::sync_tx::{parse_value, value_json};
use crate::server::store::StoreError;
use crate::server::store::review::{
    AnswerUnderReview, ItemColumns, NewReviewItem, ReviewFilter, ReviewItem, ReviewLease,
    ReviewOutcome, ReviewReason, ReviewState, TaskUnderReview, Verdict, fields_json,
};
use crate::server::store::sync_tx::clip_ref;

const ITEM_COLUMNS: &str = "r.id, r.reason, p.name, r.task_id, t.ext_id, r.fields, r.worker_id, \
     r.note, r.created, r.lease_holder, r.lease_expires, r.state, r.verdict_kind, r.verdict, \
     r.decided_by, r.decided_at, r.decision_note";

const ITEM_FROM: &str = "FROM review_items r JOIN tasks t ON t.id = r.task_id \
     JOIN projects p ON p.id = r.project_id";

/// ?1 project name, ?2 reason, ?3 state, ?4 assigned reviewer: each NULL for any.
const FILTER: &str = "(?1 IS NULL OR p.name = ?1) AND (?2 IS NULL OR r.reason = ?2) \
     AND (?3 IS NULL OR r.state = ?3) \
     AND (?4 IS NULL OR EXISTS (SELECT 1 FROM review_assignments a \
                                WHERE a.user_id = ?4 AND a.project_id = r.project_id))";

pub(super) fn enqueue(
    conn: &Connection,
    item: &NewReviewItem,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let fields = fields_json(&item.fields);
    let added = conn
        .prepare_cached(
            "INSERT INTO review_items (reason, project_id, task_id, fields, worker_id, note, \
                                       created, state) \
             SELECT ?1, t.project_id, t.id, ?3, ?4, ?5, ?6, 'open' FROM tasks t WHERE t.id = ?2 \
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            item.reason.as_str(),
            item.task,
            fields,
            item.worker,
            item.note,
            now
        ])?;
    Ok((added == 1).then(|| conn.last_insert_rowid()))
}

pub(super) fn list(
    conn: &Connection,
    filter: &ReviewFilter,
) -> Result<Vec<ReviewItem>, StoreError> {
    let sql = format!("SELECT {ITEM_COLUMNS} {ITEM_FROM} WHERE {FILTER} ORDER BY r.id LIMIT ?5");
    let limit = filter.limit.map_or(-1, |n| n as i64);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            filter.project,
            filter.reason.map(ReviewReason::as_str),
            filter.state.map(ReviewState::as_str),
            filter.assigned_to,
            limit
        ],
        raw_item,
    )?;
    let raw: Vec<ItemColumns> = rows.collect::<Result<_, _>>()?;
    raw.into_iter().map(ItemColumns::parse).collect()
}

pub(super) fn item(conn: &Connection, id: i64) -> Result<Option<ReviewItem>, StoreError> {
    let sql = format!("SELECT {ITEM_COLUMNS} {ITEM_FROM} WHERE r.id = ?1");
    let raw = conn
        .prepare_cached(&sql)?
        .query_row([id], raw_item)
        .optional()?;
    raw.map(ItemColumns::parse).transpose()
}

/// The oldest open item the filter admits whose lease is free at `now` or `reviewer`'s.
pub(super) fn next_free(
    conn: &Connection,
    filter: &ReviewFilter,
    reviewer: i64,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let sql = format!(
        "SELECT r.id {ITEM_FROM} WHERE {FILTER} AND r.state = 'open' \
           AND (r.lease_holder IS NULL OR r.lease_holder = ?5 OR r.lease_expires <= ?6) \
         ORDER BY r.id LIMIT 1"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(
            params![
                filter.project,
                filter.reason.map(ReviewReason::as_str),
                filter.state.map(ReviewState::as_str),
                filter.assigned_to,
                reviewer,
                now
            ],
            |r| r.get(0),
        )
        .optional()?)
}

pub(super) fn lease(
    conn: &Connection,
    id: i64,
    lease: Option<ReviewLease>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE review_items SET lease_holder = ?1, lease_expires = ?2 WHERE id = ?3",
    )?
    .execute(params![
        lease.map(|l| l.holder),
        lease.map(|l| l.expires),
        id
    ])?;
    Ok(())
}

pub(super) fn decide(conn: &Connection, id: i64, verdict: &Verdict) -> Result<(), StoreError> {
    let value = verdict.value.as_ref().map(value_json).transpose()?;
    conn.prepare_cached(
        "UPDATE review_items SET state = 'decided', verdict_kind = ?1, verdict = ?2, \
           decided_by = ?3, decided_at = ?4, decision_note = ?5, \
           lease_holder = NULL, lease_expires = NULL \
         WHERE id = ?6",
    )?
    .execute(params![
        verdict.kind.as_str(),
        value,
        verdict.by,
        verdict.at,
        verdict.note,
        id
    ])?;
    Ok(())
}

pub(super) fn is_assigned(
    conn: &Connection,
    user_id: i64,
    project_id: i64,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM review_assignments WHERE user_id = ?1 AND project_id = ?2")?
        .query_row([user_id, project_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Assign a user to review a project; false when they already were.
pub(super) fn assign(
    conn: &Connection,
    user: &str,
    project: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let user_id: i64 = conn
        .query_row("SELECT id FROM users WHERE name = ?1", [user], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NoUser(user.to_string()))?;
    let project_id: i64 = conn
        .query_row("SELECT id FROM projects WHERE name = ?1", [project], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| StoreError::NoProject(project.to_string()))?;
    let added = conn.execute(
        "INSERT INTO review_assignments (user_id, project_id, assigned) VALUES (?1, ?2, ?3) \
         ON CONFLICT DO NOTHING",
        params![user_id, project_id, now],
    )?;
    Ok(added == 1)
}

fn raw_item(r: &Row<'_>) -> rusqlite::Result<ItemColumns> {
    Ok(ItemColumns {
        id: r.get(0)?,
        reason: r.get(1)?,
        project: r.get(2)?,
        task: r.get(3)?,
        task_ext: r.get(4)?,
        fields: r.get(5)?,
        worker: r.get(6)?,
        note: r.get(7)?,
        created: r.get(8)?,
        holder: r.get(9)?,
        expires: r.get(10)?,
        state: r.get(11)?,
        kind: r.get(12)?,
        verdict: r.get(13)?,
        by: r.get(14)?,
        at: r.get(15)?,
        why: r.get(16)?,
    })
}

pub(super) fn task_under_review(
    conn: &Connection,
    task: i64,
) -> Result<Option<TaskUnderReview>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT t.project_id, t.text, t.decided, t.agreement, t.confidence, \
             t.clip, c.wire_bytes, c.duration_ms FROM tasks t LEFT JOIN clips c ON c.hash = t.clip \
             WHERE t.id = ?1",
        )?
        .query_row([task], |r| {
            Ok(TaskUnderReview {
                project_id: r.get(0)?,
                text: r.get(1)?,
                decided: r.get(2)?,
                agreement: r.get(3)?,
                confidence: r.get(4)?,
                clip: clip_ref(r.get(5)?, r.get(6)?, r.get(7)?),
            })
        })
        .optional()?)
}

pub(super) fn answers_under_review(
    conn: &Connection,
    task: i64,
) -> Result<Vec<AnswerUnderReview>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.user_id, a.value, a.at, l.granted FROM answers a \
         LEFT JOIN leases l ON l.task_id = a.task_id AND l.user_id = a.user_id \
         WHERE a.task_id = ?1 AND a.superseded_by IS NULL ORDER BY a.id",
    )?;
    let rows = stmt.query_map([task], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, Option<i64>>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (answer_id, user_id, value, at, granted) = row?;
        out.push(AnswerUnderReview {
            answer_id,
            user_id,
            value: parse_value(&value)?,
            at,
            granted,
        });
    }
    Ok(out)
}

/// Final answers reviewers gave the project's tasks (see `review::outcomes`).
pub(super) fn outcomes(
    conn: &Connection,
    project_id: i64,
) -> Result<HashMap<i64, ReviewOutcome>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT task_id, verdict_kind, verdict, decided_by, decision_note FROM review_items \
         WHERE project_id = ?1 AND state = 'decided' AND verdict IS NOT NULL \
         ORDER BY decided_at, id",
    )?;
    let rows = stmt
        .query_map([project_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    crate::server::store::review::outcomes(rows)
}

//! The review queue on PostgreSQL, safe with several instances: an item is taken
//! `FOR UPDATE SKIP LOCKED`, so two reviewers asking at once are given different items,
//! and queueing the same item twice is stopped by the unique index, not by a read.

use std::collections::HashMap;

use super::Db;
use super::db::get;
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

/// $1 project name, $2 reason, $3 state, $4 assigned reviewer: each NULL for any.
const FILTER: &str = "($1::TEXT IS NULL OR p.name = $1) AND ($2::TEXT IS NULL OR r.reason = $2) \
     AND ($3::TEXT IS NULL OR r.state = $3) \
     AND ($4::BIGINT IS NULL OR EXISTS (SELECT 1 FROM review_assignments a \
                                WHERE a.user_id = $4 AND a.project_id = r.project_id))";

pub(super) fn enqueue(
    db: &mut Db<'_>,
    item: &NewReviewItem,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let fields = fields_json(&item.fields);
    let row = db.query_opt(
        "INSERT INTO review_items (reason, project_id, task_id, fields, worker_id, note, \
                                   created, state) \
         SELECT $1, t.project_id, t.id, $3, $4, $5, $6, 'open' FROM tasks t WHERE t.id = $2 \
         ON CONFLICT DO NOTHING RETURNING id",
        &[
            &item.reason.as_str(),
            &item.task,
            &fields,
            &item.worker,
            &item.note,
            &now,
        ],
    )?;
    row.map(|r| get(&r, 0)).transpose()
}

fn params_of(
    filter: &ReviewFilter,
) -> (Option<String>, Option<&'static str>, Option<&'static str>) {
    (
        filter.project.clone(),
        filter.reason.map(ReviewReason::as_str),
        filter.state.map(ReviewState::as_str),
    )
}

pub(super) fn list(db: &mut Db<'_>, filter: &ReviewFilter) -> Result<Vec<ReviewItem>, StoreError> {
    let sql = format!("SELECT {ITEM_COLUMNS} {ITEM_FROM} WHERE {FILTER} ORDER BY r.id LIMIT $5");
    let (project, reason, state) = params_of(filter);
    let limit = filter.limit.map(|n| n as i64);
    let rows = db.query(
        &sql,
        &[&project, &reason, &state, &filter.assigned_to, &limit],
    )?;
    rows.iter().map(|r| columns(r)?.parse()).collect()
}

/// One item, its row locked until the transaction ends.
pub(super) fn item(db: &mut Db<'_>, id: i64) -> Result<Option<ReviewItem>, StoreError> {
    let sql = format!("SELECT {ITEM_COLUMNS} {ITEM_FROM} WHERE r.id = $1 FOR UPDATE OF r");
    let row = db.query_opt(&sql, &[&id])?;
    row.map(|r| columns(&r)?.parse()).transpose()
}

/// The oldest open item the filter admits whose lease is free at `now` or `reviewer`'s;
/// items another transaction is taking are skipped, not waited for.
pub(super) fn next_free(
    db: &mut Db<'_>,
    filter: &ReviewFilter,
    reviewer: i64,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let sql = format!(
        "SELECT r.id {ITEM_FROM} WHERE {FILTER} AND r.state = 'open' \
           AND (r.lease_holder IS NULL OR r.lease_holder = $5 OR r.lease_expires <= $6) \
         ORDER BY r.id LIMIT 1 FOR UPDATE OF r SKIP LOCKED"
    );
    let (project, reason, state) = params_of(filter);
    let row = db.query_opt(
        &sql,
        &[
            &project,
            &reason,
            &state,
            &filter.assigned_to,
            &reviewer,
            &now,
        ],
    )?;
    row.map(|r| get(&r, 0)).transpose()
}

pub(super) fn lease(
    db: &mut Db<'_>,
    id: i64,
    lease: Option<ReviewLease>,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE review_items SET lease_holder = $1, lease_expires = $2 WHERE id = $3",
        &[&lease.map(|l| l.holder), &lease.map(|l| l.expires), &id],
    )?;
    Ok(())
}

pub(super) fn decide(db: &mut Db<'_>, id: i64, verdict: &Verdict) -> Result<(), StoreError> {
    let value = verdict.value.as_ref().map(value_json).transpose()?;
    db.execute(
        "UPDATE review_items SET state = 'decided', verdict_kind = $1, verdict = $2, \
           decided_by = $3, decided_at = $4, decision_note = $5, \
           lease_holder = NULL, lease_expires = NULL \
         WHERE id = $6",
        &[
            &verdict.kind.as_str(),
            &value,
            &verdict.by,
            &verdict.at,
            &verdict.note,
            &id,
        ],
    )?;
    Ok(())
}

pub(super) fn is_assigned(
    db: &mut Db<'_>,
    user_id: i64,
    project_id: i64,
) -> Result<bool, StoreError> {
    Ok(db
        .query_opt(
            "SELECT 1 FROM review_assignments WHERE user_id = $1 AND project_id = $2",
            &[&user_id, &project_id],
        )?
        .is_some())
}

/// Assign a user to review a project; false when they already were.
pub(super) fn assign(
    db: &mut Db<'_>,
    user: &str,
    project: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let user_id: i64 = match db.query_opt("SELECT id FROM users WHERE name = $1", &[&user])? {
        Some(row) => get(&row, 0)?,
        None => return Err(StoreError::NoUser(user.to_string())),
    };
    let project_id: i64 =
        match db.query_opt("SELECT id FROM projects WHERE name = $1", &[&project])? {
            Some(row) => get(&row, 0)?,
            None => return Err(StoreError::NoProject(project.to_string())),
        };
    let added = db.execute(
        "INSERT INTO review_assignments (user_id, project_id, assigned) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
        &[&user_id, &project_id, &now],
    )?;
    Ok(added == 1)
}

fn columns(r: &tokio_postgres::Row) -> Result<ItemColumns, StoreError> {
    Ok(ItemColumns {
        id: get(r, 0)?,
        reason: get(r, 1)?,
        project: get(r, 2)?,
        task: get(r, 3)?,
        task_ext: get(r, 4)?,
        fields: get(r, 5)?,
        worker: get(r, 6)?,
        note: get(r, 7)?,
        created: get(r, 8)?,
        holder: get(r, 9)?,
        expires: get(r, 10)?,
        state: get(r, 11)?,
        kind: get(r, 12)?,
        verdict: get(r, 13)?,
        by: get(r, 14)?,
        at: get(r, 15)?,
        why: get(r, 16)?,
    })
}

pub(super) fn task_under_review(
    db: &mut Db<'_>,
    task: i64,
) -> Result<Option<TaskUnderReview>, StoreError> {
    let row = db.query_opt(
        "SELECT t.project_id, t.text, t.decided, t.agreement, t.confidence, \
             t.clip, c.wire_bytes, c.duration_ms FROM tasks t LEFT JOIN clips c ON c.hash = t.clip \
             WHERE t.id = $1",
        &[&task],
    )?;
    row.map(|r| {
        Ok(TaskUnderReview {
            project_id: get(&r, 0)?,
            text: get(&r, 1)?,
            decided: get(&r, 2)?,
            agreement: get(&r, 3)?,
            confidence: get(&r, 4)?,
            clip: clip_ref(get(&r, 5)?, get(&r, 6)?, get(&r, 7)?),
        })
    })
    .transpose()
}

pub(super) fn answers_under_review(
    db: &mut Db<'_>,
    task: i64,
) -> Result<Vec<AnswerUnderReview>, StoreError> {
    let rows = db.query(
        "SELECT a.id, a.user_id, a.value, a.at, l.granted FROM answers a \
         LEFT JOIN leases l ON l.task_id = a.task_id AND l.user_id = a.user_id \
         WHERE a.task_id = $1 AND a.superseded_by IS NULL ORDER BY a.id",
        &[&task],
    )?;
    rows.iter()
        .map(|r| {
            Ok(AnswerUnderReview {
                answer_id: get(r, 0)?,
                user_id: get(r, 1)?,
                value: parse_value(&get::<String>(r, 2)?)?,
                at: get(r, 3)?,
                granted: get(r, 4)?,
            })
        })
        .collect()
}

/// Final answers reviewers gave the project's tasks (see `review::outcomes`).
pub(super) fn outcomes(
    db: &mut Db<'_>,
    project_id: i64,
) -> Result<HashMap<i64, ReviewOutcome>, StoreError> {
    let rows = db.query(
        "SELECT task_id, verdict_kind, verdict, decided_by, decision_note FROM review_items \
         WHERE project_id = $1 AND state = 'decided' AND verdict IS NOT NULL \
         ORDER BY decided_at, id",
        &[&project_id],
    )?;
    let rows = rows
        .iter()
        .map(|r| Ok((get(r, 0)?, get(r, 1)?, get(r, 2)?, get(r, 3)?, get(r, 4)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    crate::server::store::review::outcomes(rows)
}

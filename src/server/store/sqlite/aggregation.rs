//! What the background aggregator reads and writes on SQLite: a project's counted
//! answers from one snapshot, and decisions written in one transaction.

use rusqlite::{Connection, OptionalExtension, params};

use super::catalogue;
use super::sync_tx::parse_value;
use crate::quality::Decision;
use crate::server::store::{AggregationInput, GoldRecord, StoreError, TaskAnswers};

pub(super) fn project_names(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT name FROM projects ORDER BY name")?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(names)
}

pub(super) fn latest_answer_id(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM answers")?
        .query_row([], |r| r.get(0))?)
}

pub(super) fn input(conn: &Connection, project: &str) -> Result<AggregationInput, StoreError> {
    let schema = catalogue::project(conn, project)?
        .ok_or_else(|| StoreError::NoProject(project.to_string()))?;
    let project_id: i64 = conn
        .query_row("SELECT id FROM projects WHERE name = ?1", [project], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| StoreError::NoProject(project.to_string()))?;
    // One statement: one consistent snapshot while the server keeps writing.
    let mut stmt = conn.prepare(
        "SELECT t.id, t.counted, t.gold, a.id, a.user_id, a.value FROM tasks t \
         LEFT JOIN answers a ON a.task_id = t.id AND a.superseded_by IS NULL \
         WHERE t.project_id = ?1 ORDER BY t.id, a.id",
    )?;
    let mut rows = stmt.query([project_id])?;
    let mut tasks: Vec<TaskAnswers> = Vec::new();
    let mut latest_answer = 0i64;
    while let Some(row) = rows.next()? {
        let task: i64 = row.get(0)?;
        if tasks.last().map(|t| t.task) != Some(task) {
            let gold: Option<String> = row.get(2)?;
            tasks.push(TaskAnswers {
                task,
                counted: row.get(1)?,
                gold: gold.map(|g| g.split('|').map(str::to_string).collect()),
                answers: Vec::new(),
            });
        }
        let answer: Option<i64> = row.get(3)?;
        if let (Some(answer), Some(current)) = (answer, tasks.last_mut()) {
            latest_answer = latest_answer.max(answer);
            let value: String = row.get(5)?;
            current.answers.push((row.get(4)?, parse_value(&value)?));
        }
    }
    // Read after the answers: a record newer than them only weighs by a later score.
    let mut stmt = conn.prepare_cached(
        "SELECT r.user_id, COUNT(*), COALESCE(SUM(r.correct), 0) FROM gold_results r \
         JOIN answers a ON a.id = r.answer_id \
         WHERE r.project_id = ?1 AND a.superseded_by IS NULL GROUP BY r.user_id",
    )?;
    let gold_records = stmt
        .query_map([project_id], |r| {
            let (seen, correct): (i64, i64) = (r.get(1)?, r.get(2)?);
            Ok((
                r.get::<_, i64>(0)?,
                GoldRecord {
                    correct: correct as u64,
                    seen: seen as u64,
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    Ok(AggregationInput {
        project: schema,
        latest_answer,
        tasks,
        gold_records,
    })
}

pub(super) fn record_decisions(
    conn: &Connection,
    decisions: &[(i64, Decision)],
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "UPDATE tasks SET decided = ?1, agreement = ?2, method = ?3, confidence = ?4 \
         WHERE id = ?5 AND counted >= (SELECT overlap FROM projects p WHERE p.id = tasks.project_id)",
    )?;
    for (task, d) in decisions {
        stmt.execute(params![
            d.value,
            d.agreement,
            d.method.as_str(),
            d.confidence,
            task
        ])?;
    }
    Ok(())
}

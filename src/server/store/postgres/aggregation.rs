//! What the background aggregator reads and writes on PostgreSQL: a project's counted
//! answers from one snapshot, and decisions written in one transaction, each on a task
//! still complete when its row is locked.

use super::Db;
use super::catalogue::parse_schema;
use super::db::get;
use super::sync_tx::parse_value;
use crate::quality::Decision;
use crate::server::store::{AggregationInput, GoldRecord, StoreError, TaskAnswers};

pub(super) fn project_names(db: &mut Db<'_>) -> Result<Vec<String>, StoreError> {
    let rows = db.query("SELECT name FROM projects ORDER BY name", &[])?;
    rows.iter().map(|r| get(r, 0)).collect()
}

pub(super) fn latest_answer_id(db: &mut Db<'_>) -> Result<i64, StoreError> {
    let row = db.query_one("SELECT COALESCE(MAX(id), 0)::BIGINT FROM answers", &[])?;
    get(&row, 0)
}

pub(super) fn input(db: &mut Db<'_>, project: &str) -> Result<AggregationInput, StoreError> {
    let row = db
        .query_opt(
            "SELECT id, schema FROM projects WHERE name = $1",
            &[&project],
        )?
        .ok_or_else(|| StoreError::NoProject(project.to_string()))?;
    let project_id: i64 = get(&row, 0)?;
    let schema = parse_schema(&get::<String>(&row, 1)?)?;
    // One statement: one consistent snapshot while instances keep writing.
    let rows = db.query(
        "SELECT t.id, t.counted, t.gold, a.id, a.user_id, a.value FROM tasks t \
         LEFT JOIN answers a ON a.task_id = t.id AND a.superseded_by IS NULL \
         WHERE t.project_id = $1 ORDER BY t.id, a.id",
        &[&project_id],
    )?;
    let mut tasks: Vec<TaskAnswers> = Vec::new();
    let mut latest_answer = 0i64;
    for row in &rows {
        let task: i64 = get(row, 0)?;
        if tasks.last().map(|t| t.task) != Some(task) {
            let gold: Option<String> = get(row, 2)?;
            tasks.push(TaskAnswers {
                task,
                counted: get(row, 1)?,
                gold: gold.map(|g| g.split('|').map(str::to_string).collect()),
                answers: Vec::new(),
            });
        }
        let answer: Option<i64> = get(row, 3)?;
        if let (Some(answer), Some(current)) = (answer, tasks.last_mut()) {
            latest_answer = latest_answer.max(answer);
            let value = parse_value(&get::<String>(row, 5)?)?;
            current.answers.push((get(row, 4)?, value));
        }
    }
    // Read after the answers: a record newer than them only weighs by a later score.
    let records = db.query(
        "SELECT r.user_id, COUNT(*), COUNT(*) FILTER (WHERE r.correct) FROM gold_results r \
         JOIN answers a ON a.id = r.answer_id \
         WHERE r.project_id = $1 AND a.superseded_by IS NULL GROUP BY r.user_id",
        &[&project_id],
    )?;
    let gold_records = records
        .iter()
        .map(|r| {
            let record = GoldRecord {
                correct: get::<i64>(r, 2)? as u64,
                seen: get::<i64>(r, 1)? as u64,
            };
            Ok((get::<i64>(r, 0)?, record))
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(AggregationInput {
        project: schema,
        latest_answer,
        tasks,
        gold_records,
    })
}

/// In the caller's transaction. Rows are updated in task order, so two writers of
/// overlapping batches lock them in the same order; the `counted` check runs on the
/// row's newest version once it is locked.
pub(super) fn record_decisions(
    db: &mut Db<'_>,
    decisions: &[(i64, Decision)],
) -> Result<(), StoreError> {
    let mut ordered: Vec<&(i64, Decision)> = decisions.iter().collect();
    ordered.sort_by_key(|(task, _)| *task);
    for (task, d) in ordered {
        db.execute(
            "UPDATE tasks SET decided = $1, agreement = $2, method = $3, confidence = $4 \
             WHERE id = $5 \
               AND counted >= (SELECT overlap FROM projects p WHERE p.id = tasks.project_id)",
            &[
                &d.value,
                &d.agreement,
                &d.method.as_str(),
                &d.confidence,
                task,
            ],
        )?;
    }
    Ok(())
}

//! The background aggregator of `kazi serve`: re-decides the complete tasks of projects
//! whose method needs every answer (`wmv`, `ds`) when new answers arrived, off the sync
//! path, and writes the decisions in bounded batches. Syncs decide at once: `wmv` by the
//! workers' gold records as they stand (this pass weighs older tasks again as those
//! records grow), `ds` by majority until this pass.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::model::AggregateMethod;
use crate::quality::DsOptions;
use crate::server::Clock;
use crate::server::scheduler::aggregate::decide_project;
use crate::server::scheduler::review::review_needed;
use crate::server::store::{Store, StoreError};

/// Decisions written per transaction: keeps the writer free for syncs in between.
pub const DECISION_BATCH: usize = 500;

/// What the aggregator saw last: the newest answer overall and per project.
#[derive(Debug, Default)]
pub struct Watermarks {
    overall: Option<i64>,
    projects: HashMap<String, i64>,
}

/// One pass: every `wmv` or `ds` project with answers newer than last time is decided
/// again. Returns how many decisions were written.
pub fn aggregate_pass(
    store: &dyn Store,
    seen: &mut Watermarks,
    clock: &Clock,
) -> Result<u64, StoreError> {
    let latest = store.latest_answer_id()?;
    if seen.overall == Some(latest) {
        return Ok(0);
    }
    let mut written = 0u64;
    for name in store.project_names()? {
        let Some(project) = store.project(&name)? else {
            continue; // removed since the list was read
        };
        if project.aggregate == AggregateMethod::Majority {
            continue; // syncs decide these themselves
        }
        let input = store.aggregation_input(&name)?;
        if seen.projects.get(&name) == Some(&input.latest_answer) {
            continue;
        }
        let decisions = decide_project(&input, &DsOptions::default());
        for batch in decisions.chunks(DECISION_BATCH) {
            store.record_decisions(batch)?;
            written += batch.len() as u64;
        }
        // Before the watermark moves: a pass that fails here is run again next time.
        let now = clock.now();
        let gold: std::collections::HashSet<i64> = input
            .tasks
            .iter()
            .filter(|t| t.gold.is_some())
            .map(|t| t.task)
            .collect();
        for (task, decision) in &decisions {
            let is_gold = gold.contains(task);
            if let Some(item) = review_needed(&project, *task, is_gold, decision) {
                store.review_enqueue(&item, now)?;
            }
        }
        seen.projects.insert(name, input.latest_answer);
    }
    seen.overall = Some(latest);
    Ok(written)
}

/// Run passes every `every` until the task is dropped. A failed pass is logged and tried
/// again next time; it never touches a sync.
pub async fn run(store: Arc<dyn Store>, every: Duration, clock: Clock) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen = Watermarks::default();
    loop {
        ticker.tick().await;
        let (store, clock) = (store.clone(), clock.clone());
        let pass = tokio::task::spawn_blocking(move || {
            let result = aggregate_pass(store.as_ref(), &mut seen, &clock);
            (seen, result)
        })
        .await;
        match pass {
            Ok((kept, result)) => {
                seen = kept;
                if let Err(e) = result {
                    tracing::error!(error = %e, "background aggregation failed, will retry");
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "background aggregation stopped");
                return;
            }
        }
    }
}

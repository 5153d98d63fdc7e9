//! The feedback channel, server side: items kept per worker (gold results, review
//! verdicts, gold corrections), delivered in the sync's reply after the last one the
//! device stored, with the worker's accuracy in each project they concern. Other server
//! code gives a worker feedback with `give`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::protocol::{
    Accuracy, Confusion, FeedbackItem, MAX_CONFUSIONS, MAX_FEEDBACK_PER_REPLY, RECENT_GOLD,
};
use crate::server::store::{CatalogueEntry, NewFeedback, StoreError, SyncTx};

/// Missed gold answers read to find the labels a worker confuses most.
const CONFUSION_WINDOW: usize = 200;

/// Keep a feedback item for a worker; it travels in their next sync (or this one, when
/// given inside it). Review verdicts (`FeedbackKind::Review`) come through here too.
pub fn give(tx: &mut dyn SyncTx, item: &NewFeedback<'_>) -> Result<u64, StoreError> {
    tx.give_feedback(item)
}

/// The items after `seen` (at most a reply's worth) and the worker's accuracy in every
/// project they concern, computed now from the store's records.
pub(super) fn deliver(
    tx: &mut dyn SyncTx,
    user_id: i64,
    seen: u64,
    catalogue: &BTreeMap<String, CatalogueEntry>,
) -> Result<(Vec<FeedbackItem>, Vec<Accuracy>), StoreError> {
    let items = tx.feedback_after(user_id, seen, MAX_FEEDBACK_PER_REPLY)?;
    let projects: BTreeSet<&str> = items.iter().map(|i| i.project.as_str()).collect();
    let mut accuracy = Vec::with_capacity(projects.len());
    for name in projects {
        let Some(entry) = catalogue.get(name) else {
            continue;
        };
        accuracy.push(accuracy_of(tx, user_id, entry.id, name)?);
    }
    Ok((items, accuracy))
}

/// A worker's accuracy in one project: last `RECENT_GOLD` and all time, and the label
/// pairs most confused among their recent misses.
pub fn accuracy_of(
    tx: &mut dyn SyncTx,
    user_id: i64,
    project_id: i64,
    project: &str,
) -> Result<Accuracy, StoreError> {
    let tally = tx.gold_tally(user_id, project_id, RECENT_GOLD)?;
    let mut counts: HashMap<(String, String), u32> = HashMap::new();
    for json in tx.recent_confusions(user_id, project_id, CONFUSION_WINDOW)? {
        let pairs: Vec<(String, String)> =
            serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
                what: "confused labels",
                source: Box::new(e),
            })?;
        for pair in pairs {
            *counts.entry(pair).or_default() += 1;
        }
    }
    let mut confused: Vec<Confusion> = counts
        .into_iter()
        .map(|((expected, given), count)| Confusion {
            expected,
            given,
            count,
        })
        .collect();
    confused.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.expected.cmp(&b.expected))
            .then_with(|| a.given.cmp(&b.given))
    });
    confused.truncate(MAX_CONFUSIONS);
    Ok(Accuracy {
        project: project.to_string(),
        recent_correct: tally.recent_correct,
        recent_total: tally.recent_total,
        all_correct: tally.all_correct,
        all_total: tally.all_total,
        confused,
    })
}

//! Sync planning: decide, from a snapshot of local state, what one sync sends and asks
//! for. Pure, so it can be property-tested; the engine does the round trip.

use std::collections::BTreeMap;

use crate::model::TaskKind;
use crate::protocol::{
    AnswerUpload, ExamSubmission, MAX_ANSWERS_PER_SYNC, MAX_EXAM_ENTRIES, MAX_EXAM_SUBMISSIONS,
    MAX_WANT_PER_SYNC, Report, SyncRequest, Want,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsentAnswer {
    pub upload: AnswerUpload,
}

/// What the planner looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalState {
    /// Answers not yet acknowledged, oldest first.
    pub unsent: Vec<UnsentAnswer>,
    /// Skipped tasks whose leases are still to be handed back.
    pub released: Vec<i64>,
    /// Schemas held: project name -> version.
    pub known: BTreeMap<String, String>,
    /// Queued (unanswered) tasks per project.
    pub queued: BTreeMap<String, usize>,
    /// The project the worker is on, if chosen.
    pub active: Option<String>,
    /// Whether this device ever synced (a first sync always goes out, for the schemas).
    pub synced_before: bool,
    /// The server's number of the last reply applied here (`SyncRequest::seen`).
    pub seen: u64,
    /// The highest feedback item number stored here (`SyncRequest::feedback_seen`).
    pub feedback_seen: u64,
    /// Contests and flags waiting to be sent, oldest first.
    pub reports: Vec<Report>,
    /// Lesson sets held (project -> version); None: this store keeps no lessons.
    pub lessons: Option<BTreeMap<String, String>>,
    /// Projects whose exam standing to ask for.
    pub exams: Vec<String>,
    /// Exam attempts answered whole, not yet graded by the server.
    pub exam_answers: Vec<ExamSubmission>,
    /// A project with an exam has no standing here yet (nor, then, its lessons): worth a
    /// round trip of its own.
    pub training_due: bool,
    /// Progress figures are asked for with the next sync; alone they are not worth one
    /// (the view asks with a round trip of its own when opened).
    pub progress_due: bool,
    /// The progress view asked for fresh figures: worth a round trip.
    pub progress_asked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanConfig {
    /// Keep at least this many tasks cached for the active project.
    pub prefetch: usize,
    /// When topping up, ask for this many beyond `prefetch`, so that syncs for tasks
    /// come once per `batch` answers rather than once per answer.
    pub batch: usize,
}

impl Default for PlanConfig {
    fn default() -> Self {
        PlanConfig {
            prefetch: 50,
            batch: 20,
        }
    }
}

/// The request for the next sync, or `None` when there is nothing worth a round trip.
pub fn plan(state: &LocalState, config: PlanConfig) -> Option<SyncRequest> {
    let answers: Vec<AnswerUpload> = state
        .unsent
        .iter()
        .take(MAX_ANSWERS_PER_SYNC)
        .map(|u| u.upload.clone())
        .collect();
    let mut want = Vec::new();
    // Asked for even before the schema is here: the same reply brings both, which saves
    // a round trip between login and the first task.
    if let Some(project) = &state.active {
        let queued = state.queued.get(project).copied().unwrap_or(0);
        if queued < config.prefetch {
            let count = (config.prefetch + config.batch - queued).min(MAX_WANT_PER_SYNC as usize);
            want.push(Want {
                project: project.clone(),
                count: count as u32,
            });
        }
    }
    let needs_schemas = !state.synced_before
        || state.known.is_empty()
        || state
            .active
            .as_ref()
            .is_some_and(|p| !state.known.contains_key(p));
    // Contests and flags ride along with the next sync; alone they are not worth one
    // (and a server without a review queue never acknowledges them).
    if answers.is_empty()
        && want.is_empty()
        && state.released.is_empty()
        && state.exam_answers.is_empty()
        && !state.training_due
        && !state.progress_asked
        && !needs_schemas
    {
        return None;
    }
    let mut request = plan_asked_only(state);
    request.answers = answers;
    request.released = state.released.clone();
    request.want = want;
    Some(request)
}

/// A request carrying only what the client holds and asks about: schemas, lesson sets,
/// exam standings and answered exams.
fn plan_asked_only(state: &LocalState) -> SyncRequest {
    SyncRequest {
        // The picker is on top: it shows what waits on the server.
        counts: state.active.is_none(),
        known: state.known.clone(),
        seen: Some(state.seen),
        kinds: shown_kinds(),
        feedback_seen: Some(state.feedback_seen),
        reports: state.reports.clone(),
        lessons: state.lessons.clone(),
        exams: state.exams.iter().take(MAX_EXAM_ENTRIES).cloned().collect(),
        exam_answers: state
            .exam_answers
            .iter()
            .take(MAX_EXAM_SUBMISSIONS)
            .cloned()
            .collect(),
        progress: state.progress_due,
        ..SyncRequest::default()
    }
}

/// The task kinds this build shows, all of them: a client says so, and is never sent
/// projects of kinds it cannot show.
fn shown_kinds() -> Vec<String> {
    TaskKind::ALL.map(|k| k.name().to_string()).to_vec()
}

/// The request for a sync someone asked for (`kazi sync`, the worker's `refresh`): the
/// plan, or when it has nothing to say a request carrying only the schemas held, so the
/// server is always asked (whether it can be reached, new or changed projects, new tasks).
pub fn plan_asked(state: &LocalState, config: PlanConfig) -> SyncRequest {
    plan(state, config).unwrap_or_else(|| plan_asked_only(state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AnswerValue;
    use proptest::prelude::*;

    fn answer(id: u64) -> UnsentAnswer {
        UnsentAnswer {
            upload: AnswerUpload {
                id,
                task: id as i64,
                value: AnswerValue::Labels(vec!["a".into()]),
                ago: 0,
                replaces: None,
            },
        }
    }

    fn synced(active: &str, queued: usize) -> LocalState {
        LocalState {
            known: [(active.to_string(), "v1".to_string())].into(),
            queued: [(active.to_string(), queued)].into(),
            active: Some(active.into()),
            synced_before: true,
            ..LocalState::default()
        }
    }

    #[test]
    fn an_asked_sync_always_goes_out_with_the_schemas_held() {
        let state = synced("p", 60);
        let req = plan_asked(&state, PlanConfig::default());
        assert!(req.answers.is_empty() && req.want.is_empty());
        assert_eq!(req.known, state.known);
        // With something to do it is the ordinary plan.
        let low = synced("p", 3);
        assert_eq!(
            Some(plan_asked(&low, PlanConfig::default())),
            plan(&low, PlanConfig::default())
        );
    }

    #[test]
    fn nothing_to_do_means_no_round_trip() {
        assert_eq!(plan(&synced("p", 60), PlanConfig::default()), None);
    }

    #[test]
    fn first_sync_asks_for_schemas() {
        let req = plan(&LocalState::default(), PlanConfig::default()).unwrap();
        assert!(req.answers.is_empty() && req.want.is_empty());
    }

    #[test]
    fn tops_up_in_batches() {
        let req = plan(&synced("p", 49), PlanConfig::default()).unwrap();
        assert_eq!(
            req.want,
            vec![Want {
                project: "p".into(),
                count: 21
            }]
        );
    }

    proptest! {
        #[test]
        fn plan_invariants(
            n_unsent in 0usize..1200,
            queued in 0usize..300,
            prefetch in 0usize..250,
            batch in 0usize..100,
            released in proptest::collection::vec(0i64..1000, 0..20),
            synced_before in any::<bool>(),
        ) {
            let mut state = synced("p", queued);
            state.synced_before = synced_before;
            state.unsent = (1..=n_unsent as u64).map(answer).collect();
            state.released = released.clone();
            let config = PlanConfig { prefetch, batch };
            match plan(&state, config) {
                None => {
                    prop_assert!(n_unsent == 0 && released.is_empty() && queued >= prefetch && synced_before);
                }
                Some(req) => {
                    // Oldest answers first, never more than the server takes, none lost.
                    prop_assert_eq!(req.answers.len(), n_unsent.min(MAX_ANSWERS_PER_SYNC));
                    for (i, a) in req.answers.iter().enumerate() {
                        prop_assert_eq!(a.id, i as u64 + 1);
                    }
                    prop_assert_eq!(&req.released, &released);
                    let wanted: u32 = req.want.iter().map(|w| w.count).sum();
                    prop_assert!(wanted <= MAX_WANT_PER_SYNC);
                    if queued < prefetch {
                        prop_assert!(wanted as usize >= (prefetch - queued).min(MAX_WANT_PER_SYNC as usize));
                    } else {
                        prop_assert_eq!(wanted, 0);
                    }
                    prop_assert_eq!(&req.known, &state.known);
                }
            }
        }
    }
}

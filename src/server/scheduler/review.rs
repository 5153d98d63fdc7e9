//! The review queue's rules, backend-neutral so the HTTP API and the SSH server share
//! them: who may review (reviewers in their assigned projects, admins everywhere), which
//! item a reviewer is given (one reviewer per item, by lease), and what a verdict
//! checks and does. Each function runs inside one store transaction.

use crate::model::{AnswerError, AnswerValue, Project, Role, sanitize_line};
use crate::protocol::{
    CaseAnswer, MAX_QUEUE_ENTRIES, QueueEntry, ReviewCase, ReviewRequest, ReviewResponse,
};
use crate::quality::Decision;
use crate::server::pseudonym::pseudonym;
use crate::server::scheduler::double_entry::FieldDecision;
use crate::server::store::review::{
    NewReviewItem, ReviewFilter, ReviewItem, ReviewLease, ReviewReason, ReviewState, Verdict,
    VerdictKind,
};
use crate::server::store::{Principal, Store, StoreError, SyncTx};

/// How long a reviewer holds an item they took: long enough to read every answer and
/// write a note, short enough that an item left open goes back to the queue soon.
pub const REVIEW_LEASE_SECS: i64 = 30 * 60;

/// Why the server refuses a reviewer's request. Shown to the reviewer as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewRefusal {
    #[error("only reviewers and admins review; ask your admin for the reviewer role")]
    Role,
    #[error(
        "you are not assigned to review project '{0}'; ask your admin \
         (kazi admin user assign NAME PROJECT)"
    )]
    NotAssigned(String),
    #[error("no review item {0}")]
    NoItem(i64),
    #[error("review item {0} is already decided")]
    Decided(i64),
    #[error("another reviewer has review item {0} open; pick another")]
    HeldByOther(i64),
    #[error("take review item {0} first (your hold on it ended)")]
    NotHeld(i64),
    #[error("a {0} verdict needs an answer")]
    NeedsValue(&'static str),
    #[error("a reject verdict keeps no answer")]
    RejectHasValue,
    #[error("{0}")]
    Invalid(AnswerError),
    #[error("only a flag or a contest can be upheld or rejected")]
    NotAClaim,
    #[error("the gold cannot be corrected to this answer: {0}")]
    CannotCorrect(String),
    #[error("{0}")]
    Limit(String),
    #[error("unknown review reason '{0}'")]
    UnknownReason(String),
    #[error("verdict must be pick, edit, uphold or reject, not '{0}'")]
    UnknownVerdict(String),
}

/// An item a reviewer now holds, with everything needed to decide it.
#[derive(Debug, Clone, PartialEq)]
pub struct Taken {
    pub item: ReviewItem,
    pub case: ReviewCase,
}

/// A decided item and how many workers were told.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub item: ReviewItem,
    pub feedback_given: u64,
}

/// Which item a reviewer asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewTake {
    /// This one, if nobody else holds it.
    Item(i64),
    /// The oldest free one the filter admits (the filter's own `assigned_to` and
    /// `state` are the scheduler's to set).
    Next(ReviewFilter),
}

/// What a reviewer decided, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewDecision {
    pub item: i64,
    pub kind: VerdictKind,
    pub value: Option<AnswerValue>,
    pub note: String,
}

fn check_role(who: &Principal) -> Result<(), ReviewRefusal> {
    match who.role {
        Role::Reviewer | Role::Admin => Ok(()),
        Role::Worker | Role::Trainer => Err(ReviewRefusal::Role),
    }
}

/// Whether `who` may act on items of the project: admins anywhere, reviewers where
/// they are assigned.
fn check_assigned(
    tx: &mut dyn SyncTx,
    who: &Principal,
    project: &str,
) -> Result<Result<(), ReviewRefusal>, StoreError> {
    if who.role == Role::Admin {
        return Ok(Ok(()));
    }
    let Some(entry) = tx.catalogue()?.remove(project) else {
        return Ok(Err(ReviewRefusal::NotAssigned(project.to_string())));
    };
    Ok(if tx.is_assigned_reviewer(who.user_id, entry.id)? {
        Ok(())
    } else {
        Err(ReviewRefusal::NotAssigned(project.to_string()))
    })
}

/// The filter a reviewer's listing or take really uses: open items only, and a
/// reviewer's only in their assigned projects.
pub fn scoped_filter(who: &Principal, mut filter: ReviewFilter) -> ReviewFilter {
    if who.role != Role::Admin {
        filter.assigned_to = Some(who.user_id);
    }
    filter
}

/// Queue an item (a dispute found at decision time, a worker's flag or contest).
pub fn enqueue(
    tx: &mut dyn SyncTx,
    item: &NewReviewItem,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    tx.enqueue_review(item, now)
}

/// Give the reviewer an item to work on, held for `REVIEW_LEASE_SECS`. `Ok(None)`: the
/// queue has nothing free for them.
pub fn take(
    tx: &mut dyn SyncTx,
    who: &Principal,
    which: &ReviewTake,
    now: i64,
) -> Result<Result<Option<Taken>, ReviewRefusal>, StoreError> {
    if let Err(refusal) = check_role(who) {
        return Ok(Err(refusal));
    }
    let id = match which {
        ReviewTake::Item(id) => *id,
        ReviewTake::Next(filter) => {
            if let Some(project) = &filter.project
                && let Err(refusal) = check_assigned(tx, who, project)?
            {
                return Ok(Err(refusal));
            }
            let mut filter = scoped_filter(who, filter.clone());
            filter.state = Some(ReviewState::Open);
            match tx.next_review_item(&filter, who.user_id, now)? {
                Some(id) => id,
                None => return Ok(Ok(None)),
            }
        }
    };
    // Assignment first: a reviewer outside the project learns nothing of its items.
    let Some(found) = tx.review_item(id)? else {
        return Ok(Err(ReviewRefusal::NoItem(id)));
    };
    if let Err(refusal) = check_assigned(tx, who, &found.project)? {
        return Ok(Err(refusal));
    }
    let mut item = match held_item(tx, who, id, now)? {
        Ok(item) => item,
        Err(ReviewRefusal::NotHeld(_)) => found,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let lease = ReviewLease {
        holder: who.user_id,
        expires: now + REVIEW_LEASE_SECS,
    };
    tx.lease_review_item(id, Some(lease))?;
    item.lease = Some(lease);
    let case = case_of(tx, &item, now)?;
    Ok(Ok(Some(Taken { item, case })))
}

/// What the reviewer is shown of an item: the task, every counted answer beside its
/// worker's pseudonym, accuracy (gold and reviewed) and time taken, and the aggregate.
pub fn case_of(tx: &mut dyn SyncTx, item: &ReviewItem, now: i64) -> Result<ReviewCase, StoreError> {
    let task = tx
        .task_under_review(item.task)?
        .ok_or_else(|| StoreError::Aborted(format!("review item {} lost its task", item.id)))?;
    let project = tx.project_schema(task.project_id)?;
    let key = tx.pseudonym_key()?;
    let mut answers = Vec::new();
    for a in tx.answers_under_review(item.task)? {
        let accuracy = super::feedback::accuracy_of(tx, a.user_id, task.project_id, &item.project)?;
        answers.push(CaseAnswer {
            worker: pseudonym(&key, &item.project, a.user_id),
            took: a.granted.map(|g| (a.at - g).max(0)),
            value: a.value,
            at: a.at,
            scored_correct: accuracy.all_correct,
            scored_total: accuracy.all_total,
        });
    }
    Ok(ReviewCase {
        item: item.id,
        reason: item.reason.as_str().to_string(),
        project,
        task: item.task_ext.clone(),
        text: task.text,
        fields: item.fields.clone(),
        raised_by: item.worker.map(|w| pseudonym(&key, &item.project, w)),
        note: item.note.clone().unwrap_or_default(),
        answers,
        aggregate: task.decided,
        agreement: task.agreement,
        confidence: task.confidence,
        held_until: item.lease.map_or(now, |l| l.expires),
        clip: task.clip,
    })
}

/// The reviewer's queue: open items of their projects (every project for an admin), the
/// ones another reviewer holds marked busy.
pub fn queue(
    store: &dyn Store,
    who: &Principal,
    filter: ReviewFilter,
    now: i64,
) -> Result<Result<Vec<QueueEntry>, ReviewRefusal>, StoreError> {
    if let Err(refusal) = check_role(who) {
        return Ok(Err(refusal));
    }
    let mut filter = scoped_filter(who, filter);
    filter.state = Some(ReviewState::Open);
    filter.limit = Some(MAX_QUEUE_ENTRIES);
    let items = store.review_list(&filter)?;
    Ok(Ok(items
        .into_iter()
        .map(|item| QueueEntry {
            busy: item
                .lease
                .is_some_and(|l| l.expires > now && l.holder != who.user_id),
            item: item.id,
            reason: item.reason.as_str().to_string(),
            project: item.project,
            task: item.task_ext,
            age: (now - item.created).max(0),
            fields: item.fields,
        })
        .collect()))
}

/// One reviewer request carried out, as the HTTP API (`POST /v1/review`) and the SSH
/// review screen both do it: limits first, then each action in its own transaction.
pub fn answer(
    store: &dyn Store,
    who: &Principal,
    request: ReviewRequest,
    now: i64,
) -> Result<Result<ReviewResponse, ReviewRefusal>, StoreError> {
    if let Err(why) = request.check_limits() {
        return Ok(Err(ReviewRefusal::Limit(why)));
    }
    let reason_of = |text: Option<String>| match text {
        None => Ok(None),
        Some(t) => ReviewReason::parse(&t)
            .map(Some)
            .ok_or_else(|| ReviewRefusal::UnknownReason(sanitize_line(&t).into_owned())),
    };
    Ok(Ok(match request {
        ReviewRequest::Queue { project, reason } => {
            let reason = match reason_of(reason) {
                Ok(r) => r,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let filter = ReviewFilter {
                project,
                reason,
                ..ReviewFilter::default()
            };
            match queue(store, who, filter, now)? {
                Ok(items) => ReviewResponse::Queue { items },
                Err(refusal) => return Ok(Err(refusal)),
            }
        }
        ReviewRequest::Take {
            item,
            project,
            reason,
        } => {
            let which = match (item, reason_of(reason)) {
                (_, Err(refusal)) => return Ok(Err(refusal)),
                (Some(id), _) => ReviewTake::Item(id),
                (None, Ok(reason)) => ReviewTake::Next(ReviewFilter {
                    project,
                    reason,
                    ..ReviewFilter::default()
                }),
            };
            match store.review_take(who, &which, now)? {
                Ok(taken) => ReviewResponse::Take {
                    case: taken.map(|t| Box::new(t.case)),
                },
                Err(refusal) => return Ok(Err(refusal)),
            }
        }
        ReviewRequest::Decide {
            item,
            verdict,
            value,
            note,
        } => {
            let Some(kind) = VerdictKind::parse(&verdict) else {
                let shown = sanitize_line(&verdict).into_owned();
                return Ok(Err(ReviewRefusal::UnknownVerdict(shown)));
            };
            let decision = ReviewDecision {
                item,
                kind,
                value,
                note,
            };
            match store.review_decide(who, &decision, now)? {
                Ok(decided) => ReviewResponse::Decide {
                    item,
                    feedback_given: decided.feedback_given,
                },
                Err(refusal) => return Ok(Err(refusal)),
            }
        }
        ReviewRequest::Release { item } => match store.review_release(who, item, now)? {
            Ok(()) => ReviewResponse::Release { item },
            Err(refusal) => return Ok(Err(refusal)),
        },
    }))
}

/// The item, if it is open and nobody but `who` holds it; `NotHeld` when it is free.
fn held_item(
    tx: &mut dyn SyncTx,
    who: &Principal,
    id: i64,
    now: i64,
) -> Result<Result<ReviewItem, ReviewRefusal>, StoreError> {
    let Some(item) = tx.review_item(id)? else {
        return Ok(Err(ReviewRefusal::NoItem(id)));
    };
    if item.state == ReviewState::Decided {
        return Ok(Err(ReviewRefusal::Decided(id)));
    }
    Ok(match item.lease {
        Some(l) if l.expires > now && l.holder != who.user_id => {
            Err(ReviewRefusal::HeldByOther(id))
        }
        Some(l) if l.expires > now => Ok(item),
        _ => Err(ReviewRefusal::NotHeld(id)),
    })
}

/// The reviewer puts the item back in the queue undecided.
pub fn release(
    tx: &mut dyn SyncTx,
    who: &Principal,
    id: i64,
    now: i64,
) -> Result<Result<(), ReviewRefusal>, StoreError> {
    if let Err(refusal) = check_role(who) {
        return Ok(Err(refusal));
    }
    match held_item(tx, who, id, now)? {
        Ok(_) => {
            tx.lease_review_item(id, None)?;
            Ok(Ok(()))
        }
        Err(ReviewRefusal::NotHeld(_)) => Ok(Ok(())),
        Err(refusal) => Ok(Err(refusal)),
    }
}

/// Close an item the reviewer holds with their verdict, checked against the project and
/// stored in normal form with who, when and why.
pub fn decide(
    tx: &mut dyn SyncTx,
    who: &Principal,
    decision: &ReviewDecision,
    now: i64,
) -> Result<Result<Decided, ReviewRefusal>, StoreError> {
    if let Err(refusal) = check_role(who) {
        return Ok(Err(refusal));
    }
    let id = decision.item;
    let mut item = match held_item(tx, who, id, now)? {
        Ok(item) => item,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if let Err(refusal) = check_assigned(tx, who, &item.project)? {
        return Ok(Err(refusal));
    }
    let claim = matches!(item.reason, ReviewReason::Flag | ReviewReason::Contest);
    let Some(home) = tx.task_home(item.task)? else {
        return Ok(Err(ReviewRefusal::NoItem(id)));
    };
    let project = tx.project_schema(home.project_id)?;
    let value = match (decision.kind, &decision.value) {
        (VerdictKind::Reject, Some(_)) => return Ok(Err(ReviewRefusal::RejectHasValue)),
        (VerdictKind::Reject, None) if !claim => return Ok(Err(ReviewRefusal::NotAClaim)),
        (VerdictKind::Reject, None) => None,
        (VerdictKind::Uphold, _) if !claim => return Ok(Err(ReviewRefusal::NotAClaim)),
        (kind, None) => return Ok(Err(ReviewRefusal::NeedsValue(kind.as_str()))),
        (_, Some(value)) => {
            if let Err(e) = project.validate(value) {
                return Ok(Err(ReviewRefusal::Invalid(e)));
            }
            Some(project.normalise(value))
        }
    };
    if decision.kind == VerdictKind::Uphold
        && item.reason == ReviewReason::Contest
        && let Some(v) = &value
        && let Err(why) =
            super::verdict::corrected_gold(tx, &project, item.task, v, &decision.note)?
    {
        return Ok(Err(ReviewRefusal::CannotCorrect(why)));
    }
    let verdict = Verdict {
        kind: decision.kind,
        value,
        by: who.user_id,
        at: now,
        note: decision.note.clone(),
    };
    tx.decide_review_item(id, &verdict)?;
    let feedback_given =
        super::verdict::apply(tx, &project, home.project_id, &item, &verdict, now)?;
    item.state = ReviewState::Decided;
    item.lease = None;
    item.verdict = Some(verdict);
    Ok(Ok(Decided {
        item,
        feedback_given,
    }))
}

/// What review a task just decided needs, by the project's policy: a field dispute for
/// an entry task whose answers disagree on some fields (those fields only), a dispute
/// for a task under the agreement or confidence threshold (a tie always), else perhaps a
/// spot check. `None`: the task is accepted and not sampled, or it is gold: gold is
/// scored against its answer, never disputed or checked (a wrong gold is contested).
/// Pure.
pub fn review_needed(
    project: &Project,
    task: i64,
    gold: bool,
    decision: &Decision,
) -> Option<NewReviewItem> {
    if gold {
        return None;
    }
    let item = |reason, fields| NewReviewItem {
        reason,
        task,
        fields,
        worker: None,
        note: None,
    };
    if project.form.is_some() {
        // An entry decision that does not parse back has nothing to show field by
        // field: the whole task goes to a reviewer instead of being accepted.
        let fields = decision
            .value
            .as_deref()
            .map(serde_json::from_str::<FieldDecision>);
        return match fields {
            Some(Ok(f)) if !f.disputed.is_empty() => Some(item(
                ReviewReason::FieldDispute,
                f.disputed.into_keys().collect(),
            )),
            Some(Ok(_)) => sampled(project, task).then(|| item(ReviewReason::SpotCheck, vec![])),
            _ => Some(item(ReviewReason::Dispute, Vec::new())),
        };
    }
    if decision.value.is_none()
        || project
            .review
            .disputes(decision.agreement, decision.confidence)
    {
        return Some(item(ReviewReason::Dispute, Vec::new()));
    }
    sampled(project, task).then(|| item(ReviewReason::SpotCheck, Vec::new()))
}

/// Whether an accepted task is among the project's spot-check share: a fixed draw per
/// task (the same every time it is decided again), spread evenly over task ids.
fn sampled(project: &Project, task: i64) -> bool {
    if project.review.spot_check <= 0.0 {
        return false;
    }
    // splitmix64: consecutive ids land far apart.
    let mut z = (task as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    let draw = (z >> 11) as f64 / (1u64 << 53) as f64;
    draw < project.review.spot_check
}

/// Queue the review a task just decided needs (see `review_needed`); called in the
/// transaction that recorded the decision.
pub fn after_decision(
    tx: &mut dyn SyncTx,
    project: &Project,
    task: i64,
    decision: &Decision,
    now: i64,
) -> Result<(), StoreError> {
    let gold = tx.task_gold(task)?.is_some();
    if let Some(item) = review_needed(project, task, gold, decision) {
        tx.enqueue_review(&item, now)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::Method;

    fn project(review: &str) -> Project {
        Project::from_toml(
            "p.toml",
            &format!(
                "name = \"p\"\ntitle = \"P\"\nkind = \"classify\"\noverlap = 4\n\
                 [[labels]]\nid = \"a\"\nname = \"A\"\nkey = \"1\"\n{review}"
            ),
        )
        .expect("test project parses")
    }

    fn decision(value: Option<&str>, agreement: f64, confidence: f64) -> Decision {
        Decision {
            value: value.map(str::to_string),
            agreement,
            confidence,
            method: Method::Majority,
        }
    }

    #[test]
    fn a_task_at_the_threshold_is_accepted_and_under_it_disputed() {
        let p = project("[review]\nagreement = 0.75\nconfidence = 0.5\n");
        assert_eq!(
            review_needed(&p, 1, false, &decision(Some("a"), 0.75, 0.75)),
            None
        );
        let under = review_needed(&p, 1, false, &decision(Some("a"), 0.5, 0.9)).expect("a dispute");
        assert_eq!((under.reason, under.task), (ReviewReason::Dispute, 1));
        let unsure = review_needed(&p, 2, false, &decision(Some("a"), 1.0, 0.4));
        assert_eq!(unsure.map(|i| i.reason), Some(ReviewReason::Dispute));
        let tie = review_needed(&project(""), 3, false, &decision(None, 0.5, 0.5));
        assert_eq!(tie.map(|i| i.reason), Some(ReviewReason::Dispute), "a tie");
        let gold = review_needed(&project(""), 3, true, &decision(None, 0.5, 0.5));
        assert_eq!(gold, None, "gold is scored, never disputed");
    }

    #[test]
    fn spot_checks_take_about_their_share_of_accepted_tasks_and_the_same_ones() {
        let p = project("[review]\nspot_check = 0.1\n");
        let accepted = decision(Some("a"), 1.0, 1.0);
        let picked: Vec<i64> = (1..=10_000)
            .filter(|&t| review_needed(&p, t, false, &accepted).is_some())
            .collect();
        assert!((800..=1200).contains(&picked.len()), "{}", picked.len());
        let again: Vec<i64> = (1..=10_000)
            .filter(|&t| review_needed(&p, t, false, &accepted).is_some())
            .collect();
        assert_eq!(picked, again);
        assert!(
            (1..=10_000).all(|t| review_needed(&project(""), t, false, &accepted).is_none()),
            "no spot checks unless asked"
        );
        assert!(
            (1..=10_000).all(|t| review_needed(&p, t, true, &accepted).is_none()),
            "gold is never spot-checked"
        );
    }

    #[test]
    fn an_entry_task_is_disputed_on_its_disagreeing_fields_only() {
        let mut fields = FieldDecision::default();
        fields.decided.insert("date".into(), "2026-11-02".into());
        fields
            .disputed
            .insert("total".into(), vec!["1250".into(), "1520".into()]);
        let p = Project::from_toml(
            "r.toml",
            "name = \"r\"\ntitle = \"R\"\nkind = \"entry\"\noverlap = 2\n\
             [[fields]]\nid = \"date\"\nlabel = \"Date\"\ntype = \"date\"\n\
             [[fields]]\nid = \"total\"\nlabel = \"Total\"\ntype = \"integer\"\n",
        )
        .expect("entry project parses");
        let d = decision(Some(&fields.to_json()), 0.5, 0.5);
        let item = review_needed(&p, 7, false, &d).expect("a field dispute");
        assert_eq!(item.reason, ReviewReason::FieldDispute);
        assert_eq!(item.fields, ["total"]);
        fields.disputed.clear();
        let agreed = decision(Some(&fields.to_json()), 1.0, 1.0);
        assert_eq!(review_needed(&p, 7, false, &agreed), None);
    }
}

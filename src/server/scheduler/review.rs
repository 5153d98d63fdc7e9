//! The review queue's rules, backend-neutral so the HTTP API and the SSH server share
//! them: who may review (reviewers in their assigned projects, admins everywhere), which
//! item a reviewer is given (one reviewer per item, by lease), and what a verdict
//! checks and does. Each function runs inside one store transaction.

use crate::model::{AnswerError, AnswerValue, Role};
use crate::server::store::review::{
    NewReviewItem, ReviewFilter, ReviewItem, ReviewLease, ReviewState, Verdict, VerdictKind,
};
use crate::server::store::{Principal, StoreError, SyncTx};

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
) -> Result<Result<Option<ReviewItem>, ReviewRefusal>, StoreError> {
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
    let mut item = match held_item(tx, who, id, now)? {
        Ok(item) => item,
        Err(ReviewRefusal::NotHeld(_)) => match tx.review_item(id)? {
            Some(item) => item,
            None => return Ok(Err(ReviewRefusal::NoItem(id))),
        },
        Err(refusal) => return Ok(Err(refusal)),
    };
    if let Err(refusal) = check_assigned(tx, who, &item.project)? {
        return Ok(Err(refusal));
    }
    let lease = ReviewLease {
        holder: who.user_id,
        expires: now + REVIEW_LEASE_SECS,
    };
    tx.lease_review_item(id, Some(lease))?;
    item.lease = Some(lease);
    Ok(Ok(Some(item)))
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
) -> Result<Result<ReviewItem, ReviewRefusal>, StoreError> {
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
    let claim = matches!(
        item.reason,
        crate::server::store::review::ReviewReason::Flag
            | crate::server::store::review::ReviewReason::Contest
    );
    let value = match (decision.kind, &decision.value) {
        (VerdictKind::Reject, Some(_)) => return Ok(Err(ReviewRefusal::RejectHasValue)),
        (VerdictKind::Reject, None) if !claim => return Ok(Err(ReviewRefusal::NotAClaim)),
        (VerdictKind::Reject, None) => None,
        (VerdictKind::Uphold, _) if !claim => return Ok(Err(ReviewRefusal::NotAClaim)),
        (kind, None) => return Ok(Err(ReviewRefusal::NeedsValue(kind.as_str()))),
        (_, Some(value)) => {
            let Some(home) = tx.task_home(item.task)? else {
                return Ok(Err(ReviewRefusal::NoItem(id)));
            };
            let project = tx.project_schema(home.project_id)?;
            if let Err(e) = project.validate(value) {
                return Ok(Err(ReviewRefusal::Invalid(e)));
            }
            Some(project.normalise(value))
        }
    };
    let verdict = Verdict {
        kind: decision.kind,
        value,
        by: who.user_id,
        at: now,
        note: decision.note.clone(),
    };
    tx.decide_review_item(id, &verdict)?;
    item.state = ReviewState::Decided;
    item.lease = None;
    item.verdict = Some(verdict);
    Ok(Ok(item))
}

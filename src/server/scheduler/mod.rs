//! The scheduler: the rules of a sync round (lease expiry, dedupe and conflicts,
//! validation, corrections, late answers, slot accounting, aggregation, skips, resent
//! leases, the lease budget and cap, the reply's bounds, the catalogue diff) as
//! backend-neutral code. It decides in `rules` (pure) and acts through a store's
//! `SyncTx`, inside that store's transaction.

pub mod aggregate;
mod answers;
pub mod class;
pub mod double_entry;
pub mod feedback;
pub mod gold;
pub mod review;
pub mod rules;
mod training;
pub mod verdict;

use std::collections::{BTreeMap, BTreeSet};

use crate::model::Project;
use crate::protocol::{
    Ack, Lease, MAX_WAITING_COUNT, MAX_WANT_PER_SYNC, SyncRequest, SyncResponse, Waiting,
};
use crate::server::store::{CatalogueEntry, Principal, PriorAnswer, StoreError, SyncTx};
use answers::ProjectCache;

/// One sync round at server time `now`: expire old leases, store answers (idempotent per
/// device and client id), release skipped tasks, send again leases of replies the device
/// never saw, grant new leases without over-assigning, and list the schemas the client
/// lacks. The caller commits `tx` before the response leaves.
pub fn sync(
    tx: &mut dyn SyncTx,
    who: &Principal,
    request: &SyncRequest,
    now: i64,
) -> Result<SyncResponse, StoreError> {
    tx.expire_leases(now)?;
    tx.note_sync(who.device_id, now)?;
    let mut projects = ProjectCache::default();
    let mut acks = Vec::with_capacity(request.answers.len());
    for upload in &request.answers {
        let status = answers::store_answer(tx, &mut projects, who, upload, now)?;
        acks.push(Ack {
            id: upload.id,
            status,
        });
    }
    for &task in &request.released {
        answers::release(tx, who, task)?;
    }
    let reports_done = gold::file_reports(tx, who, &request.reports, now)?;

    let catalogue = tx.catalogue()?;
    let removed = rules::removed_projects(&request.known, &request.want, &catalogue);
    let mut bytes = rules::ReplyBytes::new();
    // Leases of replies this device never applied come first, and count as granted;
    // those that do not fit this reply follow in the next.
    let (mut leases, more_unseen) = match request.seen {
        Some(seen) => resend_unseen(tx, who, seen, &mut bytes)?,
        None => (Vec::new(), false),
    };
    let reply = if rules::needs_reply_number(leases.len(), &request.want) {
        tx.next_reply(who.device_id)?
    } else {
        0
    };
    for lease in &leases {
        tx.tag_lease_reply(lease.task, who.user_id, reply)?;
    }
    if let Some(seen) = request.seen.filter(|_| more_unseen) {
        // Unseen leases left out of this reply get a later number than it, so the
        // device's next `seen` (this reply's) still asks for them.
        let later = tx.next_reply(who.device_id)?;
        tx.defer_unseen_leases(who.device_id, seen, reply, later)?;
    }
    let mut budget = rules::LeaseBudget::new(leases.len());
    // Lesson sets go before new leases: they come only when changed, and a worker who
    // must train first has no production leases to wait for.
    let lessons = training::lesson_sets(tx, request, &catalogue, &mut bytes)?;
    let mut outgoing = OutgoingReply {
        number: reply,
        bytes,
    };
    for want in &request.want {
        let Some(entry) = catalogue.get(want.project.as_str()) else {
            continue;
        };
        let project = projects.get(tx, entry.id)?;
        if !rules::kind_offered(project.kind, &request.kinds) {
            continue;
        }
        // Unqualified workers get no production work where the project asks for the
        // exam: refused here, whatever the client's screen shows. Roles that take no
        // exam (trainers, admins) are not held back.
        if project.requires_qualification
            && training::examined(who.role)
            && tx.qualification(entry.id, who.user_id)?.is_none()
        {
            continue;
        }
        let cap = project.lease_cap;
        let held = tx.live_leases_held(entry.id, who.user_id)?;
        let resent = leases.iter().filter(|l| l.project == want.project).count();
        let count = rules::lease_allowance(want.count, resent, held, cap, budget.left());
        let granted = grant_leases(
            tx,
            who,
            (&want.project, entry, project),
            count,
            now,
            &mut outgoing,
        )?;
        budget.spend(granted.len());
        leases.extend(granted);
    }
    let mut schemas = Vec::new();
    for id in rules::stale_schemas(&request.known, &catalogue) {
        let project = projects.get(tx, id)?;
        if rules::kind_offered(project.kind, &request.kinds) {
            schemas.push(project.clone());
        }
    }
    let done_today = tx.answers_since(who.user_id, rules::day_start(now))?;
    // Feedback (gold scored in this very sync included) only for clients that keep it.
    let (feedback, accuracy) = match request.feedback_seen {
        Some(seen) => feedback::deliver(tx, who.user_id, seen, &catalogue)?,
        None => (Vec::new(), Vec::new()),
    };
    let trained = training::sync(tx, &mut projects, who, request, &catalogue, now)?;
    let waiting = if request.counts {
        waiting_for(tx, who, request, (&schemas, &removed), &catalogue)?
    } else {
        Vec::new()
    };

    Ok(SyncResponse {
        now,
        done_today: u32::try_from(done_today).unwrap_or(u32::MAX),
        acks,
        leases,
        projects: schemas,
        removed,
        reply,
        feedback,
        accuracy,
        reports_done,
        lessons,
        exams: trained.exams,
        waiting,
        // Asked for separately (`impact::progress::for_reply`), after the transaction.
        progress: None,
    })
}

/// Tasks waiting for this worker in each project the client holds or is sent now.
fn waiting_for(
    tx: &mut dyn SyncTx,
    who: &Principal,
    request: &SyncRequest,
    (schemas, removed): (&[Project], &[String]),
    catalogue: &BTreeMap<String, CatalogueEntry>,
) -> Result<Vec<Waiting>, StoreError> {
    let names: BTreeSet<&str> = request
        .known
        .keys()
        .map(String::as_str)
        .filter(|name| !removed.iter().any(|r| r == name))
        .chain(schemas.iter().map(|p| p.name.as_str()))
        .collect();
    let mut waiting = Vec::with_capacity(names.len());
    for name in names {
        if let Some(entry) = catalogue.get(name) {
            let tasks = tx.open_tasks_for(entry.id, who.user_id, MAX_WAITING_COUNT)?;
            waiting.push(Waiting {
                project: name.to_string(),
                tasks,
            });
        }
    }
    Ok(waiting)
}

/// The device's live leases in replies after `seen`, as many as one reply carries, and
/// whether more may be left for the next reply.
fn resend_unseen(
    tx: &mut dyn SyncTx,
    who: &Principal,
    seen: u64,
    bytes: &mut rules::ReplyBytes,
) -> Result<(Vec<Lease>, bool), StoreError> {
    let limit = MAX_WANT_PER_SYNC as usize;
    let mut unseen = tx.unseen_leases(who.device_id, seen, limit)?;
    let fetched = unseen.len();
    let fits = unseen
        .iter()
        .take_while(|l| bytes.take(l.text.len()))
        .count();
    unseen.truncate(fits);
    Ok((unseen, fits < fetched || fetched == limit))
}

/// The reply being filled: its number, and the room left in it.
struct OutgoingReply {
    number: u64,
    bytes: rules::ReplyBytes,
}

/// Lease up to `count` tasks in import order that this worker has not answered, holds,
/// or skipped, and that still have an open slot; each takes one. A project with a gold
/// rate gets its gold tasks mixed in (`gold::mix`), each looking like any other lease.
/// A task whose text no longer fits the reply stays in the pool.
fn grant_leases(
    tx: &mut dyn SyncTx,
    who: &Principal,
    (name, entry, schema): (&str, &CatalogueEntry, &Project),
    count: usize,
    now: i64,
    reply: &mut OutgoingReply,
) -> Result<Vec<Lease>, StoreError> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let expires = now.saturating_add(entry.lease_secs);
    let mixes = gold::mixes_gold(schema);
    let production = tx.pick_open_tasks(entry.id, who.user_id, count, mixes)?;
    let picked = if mixes {
        let mut noise = gold::Noise::new(now, who.user_id);
        gold::mix(
            tx,
            schema,
            entry.id,
            who.user_id,
            production,
            count,
            &mut noise,
        )?
    } else {
        production.into_iter().map(|t| (t, false)).collect()
    };
    let mut leases = Vec::with_capacity(picked.len());
    let mut golds = 0u64;
    for (task, is_gold) in picked {
        if !reply.bytes.take(task.text.len()) {
            break;
        }
        golds += u64::from(is_gold);
        tx.hold_lease(
            task.task,
            who.user_id,
            who.device_id,
            now,
            expires,
            reply.number,
        )?;
        tx.move_open_slots(task.task, -1)?;
        leases.push(Lease {
            task: task.public,
            project: name.to_string(),
            text: task.text,
            suggestion: task.suggestion,
            expires,
            clip: task.clip,
        });
    }
    if mixes && !leases.is_empty() {
        tx.add_gold_mix(entry.id, who.user_id, leases.len() as u64, golds)?;
    }
    Ok(leases)
}

/// A device was revoked: its live leases end and their slots go back to the pool, so
/// a stolen or lost device holds no work and its worker's lease cap frees up. The tasks
/// are not remembered as skipped: the worker may get them again on a new device, and an
/// answer sent later is still accepted as a late one.
pub fn device_revoked(tx: &mut dyn SyncTx, device_id: i64) -> Result<(), StoreError> {
    for (task, user_id) in tx.live_leases_of_device(device_id)? {
        tx.end_lease(task, user_id, false)?;
        tx.move_open_slots(task, 1)?;
    }
    Ok(())
}

/// A project's overlap changed from `old` to `project.overlap`: every task's open slots
/// move by the difference, tasks now short of answers lose their decision, and tasks
/// that now have enough get one.
pub fn overlap_changed(
    tx: &mut dyn SyncTx,
    project_id: i64,
    project: &Project,
    old: i64,
    now: i64,
) -> Result<(), StoreError> {
    let overlap = i64::from(project.overlap);
    if overlap == old {
        return Ok(());
    }
    tx.move_project_open_slots(project_id, overlap - old)?;
    tx.clear_decisions_below(project_id, overlap)?;
    for task in tx.undecided_complete_tasks(project_id, overlap)? {
        answers::decide_if_complete(tx, project, task, overlap, now)?;
    }
    Ok(())
}

/// A task arrived with `count` answers given in another tool: each counts towards its
/// overlap and takes a slot as an answer given here would, so a task imported with all
/// its answers is decided at once and never leased.
/// A review the decision needs is dated by the newest of those answers.
pub fn prior_answers_counted(
    tx: &mut dyn SyncTx,
    project: &Project,
    task: i64,
    prior: &[PriorAnswer],
) -> Result<(), StoreError> {
    let Some(newest) = prior.iter().map(|p| p.at).max() else {
        return Ok(());
    };
    for _ in prior {
        tx.count_answer(task, rules::slot_delta_of_answer(false))?;
    }
    answers::decide_if_complete(tx, project, task, i64::from(project.overlap), newest)
}

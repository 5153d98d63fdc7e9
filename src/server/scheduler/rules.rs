//! The scheduler's decisions as pure functions over what the store reported: the verdict
//! on an uploaded answer, its date, slot moves, when a task is complete and what it
//! decides, the split of a sync's lease budget, and the catalogue diff.

use std::collections::{BTreeMap, HashSet};

use crate::model::{AnswerError, AnswerValue, Project, TaskKind};
use crate::protocol::{AckStatus, MAX_REPLY_TEXT_BYTES, MAX_WANT_PER_SYNC, Want};
use crate::quality::{Decision, majority};
use crate::server::store::{CatalogueEntry, EarlierAnswer};

/// The oldest an answer may claim to be: clients that were offline longer are dated by
/// their lease instead.
pub const MAX_AGO_SECS: i64 = 30 * 86_400;

/// Why an uploaded answer is refused for good. The text goes to the worker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("task {0} does not exist")]
    NoTask(i64),
    #[error("{0}")]
    Invalid(AnswerError),
    #[error("task {0} was never given to you")]
    NeverGiven(i64),
    #[error("answer {0} that this corrects is for another task")]
    CorrectsOtherTask(u64),
    #[error("you already answered task {0}; send a correction to change it")]
    AlreadyAnswered(i64),
}

impl From<Refusal> for AckStatus {
    fn from(r: Refusal) -> AckStatus {
        AckStatus::Rejected(r.to_string())
    }
}

/// An answer id this device used before: the same answer again is a harmless resend
/// (`same` compares normal forms), anything else a conflict where the first one stands.
pub fn resend_verdict(client_id: u64, same: bool) -> AckStatus {
    if same {
        AckStatus::Dup
    } else {
        AckStatus::Conflict(format!(
            "answer id {client_id} was already used for a different answer; the first one stands"
        ))
    }
}

/// Which stored answer a correction replaces. `earlier` is the device's answer under the
/// id it names. None when that answer never got stored or was replaced already: the
/// correction then simply stands as the worker's answer.
pub fn correction_target(
    task: i64,
    replaces: u64,
    earlier: Option<&EarlierAnswer>,
) -> Result<Option<i64>, Refusal> {
    match earlier {
        Some(old) if old.superseded => Ok(None),
        Some(old) if old.task == task => Ok(Some(old.id)),
        Some(_) => Err(Refusal::CorrectsOtherTask(replaces)),
        None => Ok(None),
    }
}

/// An answer's date: server time minus the client's `ago` (at most `MAX_AGO_SECS`),
/// never before its lease was granted nor after now. The client's clock is never trusted.
pub fn answer_date(now: i64, ago: u32, granted: i64) -> i64 {
    let ago = i64::from(ago).min(MAX_AGO_SECS);
    (now - ago).max(granted).min(now)
}

/// How a first answer moves its task's open slots. A live lease hands its slot to the
/// answer; a late answer (lease expired or released) takes a slot of its own: it is
/// credited even past the overlap.
pub fn slot_delta_of_answer(lease_live: bool) -> i64 {
    if lease_live { 0 } else { -1 }
}

/// A task is aggregated once it has all its answers.
pub fn is_complete(counted: i64, overlap: i64) -> bool {
    counted >= overlap
}

/// The majority over a task's answers in normal form, so answers stored in another label
/// order still count as one vote. An entry task is decided field by field instead.
pub fn aggregate(project: &Project, values: &[AnswerValue]) -> Decision {
    if let Some(form) = &project.form {
        return super::double_entry::decide(form, values);
    }
    if let Some(rules) = project.transcribe.as_deref() {
        let texts: Vec<&str> = values.iter().filter_map(AnswerValue::transcript).collect();
        return crate::quality::transcript::decide(&rules.normalise, &texts);
    }
    let compact: Vec<String> = values
        .iter()
        .map(|v| project.normalise(v).to_compact())
        .collect();
    majority(compact.iter().map(String::as_str))
}

/// Whether a client that can show `kinds` is offered projects of `kind`: every client
/// shows classify; clients from before data entry send no kinds.
pub fn kind_offered(kind: TaskKind, kinds: &[String]) -> bool {
    kind == TaskKind::Classify || kinds.iter().any(|k| k == kind.name())
}

/// Start of the server's (UTC) day holding `now`.
pub fn day_start(now: i64) -> i64 {
    now - now.rem_euclid(86_400)
}

/// A reply gets a number when it may carry leases, so the device can say it saw them.
pub fn needs_reply_number(resent: usize, want: &[Want]) -> bool {
    resent > 0 || want.iter().any(|w| w.count > 0)
}

/// How many leases one sync may still grant (`MAX_WANT_PER_SYNC`), shared by its projects
/// in the order the client asked; leases sent again come out of it first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseBudget {
    left: usize,
}

impl LeaseBudget {
    pub fn new(resent: usize) -> LeaseBudget {
        LeaseBudget {
            left: (MAX_WANT_PER_SYNC as usize).saturating_sub(resent),
        }
    }

    /// New leases this sync may still grant.
    pub fn left(&self) -> usize {
        self.left
    }

    /// `granted` leases were handed out.
    pub fn spend(&mut self, granted: usize) {
        self.left = self.left.saturating_sub(granted);
    }
}

/// New leases a project may still get: what was asked beyond the leases sent again, no
/// more than the worker's room under the project's `lease_cap` (`held` counts the live
/// leases they hold there, resent ones included) and the sync's budget (`left`).
pub fn lease_allowance(wanted: u32, resent: usize, held: u64, cap: u32, left: usize) -> usize {
    let room = u64::from(cap).saturating_sub(held);
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    (wanted as usize).saturating_sub(resent).min(room).min(left)
}

/// The task text one reply may still carry (`MAX_REPLY_TEXT_BYTES`), so no reply grows
/// without bound however long the tasks; the first lease always fits, so one long task
/// still travels. What does not fit follows in the next sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyBytes {
    left: usize,
    carried: usize,
}

impl ReplyBytes {
    pub fn new() -> ReplyBytes {
        ReplyBytes {
            left: MAX_REPLY_TEXT_BYTES,
            carried: 0,
        }
    }

    /// Whether a lease of `text_bytes` still fits; if so it takes its room.
    pub fn take(&mut self, text_bytes: usize) -> bool {
        if self.carried > 0 && text_bytes > self.left {
            return false;
        }
        self.left = self.left.saturating_sub(text_bytes);
        self.carried += 1;
        true
    }
}

impl Default for ReplyBytes {
    fn default() -> Self {
        ReplyBytes::new()
    }
}

/// Projects the client named (known, or wanted) that the server does not have: known
/// ones first, in name order, then wanted ones in the order asked, each once. Linear in
/// the number of names.
pub fn removed_projects(
    known: &BTreeMap<String, String>,
    want: &[Want],
    catalogue: &BTreeMap<String, CatalogueEntry>,
) -> Vec<String> {
    let mut removed: Vec<String> = known
        .keys()
        .filter(|name| !catalogue.contains_key(name.as_str()))
        .cloned()
        .collect();
    let mut named: HashSet<&str> = removed.iter().map(String::as_str).collect();
    let mut wanted_gone = Vec::new();
    for w in want {
        if !catalogue.contains_key(&w.project) && named.insert(w.project.as_str()) {
            wanted_gone.push(w.project.clone());
        }
    }
    removed.extend(wanted_gone);
    removed
}

/// Ids of the projects whose schema the client lacks or holds in another version, in
/// name order.
pub fn stale_schemas(
    known: &BTreeMap<String, String>,
    catalogue: &BTreeMap<String, CatalogueEntry>,
) -> Vec<i64> {
    catalogue
        .iter()
        .filter(|(name, entry)| known.get(name.as_str()) != Some(&entry.version))
        .map(|(_, entry)| entry.id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn earlier(id: i64, task: i64, superseded: bool) -> EarlierAnswer {
        EarlierAnswer {
            id,
            task,
            value: AnswerValue::Labels(vec!["a".into()]),
            superseded,
        }
    }

    fn want(project: &str, count: u32) -> Want {
        Want {
            project: project.into(),
            count,
        }
    }

    fn catalogue(names: &[(&str, i64, &str)]) -> BTreeMap<String, CatalogueEntry> {
        names
            .iter()
            .map(|&(name, id, version)| {
                (
                    name.to_string(),
                    CatalogueEntry {
                        id,
                        version: version.into(),
                        lease_secs: 3600,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn resend_is_dup_only_when_the_same() {
        assert_eq!(resend_verdict(4, true), AckStatus::Dup);
        let AckStatus::Conflict(why) = resend_verdict(4, false) else {
            panic!("expected a conflict");
        };
        assert!(why.contains("answer id 4") && why.contains("first one stands"));
    }

    #[test]
    fn a_correction_replaces_only_a_counted_answer_to_its_own_task() {
        assert_eq!(
            correction_target(7, 1, Some(&earlier(10, 7, false))),
            Ok(Some(10))
        );
        assert_eq!(
            correction_target(7, 1, Some(&earlier(10, 7, true))),
            Ok(None)
        );
        assert_eq!(correction_target(7, 1, None), Ok(None));
        assert_eq!(
            correction_target(7, 1, Some(&earlier(10, 8, false))),
            Err(Refusal::CorrectsOtherTask(1))
        );
    }

    #[test]
    fn answers_are_dated_inside_their_lease_window() {
        let (granted, now) = (1_000, 5_000);
        assert_eq!(answer_date(now, 100, granted), 4_900, "honest age");
        assert_eq!(answer_date(now, 0, granted), now);
        assert_eq!(
            answer_date(now, u32::MAX, granted),
            granted,
            "not before the lease"
        );
        // A lease granted "after now" (server clock moved back) still never dates ahead.
        assert_eq!(answer_date(now, 10, now + 50), now);
        // Older than MAX_AGO: dated MAX_AGO back when the lease is older still.
        let now = 100 * 86_400;
        assert_eq!(answer_date(now, u32::MAX, 0), now - MAX_AGO_SECS);
    }

    #[test]
    fn late_answers_take_a_slot_of_their_own() {
        assert_eq!(slot_delta_of_answer(true), 0);
        assert_eq!(slot_delta_of_answer(false), -1);
        assert!(!is_complete(1, 2));
        assert!(is_complete(2, 2));
        assert!(is_complete(3, 2), "late answers past the overlap");
    }

    #[test]
    fn the_budget_is_shared_in_the_order_asked() {
        // No cap in the way: the budget alone decides.
        let allow = |budget: &LeaseBudget, wanted, resent| {
            lease_allowance(wanted, resent, 0, u32::MAX, budget.left())
        };
        let mut budget = LeaseBudget::new(5);
        assert_eq!(allow(&budget, 150, 2), 148, "its own resent leases count");
        budget.spend(148);
        assert_eq!(allow(&budget, 100, 0), 47, "200 - 5 resent - 148");
        budget.spend(10);
        assert_eq!(allow(&budget, 100, 0), 37, "only what was granted is spent");
        assert_eq!(allow(&LeaseBudget::new(500), 10, 0), 0);
        assert_eq!(allow(&budget, 3, 9), 0);
    }

    #[test]
    fn a_worker_gets_no_more_than_the_cap_allows() {
        // Asked 50, holds 90 of a cap of 100: ten more.
        assert_eq!(lease_allowance(50, 0, 90, 100, 200), 10);
        // At or over the cap (the cap was lowered): none.
        assert_eq!(lease_allowance(50, 0, 100, 100, 200), 0);
        assert_eq!(lease_allowance(50, 0, 150, 100, 200), 0);
        // Resent leases fill the request first; the sync's budget bounds the rest.
        assert_eq!(lease_allowance(50, 20, 20, 100, 200), 30);
        assert_eq!(lease_allowance(50, 0, 0, 100, 7), 7);
    }

    #[test]
    fn a_reply_carries_bounded_text_but_always_one_lease() {
        let mut bytes = ReplyBytes::new();
        assert!(
            bytes.take(MAX_REPLY_TEXT_BYTES * 2),
            "the first always fits"
        );
        assert!(!bytes.take(1), "nothing more after an oversized first");
        let mut bytes = ReplyBytes::new();
        assert!(bytes.take(MAX_REPLY_TEXT_BYTES - 10));
        assert!(!bytes.take(11));
        assert!(bytes.take(10));
        assert!(!bytes.take(1));
    }

    #[test]
    fn the_catalogue_diff_is_linear_in_the_names() {
        // Many distinct unknown names: each is looked at once (this took minutes when
        // every name was compared with every other).
        let wants: Vec<Want> = (0..200_000).map(|i| want(&format!("n{i}"), 0)).collect();
        let removed = removed_projects(&BTreeMap::new(), &wants, &catalogue(&[]));
        assert_eq!(removed.len(), 200_000);
        assert_eq!(removed[199_999], "n199999");
    }

    #[test]
    fn the_catalogue_diff_names_what_the_client_lacks_or_has_in_excess() {
        let catalogue = catalogue(&[("a", 1, "v1"), ("b", 2, "v2")]);
        let known: BTreeMap<String, String> = [("a", "v1"), ("gone", "x"), ("b", "old")]
            .iter()
            .map(|&(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(stale_schemas(&known, &catalogue), [2]);
        assert_eq!(stale_schemas(&BTreeMap::new(), &catalogue), [1, 2]);
        let wants = [
            want("nope", 1),
            want("a", 1),
            want("gone", 1),
            want("nope", 2),
        ];
        assert_eq!(
            removed_projects(&known, &wants, &catalogue),
            ["gone", "nope"]
        );
    }

    #[test]
    fn a_reply_is_numbered_only_when_it_may_carry_leases() {
        assert!(!needs_reply_number(0, &[]));
        assert!(!needs_reply_number(0, &[want("a", 0)]));
        assert!(needs_reply_number(0, &[want("a", 1)]));
        assert!(needs_reply_number(2, &[]));
    }

    #[test]
    fn the_day_starts_at_utc_midnight() {
        assert_eq!(day_start(86_400 * 3 + 5), 86_400 * 3);
        assert_eq!(day_start(-1), -86_400);
    }

    #[test]
    fn votes_are_counted_in_normal_form() {
        let project = Project::from_toml(
            "m.toml",
            "name = \"m\"\ntitle = \"M\"\nkind = \"classify\"\nmulti_label = true\n\
             overlap = 2\nlease = \"1h\"\n\
             [[labels]]\nid = \"a\"\nname = \"A\"\nkey = \"1\"\n\
             [[labels]]\nid = \"b\"\nname = \"B\"\nkey = \"2\"\n",
        )
        .expect("test project parses");
        let vote = |ids: &[&str]| AnswerValue::Labels(ids.iter().map(|s| s.to_string()).collect());
        let d = aggregate(&project, &[vote(&["b", "a"]), vote(&["a", "b"])]);
        assert_eq!(d.value.as_deref(), Some("a|b"));
        assert_eq!(d.agreement, 1.0);
    }
}

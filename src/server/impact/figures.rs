//! The figures of impact, computed from the server's records alone (server time, counted
//! answers, gold, review verdicts, qualifications): output, accuracy on gold and on
//! review, time on task, qualifications gained and retention, per group and week. Pure: the store streams `WorkItem`s in, reports and work records read the result.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::intake::Intake;
use crate::server::store::{Qualified, WorkItem};

/// A pause longer than this between two answers of a worker ends a stretch of work: the
/// pause is not time on task.
pub const MAX_GAP_SECS: i64 = 300;
/// Groups of fewer people than this are shown as suppressed, never as a number.
pub const MIN_GROUP: usize = 5;
/// What a group is called when a worker has no value for it (no intake record, field
/// never asked).
pub const NOT_RECORDED: &str = "not recorded";

const DAY: i64 = 86_400;

/// The Monday (UTC) starting the week of a server time, as unix seconds.
pub fn week_start(at: i64) -> i64 {
    // 1970-01-01 was a Thursday: day 4 is the first Monday.
    let day = at.div_euclid(DAY);
    (day - (day - 4).rem_euclid(7)) * DAY
}

/// The start of the day (UTC) of a server time.
pub fn day_start(at: i64) -> i64 {
    at.div_euclid(DAY) * DAY
}

/// How figures are grouped: one row per group and week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    /// The whole centre, week by week.
    Week,
    Worker,
    Project,
    Cohort,
    /// A self-reported intake field the centre configured (`gender`, `age_band`).
    Field(String),
}

impl GroupBy {
    pub fn parse(text: &str) -> GroupBy {
        match text {
            "week" => GroupBy::Week,
            "worker" => GroupBy::Worker,
            "project" => GroupBy::Project,
            "cohort" => GroupBy::Cohort,
            other => GroupBy::Field(other.to_string()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            GroupBy::Week => "week",
            GroupBy::Worker => "worker",
            GroupBy::Project => "project",
            GroupBy::Cohort => "cohort",
            GroupBy::Field(id) => id,
        }
    }

    /// Figures per worker are the centre's own view of its people: each row is one
    /// person by design, so they are not suppressed. Every other grouping is.
    pub fn suppresses(&self) -> bool {
        !matches!(self, GroupBy::Worker)
    }
}

/// What was counted in one group and week (or over a worker's whole record).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Counted answers.
    pub output: u64,
    /// Answers on gold tasks, and how many of them were right.
    pub gold_checked: u64,
    pub gold_correct: u64,
    /// Answers on reviewed tasks without gold, and how many the verdict kept.
    pub review_checked: u64,
    pub review_correct: u64,
    /// Exams passed (qualifications granted).
    pub qualified: u64,
    /// Seconds between answers that followed another within `MAX_GAP_SECS`, and how
    /// many answers those were (the ones with a measured time).
    pub seconds: u64,
    pub timed: u64,
}

impl Tally {
    pub fn accuracy(&self) -> Option<f64> {
        (self.gold_checked > 0).then(|| self.gold_correct as f64 / self.gold_checked as f64)
    }

    pub fn review_accuracy(&self) -> Option<f64> {
        (self.review_checked > 0).then(|| self.review_correct as f64 / self.review_checked as f64)
    }

    /// Accuracy over every checked answer, gold and reviewed alike (what a worker's
    /// feedback counts).
    pub fn checked_accuracy(&self) -> Option<(u64, u64)> {
        let checked = self.gold_checked + self.review_checked;
        (checked > 0).then(|| (self.gold_correct + self.review_correct, checked))
    }

    pub fn hours(&self) -> f64 {
        self.seconds as f64 / 3600.0
    }

    /// Mean seconds per answer over the answers with a measured time.
    pub fn seconds_per_task(&self) -> Option<f64> {
        (self.timed > 0).then(|| self.seconds as f64 / self.timed as f64)
    }

    pub fn add(&mut self, other: &Tally) {
        self.output += other.output;
        self.gold_checked += other.gold_checked;
        self.gold_correct += other.gold_correct;
        self.review_checked += other.review_checked;
        self.review_correct += other.review_correct;
        self.qualified += other.qualified;
        self.seconds += other.seconds;
        self.timed += other.timed;
    }
}

/// One answer, scored and timed.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub user: String,
    pub project: String,
    pub at: i64,
    /// Some(right) on a gold task.
    pub gold: Option<bool>,
    /// Some(kept) on a reviewed task without gold.
    pub review: Option<bool>,
    /// Seconds since the worker's previous answer when that was a pause of at most
    /// `MAX_GAP_SECS`.
    pub seconds: Option<u64>,
}

impl Scored {
    pub fn tally(&self) -> Tally {
        Tally {
            output: 1,
            gold_checked: u64::from(self.gold.is_some()),
            gold_correct: u64::from(self.gold == Some(true)),
            review_checked: u64::from(self.review.is_some()),
            review_correct: u64::from(self.review == Some(true)),
            qualified: 0,
            seconds: self.seconds.unwrap_or(0),
            timed: u64::from(self.seconds.is_some()),
        }
    }
}

/// Time answers and take their gold results (scored by the scheduler when they
/// arrived). `items` come ordered by user and time, as `Store::work_history` gives them.
pub fn score(items: &[WorkItem]) -> Vec<Scored> {
    let mut out = Vec::with_capacity(items.len());
    let mut previous: Option<(&str, i64)> = None;
    for item in items {
        let seconds = match previous {
            Some((user, at)) if user == item.user && item.at - at <= MAX_GAP_SECS => {
                Some((item.at - at).max(0) as u64)
            }
            _ => None,
        };
        previous = Some((&item.user, item.at));
        out.push(Scored {
            user: item.user.clone(),
            project: item.project.clone(),
            at: item.at,
            gold: item.gold_correct,
            review: item.review_correct,
            seconds,
        });
    }
    out
}

/// One row of a report: a group in a week.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub group: String,
    /// Monday of the week, unix seconds.
    pub week: i64,
    /// Distinct workers with an answer in this group and week.
    pub people: usize,
    /// None when the group is smaller than `MIN_GROUP` and the grouping suppresses.
    pub figures: Option<Figures>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub tally: Tally,
    /// Of the people in this group the week before, how many answered again this week
    /// (None in a group's first week, or when last week's group was suppressed).
    pub retained: Option<(usize, usize)>,
}

/// Figures per group and week. `intakes` gives cohorts and self-reported fields;
/// `qualified` the exams passed, counted in the week they were passed (the worker is one
/// of that group and week's people).
pub fn rows(
    scored: &[Scored],
    qualified: &[Qualified],
    by: &GroupBy,
    intakes: &BTreeMap<String, Intake>,
) -> Vec<Row> {
    let group_of = |user: &str, project: &str| -> String {
        let intake = intakes.get(user);
        let value = match by {
            GroupBy::Week => Some("centre"),
            GroupBy::Worker => Some(user),
            GroupBy::Project => Some(project),
            GroupBy::Cohort => intake.and_then(|i| i.cohort.as_deref()),
            GroupBy::Field(id) => intake.and_then(|i| i.fields.get(id).map(String::as_str)),
        };
        value.unwrap_or(NOT_RECORDED).to_string()
    };
    let mut cells: BTreeMap<(String, i64), (Tally, BTreeSet<&str>)> = BTreeMap::new();
    for s in scored {
        let cell = cells
            .entry((group_of(&s.user, &s.project), week_start(s.at)))
            .or_default();
        cell.0.add(&s.tally());
        cell.1.insert(&s.user);
    }
    for q in qualified {
        let cell = cells
            .entry((group_of(&q.user, &q.project), week_start(q.granted)))
            .or_default();
        cell.0.qualified += 1;
        cell.1.insert(&q.user);
    }
    let suppress = |people: usize| by.suppresses() && people < MIN_GROUP;
    cells
        .iter()
        .map(|((group, week), (tally, people))| {
            let before = cells.get(&(group.clone(), week - 7 * DAY));
            let retained = before
                .filter(|(_, earlier)| !suppress(earlier.len()))
                .map(|(_, earlier)| (earlier.intersection(people).count(), earlier.len()));
            Row {
                group: group.clone(),
                week: *week,
                people: people.len(),
                figures: (!suppress(people.len())).then(|| Figures {
                    tally: tally.clone(),
                    retained,
                }),
            }
        })
        .collect()
}

/// One worker's figures per project over a whole record.
pub fn per_project(scored: &[Scored]) -> BTreeMap<String, ProjectTally> {
    let mut out: BTreeMap<String, ProjectTally> = BTreeMap::new();
    for s in scored {
        let entry = out
            .entry(s.project.clone())
            .or_insert_with(|| ProjectTally {
                tally: Tally::default(),
                first: s.at,
                last: s.at,
            });
        entry.tally.add(&s.tally());
        entry.first = entry.first.min(s.at);
        entry.last = entry.last.max(s.at);
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProjectTally {
    pub tally: Tally,
    /// Server times of the first and last answer.
    pub first: i64,
    pub last: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        // 2026-11-23 is a Monday, 2026-11-29 the Sunday after.
        let monday = crate::model::intake::parse_day("2026-11-23").unwrap();
        let sunday = crate::model::intake::parse_day("2026-11-29").unwrap();
        assert_eq!(week_start(monday), monday);
        assert_eq!(week_start(sunday + 86_399), monday);
        assert_eq!(week_start(sunday + 86_400), monday + 7 * DAY);
    }
}

//! A worker's own progress for the sync reply (`protocol::Progress`): the same scored
//! history and tallies as reports and work records (`figures`), over the last weeks by
//! server time, with qualifications and the projects' per-task rates.

use std::collections::BTreeMap;

use super::figures::{Tally, day_start, week_start};
use crate::protocol::{
    Held, MAX_PROGRESS_PROJECTS, MAX_PROGRESS_QUALIFICATIONS, PROGRESS_DAYS, PROGRESS_WEEKS,
    Period, Progress, ProjectProgress,
};
use crate::server::store::{Store, StoreError};

const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

/// `user`'s progress at server time `now`.
pub fn progress(store: &dyn Store, user: &str, now: i64) -> Result<Progress, StoreError> {
    let first_week = week_start(now) - (PROGRESS_WEEKS as i64 - 1) * WEEK;
    let first_day = day_start(now) - (PROGRESS_DAYS as i64 - 1) * DAY;
    let from = first_week.min(first_day);
    let (scored, projects) = super::scored_history(store, Some(user), from, now + 1)?;
    let mut days: Vec<Tally> = vec![Tally::default(); PROGRESS_DAYS];
    let mut weeks: Vec<Tally> = vec![Tally::default(); PROGRESS_WEEKS];
    let mut per_project: BTreeMap<&str, Vec<Tally>> = BTreeMap::new();
    for s in &scored {
        let tally = s.tally();
        if s.at >= first_day {
            days[((day_start(s.at) - first_day) / DAY) as usize].add(&tally);
        }
        if s.at >= first_week {
            let week = ((week_start(s.at) - first_week) / WEEK) as usize;
            weeks[week].add(&tally);
            per_project
                .entry(&s.project)
                .or_insert_with(|| vec![Tally::default(); PROGRESS_WEEKS])[week]
                .add(&tally);
        }
    }
    let period = |start: i64, t: &Tally| Period {
        start,
        tasks: t.output,
        seconds: t.seconds,
    };
    let mut shown: Vec<ProjectProgress> = per_project
        .into_iter()
        .map(|(name, weeks)| {
            let project = projects.get(name);
            ProjectProgress {
                project: name.to_string(),
                title: project.map_or_else(|| name.to_string(), |p| p.title.clone()),
                weeks: weeks
                    .iter()
                    .map(|t| {
                        let (right, of) = t.checked_accuracy().unwrap_or((0, 0));
                        (t.output, right, of)
                    })
                    .collect(),
                rate: project.and_then(|p| p.rate.as_deref().cloned()),
            }
        })
        .collect();
    // The projects worked most; ties by name, as the map gave them.
    shown.sort_by_key(|p| std::cmp::Reverse(p.tasks()));
    shown.truncate(MAX_PROGRESS_PROJECTS);
    let mut held: Vec<Held> = super::qualifications_of(store, user)?
        .into_iter()
        .map(|(q, title)| Held {
            project: q.project,
            title,
            since: q.granted,
        })
        .collect();
    // The latest, when there are more than a reply carries.
    let extra = held.len().saturating_sub(MAX_PROGRESS_QUALIFICATIONS);
    held.drain(..extra);
    Ok(Progress {
        as_of: now,
        days: days
            .iter()
            .enumerate()
            .map(|(i, t)| period(first_day + i as i64 * DAY, t))
            .collect(),
        weeks: weeks
            .iter()
            .enumerate()
            .map(|(i, t)| period(first_week + i as i64 * WEEK, t))
            .collect(),
        projects: shown,
        qualifications: held,
    })
}

/// The progress a sync reply carries when the request asked for it. A failure to
/// compute it does not fail the sync (its answers are already stored): the reply goes
/// without it, the client keeps the figures it had, and the server logs why.
pub fn for_reply(store: &dyn Store, user: &str, now: i64) -> Option<Progress> {
    match progress(store, user, now) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::warn!(user, error = %e, "progress not computed for a sync reply");
            None
        }
    }
}

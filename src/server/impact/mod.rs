//! Impact: what a centre can show of its work and its workers' growth. Figures come
//! from the server's records only (`figures`), reports render them (`report`), and a
//! worker's portable work record is signed with the centre's key (`record`, `signing`).
//! Intake records (cohort, self-reported fields) are kept apart from task data.

pub mod figures;
pub mod progress;
pub mod record;
pub mod report;
pub mod signing;

use std::collections::BTreeMap;

use crate::model::Project;
use crate::model::intake::Intake;
use crate::server::store::{Store, StoreError, WorkItem};
use figures::{GroupBy, Row, Scored};
use record::{Qualification, RecordProject, WorkRecord, round};

/// The counted answers of a period (of one user or all), scored and timed.
pub fn scored_history(
    store: &dyn Store,
    user: Option<&str>,
    from: i64,
    to: i64,
) -> Result<(Vec<Scored>, BTreeMap<String, Project>), StoreError> {
    let mut items: Vec<WorkItem> = Vec::new();
    store.work_history(user, from, to, &mut |item| {
        items.push(item);
        Ok(())
    })?;
    let mut projects = BTreeMap::new();
    for item in &items {
        if !projects.contains_key(&item.project)
            && let Some(project) = store.project(&item.project)?
        {
            projects.insert(item.project.clone(), project);
        }
    }
    Ok((figures::score(&items), projects))
}

/// A centre's figures for `from <= time < to`, grouped and by week.
pub fn report(store: &dyn Store, from: i64, to: i64, by: &GroupBy) -> Result<Vec<Row>, StoreError> {
    let (scored, _) = scored_history(store, None, from, to)?;
    let qualified: Vec<_> = store
        .qualifications(None)?
        .into_iter()
        .filter(|q| (from..to).contains(&q.granted))
        .collect();
    let intakes: BTreeMap<String, Intake> = store.intakes()?.into_iter().collect();
    Ok(figures::rows(&scored, &qualified, by, &intakes))
}

/// A worker's whole record at server time `now`. `NoUser` for an unknown name.
pub fn work_record(store: &dyn Store, user: &str, now: i64) -> Result<WorkRecord, StoreError> {
    if !store.users()?.iter().any(|u| u.name == user) {
        return Err(StoreError::NoUser(user.to_string()));
    }
    let (scored, projects) = scored_history(store, Some(user), i64::MIN, i64::MAX)?;
    let intake_date = store
        .intakes()?
        .into_iter()
        .find(|(name, _)| name == user)
        .and_then(|(_, intake)| intake.date);
    let mut total = figures::Tally::default();
    let mut out = Vec::new();
    for (name, p) in figures::per_project(&scored) {
        let project = projects.get(&name);
        total.add(&p.tally);
        out.push(RecordProject {
            title: project.map_or_else(|| name.clone(), |p| p.title.clone()),
            kind: project.map_or_else(|| "unknown".into(), |p| p.kind.name().to_string()),
            name,
            tasks: p.tally.output,
            gold_checked: p.tally.gold_checked,
            accuracy: p.tally.accuracy().map(|a| round(a, 4)),
            reviewed: p.tally.review_checked,
            review_accuracy: p.tally.review_accuracy().map(|a| round(a, 4)),
            hours: round(p.tally.hours(), 1),
            from: record::day(p.first),
            to: record::day(p.last),
        });
    }
    Ok(WorkRecord {
        worker: user.to_string(),
        issued: crate::model::format_utc(now),
        intake_date,
        projects: out,
        tasks: total.output,
        hours: round(total.hours(), 1),
        accuracy: total.accuracy().map(|a| round(a, 4)),
        review_accuracy: total.review_accuracy().map(|a| round(a, 4)),
        qualifications: qualifications_of(store, user)?
            .into_iter()
            .map(|(q, title)| Qualification {
                name: title,
                project: q.project,
                gained: record::day(q.granted),
            })
            .collect(),
    })
}

/// A worker's qualifications with their projects' titles (the name where the project
/// is gone), oldest first.
pub fn qualifications_of(
    store: &dyn Store,
    user: &str,
) -> Result<Vec<(crate::server::store::Qualified, String)>, StoreError> {
    let mut out = Vec::new();
    for q in store.qualifications(Some(user))? {
        let title = store
            .project(&q.project)?
            .map_or_else(|| q.project.clone(), |p| p.title);
        out.push((q, title));
    }
    Ok(out)
}

/// Why an intake could not be set.
#[derive(Debug, thiserror::Error)]
pub enum IntakeSetError {
    #[error(transparent)]
    Invalid(#[from] crate::model::intake::IntakeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The user's intake record with `settings` (`ID=VALUE`) applied, checked against the
/// centre's form; not stored (`put_intake` does that).
pub fn intake_with(
    store: &dyn Store,
    user: &str,
    settings: &[String],
) -> Result<Intake, IntakeSetError> {
    let form = store.intake_form()?;
    let mut intake = store
        .intakes()?
        .into_iter()
        .find(|(name, _)| name == user)
        .map(|(_, intake)| intake)
        .unwrap_or_default();
    intake.apply(&form, settings)?;
    Ok(intake)
}

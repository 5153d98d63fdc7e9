//! A worker's own progress as the sync reply carries it when the client asks
//! (`SyncRequest::progress`): tasks and time on task per day and week, accuracy per
//! project week by week, qualifications and earnings, all from the server's records by
//! server time. Small and bounded: a few hundred bytes, at most `MAX_PROGRESS_PROJECTS`
//! projects and `MAX_PROGRESS_QUALIFICATIONS` qualifications.

use serde::{Deserialize, Serialize};

use crate::model::Rate;

/// Days and weeks a summary covers (today and the days before; this week and the weeks
/// before).
pub const PROGRESS_DAYS: usize = 14;
pub const PROGRESS_WEEKS: usize = 8;
/// Most projects in a summary (those with the most tasks in its weeks).
pub const MAX_PROGRESS_PROJECTS: usize = 8;
/// Most qualifications in a summary (the latest).
pub const MAX_PROGRESS_QUALIFICATIONS: usize = 16;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Server time the figures were computed, unix seconds.
    pub as_of: i64,
    /// The last `PROGRESS_DAYS` days, oldest first, today last.
    pub days: Vec<Period>,
    /// The last `PROGRESS_WEEKS` weeks (Monday to Sunday, UTC), oldest first.
    pub weeks: Vec<Period>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<ProjectProgress>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub qualifications: Vec<Held>,
}

/// Tasks done and seconds on task in one day or week.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// Its start, server time (midnight UTC; a week's Monday).
    pub start: i64,
    pub tasks: u64,
    pub seconds: u64,
}

/// One project over the summary's weeks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectProgress {
    pub project: String,
    pub title: String,
    /// Per week of `Progress::weeks`, in the same order: tasks done, checked answers
    /// (gold and reviewed) right, and checked answers.
    pub weeks: Vec<(u64, u64, u64)>,
    /// The project's per-task rate, when it sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
}

/// A qualification held: the project whose exam was passed, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub project: String,
    pub title: String,
    /// Server time it was granted.
    pub since: i64,
}

impl ProjectProgress {
    /// Tasks over every week of the summary.
    pub fn tasks(&self) -> u64 {
        self.weeks.iter().map(|w| w.0).sum()
    }

    /// Right and checked, per week.
    pub fn checked(&self) -> Vec<(u64, u64)> {
        self.weeks.iter().map(|w| (w.1, w.2)).collect()
    }
}

impl Progress {
    /// Cut what a reply from elsewhere may hold to the bounds (a server one version
    /// ahead, or a damaged cache, cannot make the screen draw without end).
    pub fn bounded(mut self) -> Progress {
        self.days.truncate(PROGRESS_DAYS);
        self.weeks.truncate(PROGRESS_WEEKS);
        self.projects.truncate(MAX_PROGRESS_PROJECTS);
        for p in &mut self.projects {
            p.weeks.truncate(PROGRESS_WEEKS);
        }
        self.qualifications.truncate(MAX_PROGRESS_QUALIFICATIONS);
        self
    }

    /// Tasks done on the summary's last day (its "today").
    pub fn today(&self) -> Option<&Period> {
        self.days.last()
    }

    pub fn this_week(&self) -> Option<&Period> {
        self.weeks.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fullest summary a reply carries stays a small part of a reply's budget, and a
    /// longer one from elsewhere is cut to the bounds.
    #[test]
    fn a_full_summary_is_small_and_a_longer_one_is_cut() {
        let period = |i: usize| Period {
            start: 1_800_000_000 + i as i64 * 86_400,
            tasks: 999,
            seconds: 99_999,
        };
        let full = Progress {
            as_of: 1_800_000_000,
            days: (0..PROGRESS_DAYS + 3).map(period).collect(),
            weeks: (0..PROGRESS_WEEKS + 3).map(period).collect(),
            projects: (0..MAX_PROGRESS_PROJECTS + 2)
                .map(|i| ProjectProgress {
                    project: format!("project-{i:02}-{}", "x".repeat(50)),
                    title: "T".repeat(120),
                    weeks: vec![(9_999, 999, 999); PROGRESS_WEEKS + 2],
                    rate: Some(Rate::new("0.125", "USD").unwrap()),
                })
                .collect(),
            qualifications: (0..MAX_PROGRESS_QUALIFICATIONS + 4)
                .map(|i| Held {
                    project: format!("project-{i}"),
                    title: "T".repeat(120),
                    since: 1_800_000_000,
                })
                .collect(),
        }
        .bounded();
        assert_eq!(full.days.len(), PROGRESS_DAYS);
        assert_eq!(full.weeks.len(), PROGRESS_WEEKS);
        assert_eq!(full.projects.len(), MAX_PROGRESS_PROJECTS);
        assert_eq!(full.projects[0].weeks.len(), PROGRESS_WEEKS);
        assert_eq!(full.qualifications.len(), MAX_PROGRESS_QUALIFICATIONS);
        let bytes = serde_json::to_vec(&full).unwrap().len();
        assert!(bytes < 12 * 1024, "{bytes} bytes");
        assert!(
            bytes * 40 < super::super::MAX_REPLY_TEXT_BYTES,
            "{bytes} bytes"
        );
    }

    #[test]
    fn a_request_that_does_not_ask_says_nothing_of_progress() {
        let json = serde_json::to_string(&crate::protocol::SyncRequest::default()).unwrap();
        assert!(!json.contains("progress"));
        let asked = crate::protocol::SyncRequest {
            progress: true,
            ..Default::default()
        };
        let back: crate::protocol::SyncRequest =
            serde_json::from_str(&serde_json::to_string(&asked).unwrap()).unwrap();
        assert!(back.progress);
    }
}

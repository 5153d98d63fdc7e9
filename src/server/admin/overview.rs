//! What an admin looks at every day: each project's tasks by state with how much its
//! workers agree (`kazi admin project list`), and a bounded list of one project's tasks
//! (`kazi admin tasks list`).

use super::AdminError;
use crate::server::scheduler::aggregate::project_agreement;
use crate::server::store::{ProjectCounts, Store, StoreError, TaskList, TaskState};

/// Most tasks one `tasks list` shows: a screenful of pages, never a whole project.
pub const TASK_LIST_MAX: u32 = 1000;

/// A project's counts with its agreement, from the server's own answers.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectOverview {
    pub counts: ProjectCounts,
    /// Krippendorff's alpha (nominal) and Fleiss' kappa; `None` while undefined.
    pub alpha: Option<f64>,
    pub kappa: Option<f64>,
}

/// Every project by name with its tasks by state and its agreement.
pub fn project_overview(store: &dyn Store) -> Result<Vec<ProjectOverview>, AdminError> {
    let mut out = Vec::new();
    for counts in store.project_counts()? {
        let input = store.aggregation_input(&counts.project.name)?;
        let (alpha, kappa) = project_agreement(&input);
        out.push(ProjectOverview {
            counts,
            alpha,
            kappa,
        });
    }
    Ok(out)
}

/// The first `limit` (1..=TASK_LIST_MAX) tasks of a project in one state, or of all.
pub fn task_list(
    store: &dyn Store,
    project: &str,
    state: Option<TaskState>,
    limit: u32,
) -> Result<TaskList, AdminError> {
    if limit == 0 || limit > TASK_LIST_MAX {
        return Err(AdminError::Store(StoreError::Aborted(format!(
            "--limit must be 1-{TASK_LIST_MAX}"
        ))));
    }
    Ok(store.task_list(project, state, limit)?)
}

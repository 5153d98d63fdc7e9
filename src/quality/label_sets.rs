//! Multi-label projects: each label is its own yes/no question, decided by the project's
//! method over every task, and a task's final answer is the set of labels that won.

use super::crowd::{CrowdLabels, Vote};
use super::labels::{DsOptions, Method, decide_with};

/// One worker's set of labels for one task (indices into the label names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetVote {
    pub task: u32,
    pub worker: u32,
    pub labels: Vec<u32>,
}

/// A task's decided set.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskLabelSet {
    /// The labels present, in index order; `None` when any label's question tied.
    pub labels: Option<Vec<u32>>,
    /// The least certain label's confidence: the set is only as sure as its weakest part.
    pub confidence: f64,
}

/// Label sets decided per label with `method`. `gold` is per task; `weights`, when
/// given, weigh each worker under `wmv` on every label's question (`decide_with`).
#[allow(clippy::too_many_arguments)]
pub fn decide_sets(
    tasks: usize,
    workers: usize,
    labels: usize,
    votes: &[SetVote],
    gold: &[Option<Vec<u32>>],
    method: Method,
    options: &DsOptions,
    weights: Option<&[f64]>,
) -> Vec<TaskLabelSet> {
    let mut out = vec![
        TaskLabelSet {
            labels: Some(Vec::new()),
            confidence: 1.0,
        };
        tasks
    ];
    let task_names: Vec<String> = (0..tasks).map(|t| t.to_string()).collect();
    let worker_names: Vec<String> = (0..workers).map(|w| w.to_string()).collect();
    let answers = vec!["absent".to_string(), "present".to_string()];
    for label in 0..labels as u32 {
        let binary = votes
            .iter()
            .map(|v| Vote {
                task: v.task,
                worker: v.worker,
                label: u32::from(v.labels.contains(&label)),
            })
            .collect();
        let binary_gold = (0..tasks)
            .map(|t| {
                gold.get(t)
                    .and_then(Option::as_ref)
                    .map(|g| u32::from(g.contains(&label)))
            })
            .collect();
        let data = CrowdLabels::from_indices(
            task_names.clone(),
            worker_names.clone(),
            answers.clone(),
            binary,
            binary_gold,
        );
        for (task, decided) in out
            .iter_mut()
            .zip(decide_with(&data, method, options, weights))
        {
            task.confidence = task.confidence.min(decided.confidence);
            match (decided.label, task.labels.as_mut()) {
                (None, _) => task.labels = None,
                (Some(1), Some(set)) => set.push(label),
                _ => {}
            }
        }
    }
    // A task nobody answered has nothing decided.
    let mut answered = vec![false; tasks];
    for v in votes {
        answered[v.task as usize] = true;
    }
    for (task, answered) in out.iter_mut().zip(answered) {
        if !answered {
            *task = TaskLabelSet {
                labels: None,
                confidence: 0.0,
            };
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vote(task: u32, worker: u32, labels: &[u32]) -> SetVote {
        SetVote {
            task,
            worker,
            labels: labels.to_vec(),
        }
    }

    /// Task 0: {0,1}, {0}, {0,1} -> label 0 by 3/3, label 1 by 2/3: {0,1} at 2/3.
    /// Task 1: {1}, {0} -> both labels tie at 1/2: undecided.
    #[test]
    fn each_label_is_voted_on_its_own() {
        let votes = [
            vote(0, 0, &[0, 1]),
            vote(0, 1, &[0]),
            vote(0, 2, &[0, 1]),
            vote(1, 0, &[1]),
            vote(1, 1, &[0]),
        ];
        let out = decide_sets(
            3,
            3,
            2,
            &votes,
            &[],
            Method::Majority,
            &DsOptions::default(),
            None,
        );
        assert_eq!(out[0].labels.as_deref(), Some(&[0, 1][..]));
        assert!((out[0].confidence - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(out[1].labels, None);
        assert_eq!(out[2].labels, None, "task 2 has no answers");
    }

    #[test]
    fn gold_sets_decide_their_tasks_under_ds() {
        let votes = [vote(0, 0, &[1]), vote(0, 1, &[0])];
        let gold = [Some(vec![0])];
        let out = decide_sets(
            1,
            2,
            2,
            &votes,
            &gold,
            Method::DawidSkene,
            &DsOptions::default(),
            None,
        );
        assert_eq!(out[0].labels.as_deref(), Some(&[0][..]));
        assert_eq!(out[0].confidence, 1.0);
    }
}

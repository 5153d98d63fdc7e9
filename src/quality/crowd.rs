//! Crowd label data in the compact form every label method works on: tasks, workers and
//! labels interned to dense indices (in name order, so row order and first appearance
//! never matter), votes sorted by task, and gold answers where known.

use rustc_hash::FxHashMap as HashMap;

/// One worker's label for one task, as indices into `CrowdLabels`' name lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vote {
    pub task: u32,
    pub worker: u32,
    pub label: u32,
}

/// Several workers' labels for many tasks. Indices follow the sorted names.
#[derive(Debug, Clone, PartialEq)]
pub struct CrowdLabels {
    pub tasks: Vec<String>,
    pub workers: Vec<String>,
    pub labels: Vec<String>,
    /// Sorted by task, then worker: each task's votes are one slice (`votes_of`).
    pub votes: Vec<Vote>,
    /// The known answer per task, if any.
    pub gold: Vec<Option<u32>>,
    /// `task_start[t]..task_start[t + 1]` are task `t`'s votes.
    task_start: Vec<usize>,
}

/// Why a vote cannot join the data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrowdError {
    #[error("worker '{worker}' answered task '{task}' twice (first on line {first_line})")]
    Twice {
        task: String,
        worker: String,
        /// Where the votes came from (`vote_on_line`; `vote` counts votes from 1).
        first_line: u64,
        line: u64,
    },
    #[error("task '{task}' has two gold answers: '{first}' and '{second}'")]
    GoldTwice {
        task: String,
        first: String,
        second: String,
    },
    #[error("more than 4294967295 distinct {0}")]
    TooMany(&'static str),
}

/// Names to dense indices in order of first appearance; `CrowdBuilder::finish` renumbers
/// them in name order.
#[derive(Debug, Default)]
struct Interner {
    index: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn intern(&mut self, name: &str, what: &'static str) -> Result<u32, CrowdError> {
        if let Some(&i) = self.index.get(name) {
            return Ok(i);
        }
        let i = u32::try_from(self.names.len()).map_err(|_| CrowdError::TooMany(what))?;
        self.index.insert(name.to_string(), i);
        self.names.push(name.to_string());
        Ok(i)
    }

    fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// The names sorted, and for each old index its new one.
    fn sorted(self) -> (Vec<String>, Vec<u32>) {
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_by(|&a, &b| self.names[a as usize].cmp(&self.names[b as usize]));
        let mut renumber = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            renumber[old as usize] = new as u32;
        }
        let mut names = self.names;
        let sorted = order
            .iter()
            .map(|&old| std::mem::take(&mut names[old as usize]))
            .collect();
        (sorted, renumber)
    }
}

/// Collects votes row by row (a file streams through it without being held), then
/// `finish` renumbers and sorts them.
#[derive(Debug, Default)]
pub struct CrowdBuilder {
    tasks: Interner,
    workers: Interner,
    labels: Interner,
    votes: Vec<Vote>,
    /// Where each vote came from, to name both lines of a worker's second vote.
    lines: Vec<u64>,
    gold: HashMap<u32, u32>,
}

impl CrowdBuilder {
    pub fn new() -> CrowdBuilder {
        CrowdBuilder::default()
    }

    /// Add one vote, numbered by how many came before. A worker votes at most once per
    /// task (`finish` checks).
    pub fn vote(&mut self, task: &str, worker: &str, label: &str) -> Result<(), CrowdError> {
        let line = self.votes.len() as u64 + 1;
        self.vote_on_line(line, task, worker, label)
    }

    /// Add one vote read from `line` of a file (named if it turns out twice).
    pub fn vote_on_line(
        &mut self,
        line: u64,
        task: &str,
        worker: &str,
        label: &str,
    ) -> Result<(), CrowdError> {
        let t = self.tasks.intern(task, "tasks")?;
        let w = self.workers.intern(worker, "workers")?;
        let l = self.labels.intern(label, "labels")?;
        self.lines.push(line);
        self.votes.push(Vote {
            task: t,
            worker: w,
            label: l,
        });
        Ok(())
    }

    /// Give a task's known answer. Returns false (and keeps nothing) for a task no vote
    /// names: there is nothing to decide for it.
    pub fn gold(&mut self, task: &str, label: &str) -> Result<bool, CrowdError> {
        let Some(t) = self.tasks.get(task) else {
            return Ok(false);
        };
        let l = self.labels.intern(label, "labels")?;
        match self.gold.insert(t, l) {
            Some(first) if first != l => Err(CrowdError::GoldTwice {
                task: task.to_string(),
                first: self.labels.names[first as usize].clone(),
                second: label.to_string(),
            }),
            _ => Ok(true),
        }
    }

    /// How many votes were added.
    pub fn len(&self) -> usize {
        self.votes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.votes.is_empty()
    }

    /// Renumber in name order and sort. A worker's second vote on a task is refused,
    /// naming the line of the first.
    pub fn finish(self) -> Result<CrowdLabels, CrowdError> {
        let (tasks, task_no) = self.tasks.sorted();
        let (workers, worker_no) = self.workers.sorted();
        let (labels, label_no) = self.labels.sorted();
        let mut numbered: Vec<(Vote, u64)> = self
            .votes
            .into_iter()
            .zip(self.lines)
            .map(|(v, line)| {
                let vote = Vote {
                    task: task_no[v.task as usize],
                    worker: worker_no[v.worker as usize],
                    label: label_no[v.label as usize],
                };
                (vote, line)
            })
            .collect();
        numbered.sort_unstable_by_key(|&(v, line)| (v.task, v.worker, line));
        if let Some(pair) = numbered
            .windows(2)
            .find(|p| (p[0].0.task, p[0].0.worker) == (p[1].0.task, p[1].0.worker))
        {
            let (first, second) = (pair[0], pair[1]);
            return Err(CrowdError::Twice {
                task: tasks[first.0.task as usize].clone(),
                worker: workers[first.0.worker as usize].clone(),
                first_line: first.1,
                line: second.1,
            });
        }
        let votes = numbered.into_iter().map(|(v, _)| v).collect();
        let mut gold = vec![None; tasks.len()];
        for (t, l) in self.gold {
            gold[task_no[t as usize] as usize] = Some(label_no[l as usize]);
        }
        Ok(CrowdLabels::from_indices(
            tasks, workers, labels, votes, gold,
        ))
    }
}

impl CrowdLabels {
    /// Data already in index form. Votes are sorted here; the caller keeps every index
    /// inside its name list and one vote per task and worker.
    pub fn from_indices(
        tasks: Vec<String>,
        workers: Vec<String>,
        labels: Vec<String>,
        mut votes: Vec<Vote>,
        mut gold: Vec<Option<u32>>,
    ) -> CrowdLabels {
        if !votes.is_sorted() {
            votes.sort_unstable();
        }
        gold.resize(tasks.len(), None);
        let mut task_start = vec![0usize; tasks.len() + 1];
        for v in &votes {
            task_start[v.task as usize + 1] += 1;
        }
        for t in 0..tasks.len() {
            task_start[t + 1] += task_start[t];
        }
        CrowdLabels {
            tasks,
            workers,
            labels,
            votes,
            gold,
            task_start,
        }
    }

    /// Task `task`'s votes.
    pub fn votes_of(&self, task: usize) -> &[Vote] {
        &self.votes[self.task_start[task]..self.task_start[task + 1]]
    }

    /// The same votes with every gold answer forgotten.
    pub fn without_gold(&self) -> CrowdLabels {
        CrowdLabels {
            gold: vec![None; self.tasks.len()],
            ..self.clone()
        }
    }

    pub fn gold_count(&self) -> usize {
        self.gold.iter().filter(|g| g.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_follow_names_not_rows() {
        let mut b = CrowdBuilder::new();
        b.vote("t2", "zed", "yes").unwrap();
        b.vote("t1", "amy", "no").unwrap();
        b.vote("t1", "zed", "yes").unwrap();
        assert!(b.gold("t2", "no").unwrap());
        assert!(!b.gold("t9", "no").unwrap(), "no votes name t9");
        let data = b.finish().unwrap();
        assert_eq!(data.tasks, ["t1", "t2"]);
        assert_eq!(data.workers, ["amy", "zed"]);
        assert_eq!(data.labels, ["no", "yes"]);
        assert_eq!(
            data.votes_of(0),
            [
                Vote {
                    task: 0,
                    worker: 0,
                    label: 0
                },
                Vote {
                    task: 0,
                    worker: 1,
                    label: 1
                }
            ]
        );
        assert_eq!(data.gold, [None, Some(0)]);
        assert_eq!(data.without_gold().gold_count(), 0);
    }

    #[test]
    fn a_second_vote_of_one_worker_is_refused() {
        let mut b = CrowdBuilder::new();
        b.vote("t1", "amy", "no").unwrap();
        b.vote("t2", "amy", "no").unwrap();
        b.gold("t1", "no").unwrap();
        assert!(
            b.gold("t1", "no").is_ok(),
            "the same gold again is harmless"
        );
        assert!(matches!(
            b.gold("t1", "yes"),
            Err(CrowdError::GoldTwice { .. })
        ));
        b.vote_on_line(7, "t1", "amy", "yes").unwrap();
        let e = b.finish().unwrap_err();
        assert_eq!(
            e,
            CrowdError::Twice {
                task: "t1".into(),
                worker: "amy".into(),
                first_line: 1,
                line: 7
            }
        );
        assert_eq!(
            e.to_string(),
            "worker 'amy' answered task 't1' twice (first on line 1)"
        );
    }
}

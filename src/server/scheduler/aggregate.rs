//! Deciding a whole project's complete tasks with its own method (`aggregate` in the
//! project file), over every counted answer so worker models see all the evidence:
//! pure, backend-neutral, run by the background aggregator outside any sync.

use std::collections::HashMap;

use crate::model::{AggregateMethod, AnswerValue, Project, TaskKind};
use crate::quality::agreement::alpha_and_kappa;
use crate::quality::label_sets::{SetVote, decide_sets};
use crate::quality::labels::gold_weight;
use crate::quality::{CrowdLabels, Decision, DsOptions, Vote, labels, majority};
use crate::server::store::{AggregationInput, GoldRecord, TaskAnswers};

/// Names to dense indices, in order of first appearance.
#[derive(Default)]
struct Index<K> {
    of: HashMap<K, u32>,
    names: Vec<String>,
}

impl<K: std::hash::Hash + Eq> Index<K> {
    fn get(&mut self, key: K, name: impl FnOnce() -> String) -> u32 {
        let next = self.names.len() as u32;
        *self.of.entry(key).or_insert_with(|| {
            self.names.push(name());
            next
        })
    }
}

/// Decisions for every complete task of the project (`counted >= overlap`) with the
/// project's method. Gold tasks are decided by their gold under wmv and ds. A task whose
/// method ties gets no winner, as a majority tie does.
pub fn decide_project(input: &AggregationInput, options: &DsOptions) -> Vec<(i64, Decision)> {
    decide_tasks(&input.project, &input.tasks, &input.gold_records, options)
}

/// Whether a sync decides the project's complete tasks with its own method: `wmv` needs
/// only each worker's gold record, which the server keeps, so a sync weighs at once;
/// `ds` needs every answer of the project and is left to the background pass.
pub fn weighs_at_sync(project: &Project) -> bool {
    project.aggregate == AggregateMethod::Weighted && project.kind == TaskKind::Classify
}

/// One complete `wmv` task decided at sync, as the background pass would decide it:
/// each answer weighs its worker's gold record (an answer imported from another tool,
/// with none, weighs as a worker never checked), and a gold task is its gold.
pub fn decide_weighted_task(
    project: &Project,
    task: i64,
    answers: Vec<(AnswerValue, GoldRecord)>,
    gold: Option<Vec<String>>,
) -> Decision {
    // Each answer is another worker's: its position stands in for the user id.
    let records = (0..).zip(answers.iter().map(|(_, r)| *r)).collect();
    let one = TaskAnswers {
        task,
        counted: (answers.len() as i64).max(i64::from(project.overlap)),
        gold,
        answers: (0..).zip(answers.into_iter().map(|(v, _)| v)).collect(),
    };
    decide_tasks(project, &[one], &records, &DsOptions::default())
        .pop()
        .map(|(_, decision)| decision)
        .unwrap_or_else(|| majority(std::iter::empty()))
}

fn decide_tasks(
    project: &Project,
    tasks: &[TaskAnswers],
    records: &HashMap<i64, GoldRecord>,
    options: &DsOptions,
) -> Vec<(i64, Decision)> {
    let overlap = i64::from(project.overlap);
    let method = project.aggregate;
    // Each answer in normal form, as compact text and as its labels.
    let normal: Vec<Vec<AnswerValue>> = tasks
        .iter()
        .map(|t| {
            t.answers
                .iter()
                .map(|(_, v)| project.normalise(v))
                .collect()
        })
        .collect();
    let mut workers: Index<i64> = Index::default();
    let mut labels: Index<String> = Index::default();
    for l in &project.labels {
        labels.get(l.id.clone(), || l.id.clone());
    }
    for task in tasks {
        for (user, _) in &task.answers {
            workers.get(*user, || user.to_string());
        }
    }
    // Each worker's weight under wmv, from the gold record the server keeps.
    let mut weights = vec![gold_weight(0, 0); workers.names.len()];
    for (user, &i) in &workers.of {
        if let Some(r) = records.get(user) {
            weights[i as usize] = gold_weight(r.correct, r.seen);
        }
    }
    let set = (
        tasks,
        normal.as_slice(),
        method,
        options,
        weights.as_slice(),
    );
    let decided: Vec<(Option<String>, f64)> = if project.multi_label {
        decide_multi(project, set, &mut workers, &mut labels)
    } else {
        decide_single(project, set, &mut workers, &mut labels)
    };
    tasks
        .iter()
        .zip(&normal)
        .zip(decided)
        .filter(|((task, _), _)| task.counted >= overlap)
        .map(|((task, values), (value, confidence))| {
            let compact: Vec<String> = values.iter().map(AnswerValue::to_compact).collect();
            let agreement = match &value {
                Some(v) if !compact.is_empty() => {
                    compact.iter().filter(|c| *c == v).count() as f64 / compact.len() as f64
                }
                _ => majority(compact.iter().map(String::as_str)).agreement,
            };
            let decision = Decision {
                value,
                agreement,
                confidence,
                method,
            };
            (task.task, decision)
        })
        .collect()
}

/// What both ways of deciding read: the tasks, their answers in normal form, the
/// method, its options, and each worker's weight.
type TaskSet<'a> = (
    &'a [TaskAnswers],
    &'a [Vec<AnswerValue>],
    AggregateMethod,
    &'a DsOptions,
    &'a [f64],
);

/// How much a project's workers agree beyond chance: Krippendorff's alpha (nominal) and
/// Fleiss' kappa over every task's counted answers, each answer's normal form one
/// category (a label, or for multi-label projects a set of labels). `None` where it is
/// undefined (no task with two answers, one category only) and for data-entry projects,
/// whose forms agree field by field instead (the export's `fields`).
pub fn project_agreement(input: &AggregationInput) -> (Option<f64>, Option<f64>) {
    let project = &input.project;
    if project.kind != TaskKind::Classify {
        return (None, None);
    }
    let mut workers: Index<i64> = Index::default();
    let mut labels: Index<String> = Index::default();
    let mut votes = Vec::new();
    for (t, task) in input.tasks.iter().enumerate() {
        for (user, value) in &task.answers {
            let compact = project.normalise(value).to_compact();
            votes.push(Vote {
                task: t as u32,
                worker: workers.get(*user, || user.to_string()),
                label: labels.get(compact.clone(), || compact),
            });
        }
    }
    let data = CrowdLabels::from_indices(
        input.tasks.iter().map(|t| t.task.to_string()).collect(),
        workers.names,
        labels.names,
        votes,
        vec![None; input.tasks.len()],
    );
    alpha_and_kappa(&data)
}

fn gold_of(project: &Project, gold: &Option<Vec<String>>) -> Option<AnswerValue> {
    gold.as_ref()
        .map(|g| project.normalise(&AnswerValue::Labels(g.clone())))
}

fn decide_single(
    project: &Project,
    (tasks, normal, method, options, weights): TaskSet<'_>,
    workers: &mut Index<i64>,
    labels: &mut Index<String>,
) -> Vec<(Option<String>, f64)> {
    let mut votes = Vec::new();
    let mut gold = Vec::with_capacity(tasks.len());
    for (t, (task, values)) in tasks.iter().zip(normal).enumerate() {
        for ((user, _), value) in task.answers.iter().zip(values) {
            let compact = value.to_compact();
            votes.push(Vote {
                task: t as u32,
                worker: workers.get(*user, || user.to_string()),
                label: labels.get(compact.clone(), || compact),
            });
        }
        gold.push(gold_of(project, &task.gold).map(|g| {
            let compact = g.to_compact();
            labels.get(compact.clone(), || compact)
        }));
    }
    let data = CrowdLabels::from_indices(
        tasks.iter().map(|t| t.task.to_string()).collect(),
        std::mem::take(&mut workers.names),
        labels.names.clone(),
        votes,
        gold,
    );
    labels::decide_with(&data, method, options, Some(weights))
        .into_iter()
        .map(|d| {
            let value = d.label.map(|l| data.labels[l as usize].clone());
            (value, d.confidence)
        })
        .collect()
}

fn decide_multi(
    project: &Project,
    (tasks, normal, method, options, weights): TaskSet<'_>,
    workers: &mut Index<i64>,
    labels: &mut Index<String>,
) -> Vec<(Option<String>, f64)> {
    let mut ids = |value: &AnswerValue| -> Vec<u32> {
        // Only classify projects are aggregated here (entry projects are decided field
        // by field, and refuse `aggregate`), so every stored value has labels.
        value
            .labels()
            .unwrap_or_default()
            .iter()
            .map(|l| labels.get(l.clone(), || l.clone()))
            .collect()
    };
    let mut votes = Vec::new();
    let mut gold = Vec::with_capacity(tasks.len());
    for (t, (task, values)) in tasks.iter().zip(normal).enumerate() {
        for ((user, _), value) in task.answers.iter().zip(values) {
            votes.push(SetVote {
                task: t as u32,
                worker: workers.get(*user, || user.to_string()),
                labels: ids(value),
            });
        }
        gold.push(gold_of(project, &task.gold).map(|g| ids(&g)));
    }
    let sets = decide_sets(
        tasks.len(),
        workers.names.len(),
        labels.names.len(),
        &votes,
        &gold,
        method,
        options,
        Some(weights),
    );
    sets.into_iter()
        .map(|set| {
            let value = set.labels.map(|ls| {
                let names: Vec<String> = ls
                    .iter()
                    .map(|&l| labels.names[l as usize].clone())
                    .collect();
                project.normalise(&AnswerValue::Labels(names)).to_compact()
            });
            (value, set.confidence)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(extra: &str) -> Project {
        Project::from_toml(
            "p.toml",
            &format!(
                "name = \"p\"\ntitle = \"P\"\nkind = \"classify\"\noverlap = 2\n{extra}\n\
                 [[labels]]\nid = \"a\"\nname = \"A\"\nkey = \"1\"\n\
                 [[labels]]\nid = \"b\"\nname = \"B\"\nkey = \"2\"\n"
            ),
        )
        .expect("test project parses")
    }

    fn one(label: &str) -> AnswerValue {
        AnswerValue::Labels(vec![label.to_string()])
    }

    fn task(task: i64, gold: Option<&str>, answers: &[(i64, &str)]) -> TaskAnswers {
        TaskAnswers {
            task,
            counted: answers.len() as i64,
            gold: gold.map(|g| vec![g.to_string()]),
            answers: answers.iter().map(|&(u, l)| (u, one(l))).collect(),
        }
    }

    /// Workers 1 and 2 disagree everywhere; gold says 1 is right. Under ds the ties
    /// break toward worker 1; under mv they stay ties. Task 9 is short of answers.
    #[test]
    fn a_ds_project_follows_the_worker_gold_trusts() {
        let tasks = vec![
            task(1, Some("a"), &[(1, "a"), (2, "b")]),
            task(2, Some("b"), &[(1, "b"), (2, "a")]),
            task(3, None, &[(1, "a"), (2, "b")]),
            task(4, None, &[(1, "b"), (2, "a")]),
            task(9, None, &[(1, "a")]),
        ];
        let input = |p: Project| AggregationInput {
            project: p,
            latest_answer: 9,
            tasks: tasks.clone(),
            gold_records: HashMap::new(),
        };
        let ds = decide_project(&input(project("aggregate = \"ds\"")), &DsOptions::default());
        let values: Vec<(i64, Option<&str>)> =
            ds.iter().map(|(t, d)| (*t, d.value.as_deref())).collect();
        assert_eq!(
            values,
            [
                (1, Some("a")),
                (2, Some("b")),
                (3, Some("a")),
                (4, Some("b"))
            ]
        );
        assert!(
            ds.iter()
                .all(|(_, d)| d.method == AggregateMethod::DawidSkene)
        );
        assert_eq!(ds[2].1.agreement, 0.5);
        assert!(ds[2].1.confidence > 0.5);

        let mv = decide_project(&input(project("")), &DsOptions::default());
        assert!(mv.iter().all(|(_, d)| d.value.is_none()), "{mv:?}");
    }

    fn record(correct: u64, seen: u64) -> GoldRecord {
        GoldRecord { correct, seen }
    }

    /// Weights 5/6, 1/6 and (imported, no record) 1/2: "a" 5/6 against "b" 2/3 wins
    /// with 5/9 of the weight, where majority would say "b"; a gold task is its gold.
    #[test]
    fn a_sync_weighs_each_answer_by_its_workers_gold_record() {
        let p = project("aggregate = \"wmv\"");
        let answers = vec![
            (one("a"), record(4, 4)),
            (one("b"), record(0, 4)),
            (one("b"), GoldRecord::default()),
        ];
        let d = decide_weighted_task(&p, 7, answers.clone(), None);
        assert_eq!(d.value.as_deref(), Some("a"));
        assert_eq!(d.method, AggregateMethod::Weighted);
        assert!((d.confidence - 5.0 / 9.0).abs() < 1e-12, "{d:?}");
        assert!((d.agreement - 1.0 / 3.0).abs() < 1e-12);

        let gold = decide_weighted_task(&p, 7, answers, Some(vec!["b".into()]));
        assert_eq!((gold.value.as_deref(), gold.confidence), (Some("b"), 1.0));

        let mut multi = project("aggregate = \"wmv\"");
        multi.multi_label = true;
        let both = AnswerValue::Labels(vec!["a".into(), "b".into()]);
        let answers = vec![(both, record(9, 9)), (one("a"), record(0, 9))];
        let d = decide_weighted_task(&multi, 7, answers, None);
        assert_eq!(
            d.value.as_deref(),
            Some("a|b"),
            "label b by the trusted worker"
        );
    }

    #[test]
    fn multi_label_projects_decide_sets() {
        let mut p = project("aggregate = \"wmv\"");
        p.multi_label = true;
        let both = AnswerValue::Labels(vec!["b".into(), "a".into()]);
        let input = AggregationInput {
            project: p,
            latest_answer: 3,
            gold_records: HashMap::new(),
            tasks: vec![TaskAnswers {
                task: 5,
                counted: 3,
                gold: None,
                answers: vec![(1, both.clone()), (2, both), (3, one("a"))],
            }],
        };
        let out = decide_project(&input, &DsOptions::default());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].1.value.as_deref(), Some("a|b"));
        assert_eq!(out[0].1.method, AggregateMethod::Weighted);
    }
}

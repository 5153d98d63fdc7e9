//! Properties of the label methods on random crowds: unanimous answers always win;
//! renaming workers, labels or tasks and reordering rows change nothing but names; a
//! worker who always agrees with the truth ends with an identity confusion matrix.

use std::collections::BTreeMap;

use kazi::quality::{CrowdBuilder, CrowdLabels, DsOptions, Method, TaskLabel, dawid_skene, labels};
use proptest::prelude::*;

const METHODS: [Method; 3] = [Method::Majority, Method::Weighted, Method::DawidSkene];

/// (task, worker, label) by index.
type Row = (usize, usize, usize);

/// Rows, one vote per task and worker, and gold per task.
fn crowd() -> impl Strategy<Value = (Vec<Row>, Vec<Option<usize>>)> {
    (1usize..12, 2usize..6, 2usize..5).prop_flat_map(|(tasks, workers, labels)| {
        let votes = proptest::collection::vec(
            proptest::collection::vec(proptest::option::weighted(0.8, 0..labels), workers),
            tasks,
        );
        let gold = proptest::collection::vec(proptest::option::weighted(0.3, 0..labels), tasks);
        (votes, gold).prop_map(|(votes, gold)| {
            let rows = votes
                .iter()
                .enumerate()
                .flat_map(|(t, by_worker)| {
                    by_worker
                        .iter()
                        .enumerate()
                        .filter_map(move |(w, l)| l.map(|l| (t, w, l)))
                })
                .collect();
            (rows, gold)
        })
    })
}

fn build(
    rows: &[(usize, usize, usize)],
    gold: &[Option<usize>],
    name: impl Fn(char, usize) -> String,
) -> CrowdLabels {
    let mut b = CrowdBuilder::new();
    for &(t, w, l) in rows {
        b.vote(&name('t', t), &name('w', w), &name('l', l)).unwrap();
    }
    for (t, g) in gold.iter().enumerate() {
        if let Some(l) = g {
            b.gold(&name('t', t), &name('l', *l)).unwrap();
        }
    }
    b.finish().unwrap()
}

/// Each task's outcome by task name: label name (or none) and confidence.
fn outcome(data: &CrowdLabels, out: &[TaskLabel]) -> BTreeMap<String, (Option<String>, f64)> {
    data.tasks
        .iter()
        .zip(out)
        .map(|(t, d)| {
            let label = d.label.map(|l| data.labels[l as usize].clone());
            (t.clone(), (label, d.confidence))
        })
        .collect()
}

/// One extra task (numbered `tasks`) that every worker (at least one) answers `label`.
fn with_unanimous_task(
    mut rows: Vec<(usize, usize, usize)>,
    tasks: usize,
    label: usize,
) -> Vec<(usize, usize, usize)> {
    let mut workers: Vec<usize> = rows.iter().map(|r| r.1).collect();
    workers.sort_unstable();
    workers.dedup();
    if workers.is_empty() {
        workers.push(0);
    }
    rows.extend(workers.into_iter().map(|w| (tasks, w, label)));
    rows
}

fn winner_of_extra(data: &CrowdLabels, tasks: usize, method: Method) -> Option<String> {
    let extra = data.tasks.iter().position(|t| *t == plain('t', tasks))?;
    let out = labels::decide(data, method, &DsOptions::default());
    out[extra].label.map(|l| data.labels[l as usize].clone())
}

fn plain(kind: char, i: usize) -> String {
    format!("{kind}{i}")
}

/// A renaming that reverses the sort order of names, so indices change too.
fn renamed(kind: char, i: usize) -> String {
    format!("{kind}-{}", 1000 - i)
}

proptest! {
    /// Majority and weighted vote: on any crowd, with any gold.
    #[test]
    fn unanimous_answers_always_win_a_vote((rows, gold) in crowd(), label in 0usize..4) {
        let data = build(&with_unanimous_task(rows, gold.len(), label), &gold, plain);
        for method in [Method::Majority, Method::Weighted] {
            prop_assert_eq!(winner_of_extra(&data, gold.len(), method), Some(plain('l', label)));
        }
    }

    /// Dawid-Skene weighs workers by what they are worth, so it follows a unanimous
    /// task when the workers are informative (here: right 80% of the time, gold agreeing
    /// with the truth). A crowd of constant answerers carries no evidence at all.
    #[test]
    fn unanimous_answers_of_informative_workers_win_dawid_skene(
        truth in proptest::collection::vec(0usize..3, 10..30),
        right in proptest::collection::vec(proptest::bool::weighted(0.8), 30 * 5),
        noise in proptest::collection::vec(0usize..3, 30 * 5),
        workers in 3usize..6,
        label in 0usize..3,
    ) {
        let mut rows = Vec::new();
        for (t, &l) in truth.iter().enumerate() {
            for w in 0..workers {
                let i = t * 5 + w;
                rows.push((t, w, if right[i] { l } else { noise[i] }));
            }
        }
        let gold: Vec<Option<usize>> =
            truth.iter().enumerate().map(|(t, &l)| (t % 5 == 0).then_some(l)).collect();
        let data = build(&with_unanimous_task(rows, truth.len(), label), &gold, plain);
        prop_assert_eq!(
            winner_of_extra(&data, truth.len(), Method::DawidSkene),
            Some(plain('l', label))
        );
    }

    #[test]
    fn renaming_and_reordering_change_only_names((rows, gold) in crowd(), seed in any::<u64>()) {
        let data = build(&rows, &gold, plain);
        let mut shuffled = rows.clone();
        // A deterministic shuffle from the seed.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let other = build(&shuffled, &gold, renamed);
        let back = |name: &str| -> String {
            let (kind, n) = name.split_at(1);
            let n: usize = n.trim_start_matches('-').parse().unwrap();
            plain(kind.chars().next().unwrap(), 1000 - n)
        };
        for method in METHODS {
            let a = outcome(&data, &labels::decide(&data, method, &DsOptions::default()));
            let b: BTreeMap<String, (Option<String>, f64)> =
                outcome(&other, &labels::decide(&other, method, &DsOptions::default()))
                    .into_iter()
                    .map(|(t, (l, c))| (back(&t), (l.map(|l| back(&l)), c)))
                    .collect();
            prop_assert_eq!(a.len(), b.len());
            for (task, (label, confidence)) in &a {
                let (other_label, other_confidence) = &b[task];
                prop_assert_eq!(label, other_label, "{:?} task {}", method, task);
                prop_assert!((confidence - other_confidence).abs() < 1e-6, "{:?}", method);
            }
        }
    }
}

proptest! {
    // Each case fits a model on up to 1,200 tasks: fewer cases keep the suite quick.
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The truthful worker answers every task; two others answer at random (drawn from
    /// a seeded generator, so they really are independent of the truth). Gold on some
    /// tasks, each label among them, anchors the model (without it, "truly 2" and "says
    /// 2 when it is 0" can explain a crowd equally well); the truthful worker's matrix
    /// must come out the identity.
    #[test]
    fn a_worker_always_right_gets_an_identity_matrix(
        seed in any::<u64>(),
        tasks in 600usize..1200,
        skew in 0usize..3,
    ) {
        let mut state = seed | 1;
        let mut draw = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        // Label 0 is `skew` times likelier than the others: real crowds are unbalanced.
        let truth: Vec<usize> = [0, 1, 2]
            .into_iter()
            .chain((3..tasks).map(|_| draw(3 + skew).saturating_sub(skew)))
            .collect();
        let mut rows = Vec::new();
        for (t, &l) in truth.iter().enumerate() {
            rows.push((t, 0, l));
            for w in 1..3 {
                rows.push((t, w, draw(3)));
            }
        }
        let gold: Vec<Option<usize>> = truth
            .iter()
            .enumerate()
            .map(|(t, &l)| (t < 3 || t % 4 == 0).then_some(l))
            .collect();
        // Every label is named so it exists even if never given.
        let mut rows_all = rows.clone();
        rows_all.extend((0..3).map(|l| (1000 + l, 9, l)));
        let data = build(&rows_all, &gold, plain);
        let perfect = data.workers.iter().position(|w| w == "w0").unwrap();
        // A label that is rarely the truth is estimated from little evidence (and the
        // model's prior): judge the labels that are the truth of 3 tasks or more.
        let often: Vec<usize> =
            (0..3).filter(|l| truth.iter().filter(|t| *t == l).count() >= 3).collect();
        // With a weak prior the matrix is the identity; the default add-one prior keeps
        // some mass off the diagonal by design, but never much.
        let weak = DsOptions { smoothing: 0.01, ..DsOptions::default() };
        for (options, off) in [(weak, 0.05), (DsOptions::default(), 0.1)] {
            let fit = dawid_skene(&data, &options);
            for &truth_label in &often {
                let l = data.labels.iter().position(|n| *n == plain('l', truth_label)).unwrap();
                for given in 0..data.labels.len() {
                    let p = fit.confusion(perfect, l, given);
                    if given == l {
                        prop_assert!(p > 1.0 - off, "P({} | {}) = {}", given, l, p);
                    } else {
                        prop_assert!(p < off, "P({} | {}) = {}", given, l, p);
                    }
                }
            }
        }
    }
}

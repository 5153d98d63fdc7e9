//! Final labels from crowd votes: majority vote, vote weighted by each worker's accuracy
//! on gold, and Dawid-Skene (EM over per-worker confusion matrices, anchored by gold).
//! Every method decides every task; a tie for first place decides nothing.

use super::crowd::CrowdLabels;

/// How tasks are decided: the project file's `aggregate` choice.
pub use crate::model::AggregateMethod as Method;

/// The outcome for one task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaskLabel {
    /// The winning label's index, or `None` on a tie for first place.
    pub label: Option<u32>,
    /// The winner's share (of votes, of weight, or its posterior), 0.0..=1.0. On a tie,
    /// the tied labels' share each.
    pub confidence: f64,
}

/// Two scores this close are a tie: summation order must never pick a winner.
const TIE_EPSILON: f64 = 1e-9;

/// The best of `scores` and its share of their sum; a tie decides nothing.
fn winner(scores: &[f64]) -> TaskLabel {
    let total: f64 = scores.iter().sum();
    let mut best: Option<(usize, f64)> = None;
    let mut tied = false;
    for (i, &s) in scores.iter().enumerate() {
        match best {
            Some((_, b)) if s > b + TIE_EPSILON => {
                best = Some((i, s));
                tied = false;
            }
            Some((_, b)) if (s - b).abs() <= TIE_EPSILON => tied = true,
            Some(_) => {}
            None => best = Some((i, s)),
        }
    }
    match best {
        Some((i, s)) if total > 0.0 => TaskLabel {
            label: if tied { None } else { Some(i as u32) },
            confidence: s / total,
        },
        _ => TaskLabel {
            label: None,
            confidence: 0.0,
        },
    }
}

/// A gold task's outcome: its known answer, certain.
fn known(label: u32) -> TaskLabel {
    TaskLabel {
        label: Some(label),
        confidence: 1.0,
    }
}

/// Plain majority vote per task. Gold is not looked at.
pub fn majority_vote(data: &CrowdLabels) -> Vec<TaskLabel> {
    let mut scores = vec![0.0; data.labels.len()];
    (0..data.tasks.len())
        .map(|t| {
            scores.iter_mut().for_each(|s| *s = 0.0);
            for v in data.votes_of(t) {
                scores[v.label as usize] += 1.0;
            }
            winner(&scores)
        })
        .collect()
}

/// A worker's weight from their gold record: accuracy smoothed as (correct + 1) /
/// (seen + 2), so a worker never checked weighs 0.5 and one always right on many checks
/// nearly 1. The one formula for `wmv`, in `kazi aggregate` and on the server alike.
pub fn gold_weight(correct: u64, seen: u64) -> f64 {
    (correct as f64 + 1.0) / (seen as f64 + 2.0)
}

/// Each worker's accuracy on the data's gold tasks, as `gold_weight`s.
pub fn gold_accuracy(data: &CrowdLabels) -> Vec<f64> {
    let mut correct = vec![0u64; data.workers.len()];
    let mut seen = vec![0u64; data.workers.len()];
    for v in &data.votes {
        if let Some(g) = data.gold[v.task as usize] {
            seen[v.worker as usize] += 1;
            correct[v.worker as usize] += u64::from(v.label == g);
        }
    }
    correct
        .iter()
        .zip(&seen)
        .map(|(&c, &s)| gold_weight(c, s))
        .collect()
}

/// Votes weighted by each worker's gold accuracy (`gold_accuracy`). Gold tasks are
/// decided by their known answer.
pub fn weighted_vote(data: &CrowdLabels) -> Vec<TaskLabel> {
    weighted_vote_by(data, &gold_accuracy(data))
}

/// Votes weighted by `weights` (one per worker; a worker past the end weighs 0.5, as
/// one never checked). Gold tasks are decided by their known answer.
pub fn weighted_vote_by(data: &CrowdLabels, weights: &[f64]) -> Vec<TaskLabel> {
    let weight = |w: u32| weights.get(w as usize).copied().unwrap_or(0.5);
    let mut scores = vec![0.0; data.labels.len()];
    (0..data.tasks.len())
        .map(|t| {
            if let Some(g) = data.gold[t] {
                return known(g);
            }
            scores.iter_mut().for_each(|s| *s = 0.0);
            for v in data.votes_of(t) {
                scores[v.label as usize] += weight(v.worker);
            }
            winner(&scores)
        })
        .collect()
}

/// When Dawid-Skene stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DsOptions {
    /// Most EM rounds.
    pub max_iterations: usize,
    /// Converged when the log-likelihood per vote improves by less than this.
    pub tolerance: f64,
    /// Pseudo-count added to every confusion cell and prior (a Dirichlet prior): keeps a
    /// label a worker never gave from becoming impossible (log 0) on a few votes.
    pub smoothing: f64,
}

impl Default for DsOptions {
    fn default() -> Self {
        DsOptions {
            max_iterations: 100,
            tolerance: 1e-7,
            // Add-one (a uniform Dirichlet prior): on 1,000,000 synthetic answers it
            // is more accurate than 0.01 or 0.1 and converges in half the rounds.
            smoothing: 1.0,
        }
    }
}

/// A fitted Dawid-Skene model.
#[derive(Debug, Clone, PartialEq)]
pub struct DsFit {
    pub decisions: Vec<TaskLabel>,
    /// Per task, the probability of each label (`posterior`).
    posteriors: Vec<f64>,
    /// Per worker and label given, P(given | true label) for each true label: laid out
    /// so that one vote's likelihoods are one contiguous row (`confusion`).
    confusion: Vec<f64>,
    /// Share of each true label over all tasks.
    pub priors: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
    labels: usize,
}

impl DsFit {
    pub fn posterior(&self, task: usize) -> &[f64] {
        &self.posteriors[task * self.labels..(task + 1) * self.labels]
    }

    /// The worker's confusion matrix entry: P(gives `given` | the truth is `truth`).
    pub fn confusion(&self, worker: usize, truth: usize, given: usize) -> f64 {
        let k = self.labels;
        self.confusion[(worker * k + given) * k + truth]
    }
}

/// Turn accumulated counts `[worker][given][truth]` into probabilities per (worker,
/// truth) over what was given, and their logarithms.
fn normalise_confusion(counts: &mut [f64], logs: &mut [f64], k: usize) {
    let mut sums = vec![0.0; k];
    for (worker, log_block) in counts
        .chunks_exact_mut(k * k)
        .zip(logs.chunks_exact_mut(k * k))
    {
        sums.iter_mut().for_each(|s| *s = 0.0);
        for row in worker.chunks_exact(k) {
            sums.iter_mut().zip(row).for_each(|(s, &c)| *s += c);
        }
        for (row, log_row) in worker
            .chunks_exact_mut(k)
            .zip(log_block.chunks_exact_mut(k))
        {
            for ((c, lc), &sum) in row.iter_mut().zip(log_row.iter_mut()).zip(&sums) {
                *c /= sum;
                *lc = c.ln();
            }
        }
    }
}

/// Dawid-Skene by expectation-maximisation. Starts from majority vote; gold tasks are
/// fixed to their known answer throughout, so the confusion matrices are anchored by
/// them. Each round is one pass over the votes: the E-step of a task feeds the next
/// M-step's counts at once.
pub fn dawid_skene(data: &CrowdLabels, options: &DsOptions) -> DsFit {
    let k = data.labels.len();
    let n_tasks = data.tasks.len();
    let cells = data.workers.len() * k * k;
    let mut posteriors = vec![0.0; n_tasks * k];
    for t in 0..n_tasks {
        let row = &mut posteriors[t * k..(t + 1) * k];
        match data.gold[t] {
            Some(g) => row[g as usize] = 1.0,
            None => {
                let votes = data.votes_of(t);
                for v in votes {
                    row[v.label as usize] += 1.0 / votes.len() as f64;
                }
            }
        }
    }
    // Counts for the next M-step, from the current posteriors.
    let mut counts = vec![options.smoothing; cells];
    let mut prior_counts = vec![options.smoothing; k];
    for t in 0..n_tasks {
        let row = &posteriors[t * k..(t + 1) * k];
        prior_counts.iter_mut().zip(row).for_each(|(p, &q)| *p += q);
        for v in data.votes_of(t) {
            let base = (v.worker as usize * k + v.label as usize) * k;
            counts[base..base + k]
                .iter_mut()
                .zip(row)
                .for_each(|(c, &q)| *c += q);
        }
    }
    let mut confusion = vec![0.0; cells];
    let mut log_confusion = vec![0.0; cells];
    let mut priors = vec![0.0; k];
    let mut log_priors = vec![0.0; k];
    let mut scores = vec![0.0; k];
    let mut previous = f64::NEG_INFINITY;
    let mut iterations = 0;
    let mut converged = false;
    let per_vote = 1.0 / data.votes.len().max(1) as f64;

    while iterations < options.max_iterations && k > 0 {
        iterations += 1;
        // M-step: the counts become probabilities.
        std::mem::swap(&mut confusion, &mut counts);
        normalise_confusion(&mut confusion, &mut log_confusion, k);
        let total: f64 = prior_counts.iter().sum();
        for ((p, lp), &c) in priors
            .iter_mut()
            .zip(log_priors.iter_mut())
            .zip(&prior_counts)
        {
            *p = c / total;
            *lp = p.ln();
        }
        counts.iter_mut().for_each(|c| *c = options.smoothing);
        prior_counts.iter_mut().for_each(|c| *c = options.smoothing);
        // E-step, in log space, each task's new posterior counted at once.
        let mut likelihood = 0.0;
        for t in 0..n_tasks {
            let votes = data.votes_of(t);
            scores.copy_from_slice(&log_priors);
            for v in votes {
                let base = (v.worker as usize * k + v.label as usize) * k;
                scores
                    .iter_mut()
                    .zip(&log_confusion[base..base + k])
                    .for_each(|(s, &l)| *s += l);
            }
            let row = &mut posteriors[t * k..(t + 1) * k];
            if let Some(g) = data.gold[t] {
                likelihood += scores[g as usize];
            } else {
                let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let mut sum = 0.0;
                for (q, &s) in row.iter_mut().zip(&scores) {
                    *q = (s - top).exp();
                    sum += *q;
                }
                row.iter_mut().for_each(|q| *q /= sum);
                likelihood += top + sum.ln();
            }
            prior_counts
                .iter_mut()
                .zip(row.iter())
                .for_each(|(p, &q)| *p += q);
            for v in votes {
                let base = (v.worker as usize * k + v.label as usize) * k;
                counts[base..base + k]
                    .iter_mut()
                    .zip(row.iter())
                    .for_each(|(c, &q)| *c += q);
            }
        }
        if (likelihood - previous) * per_vote < options.tolerance {
            converged = true;
            break;
        }
        previous = likelihood;
    }

    let decisions = (0..n_tasks)
        .map(|t| match data.gold[t] {
            Some(g) => known(g),
            None => winner(&posteriors[t * k..(t + 1) * k]),
        })
        .collect();
    DsFit {
        decisions,
        posteriors,
        confusion,
        priors,
        iterations,
        converged,
        labels: k,
    }
}

/// Decide every task with `method`.
pub fn decide(data: &CrowdLabels, method: Method, options: &DsOptions) -> Vec<TaskLabel> {
    decide_with(data, method, options, None)
}

/// `decide`, with `wmv` weighing each worker by `weights` when given (the server's gold
/// record of each worker) instead of by the data's own gold.
pub fn decide_with(
    data: &CrowdLabels,
    method: Method,
    options: &DsOptions,
    weights: Option<&[f64]>,
) -> Vec<TaskLabel> {
    match method {
        Method::Majority => majority_vote(data),
        Method::Weighted => match weights {
            Some(w) => weighted_vote_by(data, w),
            None => weighted_vote(data),
        },
        Method::DawidSkene => dawid_skene(data, options).decisions,
        // Transcripts are decided by `transcript::decide`; labels handed this method
        // are counted as the plain vote it reduces to for identical answers.
        Method::Medoid => majority_vote(data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::crowd::CrowdBuilder;

    fn data(rows: &[(&str, &str, &str)], gold: &[(&str, &str)]) -> CrowdLabels {
        let mut b = CrowdBuilder::new();
        for &(t, w, l) in rows {
            b.vote(t, w, l).unwrap();
        }
        for &(t, l) in gold {
            b.gold(t, l).unwrap();
        }
        b.finish().unwrap()
    }

    fn named(data: &CrowdLabels, out: &[TaskLabel]) -> Vec<Option<String>> {
        out.iter()
            .map(|d| d.label.map(|l| data.labels[l as usize].clone()))
            .collect()
    }

    #[test]
    fn majority_by_hand() {
        let d = data(
            &[
                ("t1", "a", "cat"),
                ("t1", "b", "cat"),
                ("t1", "c", "dog"),
                ("t2", "a", "dog"),
                ("t2", "b", "cat"),
            ],
            &[],
        );
        let out = majority_vote(&d);
        assert_eq!(named(&d, &out), [Some("cat".into()), None]);
        assert!((out[0].confidence - 2.0 / 3.0).abs() < 1e-12);
        assert!((out[1].confidence - 0.5).abs() < 1e-12, "tied at half each");
    }

    #[test]
    fn empty_input_decides_nothing_and_does_not_fail() {
        let d = data(&[], &[]);
        assert!(majority_vote(&d).is_empty());
        assert!(weighted_vote(&d).is_empty());
        let fit = dawid_skene(&d, &DsOptions::default());
        assert!(fit.decisions.is_empty());
        assert_eq!(winner(&[]).label, None);
        assert_eq!(winner(&[0.0, 0.0]).label, None);
    }

    /// Worked by hand: on gold task g1, a and b are right, c is wrong; on g2 a is right
    /// and b, c wrong. Accuracies (c+1)/(s+2): a = 3/4, b = 2/4, c = 1/4. On t, a says
    /// "x" (0.75) and b, c say "y" (0.5 + 0.25 = 0.75): a tie, where plain majority says
    /// "y". On u, a and c say "x" (1.0) against b's "y" (0.5): x with 2/3.
    #[test]
    fn weighted_vote_by_hand() {
        let d = data(
            &[
                ("g1", "a", "x"),
                ("g1", "b", "x"),
                ("g1", "c", "y"),
                ("g2", "a", "y"),
                ("g2", "b", "x"),
                ("g2", "c", "x"),
                ("t", "a", "x"),
                ("t", "b", "y"),
                ("t", "c", "y"),
                ("u", "a", "x"),
                ("u", "b", "y"),
                ("u", "c", "x"),
            ],
            &[("g1", "x"), ("g2", "y")],
        );
        assert_eq!(gold_accuracy(&d), [0.75, 0.5, 0.25]);
        let out = weighted_vote(&d);
        assert_eq!(
            named(&d, &out),
            [Some("x".into()), Some("y".into()), None, Some("x".into())]
        );
        assert_eq!(out[0].confidence, 1.0, "gold is certain");
        assert!((out[2].confidence - 0.5).abs() < 1e-12);
        assert!((out[3].confidence - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(named(&d, &majority_vote(&d))[2], Some("y".into()));
    }

    /// Three workers on eight tasks: a and b are always right, c always says the
    /// opposite. Majority is right everywhere, so Dawid-Skene must find c's confusion
    /// matrix flipped and stay right with high confidence.
    #[test]
    fn dawid_skene_learns_an_inverting_worker() {
        let mut rows = Vec::new();
        let names: Vec<String> = (0..8).map(|i| format!("t{i}")).collect();
        for (i, t) in names.iter().enumerate() {
            let truth = if i % 2 == 0 { "p" } else { "n" };
            let flipped = if i % 2 == 0 { "n" } else { "p" };
            rows.push((t.as_str(), "a", truth));
            rows.push((t.as_str(), "b", truth));
            rows.push((t.as_str(), "c", flipped));
        }
        let d = data(&rows, &[]);
        // Eight tasks are little evidence: a weak prior lets the matrices speak.
        let weak = DsOptions {
            smoothing: 0.01,
            ..DsOptions::default()
        };
        let fit = dawid_skene(&d, &weak);
        assert!(fit.converged);
        for (i, out) in fit.decisions.iter().enumerate() {
            let truth = if i % 2 == 0 { "p" } else { "n" };
            assert_eq!(
                out.label.map(|l| d.labels[l as usize].as_str()),
                Some(truth)
            );
            assert!(out.confidence > 0.99, "{out:?}");
        }
        let c = d.workers.iter().position(|w| w == "c").unwrap();
        let (n, p) = (0, 1);
        assert!(fit.confusion(c, p, n) > 0.95, "c says n when it is p");
        assert!(fit.confusion(c, n, p) > 0.95);
    }

    /// Where only gold can tell: two workers disagree on every task, so majority ties
    /// everywhere. Gold shows a is right; Dawid-Skene anchored by it follows a.
    #[test]
    fn gold_anchors_dawid_skene() {
        let mut rows = Vec::new();
        let names: Vec<String> = (0..6).map(|i| format!("t{i}")).collect();
        for (i, t) in names.iter().enumerate() {
            let (x, y) = if i % 2 == 0 { ("p", "n") } else { ("n", "p") };
            rows.push((t.as_str(), "a", x));
            rows.push((t.as_str(), "b", y));
        }
        let d = data(&rows, &[("t0", "p"), ("t1", "n")]);
        assert!(majority_vote(&d).iter().all(|o| o.label.is_none()));
        let fit = dawid_skene(&d, &DsOptions::default());
        for (i, out) in fit.decisions.iter().enumerate() {
            let truth = if i % 2 == 0 { "p" } else { "n" };
            assert_eq!(
                out.label.map(|l| d.labels[l as usize].as_str()),
                Some(truth)
            );
        }
        assert_eq!(fit.decisions[0].confidence, 1.0);
        assert!(fit.decisions[2].confidence > 0.9);
        assert!(
            weighted_vote(&d)[2].label.is_some(),
            "weights break the tie too"
        );
    }

    #[test]
    fn methods_have_their_short_names() {
        for m in [Method::Majority, Method::Weighted, Method::DawidSkene] {
            assert_eq!(Method::parse(m.as_str()), Some(m));
        }
        assert_eq!(Method::parse("MV"), None);
    }
}

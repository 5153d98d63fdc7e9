//! How much workers agree, beyond chance: Krippendorff's alpha (nominal) and Fleiss'
//! kappa over a project's labels, agreement per worker pair, and pairwise WER for
//! transcripts. Undefined values (too little data, one category only) are `None`.

use std::collections::BTreeMap;

use super::crowd::CrowdLabels;
use super::transcript::normalised_wer;
use crate::model::transcript::Normalisation;

/// Krippendorff's alpha for nominal data. `units[u]` are the values coders gave unit
/// `u`; units with fewer than two values are not pairable and are left out.
pub fn krippendorff_alpha_nominal(units: &[Vec<u32>], categories: usize) -> Option<f64> {
    // Coincidence matrix o[c][k]: each ordered pair of values within a unit, weighted
    // 1 / (m_u - 1).
    let mut coincidence = vec![0.0; categories * categories];
    let mut counts = vec![0u32; categories];
    for unit in units.iter().filter(|u| u.len() >= 2) {
        for &c in unit {
            counts[c as usize] += 1;
        }
        let m = unit.len() as f64;
        let mut present = vec![0u32; categories];
        for &c in unit {
            present[c as usize] += 1;
        }
        for (c, &nc) in present.iter().enumerate().filter(|&(_, &n)| n > 0) {
            for (k, &nk) in present.iter().enumerate().filter(|&(_, &n)| n > 0) {
                let pairs = if c == k {
                    f64::from(nc) * f64::from(nc - 1)
                } else {
                    f64::from(nc) * f64::from(nk)
                };
                coincidence[c * categories + k] += pairs / (m - 1.0);
            }
        }
    }
    let n: f64 = counts.iter().map(|&c| f64::from(c)).sum();
    if n < 2.0 {
        return None;
    }
    let disagreement_observed: f64 = (0..categories)
        .flat_map(|c| (0..categories).map(move |k| (c, k)))
        .filter(|(c, k)| c != k)
        .map(|(c, k)| coincidence[c * categories + k])
        .sum();
    let sum_squares: f64 = counts.iter().map(|&c| f64::from(c) * f64::from(c)).sum();
    let disagreement_expected = (n * n - sum_squares) / (n - 1.0);
    if disagreement_expected == 0.0 {
        return None;
    }
    Some(1.0 - disagreement_observed / disagreement_expected)
}

/// Fleiss' kappa. `counts[i][j]`: how many raters put subject `i` in category `j`.
/// Subjects may have different numbers of raters (each subject's agreement is taken over
/// its own raters); subjects with fewer than two are left out.
pub fn fleiss_kappa(counts: &[Vec<u32>]) -> Option<f64> {
    let rated: Vec<&Vec<u32>> = counts
        .iter()
        .filter(|row| row.iter().sum::<u32>() >= 2)
        .collect();
    if rated.is_empty() {
        return None;
    }
    let categories = rated.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut totals = vec![0.0; categories];
    let mut ratings = 0.0;
    let mut agreement_sum = 0.0;
    for row in &rated {
        let n: f64 = row.iter().map(|&c| f64::from(c)).sum();
        let squares: f64 = row.iter().map(|&c| f64::from(c) * f64::from(c)).sum();
        agreement_sum += (squares - n) / (n * (n - 1.0));
        for (t, &c) in totals.iter_mut().zip(row.iter()) {
            *t += f64::from(c);
        }
        ratings += n;
    }
    let observed = agreement_sum / rated.len() as f64;
    let expected: f64 = totals.iter().map(|t| (t / ratings) * (t / ratings)).sum();
    if (1.0 - expected).abs() < f64::EPSILON {
        return None;
    }
    Some((observed - expected) / (1.0 - expected))
}

/// Agreement of a project's labels.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelAgreement {
    pub alpha: Option<f64>,
    pub kappa: Option<f64>,
    /// Per pair of workers (indices, lower first): tasks both answered, and on how many
    /// they gave the same label.
    pub pairs: BTreeMap<(u32, u32), PairAgreement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PairAgreement {
    pub shared: u32,
    pub agreed: u32,
}

impl PairAgreement {
    pub fn share(&self) -> Option<f64> {
        (self.shared > 0).then(|| f64::from(self.agreed) / f64::from(self.shared))
    }
}

/// Krippendorff's alpha and Fleiss' kappa over every task's votes, without the pairs.
pub fn alpha_and_kappa(data: &CrowdLabels) -> (Option<f64>, Option<f64>) {
    let k = data.labels.len();
    let units: Vec<Vec<u32>> = (0..data.tasks.len())
        .map(|t| data.votes_of(t).iter().map(|v| v.label).collect())
        .collect();
    let counts: Vec<Vec<u32>> = units
        .iter()
        .map(|unit| {
            let mut row = vec![0u32; k];
            unit.iter().for_each(|&l| row[l as usize] += 1);
            row
        })
        .collect();
    (krippendorff_alpha_nominal(&units, k), fleiss_kappa(&counts))
}

/// Alpha, kappa and per-pair agreement over every task's votes.
pub fn label_agreement(data: &CrowdLabels) -> LabelAgreement {
    let k = data.labels.len();
    let mut units = Vec::with_capacity(data.tasks.len());
    let mut counts = Vec::with_capacity(data.tasks.len());
    let mut pairs: BTreeMap<(u32, u32), PairAgreement> = BTreeMap::new();
    for t in 0..data.tasks.len() {
        let votes = data.votes_of(t);
        units.push(votes.iter().map(|v| v.label).collect());
        let mut row = vec![0u32; k];
        for v in votes {
            row[v.label as usize] += 1;
        }
        counts.push(row);
        // Votes are sorted by worker within a task, so `a` is the lower index.
        for (i, a) in votes.iter().enumerate() {
            for b in &votes[i + 1..] {
                let pair = pairs.entry((a.worker, b.worker)).or_default();
                pair.shared += 1;
                pair.agreed += u32::from(a.label == b.label);
            }
        }
    }
    LabelAgreement {
        alpha: krippendorff_alpha_nominal(&units, k),
        kappa: fleiss_kappa(&counts),
        pairs,
    }
}

/// How far apart two workers' transcripts are: over the clips both transcribed.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PairWer {
    pub shared: u32,
    /// Mean normalised word error rate between their transcripts, 0.0 (same words) up.
    pub mean: f64,
}

/// Mean normalised WER between transcripts of the same clip, each in `normalisation`'s
/// normal form: over all pairs of each task (`None` without any pair), and per pair of
/// workers (names, lower first). Input per task: `(worker, text)`.
pub fn pairwise_wer<'a>(
    normalisation: &Normalisation,
    tasks: impl IntoIterator<Item = &'a [(&'a str, &'a str)]>,
) -> (Option<f64>, BTreeMap<(String, String), PairWer>) {
    let mut total = (0.0, 0u64);
    let mut by_pair: BTreeMap<(String, String), PairWer> = BTreeMap::new();
    for transcripts in tasks {
        let normal: Vec<Vec<String>> = transcripts
            .iter()
            .map(|(_, t)| normalisation.words(t))
            .collect();
        for i in 0..transcripts.len() {
            for j in i + 1..transcripts.len() {
                let d = normalised_wer(&normal[i], &normal[j]);
                let entry = by_pair
                    .entry(ordered(transcripts[i].0, transcripts[j].0))
                    .or_default();
                entry.mean += d;
                entry.shared += 1;
                total.0 += d;
                total.1 += 1;
            }
        }
    }
    for pair in by_pair.values_mut() {
        pair.mean /= f64::from(pair.shared);
    }
    let mean = (total.1 > 0).then(|| total.0 / total.1 as f64);
    (mean, by_pair)
}

/// A pair of names, lower first: the key every per-pair table uses.
pub fn ordered(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::crowd::CrowdBuilder;

    /// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the example
    /// for nominal data with four observers and missing values: alpha = 0.743.
    #[test]
    fn alpha_matches_krippendorffs_worked_example() {
        let a = [
            Some(1),
            Some(2),
            Some(3),
            Some(3),
            Some(2),
            Some(1),
            Some(4),
            Some(1),
            Some(2),
            None,
            None,
            None,
        ];
        let b = [
            Some(1),
            Some(2),
            Some(3),
            Some(3),
            Some(2),
            Some(2),
            Some(4),
            Some(1),
            Some(2),
            Some(5),
            None,
            Some(3),
        ];
        let c = [
            None,
            Some(3),
            Some(3),
            Some(3),
            Some(2),
            Some(3),
            Some(4),
            Some(2),
            Some(2),
            Some(5),
            Some(1),
            None,
        ];
        let d = [
            Some(1),
            Some(2),
            Some(3),
            Some(3),
            Some(2),
            Some(4),
            Some(4),
            Some(1),
            Some(2),
            Some(5),
            Some(1),
            None,
        ];
        let units: Vec<Vec<u32>> = (0..12)
            .map(|u| [a[u], b[u], c[u], d[u]].into_iter().flatten().collect())
            .collect();
        let alpha = krippendorff_alpha_nominal(&units, 6).unwrap();
        assert!((alpha - 0.743).abs() < 5e-4, "alpha = {alpha}");
    }

    /// Fleiss (1971) as worked on Wikipedia's "Fleiss' kappa" page: 10 subjects, 14
    /// raters, 5 categories, kappa = 0.210.
    #[test]
    fn kappa_matches_the_published_worked_example() {
        let table = [
            [0, 0, 0, 0, 14],
            [0, 2, 6, 4, 2],
            [0, 0, 3, 5, 6],
            [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0],
            [3, 2, 6, 3, 0],
            [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0],
            [0, 2, 2, 3, 7],
        ];
        let counts: Vec<Vec<u32>> = table.iter().map(|r| r.to_vec()).collect();
        let kappa = fleiss_kappa(&counts).unwrap();
        assert!((kappa - 0.210).abs() < 5e-4, "kappa = {kappa}");
    }

    #[test]
    fn undefined_agreement_is_none() {
        assert_eq!(krippendorff_alpha_nominal(&[vec![1]], 2), None);
        assert_eq!(
            krippendorff_alpha_nominal(&[vec![0, 0], vec![0, 0]], 2),
            None
        );
        assert_eq!(fleiss_kappa(&[vec![1, 0]]), None);
        assert_eq!(
            fleiss_kappa(&[vec![2, 0], vec![3, 0]]),
            None,
            "one category only"
        );
    }

    fn b_data() -> CrowdLabels {
        let mut b = CrowdBuilder::new();
        for (t, w, l) in [
            ("t1", "a", "x"),
            ("t1", "b", "x"),
            ("t1", "c", "y"),
            ("t2", "a", "y"),
            ("t2", "b", "x"),
        ] {
            b.vote(t, w, l).unwrap();
        }
        b.finish().unwrap()
    }

    #[test]
    fn pairs_count_shared_tasks() {
        let agreement = label_agreement(&b_data());
        assert_eq!(
            agreement.pairs[&(0, 1)],
            PairAgreement {
                shared: 2,
                agreed: 1
            }
        );
        assert_eq!(agreement.pairs[&(0, 2)].share(), Some(0.0));
        assert!(agreement.alpha.is_some() && agreement.kappa.is_some());
        assert_eq!(
            alpha_and_kappa(&b_data()),
            (agreement.alpha, agreement.kappa)
        );
    }

    #[test]
    fn transcript_pairs_by_wer() {
        let t1 = [("a", "one two"), ("b", "one three")];
        let t2 = [("b", "x"), ("a", "x")];
        let (mean, pairs) = pairwise_wer(&Normalisation::default(), [&t1[..], &t2[..]]);
        assert_eq!(mean, Some(0.25));
        assert_eq!(
            pairs[&ordered("b", "a")],
            PairWer {
                shared: 2,
                mean: 0.25
            }
        );
    }
}

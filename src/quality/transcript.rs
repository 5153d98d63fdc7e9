//! Transcripts: word normalisation, normalised word error rate, the medoid transcript,
//! and ROVER-style combination (align every transcript word by word into one network of
//! slots, then vote per slot), each with a confidence.

use crate::model::transcript::Normalisation;
pub use crate::model::transcript::{normalised_wer, word_edits};

/// A transcript in the default normal form (`Normalisation::default()`): lower case,
/// punctuation dropped (an apostrophe inside a word stays), split on white space.
pub fn words(text: &str) -> Vec<String> {
    Normalisation::default().words(text)
}

/// What several transcripts of one clip decide.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptDecision {
    /// The decided text (ROVER: in normal form; medoid: as the worker wrote it).
    pub text: String,
    /// 0.0..=1.0: medoid, one minus its mean normalised WER to the others; ROVER, the
    /// mean share of transcripts that agree with each slot's winner.
    pub confidence: f64,
    /// The medoid's position in the input.
    pub medoid: usize,
}

/// Each transcript's mean normalised WER to all others.
fn mean_distances(normal: &[Vec<String>]) -> Vec<f64> {
    let n = normal.len();
    let mut sums = vec![0.0; n];
    for i in 0..n {
        for j in i + 1..n {
            let d = normalised_wer(&normal[i], &normal[j]);
            sums[i] += d;
            sums[j] += d;
        }
    }
    let others = (n.saturating_sub(1)).max(1) as f64;
    sums.into_iter().map(|s| s / others).collect()
}

/// Input positions from most to least central, ties by normal form then text, so the
/// order transcripts arrive in never changes the outcome.
fn by_centrality(transcripts: &[(&str, &str)], normal: &[Vec<String>]) -> (Vec<usize>, Vec<f64>) {
    let distance = mean_distances(normal);
    let mut order: Vec<usize> = (0..transcripts.len()).collect();
    order.sort_by(|&a, &b| {
        distance[a]
            .total_cmp(&distance[b])
            .then_with(|| normal[a].cmp(&normal[b]))
            .then_with(|| transcripts[a].1.cmp(transcripts[b].1))
    });
    (order, distance)
}

/// The transcript closest to all others by normalised WER. `None` for no transcripts.
/// Input is `(worker, text)`.
pub fn medoid(transcripts: &[(&str, &str)]) -> Option<TranscriptDecision> {
    let normal: Vec<Vec<String>> = transcripts.iter().map(|(_, t)| words(t)).collect();
    let (order, distance) = by_centrality(transcripts, &normal);
    let best = *order.first()?;
    Some(TranscriptDecision {
        text: transcripts[best].1.to_string(),
        confidence: if transcripts.len() < 2 {
            1.0
        } else {
            1.0 - distance[best]
        },
        medoid: best,
    })
}

/// One aligned position: what each transcript added so far put there (`None`: nothing).
#[derive(Debug, Clone)]
struct Slot {
    words: Vec<Option<String>>,
}

impl Slot {
    fn holds(&self, word: &str) -> bool {
        self.words.iter().any(|w| w.as_deref() == Some(word))
    }
}

/// Align `hypothesis` to the network and add it as one more voter: a word matching a
/// slot costs 0, any other substitution, insertion (a new slot) or deletion costs 1.
fn add_to_network(network: &mut Vec<Slot>, voters: usize, hypothesis: &[String]) {
    let (n, m) = (network.len(), hypothesis.len());
    let mut cost = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in cost.iter_mut().enumerate() {
        row[0] = i;
    }
    cost[0] = (0..=m).collect();
    for i in 1..=n {
        for j in 1..=m {
            let matched = usize::from(!network[i - 1].holds(&hypothesis[j - 1]));
            cost[i][j] = (cost[i - 1][j - 1] + matched)
                .min(cost[i - 1][j] + 1)
                .min(cost[i][j - 1] + 1);
        }
    }
    // Walk back, preferring a match or substitution, then a deletion, then an insertion.
    let mut merged: Vec<Slot> = Vec::with_capacity(n + m);
    let (mut i, mut j) = (n, m);
    while i > 0 || j > 0 {
        if i > 0 && j > 0 {
            let matched = usize::from(!network[i - 1].holds(&hypothesis[j - 1]));
            if cost[i][j] == cost[i - 1][j - 1] + matched {
                let mut slot = network[i - 1].clone();
                slot.words.push(Some(hypothesis[j - 1].clone()));
                merged.push(slot);
                i -= 1;
                j -= 1;
                continue;
            }
        }
        if i > 0 && cost[i][j] == cost[i - 1][j] + 1 {
            let mut slot = network[i - 1].clone();
            slot.words.push(None);
            merged.push(slot);
            i -= 1;
        } else {
            let mut words = vec![None; voters];
            words.push(Some(hypothesis[j - 1].clone()));
            merged.push(Slot { words });
            j -= 1;
        }
    }
    merged.reverse();
    *network = merged;
}

/// ROVER-style combination: the medoid is the backbone, the others are aligned to the
/// network from most to least central, and each slot keeps its most voted word (or
/// nothing). A tie in a slot keeps the backbone's choice. `None` for no transcripts.
pub fn rover(transcripts: &[(&str, &str)]) -> Option<TranscriptDecision> {
    let normal: Vec<Vec<String>> = transcripts.iter().map(|(_, t)| words(t)).collect();
    let (order, _) = by_centrality(transcripts, &normal);
    let backbone = *order.first()?;
    let mut network: Vec<Slot> = normal[backbone]
        .iter()
        .map(|w| Slot {
            words: vec![Some(w.clone())],
        })
        .collect();
    for (voters, &i) in order.iter().enumerate().skip(1) {
        add_to_network(&mut network, voters, &normal[i]);
    }
    let voters = transcripts.len() as f64;
    let mut out: Vec<&str> = Vec::new();
    let mut shares = 0.0;
    for slot in &network {
        // Candidates in the order they entered, so the backbone's word wins ties.
        let mut best: Option<(&Option<String>, usize)> = None;
        for candidate in &slot.words {
            let votes = slot.words.iter().filter(|w| *w == candidate).count();
            if best.is_none_or(|(_, b)| votes > b) {
                best = Some((candidate, votes));
            }
        }
        if let Some((word, votes)) = best {
            shares += votes as f64 / voters;
            if let Some(word) = word {
                out.push(word);
            }
        }
    }
    Some(TranscriptDecision {
        text: out.join(" "),
        confidence: if network.is_empty() {
            1.0
        } else {
            shares / network.len() as f64
        },
        medoid: backbone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medoid_is_the_most_central() {
        let input = [
            ("a", "the cat sat on the mat"),
            ("b", "the cat sat on a mat"),
            ("c", "a dog stood on the mat"),
        ];
        let m = medoid(&input).unwrap();
        // a: 1/6 to b, 3/6 to c -> 2/6 mean; b: 1/6, 4/6 -> 2.5/6; c: 3/6, 4/6.
        assert_eq!(m.medoid, 0);
        assert_eq!(m.text, "the cat sat on the mat");
        assert!((m.confidence - (1.0 - 2.0 / 6.0)).abs() < 1e-12);
        assert_eq!(medoid(&[]), None);
        assert_eq!(medoid(&[("a", "alone")]).unwrap().confidence, 1.0);
    }

    /// Each transcript has one error in a different place; voting per slot repairs all
    /// of them, which no single transcript (and so no medoid) can.
    #[test]
    fn rover_repairs_errors_no_single_transcript_gets_right() {
        let input = [
            ("a", "the quick brown fox jumps"),
            ("b", "the quick brown box jumps"),
            ("c", "a quick brown fox jumps"),
            ("d", "the quick fox jumps"),
            ("e", "the quick brown fox jumps high"),
        ];
        let r = rover(&input[1..]).unwrap();
        assert_eq!(r.text, "the quick brown fox jumps");
        // Slots: the(3/4) quick(4/4) brown(3/4) fox(3/4) jumps(4/4) [high](3/4 for nothing).
        assert!((r.confidence - (3.0 + 4.0 + 3.0 + 3.0 + 4.0 + 3.0) / 4.0 / 6.0).abs() < 1e-12);
        let unanimous = rover(&[input[0], input[0]]).unwrap();
        assert_eq!(unanimous.text, "the quick brown fox jumps");
        assert_eq!(unanimous.confidence, 1.0);
        assert_eq!(rover(&[]), None);
    }

    #[test]
    fn rover_does_not_depend_on_input_order() {
        let input = [
            ("a", "one two three"),
            ("b", "one too three four"),
            ("c", "won two three"),
        ];
        let forward = rover(&input).unwrap();
        let mut reversed = input;
        reversed.reverse();
        let backward = rover(&reversed).unwrap();
        assert_eq!(forward.text, backward.text);
        assert_eq!(forward.confidence, backward.confidence);
        assert_eq!(forward.text, "one two three");
    }
}

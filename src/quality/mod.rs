//! Quality algorithms: turning several workers' answers into final answers with a
//! confidence, and measuring how much workers agree. Pure code: labels (`labels`,
//! `label_sets` over `crowd` data), transcripts, forms, and agreement.

pub mod agreement;
pub mod crowd;
pub mod form;
pub mod label_sets;
pub mod labels;
pub mod transcript;

use std::collections::BTreeMap;

pub use crowd::{CrowdBuilder, CrowdError, CrowdLabels, Vote};
pub use labels::{DsFit, DsOptions, Method, TaskLabel, dawid_skene, majority_vote, weighted_vote};

/// The outcome of a vote over one task's answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The winning answer (compact form), or `None` on a tie for first place.
    pub value: Option<String>,
    /// Share of answers that agree with the winner, 0.0..=1.0.
    pub agreement: f64,
    /// How sure the method is of the winner, 0.0..=1.0 (for a plain vote, the agreement).
    pub confidence: f64,
    pub method: Method,
}

/// Majority vote over answers in their compact form. A tie for first place decides
/// nothing: a human should look.
pub fn majority<'a>(answers: impl IntoIterator<Item = &'a str>) -> Decision {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut total = 0;
    for a in answers {
        *counts.entry(a).or_default() += 1;
        total += 1;
    }
    let Some(best) = counts.values().copied().max() else {
        return Decision {
            value: None,
            agreement: 0.0,
            confidence: 0.0,
            method: Method::Majority,
        };
    };
    let mut winners = counts.iter().filter(|&(_, &n)| n == best);
    let first = winners.next().map(|(v, _)| v.to_string());
    let value = if winners.next().is_some() {
        None
    } else {
        first
    };
    let agreement = best as f64 / total as f64;
    Decision {
        value,
        agreement,
        confidence: agreement,
        method: Method::Majority,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_majority_wins() {
        let d = majority(["food", "food", "toys"]);
        assert_eq!(d.value.as_deref(), Some("food"));
        assert!((d.agreement - 2.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn tie_decides_nothing() {
        let d = majority(["food", "toys"]);
        assert_eq!(d.value, None);
        assert!((d.agreement - 0.5).abs() < 1e-9);
    }

    #[test]
    fn no_answers() {
        assert_eq!(majority([]).value, None);
    }
}

//! A project's review policy (`[review]` in the project file): when a decided task goes
//! to a reviewer. Under `agreement` or `confidence` it is a dispute; of the tasks
//! accepted, a `spot_check` share is sampled for a check anyway.

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// Thresholds and shares, each 0.0..=1.0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReviewPolicy {
    /// A task whose share of agreeing answers is under this is a dispute.
    pub agreement: f64,
    /// A task whose aggregate is less sure than this is a dispute.
    pub confidence: f64,
    /// Share of accepted tasks sampled for a spot check.
    pub spot_check: f64,
}

impl Default for ReviewPolicy {
    /// Two of three agreeing is accepted; a tie or a lone majority of two against two
    /// others is not. No spot checks unless the project asks.
    fn default() -> Self {
        ReviewPolicy {
            agreement: 0.6,
            confidence: 0.0,
            spot_check: 0.0,
        }
    }
}

impl ReviewPolicy {
    pub(super) fn is_default(&self) -> bool {
        *self == ReviewPolicy::default()
    }

    /// Whether a decision this sure and this agreed is a dispute.
    pub fn disputes(&self, agreement: f64, confidence: f64) -> bool {
        agreement < self.agreement || confidence < self.confidence
    }
}

/// `[review]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReviewFile {
    #[serde(default)]
    agreement: Option<Spanned<f64>>,
    #[serde(default)]
    confidence: Option<Spanned<f64>>,
    #[serde(default)]
    spot_check: Option<Spanned<f64>>,
}

impl ReviewFile {
    /// The checked policy, or the offset and message of the first bad value.
    pub(super) fn check(&self) -> Result<ReviewPolicy, (usize, String)> {
        let default = ReviewPolicy::default();
        let share = |v: &Option<Spanned<f64>>, name: &str, fallback: f64| match v {
            None => Ok(fallback),
            Some(s) if (0.0..=1.0).contains(s.get_ref()) => Ok(*s.get_ref()),
            Some(s) => Err((
                s.span().start,
                format!(
                    "review {name} must be a share from 0.0 to 1.0 (e.g. 0.7), got {}",
                    s.get_ref()
                ),
            )),
        };
        Ok(ReviewPolicy {
            agreement: share(&self.agreement, "agreement", default.agreement)?,
            confidence: share(&self.confidence, "confidence", default.confidence)?,
            spot_check: share(&self.spot_check, "spot_check", default.spot_check)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Project;

    const BASE: &str = "name = \"p\"\ntitle = \"P\"\nkind = \"classify\"\noverlap = 3\n\
         [[labels]]\nid = \"a\"\nname = \"A\"\nkey = \"1\"\n";

    #[test]
    fn a_review_section_sets_thresholds_and_keeps_the_rest_default() {
        let p = Project::from_toml(
            "p.toml",
            &format!("{BASE}[review]\nagreement = 0.8\nspot_check = 0.1\n"),
        )
        .unwrap();
        assert_eq!(p.review.agreement, 0.8);
        assert_eq!(p.review.spot_check, 0.1);
        assert_eq!(p.review.confidence, 0.0);
        assert!(p.review.disputes(0.67, 1.0));
        assert!(!p.review.disputes(1.0, 0.0));
    }

    #[test]
    fn a_share_out_of_range_is_refused_at_its_line() {
        let e = Project::from_toml("p.toml", &format!("{BASE}[review]\nconfidence = 1.5\n"))
            .unwrap_err();
        assert_eq!(e.line, 10, "{e}");
        assert!(e.message.contains("confidence"), "{e}");
    }

    #[test]
    fn projects_without_a_policy_keep_their_schema_version() {
        let plain = Project::from_toml("p.toml", BASE).unwrap();
        let json = serde_json::to_string(&plain).unwrap();
        assert!(!json.contains("review"), "{json}");
    }
}

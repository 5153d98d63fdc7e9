//! The one-line notice a sync's feedback makes on the worker's message line: how the
//! gold answers just scored went, without stopping work. The details are on the
//! feedback screen.

use crate::model::sanitize_line;
use crate::protocol::{FeedbackItem, FeedbackKind};

/// Characters of a missed task's text the notice quotes.
const QUOTED_CHARS: usize = 30;

/// The notice for items a sync just brought, or None when there were none.
pub fn feedback_notice(items: &[FeedbackItem]) -> Option<String> {
    let corrected = items
        .iter()
        .filter(|i| i.kind == FeedbackKind::GoldCorrected)
        .count();
    let scored: Vec<&FeedbackItem> = items
        .iter()
        .filter(|i| i.kind != FeedbackKind::GoldCorrected)
        .collect();
    let missed: Vec<&&FeedbackItem> = scored.iter().filter(|i| !i.correct).collect();
    let right = scored.len() - missed.len();
    let mut parts = Vec::new();
    match (missed.last(), right) {
        (None, 0) => {}
        (None, 1) => parts.push("gold check: right".to_string()),
        (None, n) => parts.push(format!("gold checks: {n} right")),
        (Some(last), _) => {
            let quoted: String = sanitize_line(&last.text)
                .chars()
                .take(QUOTED_CHARS)
                .collect();
            let expected = match &last.expected {
                Some(value) => value.to_compact(),
                None => "-".into(),
            };
            let others = match (missed.len(), right) {
                (1, 0) => String::new(),
                (m, r) => format!(" ({r} right, {m} missed)"),
            };
            parts.push(format!(
                "gold check missed \"{quoted}\": expected {}{others}; see feedback",
                sanitize_line(&expected)
            ));
        }
    }
    if corrected > 0 {
        parts.push(format!(
            "{corrected} gold answer(s) corrected, accuracy updated"
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AnswerValue;

    fn item(correct: bool, kind: FeedbackKind) -> FeedbackItem {
        FeedbackItem {
            id: 1,
            kind,
            project: "p".into(),
            task: 9,
            text: "Samsung 25W charger".into(),
            correct,
            answer: Some(AnswerValue::Labels(vec!["food".into()])),
            expected: Some(AnswerValue::Labels(vec!["electronics".into()])),
            note: String::new(),
            missed_fields: Vec::new(),
            at: 0,
        }
    }

    #[test]
    fn notices_say_how_gold_went_in_one_line() {
        assert_eq!(feedback_notice(&[]), None);
        let right = item(true, FeedbackKind::Gold);
        let miss = item(false, FeedbackKind::Gold);
        assert_eq!(
            feedback_notice(std::slice::from_ref(&right)).unwrap(),
            "gold check: right"
        );
        assert_eq!(
            feedback_notice(std::slice::from_ref(&miss)).unwrap(),
            "gold check missed \"Samsung 25W charger\": expected electronics; see feedback"
        );
        let both =
            feedback_notice(&[right, miss, item(true, FeedbackKind::GoldCorrected)]).unwrap();
        assert!(
            both.contains("(1 right, 1 missed)") && both.contains("1 gold answer(s) corrected"),
            "{both}"
        );
    }
}

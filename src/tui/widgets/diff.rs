//! Diffs a reviewer reads without colour: words of a transcript against another
//! (`[-gone-]`, `{+new+}`, a substitution as both), and a form field by field (`*` marks
//! a field the answers do not all agree on).

use std::collections::BTreeMap;

use similar::{ChangeTag, TextDiff};

/// `new` against `old`, word by word (whitespace between words does not count), with
/// deletions and insertions marked in the text, words joined by single spaces.
pub fn word_diff(old: &str, new: &str) -> String {
    let old: Vec<&str> = old.split_whitespace().collect();
    let new: Vec<&str> = new.split_whitespace().collect();
    let diff = TextDiff::from_slices(&old, &new);
    let words: Vec<String> = diff
        .iter_all_changes()
        .map(|change| {
            let word = change.value();
            match change.tag() {
                ChangeTag::Equal => word.to_string(),
                ChangeTag::Delete => format!("[-{word}-]"),
                ChangeTag::Insert => format!("{{+{word}+}}"),
            }
        })
        .collect();
    words.join(" ")
}

/// One row of a field-by-field diff: the field, whether the answers differ, and each
/// answer's value in answer order (empty where it was left empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRow {
    pub field: String,
    pub differs: bool,
    pub values: Vec<String>,
}

/// Rows for every field any answer filled, in path order.
pub fn field_diff(answers: &[BTreeMap<String, String>]) -> Vec<FieldRow> {
    let mut paths: Vec<&String> = answers.iter().flat_map(|a| a.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .map(|path| {
            let values: Vec<String> = answers
                .iter()
                .map(|a| a.get(path).cloned().unwrap_or_default())
                .collect();
            FieldRow {
                field: path.clone(),
                differs: values.windows(2).any(|w| w[0] != w[1]),
                values,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insertions_deletions_and_substitutions_are_marked_in_words() {
        assert_eq!(
            word_diff(
                "the bus leaves at nine from the market",
                "the bus leaves at five from market now"
            ),
            "the bus leaves at [-nine-] {+five+} from [-the-] market {+now+}"
        );
        assert_eq!(word_diff("same words", "same words"), "same words");
    }

    #[test]
    fn fields_that_differ_are_marked() {
        let a = BTreeMap::from([
            ("date".into(), "2026-11-02".into()),
            ("total".into(), "1250".into()),
        ]);
        let b = BTreeMap::from([
            ("date".into(), "2026-11-02".into()),
            ("total".into(), "1520".into()),
        ]);
        let rows = field_diff(&[a, b]);
        assert_eq!(rows.len(), 2);
        assert!(!rows[0].differs);
        assert!(rows[1].differs);
        assert_eq!(rows[1].values, ["1250", "1520"]);
    }
}

//! Forms (double entry and more): each field is voted on by itself after normalisation,
//! so "  Nairobi " and "nairobi" agree, and numbers compare by value ("1,500.50" is
//! "1500.5").

use std::collections::{BTreeMap, BTreeSet};

use super::{Decision, majority};

/// How a field's values compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldKind {
    /// Case and runs of white space do not matter.
    #[default]
    Text,
    /// By value: sign, digits with optional `,` grouping, optional decimals.
    Number,
}

/// A decimal number written as `[+-]digits[.digits]`, with optional `,` or `_` grouping,
/// in canonical form (no leading or trailing zeros, `-0` is `0`). `None` if it is not one.
pub fn canonical_number(raw: &str) -> Option<String> {
    let s = raw.trim();
    let (negative, s) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (whole, fraction) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    let whole: String = whole.chars().filter(|&c| c != ',' && c != '_').collect();
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole = whole.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    let mut out = String::new();
    if negative && !(whole.is_empty() && fraction.is_empty()) {
        out.push('-');
    }
    out.push_str(if whole.is_empty() { "0" } else { whole });
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    Some(out)
}

/// A field value in the form it is voted in. A number field holding something that is
/// not a number votes as text: it still counts, only never equal to a number.
pub fn normalise_field(kind: FieldKind, raw: &str) -> String {
    if kind == FieldKind::Number
        && let Some(n) = canonical_number(raw)
    {
        return n;
    }
    raw.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Per-field majority over several entries of one form, `(worker, fields)` each. A field
/// an entry leaves out votes as empty. Fields not in `kinds` are text. Each field's
/// decision is in normal form; a tie decides nothing for that field.
pub fn aggregate_form(
    entries: &[(&str, &BTreeMap<String, String>)],
    kinds: &BTreeMap<String, FieldKind>,
) -> BTreeMap<String, Decision> {
    let names: BTreeSet<&String> = entries.iter().flat_map(|(_, f)| f.keys()).collect();
    names
        .into_iter()
        .map(|name| {
            let kind = kinds.get(name).copied().unwrap_or_default();
            let values: Vec<String> = entries
                .iter()
                .map(|(_, f)| normalise_field(kind, f.get(name).map_or("", String::as_str)))
                .collect();
            (name.clone(), majority(values.iter().map(String::as_str)))
        })
        .collect()
}

/// Share of entry pairs that agree on each field, in normal form.
pub fn field_agreement(
    entries: &[(&str, &BTreeMap<String, String>)],
    kinds: &BTreeMap<String, FieldKind>,
) -> BTreeMap<String, f64> {
    let names: BTreeSet<&String> = entries.iter().flat_map(|(_, f)| f.keys()).collect();
    names
        .into_iter()
        .map(|name| {
            let kind = kinds.get(name).copied().unwrap_or_default();
            let values: Vec<String> = entries
                .iter()
                .map(|(_, f)| normalise_field(kind, f.get(name).map_or("", String::as_str)))
                .collect();
            let (mut pairs, mut agreed) = (0u64, 0u64);
            for i in 0..values.len() {
                for j in i + 1..values.len() {
                    pairs += 1;
                    agreed += u64::from(values[i] == values[j]);
                }
            }
            let share = if pairs == 0 {
                1.0
            } else {
                agreed as f64 / pairs as f64
            };
            (name.clone(), share)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|&(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(canonical_number("1,500.50").as_deref(), Some("1500.5"));
        assert_eq!(canonical_number(" 007 ").as_deref(), Some("7"));
        assert_eq!(canonical_number("-0.0").as_deref(), Some("0"));
        assert_eq!(canonical_number("+.5").as_deref(), Some("0.5"));
        assert_eq!(canonical_number("-12").as_deref(), Some("-12"));
        assert_eq!(canonical_number("12a"), None);
        assert_eq!(canonical_number("."), None);
        assert_eq!(canonical_number(""), None);
        assert_eq!(canonical_number("1.2.3"), None);
    }

    #[test]
    fn fields_are_voted_one_by_one_after_normalisation() {
        let kinds: BTreeMap<String, FieldKind> = [("amount".to_string(), FieldKind::Number)]
            .into_iter()
            .collect();
        let a = form(&[("town", "  Nairobi "), ("amount", "1,500.00")]);
        let b = form(&[("town", "nairobi"), ("amount", "1500")]);
        let c = form(&[("town", "Mombasa"), ("amount", "1500.5")]);
        let d = aggregate_form(&[("a", &a), ("b", &b), ("c", &c)], &kinds);
        assert_eq!(d["town"].value.as_deref(), Some("nairobi"));
        assert_eq!(d["amount"].value.as_deref(), Some("1500"));
        assert!((d["amount"].agreement - 2.0 / 3.0).abs() < 1e-12);

        // Double entry that disagrees on a field decides nothing for it.
        let e = form(&[("town", "Kisumu")]);
        let d = aggregate_form(&[("a", &a), ("e", &e)], &kinds);
        assert_eq!(d["town"].value, None);
        assert_eq!(d["amount"].value, None, "a missing field votes empty");

        let share = field_agreement(&[("a", &a), ("b", &b), ("c", &c)], &kinds);
        assert!((share["town"] - 1.0 / 3.0).abs() < 1e-12);
        assert!((share["amount"] - 1.0 / 3.0).abs() < 1e-12);
    }
}

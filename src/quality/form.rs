//! Forms (double entry and more): each field is voted on by itself. The values come in
//! already in the form's normal form (`model::form::Form::comparison_keys`: case and
//! spaces of text, numbers and money by value, dates as dates, phones by digits), so the
//! one normalisation lives with the form and this module only counts.

use std::collections::{BTreeMap, BTreeSet};

use super::{Decision, majority};

/// Per-field majority over several entries of one form, each a map from field path to
/// its value in normal form. A field an entry leaves out votes as empty; a tie decides
/// nothing for that field.
pub fn aggregate_form(entries: &[&BTreeMap<String, String>]) -> BTreeMap<String, Decision> {
    field_values(entries)
        .map(|(path, values)| (path.clone(), majority(values)))
        .collect()
}

/// Share of entry pairs that agree on each field.
pub fn field_agreement(entries: &[&BTreeMap<String, String>]) -> BTreeMap<String, f64> {
    field_values(entries)
        .map(|(path, values)| {
            let values: Vec<&str> = values.collect();
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
            (path.clone(), share)
        })
        .collect()
}

/// Every path any entry filled, with each entry's value for it (empty where it left the
/// field out), in entry order.
fn field_values<'a>(
    entries: &'a [&'a BTreeMap<String, String>],
) -> impl Iterator<Item = (&'a String, impl Iterator<Item = &'a str> + Clone)> {
    let paths: BTreeSet<&String> = entries.iter().flat_map(|f| f.keys()).collect();
    paths.into_iter().map(move |path| {
        let values = entries
            .iter()
            .map(move |f| f.get(path).map_or("", String::as_str));
        (path, values)
    })
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
    fn fields_are_voted_one_by_one() {
        let a = form(&[("town", "nairobi"), ("amount", "1500")]);
        let b = form(&[("town", "nairobi"), ("amount", "1500")]);
        let c = form(&[("town", "mombasa"), ("amount", "1500.5")]);
        let d = aggregate_form(&[&a, &b, &c]);
        assert_eq!(d["town"].value.as_deref(), Some("nairobi"));
        assert_eq!(d["amount"].value.as_deref(), Some("1500"));
        assert!((d["amount"].agreement - 2.0 / 3.0).abs() < 1e-12);

        // Double entry that disagrees on a field decides nothing for it.
        let e = form(&[("town", "kisumu")]);
        let d = aggregate_form(&[&a, &e]);
        assert_eq!(d["town"].value, None);
        assert_eq!(d["amount"].value, None, "a missing field votes empty");

        let share = field_agreement(&[&a, &b, &c]);
        assert!((share["town"] - 1.0 / 3.0).abs() < 1e-12);
        assert!((share["amount"] - 1.0 / 3.0).abs() < 1e-12);
    }
}

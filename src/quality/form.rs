//! Forms (double entry and more): each field is voted on by itself. The values come in
//! already in the form's normal form (`model::form::Form::comparison_keys`: case and
//! spaces of text, numbers and money by value, dates as dates, phones by digits), so the
//! one normalisation lives with the form and this module only counts.

use std::collections::{BTreeMap, BTreeSet};

use super::agreement::{PairAgreement, ordered};
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

/// Agreement per pair of workers, field by field: for every task both entered, each
/// path either of the two filled counts as shared, and as agreed when both gave the same
/// value in normal form (a field one left out is empty). Input per task: `(worker,
/// comparison keys)`; pairs by name, lower first.
pub fn pair_field_agreement<'a>(
    tasks: impl IntoIterator<Item = &'a [(&'a str, &'a BTreeMap<String, String>)]>,
) -> BTreeMap<(String, String), BTreeMap<String, PairAgreement>> {
    let mut out: BTreeMap<(String, String), BTreeMap<String, PairAgreement>> = BTreeMap::new();
    for entries in tasks {
        for (i, (a, fa)) in entries.iter().enumerate() {
            for (b, fb) in &entries[i + 1..] {
                let fields = out.entry(ordered(a, b)).or_default();
                let pair = [*fa, *fb];
                for (path, mut values) in field_values(&pair) {
                    let cell = fields.entry(path.clone()).or_default();
                    cell.shared += 1;
                    cell.agreed += u32::from(values.next() == values.next());
                }
            }
        }
    }
    out
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

    /// Two tasks: "x" and "y" entered both, "z" only the first. The pair x-y agrees on
    /// town once of twice, on amount once of once (only one task has it); x-z shares
    /// one task and agrees on nothing but town.
    #[test]
    fn pairs_agree_field_by_field() {
        let a = form(&[("town", "nairobi"), ("amount", "1500")]);
        let b = form(&[("town", "nairobi"), ("amount", "1500")]);
        let c = form(&[("town", "nairobi")]);
        let d = form(&[("town", "kisumu")]);
        let e = form(&[("town", "mombasa")]);
        let t1 = [("y", &b), ("x", &a), ("z", &c)];
        let t2 = [("x", &d), ("y", &e)];
        let pairs = pair_field_agreement([&t1[..], &t2[..]]);
        let cell = |a: &str, b: &str, f: &str| pairs[&ordered(a, b)][f];
        let pa = |shared, agreed| PairAgreement { shared, agreed };
        assert_eq!(cell("x", "y", "town"), pa(2, 1));
        assert_eq!(cell("x", "y", "amount"), pa(1, 1));
        assert_eq!(cell("z", "x", "town"), pa(1, 1));
        assert_eq!(cell("x", "z", "amount"), pa(1, 0), "left out is empty");
        assert_eq!(pairs.len(), 3);
    }
}

//! A project's per-task rate (`[rate] amount = "0.05", currency = "USD"` in the project
//! file): what a worker earns per counted task. Money is exact decimal arithmetic on
//! millionths, never floating point.

use serde::{Deserialize, Serialize};

/// Most decimal places an amount may have.
const MAX_PLACES: usize = 6;
/// Highest per-task amount: more is almost surely a typo.
const MAX_AMOUNT_MICROS: u64 = 1_000 * 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    /// A plain decimal as written in the project file (`0.05`).
    pub amount: String,
    /// Three capital letters (ISO 4217: `USD`, `KES`, `INR`).
    pub currency: String,
}

/// Why a rate in a project file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error(
        "rate amount '{0}' must be a plain decimal above 0 and at most 1000 with at most 6 decimals, e.g. \"0.05\""
    )]
    Amount(String),
    #[error(
        "rate currency '{0}' must be three capital letters (ISO 4217), e.g. \"USD\" or \"KES\""
    )]
    Currency(String),
}

/// An amount in millionths of the currency unit.
fn micros(text: &str) -> Option<u64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || frac.len() > MAX_PLACES
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (text.contains('.') && frac.is_empty())
    {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let frac: u64 = format!("{frac:0<6}").parse().ok()?;
    whole.checked_mul(1_000_000)?.checked_add(frac)
}

impl Rate {
    /// A checked rate from the project file's text.
    pub fn new(amount: &str, currency: &str) -> Result<Rate, RateError> {
        let amount = amount.trim();
        match micros(amount) {
            Some(m) if m > 0 && m <= MAX_AMOUNT_MICROS => {}
            _ => return Err(RateError::Amount(super::sanitize_line(amount).into_owned())),
        }
        let currency = currency.trim();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(RateError::Currency(
                super::sanitize_line(currency).into_owned(),
            ));
        }
        Ok(Rate {
            amount: amount.to_string(),
            currency: currency.to_string(),
        })
    }

    /// What `tasks` counted tasks earn, e.g. "12.35 USD": at least two decimals, more
    /// when the rate has them. None when the amount does not read (a damaged cache).
    pub fn earned(&self, tasks: u64) -> Option<String> {
        let total = u128::from(micros(&self.amount)?) * u128::from(tasks);
        let places = self
            .amount
            .split_once('.')
            .map_or(0, |(_, f)| f.len())
            .max(2);
        let whole = total / 1_000_000;
        let frac = format!("{:06}", total % 1_000_000);
        Some(format!("{whole}.{} {}", &frac[..places], self.currency))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earnings_are_exact_decimals() {
        let rate = Rate::new("0.05", "USD").unwrap();
        assert_eq!(rate.earned(247).unwrap(), "12.35 USD");
        assert_eq!(rate.earned(0).unwrap(), "0.00 USD");
        let fine = Rate::new("0.125", "KES").unwrap();
        assert_eq!(fine.earned(3).unwrap(), "0.375 KES");
        assert_eq!(
            Rate::new("2", "INR").unwrap().earned(3).unwrap(),
            "6.00 INR"
        );
    }

    #[test]
    fn bad_rates_are_refused_with_what_to_write() {
        for bad in ["", "0", "-1", "1.", ".5", "1e3", "0.0000001", "1001", "abc"] {
            assert!(
                matches!(Rate::new(bad, "USD"), Err(RateError::Amount(_))),
                "{bad}"
            );
        }
        for bad in ["usd", "US", "USDT", "U$D"] {
            assert!(
                matches!(Rate::new("0.05", bad), Err(RateError::Currency(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_project_file_rate_is_checked_at_its_line() {
        let base = "name = \"p\"\ntitle = \"P\"\nkind = \"classify\"\n\n[[labels]]\nid = \"a\"\nname = \"A\"\nkey = \"1\"\n";
        let ok = format!("{base}\n[rate]\namount = \"0.05\"\ncurrency = \"KES\"\n");
        let project = crate::model::Project::from_toml("p.toml", &ok).unwrap();
        assert_eq!(project.rate.unwrap().earned(10).unwrap(), "0.50 KES");
        let number = format!("{base}\n[rate]\namount = 2\ncurrency = \"USD\"\n");
        let project = crate::model::Project::from_toml("p.toml", &number).unwrap();
        assert_eq!(project.rate.unwrap().amount, "2");
        let bad = format!("{base}\n[rate]\namount = \"0.05\"\ncurrency = \"dollars\"\n");
        let e = crate::model::Project::from_toml("p.toml", &bad)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.toml:12:"), "{e}");
        assert!(e.contains("three capital letters"), "{e}");
        let bad = format!("{base}\n[rate]\namount = \"-1\"\ncurrency = \"USD\"\n");
        let e = crate::model::Project::from_toml("p.toml", &bad)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("p.toml:11:"), "{e}");
        // Without a rate the schema is as before (its version does not change).
        let plain = crate::model::Project::from_toml("p.toml", base).unwrap();
        assert!(!serde_json::to_string(&plain).unwrap().contains("rate\""));
    }
}

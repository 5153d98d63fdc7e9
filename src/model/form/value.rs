//! The typed values a form field holds, read from what a worker typed: exact decimals
//! (never floats: money must add up to the cent), dates in the project's format, times,
//! phones and emails. Each reader gives the canonical form, or the reason in words.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An exact decimal number: `units / 10^scale`.
#[derive(Debug, Clone, Copy)]
pub struct Decimal {
    units: i128,
    scale: u32,
}

/// Most digits after the point; more is never a real amount.
const MAX_SCALE: u32 = 6;
/// Most digits before the point: keeps every sum far from overflow.
const MAX_INT_DIGITS: usize = 18;

impl Decimal {
    /// Read `-1,234.50`, `12`, `0.5`. Thousands separators must group by three.
    pub fn parse(s: &str) -> Option<Decimal> {
        let s = s.trim();
        let (negative, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let digits = ungroup(int)?;
        if digits.len() > MAX_INT_DIGITS
            || frac.len() > MAX_SCALE as usize
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || (body.contains('.') && frac.is_empty())
        {
            return None;
        }
        let mut units: i128 = 0;
        for b in digits.bytes().chain(frac.bytes()) {
            units = units * 10 + i128::from(b - b'0');
        }
        Some(Decimal {
            units: if negative { -units } else { units },
            scale: frac.len() as u32,
        })
    }

    pub fn from_int(n: i128) -> Decimal {
        Decimal { units: n, scale: 0 }
    }

    /// Digits after the point as written (`1.50` has 2).
    pub fn scale(&self) -> u32 {
        self.scale
    }

    pub fn is_integer(&self) -> bool {
        self.normal().scale == 0
    }

    fn rescaled(&self, scale: u32) -> i128 {
        self.units * 10i128.pow(scale - self.scale)
    }

    /// Trailing zeros after the point dropped: `1.50` is `1.5`.
    fn normal(&self) -> Decimal {
        let mut d = *self;
        while d.scale > 0 && d.units % 10 == 0 {
            d.units /= 10;
            d.scale -= 1;
        }
        d
    }

    pub fn add(&self, other: &Decimal) -> Decimal {
        let scale = self.scale.max(other.scale);
        Decimal {
            units: self.rescaled(scale) + other.rescaled(scale),
            scale,
        }
    }

    pub fn sub(&self, other: &Decimal) -> Decimal {
        self.add(&Decimal {
            units: -other.units,
            scale: other.scale,
        })
    }

    /// The product, or None past the digits any real form holds.
    pub fn mul(&self, other: &Decimal) -> Option<Decimal> {
        let units = self.units.checked_mul(other.units)?;
        Some(
            Decimal {
                units,
                scale: self.scale + other.scale,
            }
            .normal(),
        )
    }

    pub fn abs(&self) -> Decimal {
        Decimal {
            units: self.units.abs(),
            scale: self.scale,
        }
    }
}

/// `1,234,567` -> `1234567`; None for misplaced separators or other characters.
fn ungroup(int: &str) -> Option<String> {
    if !int.contains(',') {
        return int
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| int.to_string());
    }
    let mut groups = int.split(',');
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 || !first.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut out = first.to_string();
    for g in groups {
        if g.len() != 3 || !g.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        out.push_str(g);
    }
    Some(out)
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for Decimal {}
impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let scale = self.scale.max(other.scale);
        self.rescaled(scale).cmp(&other.rescaled(scale))
    }
}

impl fmt::Display for Decimal {
    /// The canonical form: no separators, no trailing zeros after the point.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.normal();
        let sign = if d.units < 0 { "-" } else { "" };
        let digits = d.units.unsigned_abs().to_string();
        if d.scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let scale = d.scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int}.{frac}")
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Decimal::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a number: {s}")))
    }
}

/// The order of day, month and year in a project's dates, and their separator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateFormat {
    order: [DatePart; 3],
    separator: char,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DatePart {
    Day,
    Month,
    Year,
}

impl DateFormat {
    /// `dd/mm/yyyy`, `mm/dd/yyyy`, `yyyy-mm-dd`, `dd-mm-yyyy`, `dd.mm.yyyy` and the like.
    pub fn parse(s: &str) -> Option<DateFormat> {
        let separator = s.chars().find(|c| !c.is_ascii_alphabetic())?;
        let parts: Vec<&str> = s.split(separator).collect();
        if !matches!(separator, '/' | '-' | '.') || parts.len() != 3 {
            return None;
        }
        let mut order = [DatePart::Day; 3];
        for (slot, part) in order.iter_mut().zip(&parts) {
            *slot = match *part {
                "dd" => DatePart::Day,
                "mm" => DatePart::Month,
                "yyyy" => DatePart::Year,
                _ => return None,
            };
        }
        let all = [DatePart::Day, DatePart::Month, DatePart::Year];
        all.iter()
            .all(|p| order.contains(p))
            .then_some(DateFormat { order, separator })
    }

    /// A date typed in this format as ISO `yyyy-mm-dd`, or why it is not one.
    pub fn read(&self, s: &str) -> Result<String, String> {
        let bad = || format!("date must be {self}");
        let parts: Vec<&str> = s.trim().split(self.separator).collect();
        if parts.len() != 3 {
            return Err(bad());
        }
        let (mut day, mut month, mut year) = (0u32, 0u32, 0i32);
        for (part, text) in self.order.iter().zip(&parts) {
            let width_ok = match part {
                DatePart::Year => text.len() == 4,
                _ => (1..=2).contains(&text.len()),
            };
            if !width_ok || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let n: u32 = text.parse().map_err(|_| bad())?;
            match part {
                DatePart::Day => day = n,
                DatePart::Month => month = n,
                DatePart::Year => year = n as i32,
            }
        }
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(format!("{} is not a real date", s.trim()));
        }
        Ok(format!("{year:04}-{month:02}-{day:02}"))
    }

    /// An ISO `yyyy-mm-dd` date written in this format (for screens and hints).
    pub fn write_iso(&self, iso: &str) -> Option<String> {
        let mut it = iso.split('-');
        let (y, m, d) = (it.next()?, it.next()?, it.next()?);
        let parts: Vec<&str> = self
            .order
            .iter()
            .map(|p| match p {
                DatePart::Day => d,
                DatePart::Month => m,
                DatePart::Year => y,
            })
            .collect();
        Some(parts.join(&self.separator.to_string()))
    }
}

impl Default for DateFormat {
    fn default() -> Self {
        DateFormat {
            order: [DatePart::Day, DatePart::Month, DatePart::Year],
            separator: '/',
        }
    }
}

impl fmt::Display for DateFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<&str> = self
            .order
            .iter()
            .map(|p| match p {
                DatePart::Day => "dd",
                DatePart::Month => "mm",
                DatePart::Year => "yyyy",
            })
            .collect();
        f.write_str(&parts.join(&self.separator.to_string()))
    }
}

impl Serialize for DateFormat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for DateFormat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DateFormat::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not a date format: {s}")))
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// A 24-hour time `H:MM` or `HH:MM` as `HH:MM`.
pub fn read_time(s: &str) -> Result<String, String> {
    let bad = || "time must be HH:MM (24-hour, like 14:05)".to_string();
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let digits =
        |t: &str, max: usize| (1..=max).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(h, 2) || m.len() != 2 || !digits(m, 2) {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(format!("{h:02}:{m:02}"))
}

/// A phone number as its digits, with a national number (one leading 0) put under
/// `country_code` when the field has one, so `0722 123 456` is `+254 722 123456`.
pub fn read_phone(s: &str, country_code: Option<&str>) -> Result<String, String> {
    let s = s.trim();
    let (international, body) = match s.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'))
    {
        return Err(
            "phone number may hold only digits, spaces, '-', '(' ')' and a leading '+'".to_string(),
        );
    }
    let digits: String = body.chars().filter(char::is_ascii_digit).collect();
    if !(7..=15).contains(&digits.len()) {
        return Err(format!(
            "phone number must have 7 to 15 digits, this has {}",
            digits.len()
        ));
    }
    Ok(match country_code {
        Some(cc) if !international && digits.starts_with('0') && !digits.starts_with("00") => {
            format!("{cc}{}", &digits[1..])
        }
        _ if !international && digits.starts_with("00") => digits[2..].to_string(),
        _ => digits,
    })
}

/// An email address, lower-cased.
pub fn read_email(s: &str) -> Result<String, String> {
    let s = s.trim();
    let bad = || "email must look like name@example.com".to_string();
    let (local, domain) = s.split_once('@').ok_or_else(bad)?;
    let ok = !local.is_empty()
        && s.len() <= 254
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok { Ok(s.to_lowercase()) } else { Err(bad()) }
}

/// Currency words workers type for the codes of the centres' regions.
const CURRENCY_ALIASES: &[(&str, &str)] = &[
    ("KSH", "KES"),
    ("KSHS", "KES"),
    ("SH", "KES"),
    ("RS", "INR"),
    ("₹", "INR"),
    ("USH", "UGX"),
    ("TSH", "TZS"),
    ("$", "USD"),
];

/// An amount with its currency: `KES 1,250.00`, `1250 KES`, `Ksh 1,250`, `₹450`, or a
/// bare amount in `default_currency`. At most two digits after the point.
pub fn read_money(s: &str, default_currency: &str) -> Result<(String, Decimal), String> {
    let s = s.trim();
    // The amount starts at its first digit, or a sign or point right before one
    // (`Rs. 99` keeps its point with the code).
    let split = s
        .char_indices()
        .find(|&(i, c)| {
            c.is_ascii_digit()
                || (matches!(c, '-' | '.') && s[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
        })
        .map_or(s.len(), |(i, _)| i);
    let (mut code, mut amount) = (s[..split].trim(), s[split..].trim());
    if code.is_empty() {
        // Maybe the code follows the amount.
        let end = amount
            .rfind(|c: char| c.is_ascii_digit())
            .map_or(0, |i| i + 1);
        code = amount[end..].trim();
        amount = amount[..end].trim();
    }
    let code = code.trim_end_matches('.').to_uppercase();
    let currency = if code.is_empty() {
        default_currency.to_string()
    } else {
        CURRENCY_ALIASES
            .iter()
            .find(|(alias, _)| *alias == code)
            .map_or(code, |(_, real)| real.to_string())
    };
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "money must be an amount like {default_currency} 1,250.00"
        ));
    }
    let value = Decimal::parse(amount)
        .ok_or_else(|| format!("money must be an amount like {default_currency} 1,250.00"))?;
    if value.scale() > 2 {
        return Err("money has at most 2 digits after the point".to_string());
    }
    Ok((currency, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_read_and_print_canonically() {
        let d = |s: &str| Decimal::parse(s).map(|d| d.to_string());
        assert_eq!(d("1,234.50").as_deref(), Some("1234.5"));
        assert_eq!(d("-0.05").as_deref(), Some("-0.05"));
        assert_eq!(d("+7").as_deref(), Some("7"));
        assert_eq!(d("12.000").as_deref(), Some("12"));
        assert_eq!(d(".5").as_deref(), Some("0.5"));
        for bad in [
            "", "1,23", "12,", "1.2.3", "1e3", "abc", "1.", "12 000", "-", "1,2345",
        ] {
            assert_eq!(d(bad), None, "{bad}");
        }
        assert_eq!(Decimal::parse("1.50"), Decimal::parse("1.5"));
        assert!(Decimal::parse("2") > Decimal::parse("1.99"));
    }

    #[test]
    fn dates_follow_the_project_format() {
        let f = DateFormat::parse("dd/mm/yyyy").unwrap();
        assert_eq!(f.read("14/03/2026"), Ok("2026-03-14".into()));
        assert_eq!(f.read("4/3/2026"), Ok("2026-03-04".into()));
        assert_eq!(f.read("2026-03-14"), Err("date must be dd/mm/yyyy".into()));
        assert_eq!(
            f.read("31/04/2026"),
            Err("31/04/2026 is not a real date".into())
        );
        assert_eq!(f.read("29/02/2024"), Ok("2024-02-29".into()));
        assert!(f.read("29/02/2023").is_err());
        assert!(f.read("14/03/26").is_err());
        let us = DateFormat::parse("mm/dd/yyyy").unwrap();
        assert_eq!(us.read("03/14/2026"), Ok("2026-03-14".into()));
        assert_eq!(us.write_iso("2026-03-14").as_deref(), Some("03/14/2026"));
        assert!(DateFormat::parse("dd/mm").is_none());
        assert!(DateFormat::parse("dd/dd/yyyy").is_none());
    }

    #[test]
    fn phones_compare_by_digits() {
        assert_eq!(
            read_phone("0722 123 456", Some("254")),
            Ok("254722123456".into())
        );
        assert_eq!(
            read_phone("+254-722-123456", Some("254")),
            Ok("254722123456".into())
        );
        assert_eq!(
            read_phone("+91 98450 12345", None),
            Ok("919845012345".into())
        );
        assert!(read_phone("0722 l23 456", None).is_err());
        assert!(read_phone("12345", None).unwrap_err().contains("7 to 15"));
    }

    #[test]
    fn money_reads_regional_currencies() {
        let m = |s: &str| read_money(s, "KES").map(|(c, v)| format!("{c} {v}"));
        assert_eq!(m("KES 1,250.00"), Ok("KES 1250".into()));
        assert_eq!(m("Ksh 1,250"), Ok("KES 1250".into()));
        assert_eq!(m("1250.50"), Ok("KES 1250.5".into()));
        assert_eq!(m("450 INR"), Ok("INR 450".into()));
        assert_eq!(m("₹450"), Ok("INR 450".into()));
        assert_eq!(m("Rs. 99.90"), Ok("INR 99.9".into()));
        assert!(m("12.345").is_err());
        assert!(m("KES").is_err());
        assert!(m("one hundred").is_err());
    }

    #[test]
    fn times_and_emails() {
        assert_eq!(read_time("9:05"), Ok("09:05".into()));
        assert!(read_time("24:00").is_err());
        assert!(read_time("12.30").is_err());
        assert_eq!(
            read_email(" A.Wanjiru@Example.CO.KE "),
            Ok("a.wanjiru@example.co.ke".into())
        );
        assert!(read_email("a@b").is_err());
        assert!(read_email("a b@c.com").is_err());
    }
}

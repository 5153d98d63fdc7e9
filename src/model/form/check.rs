//! Checking entered values against their form: each field by its type and constraints,
//! skip logic, repeating groups and totals; and the normal forms answers are stored in
//! and compared by (double entry compares fields, not whole answers).

use std::collections::BTreeMap;
use std::fmt;

use super::value::{Decimal, read_email, read_money, read_phone, read_time};
use super::{Field, FieldKind, Form, FormValues, Group};

/// Where a value sits in a form: a field, or a cell of a repeating group (row from 0).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldPath {
    Field(String),
    Cell {
        group: String,
        row: usize,
        column: String,
    },
}

impl fmt::Display for FieldPath {
    /// `total`, or `items[1].qty` with rows counted from 1 as workers count them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldPath::Field(id) => f.write_str(id),
            FieldPath::Cell { group, row, column } => write!(f, "{group}[{}].{column}", row + 1),
        }
    }
}

impl FieldPath {
    /// Read back `total` or `items[1].qty` (as `Display` writes them).
    pub fn parse(s: &str) -> Option<FieldPath> {
        let Some((group, rest)) = s.split_once('[') else {
            return Some(FieldPath::Field(s.to_string()));
        };
        let (row, column) = rest.split_once("].")?;
        let row: usize = row.parse().ok()?;
        Some(FieldPath::Cell {
            group: group.to_string(),
            row: row.checked_sub(1)?,
            column: column.to_string(),
        })
    }
}

/// One thing wrong with a form's values, in words a worker can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    pub path: FieldPath,
    pub message: String,
}

impl fmt::Display for FieldIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Whitespace runs as one space, ends trimmed: how text is kept and compared.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Form {
    /// The canonical form of a non-empty value of `field` (an ISO date, a plain number,
    /// `KES 1250.5`, a phone's digits), or why it does not fit.
    pub fn canonical(&self, field: &Field, raw: &str) -> Result<String, String> {
        let typed = raw.trim();
        if let Some(max) = field.max_length
            && typed.chars().count() > max as usize
        {
            return Err(format!("longer than {max} characters"));
        }
        let canonical = match &field.kind {
            FieldKind::Text => collapse(typed),
            FieldKind::Integer => {
                let n = Decimal::parse(typed)
                    .filter(|d| d.scale() == 0)
                    .ok_or("must be a whole number, like 12")?;
                in_range(field, &n)?;
                n.to_string()
            }
            FieldKind::Decimal => {
                let n = Decimal::parse(typed).ok_or("must be a number, like 12.50")?;
                in_range(field, &n)?;
                n.to_string()
            }
            FieldKind::Money { currencies } => {
                let default = currencies.first().map_or("KES", String::as_str);
                let (currency, amount) = read_money(typed, default)?;
                if !currencies.contains(&currency) {
                    return Err(format!(
                        "currency must be {}, not {currency}",
                        currencies.join(" or ")
                    ));
                }
                in_range(field, &amount)?;
                format!("{currency} {amount}")
            }
            FieldKind::Date => {
                let iso = self.date_format.read(typed)?;
                self.date_in_range(field, &iso)?;
                iso
            }
            FieldKind::Time => read_time(typed)?,
            FieldKind::Choice { options } => options
                .iter()
                .find(|o| o.id == typed)
                .map(|o| o.id.clone())
                .ok_or_else(|| format!("pick one of: {}", option_keys(options)))?,
            FieldKind::Choices { options } => {
                let picked: Vec<&str> = typed.split('|').map(str::trim).collect();
                for (i, id) in picked.iter().enumerate() {
                    if !options.iter().any(|o| o.id == *id) {
                        return Err(format!("pick from: {}", option_keys(options)));
                    }
                    if picked[..i].contains(id) {
                        return Err(format!("'{id}' is picked twice"));
                    }
                }
                join_choices(options, &picked)
            }
            FieldKind::YesNo => match typed.to_ascii_lowercase().as_str() {
                "yes" | "y" => "yes".to_string(),
                "no" | "n" => "no".to_string(),
                _ => return Err("answer yes or no".into()),
            },
            FieldKind::Phone { country_code } => read_phone(typed, country_code.as_deref())?,
            FieldKind::Email => read_email(typed)?,
            FieldKind::Group(_) => return Err("a group holds rows, not a value".into()),
        };
        if let Some(p) = &field.pattern
            && !p.matches(typed)
        {
            return Err(match field.hint.is_empty() {
                true => format!("does not have the expected form ({})", p.as_str()),
                false => format!("does not have the expected form: {}", field.hint),
            });
        }
        Ok(canonical)
    }

    /// What double entry compares for a value: its canonical form, and for text also
    /// without case (`Naivas` and `NAIVAS` agree).
    pub fn comparison_key(&self, field: &Field, raw: &str) -> Result<String, String> {
        let canonical = self.canonical(field, raw)?;
        Ok(match field.kind {
            FieldKind::Text => canonical.to_lowercase(),
            _ => canonical,
        })
    }

    /// Whether `field` is shown and checked: its condition (if any) holds. `row` is the
    /// row of a group column, so a condition may name a column of the same row.
    pub fn is_relevant(
        &self,
        field: &Field,
        values: &FormValues,
        row: Option<(&Group, &str, usize)>,
    ) -> bool {
        let Some(cond) = &field.relevant_if else {
            return true;
        };
        if let Some((group, group_id, r)) = row
            && let Some(col) = group.columns.iter().find(|c| c.id == cond.field)
        {
            let path = FieldPath::Cell {
                group: group_id.to_string(),
                row: r,
                column: col.id.clone(),
            };
            return self.is_relevant(col, values, row)
                && self
                    .comparison_key(col, values.get(&path))
                    .is_ok_and(|k| cond.equals.contains(&k));
        }
        let Some(target) = self.field(&cond.field) else {
            return false;
        };
        let path = FieldPath::Field(target.id.clone());
        self.is_relevant(target, values, None)
            && self
                .comparison_key(target, values.get(&path))
                .is_ok_and(|k| cond.equals.contains(&k))
    }

    /// Everything wrong with `values`, in the order the worker meets the fields.
    pub fn issues(&self, values: &FormValues) -> Vec<FieldIssue> {
        let mut issues = Vec::new();
        for id in values.fields.keys() {
            if !self
                .field(id)
                .is_some_and(|f| !matches!(f.kind, FieldKind::Group(_)))
            {
                issues.push(issue(
                    FieldPath::Field(id.clone()),
                    "this form has no such field",
                ));
            }
        }
        for id in values.groups.keys() {
            if !self
                .field(id)
                .is_some_and(|f| matches!(f.kind, FieldKind::Group(_)))
            {
                issues.push(issue(
                    FieldPath::Field(id.clone()),
                    "this form has no such group",
                ));
            }
        }
        for field in &self.fields {
            if !self.is_relevant(field, values, None) {
                continue;
            }
            match &field.kind {
                FieldKind::Group(group) => self.group_issues(field, group, values, &mut issues),
                _ => {
                    let path = FieldPath::Field(field.id.clone());
                    match self.value_issue(field, values.get(&path)) {
                        Some(message) => issues.push(issue(path, &message)),
                        None => self.total_issues(field, values, &mut issues),
                    }
                }
            }
        }
        issues
    }

    /// What is wrong with the values given, ignoring what is missing (required fields,
    /// rows, totals): for gold, which may name only some fields.
    pub fn given_issues(&self, values: &FormValues) -> Vec<FieldIssue> {
        self.issues(values)
            .into_iter()
            .filter(|i| {
                let given = !values.get(&i.path).trim().is_empty();
                let unknown = match &i.path {
                    FieldPath::Field(id) => self.field(id).is_none(),
                    FieldPath::Cell { .. } => false,
                };
                let total = matches!(&i.path, FieldPath::Field(id)
                    if self.fields.iter().any(|f| matches!(&f.kind, FieldKind::Group(g)
                        if g.total.as_ref().is_some_and(|t| &t.equals == id))));
                unknown || (given && !(total && self.canonical_ok(&i.path, values)))
            })
            .collect()
    }

    /// Whether the value at `path` reads on its own (a total may still not add up).
    fn canonical_ok(&self, path: &FieldPath, values: &FormValues) -> bool {
        match path {
            FieldPath::Field(id) => self
                .field(id)
                .is_some_and(|f| self.canonical(f, values.get(path)).is_ok()),
            FieldPath::Cell { .. } => false,
        }
    }

    /// The first thing wrong, if anything is.
    pub fn validate(&self, values: &FormValues) -> Result<(), FieldIssue> {
        match self.issues(values).into_iter().next() {
            Some(first) => Err(first),
            None => Ok(()),
        }
    }

    /// What is wrong with one value, if anything: empty where required, or not fitting.
    pub fn value_issue(&self, field: &Field, raw: &str) -> Option<String> {
        if raw.trim().is_empty() {
            return field.required.then(|| "required: fill it in".to_string());
        }
        self.canonical(field, raw).err()
    }

    fn group_issues(
        &self,
        field: &Field,
        group: &Group,
        values: &FormValues,
        out: &mut Vec<FieldIssue>,
    ) {
        let rows = values.groups.get(&field.id).map_or(&[][..], Vec::as_slice);
        let at_least = group.min_rows.max(u32::from(field.required)) as usize;
        if rows.len() < at_least {
            out.push(issue(
                FieldPath::Field(field.id.clone()),
                &format!(
                    "add at least {at_least} row{}",
                    if at_least == 1 { "" } else { "s" }
                ),
            ));
        }
        if rows.len() > group.max_rows as usize {
            out.push(issue(
                FieldPath::Field(field.id.clone()),
                &format!("at most {} rows", group.max_rows),
            ));
        }
        for (r, row) in rows.iter().enumerate() {
            for id in row.keys() {
                if !group.columns.iter().any(|c| &c.id == id) {
                    out.push(issue(
                        self.cell(field, r, id),
                        "this group has no such column",
                    ));
                }
            }
            for col in &group.columns {
                if !self.is_relevant(col, values, Some((group, &field.id, r))) {
                    continue;
                }
                let raw = row.get(&col.id).map_or("", String::as_str);
                if let Some(message) = self.value_issue(col, raw) {
                    out.push(issue(self.cell(field, r, &col.id), &message));
                }
            }
        }
    }

    fn cell(&self, group: &Field, row: usize, column: &str) -> FieldPath {
        FieldPath::Cell {
            group: group.id.clone(),
            row,
            column: column.to_string(),
        }
    }

    /// Totals that `total` (a valid value) must match: checked only when every cell the
    /// sum needs reads as a number (bad cells are reported on their own).
    fn total_issues(&self, total: &Field, values: &FormValues, out: &mut Vec<FieldIssue>) {
        let Some(stated) = self.amount_of(total, values.get(&FieldPath::Field(total.id.clone())))
        else {
            return;
        };
        for field in &self.fields {
            let FieldKind::Group(group) = &field.kind else {
                continue;
            };
            let Some(check) = group.total.as_ref().filter(|t| t.equals == total.id) else {
                continue;
            };
            if !self.is_relevant(field, values, None) {
                continue;
            }
            let Some(sum) = self.group_sum(field, group, &check.sum, values) else {
                continue;
            };
            let diff = sum.sub(&stated);
            if diff.abs() > check.tolerance {
                let side = if sum > stated { "more" } else { "less" };
                out.push(issue(
                    FieldPath::Field(total.id.clone()),
                    &format!(
                        "{} add up to {sum}, {side} than the total {stated}",
                        field.label.to_lowercase()
                    ),
                ));
            }
        }
    }

    /// The sum over the rows of one column or of a product of columns; None when a cell
    /// it needs is empty or not a number.
    fn group_sum(
        &self,
        field: &Field,
        group: &Group,
        terms: &[String],
        values: &FormValues,
    ) -> Option<Decimal> {
        let mut sum = Decimal::from_int(0);
        for r in 0..values.row_count(&field.id) {
            let mut product = Decimal::from_int(1);
            for term in terms {
                let col = group.columns.iter().find(|c| &c.id == term)?;
                let raw = values.get(&self.cell(field, r, term));
                product = product.mul(&self.amount_of(col, raw)?)?;
            }
            sum = sum.add(&product);
        }
        Some(sum)
    }

    /// A numeric or money value as a number (the amount of money, whatever its currency).
    fn amount_of(&self, field: &Field, raw: &str) -> Option<Decimal> {
        if raw.trim().is_empty() {
            return None;
        }
        let canonical = self.canonical(field, raw).ok()?;
        match field.kind {
            FieldKind::Money { .. } => Decimal::parse(canonical.split_once(' ')?.1),
            FieldKind::Integer | FieldKind::Decimal => Decimal::parse(&canonical),
            _ => None,
        }
    }

    /// The form in which an answer is stored and resends are compared: relevant values
    /// only, trimmed with inner whitespace collapsed, choices in option order, empty rows
    /// dropped. Applying it twice changes nothing.
    pub fn normalise(&self, values: &FormValues) -> FormValues {
        let mut out = FormValues::default();
        for field in &self.fields {
            if !self.is_relevant(field, values, None) {
                continue;
            }
            match &field.kind {
                FieldKind::Group(group) => {
                    let mut rows = Vec::new();
                    for (r, row) in values
                        .groups
                        .get(&field.id)
                        .into_iter()
                        .flatten()
                        .enumerate()
                    {
                        let mut kept = BTreeMap::new();
                        for (id, raw) in row {
                            let col = group.columns.iter().find(|c| &c.id == id);
                            let relevant = col.is_none_or(|c| {
                                self.is_relevant(c, values, Some((group, &field.id, r)))
                            });
                            let value = kept_value(self, col, raw);
                            if relevant && !value.is_empty() {
                                kept.insert(id.clone(), value);
                            }
                        }
                        if !kept.is_empty() {
                            rows.push(kept);
                        }
                    }
                    if !rows.is_empty() {
                        out.groups.insert(field.id.clone(), rows);
                    }
                }
                _ => {
                    let value = kept_value(
                        self,
                        Some(field),
                        values.get(&FieldPath::Field(field.id.clone())),
                    );
                    if !value.is_empty() {
                        out.fields.insert(field.id.clone(), value);
                    }
                }
            }
        }
        // Values the form does not know (an answer stored before a field was removed)
        // are kept as they are, like labels a project no longer has.
        for (id, v) in &values.fields {
            if self.field(id).is_none() {
                out.fields.insert(id.clone(), v.clone());
            }
        }
        for (id, rows) in &values.groups {
            if self.field(id).is_none() {
                out.groups.insert(id.clone(), rows.clone());
            }
        }
        out
    }

    /// Every relevant value by its path (`vendor`, `items[2].qty`) mapped by `each`
    /// (canonical for export, comparison key for double entry); values that do not
    /// read keep their trimmed text, so nothing entered is lost.
    fn by_path(
        &self,
        values: &FormValues,
        each: impl Fn(&Field, &str) -> Result<String, String>,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for field in &self.fields {
            if !self.is_relevant(field, values, None) {
                continue;
            }
            match &field.kind {
                FieldKind::Group(group) => {
                    for r in 0..values.row_count(&field.id) {
                        for col in &group.columns {
                            let path = self.cell(field, r, &col.id);
                            let raw = values.get(&path);
                            if !raw.trim().is_empty()
                                && self.is_relevant(col, values, Some((group, &field.id, r)))
                            {
                                out.insert(
                                    path.to_string(),
                                    each(col, raw).unwrap_or_else(|_| collapse(raw)),
                                );
                            }
                        }
                    }
                }
                _ => {
                    let raw = values.get(&FieldPath::Field(field.id.clone()));
                    if !raw.trim().is_empty() {
                        out.insert(
                            field.id.clone(),
                            each(field, raw).unwrap_or_else(|_| collapse(raw)),
                        );
                    }
                }
            }
        }
        out
    }

    /// Canonical values by path: what an export shows.
    pub fn canonical_values(&self, values: &FormValues) -> BTreeMap<String, String> {
        self.by_path(values, |f, raw| self.canonical(f, raw))
    }

    /// Comparison keys by path: what double entry votes on, field by field.
    pub fn comparison_keys(&self, values: &FormValues) -> BTreeMap<String, String> {
        self.by_path(values, |f, raw| self.comparison_key(f, raw))
    }

    /// Every path a form with these values has, in the order the worker meets them
    /// (so an export's columns and a comparison's rows follow the form).
    pub fn paths(&self, values: &FormValues) -> Vec<FieldPath> {
        let mut out = Vec::new();
        for field in &self.fields {
            match &field.kind {
                FieldKind::Group(group) => {
                    for r in 0..values.row_count(&field.id) {
                        out.extend(group.columns.iter().map(|c| self.cell(field, r, &c.id)));
                    }
                }
                _ => out.push(FieldPath::Field(field.id.clone())),
            }
        }
        out
    }
}

/// A value as stored: choices in option order, other values whitespace-collapsed.
fn kept_value(form: &Form, field: Option<&Field>, raw: &str) -> String {
    match field.map(|f| &f.kind) {
        Some(FieldKind::Choices { .. }) => field
            .and_then(|f| form.canonical(f, raw).ok())
            .unwrap_or_else(|| collapse(raw)),
        _ => collapse(raw),
    }
}

impl Form {
    /// A date (ISO) within the field's `min` and `max`, said in the form's own format.
    fn date_in_range(&self, field: &Field, iso: &str) -> Result<(), String> {
        let shown = |d: &str| {
            self.date_format
                .write_iso(d)
                .unwrap_or_else(|| d.to_string())
        };
        if let Some(min) = &field.min_date
            && iso < min.as_str()
        {
            return Err(format!("must be {} or later", shown(min)));
        }
        if let Some(max) = &field.max_date
            && iso > max.as_str()
        {
            return Err(format!("must be {} or earlier", shown(max)));
        }
        Ok(())
    }
}

fn in_range(field: &Field, n: &Decimal) -> Result<(), String> {
    if let Some(min) = &field.min
        && n < min
    {
        return Err(format!("must be at least {min}"));
    }
    if let Some(max) = &field.max
        && n > max
    {
        return Err(format!("must be at most {max}"));
    }
    Ok(())
}

/// A `choices` value in its normal form: the picked option ids in the form's order,
/// joined by `|`, whatever order they were picked in.
pub fn join_choices(options: &[super::FieldOption], picked: &[&str]) -> String {
    options
        .iter()
        .filter(|o| picked.contains(&o.id.as_str()))
        .map(|o| o.id.as_str())
        .collect::<Vec<_>>()
        .join("|")
}

fn option_keys(options: &[super::FieldOption]) -> String {
    options
        .iter()
        .map(|o| format!("{} {}", o.key, o.label))
        .collect::<Vec<_>>()
        .join(", ")
}

fn issue(path: FieldPath, message: &str) -> FieldIssue {
    FieldIssue {
        path,
        message: message.to_string(),
    }
}

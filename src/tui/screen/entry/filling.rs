//! One form being filled in: the values as typed, where the cursor is (a field path and
//! a caret in its text), which places are shown (skip logic, rows), and each place's
//! problem as typed. Pure: the screen turns keys into these calls.

use std::collections::BTreeMap;

use crate::model::Task;
use crate::model::form::{Field, FieldKind, FieldPath, Form, FormValues, Group};

/// The form of one task as the worker fills it in.
#[derive(Debug, Clone, PartialEq)]
pub struct Filling {
    pub task: Task,
    pub values: FormValues,
    /// The place the cursor is on; always one of `places`.
    pub at: FieldPath,
    /// Caret in the value at `at`, in characters.
    pub caret: usize,
    /// Places the worker can be on, in order: fields, cells of rows, and a group with
    /// no rows (where a row can be added).
    pub places: Vec<FieldPath>,
    /// What is wrong at each place now, as the form says it.
    pub issues: BTreeMap<FieldPath, String>,
    /// A submit was refused: empty required places are marked too from now on.
    pub tried: bool,
}

/// What a typed character did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    /// The value changed: save the draft.
    Changed,
    /// Nothing changed; the text says why (a key that is not an option's).
    Refused(String),
}

impl Filling {
    /// A fresh form: defaults filled in, required groups with their first rows.
    pub fn new(task: Task, form: &Form) -> Filling {
        let mut values = form.defaults();
        for f in &form.fields {
            if let FieldKind::Group(g) = &f.kind {
                let rows = g.min_rows.max(u32::from(f.required)).max(1) as usize;
                values
                    .groups
                    .insert(f.id.clone(), vec![BTreeMap::new(); rows]);
            }
        }
        Filling::with_values(task, form, values)
    }

    /// The form with `values` (a draft or an answer taken back), the cursor where the
    /// draft says or on the first place.
    pub fn with_values(task: Task, form: &Form, mut values: FormValues) -> Filling {
        let cursor = values.cursor.take().and_then(|c| FieldPath::parse(&c));
        let mut filling = Filling {
            task,
            values,
            at: FieldPath::Field(String::new()),
            caret: 0,
            places: Vec::new(),
            issues: BTreeMap::new(),
            tried: false,
        };
        filling.refresh(form, 0);
        if let Some(at) = cursor.filter(|c| filling.places.contains(c)) {
            filling.go(at);
        }
        filling
    }

    /// The draft to keep: the values and where the cursor is.
    pub fn draft(&self) -> FormValues {
        let mut v = self.values.clone();
        v.cursor = Some(self.at.to_string());
        v
    }

    /// Recompute places and issues after a change; the cursor stays on its place, or
    /// takes the place at `fallback` when its own went away (a field hidden, a row
    /// removed).
    fn refresh(&mut self, form: &Form, fallback: usize) {
        self.places = places(form, &self.values);
        self.issues = form
            .issues(&self.values)
            .into_iter()
            .map(|i| (i.path, i.message))
            .rev() // the first issue of a place wins
            .collect();
        if !self.places.contains(&self.at) {
            let i = fallback.min(self.places.len().saturating_sub(1));
            if let Some(p) = self.places.get(i).cloned() {
                self.go(p);
            }
        }
    }

    fn index(&self) -> usize {
        self.places.iter().position(|p| *p == self.at).unwrap_or(0)
    }

    fn go(&mut self, at: FieldPath) {
        self.caret = self.values.get(&at).chars().count();
        self.at = at;
    }

    pub fn next(&mut self) {
        let i = self.index() + 1;
        if let Some(p) = self.places.get(i).cloned() {
            self.go(p);
        }
    }

    pub fn prev(&mut self) {
        if let Some(i) = self.index().checked_sub(1)
            && let Some(p) = self.places.get(i).cloned()
        {
            self.go(p);
        }
    }

    /// Whether the cursor is on the last place (enter there means "done").
    pub fn at_last(&self) -> bool {
        self.index() + 1 >= self.places.len()
    }

    /// Go to the place of an issue: a field or cell, or the first place of a group.
    pub fn go_to_issue(&mut self, path: &FieldPath) {
        let target = if self.places.contains(path) {
            Some(path.clone())
        } else {
            let group = match path {
                FieldPath::Field(id) | FieldPath::Cell { group: id, .. } => id,
            };
            self.places
                .iter()
                .find(|p| match p {
                    FieldPath::Cell { group: g, .. } | FieldPath::Field(g) => g == group,
                })
                .cloned()
        };
        if let Some(t) = target {
            self.go(t);
        }
    }

    /// The field at the cursor (a group for a group without rows).
    pub fn field<'f>(&self, form: &'f Form) -> Option<&'f Field> {
        field_at(form, &self.at)
    }

    /// A printable key on the current place: typed into text, or an option's key.
    pub fn type_char(&mut self, form: &Form, c: char) -> Typed {
        let Some(field) = self.field(form) else {
            return Typed::Refused("no field here".into());
        };
        let value = match &field.kind {
            FieldKind::Choice { options } => match options.iter().find(|o| o.key == c) {
                Some(o) => o.id.clone(),
                None => return Typed::Refused(format!("press one of: {}", option_list(options))),
            },
            FieldKind::Choices { options } => match options.iter().find(|o| o.key == c) {
                Some(o) => toggle(self.values.get(&self.at), &o.id, options),
                None => return Typed::Refused(format!("press one of: {}", option_list(options))),
            },
            FieldKind::YesNo => match c.to_ascii_lowercase() {
                'y' => "yes".to_string(),
                'n' => "no".to_string(),
                _ => return Typed::Refused("press y for yes or n for no".into()),
            },
            FieldKind::Group(_) => {
                return Typed::Refused("this table has no rows yet: add one first".into());
            }
            _ => {
                let mut chars: Vec<char> = self.values.get(&self.at).chars().collect();
                let at = self.caret.min(chars.len());
                chars.insert(at, c);
                self.caret = at + 1;
                let text: String = chars.into_iter().collect();
                return self.set(form, text);
            }
        };
        self.set(form, value)
    }

    /// Backspace: the character before the caret, or a whole chosen option.
    pub fn backspace(&mut self, form: &Form) -> Typed {
        let Some(field) = self.field(form) else {
            return Typed::Refused("no field here".into());
        };
        let current = self.values.get(&self.at).to_string();
        if current.is_empty() {
            return Typed::Refused(String::new());
        }
        if is_picked(field) {
            return self.set(form, String::new());
        }
        let mut chars: Vec<char> = current.chars().collect();
        let Some(at) = self.caret.min(chars.len()).checked_sub(1) else {
            return Typed::Refused(String::new());
        };
        chars.remove(at);
        self.caret = at;
        self.set(form, chars.into_iter().collect())
    }

    /// Delete: the character under the caret.
    pub fn delete(&mut self, form: &Form) -> Typed {
        let mut chars: Vec<char> = self.values.get(&self.at).chars().collect();
        if self.caret >= chars.len() {
            return Typed::Refused(String::new());
        }
        chars.remove(self.caret);
        self.set(form, chars.into_iter().collect())
    }

    pub fn caret_left(&mut self) {
        self.caret = self.caret.saturating_sub(1);
    }

    pub fn caret_right(&mut self) {
        let len = self.values.get(&self.at).chars().count();
        self.caret = (self.caret + 1).min(len);
    }

    pub fn caret_home(&mut self) {
        self.caret = 0;
    }

    pub fn caret_end(&mut self) {
        self.caret = self.values.get(&self.at).chars().count();
    }

    fn set(&mut self, form: &Form, value: String) -> Typed {
        let fallback = self.index();
        let caret = self.caret;
        self.values.set(&self.at, value);
        self.refresh(form, fallback);
        self.caret = caret.min(self.values.get(&self.at).chars().count());
        Typed::Changed
    }

    /// Add a row below the cursor's row (or the first row), and go to its first cell.
    pub fn add_row(&mut self, form: &Form) -> Result<(), String> {
        let (group_id, row) = match &self.at {
            FieldPath::Cell { group, row, .. } => (group.clone(), row + 1),
            FieldPath::Field(id)
                if matches!(form.field(id).map(|f| &f.kind), Some(FieldKind::Group(_))) =>
            {
                (id.clone(), 0)
            }
            _ => return Err("go to a table (line items) to add a row".into()),
        };
        let Some(group) = group_of(form, &group_id) else {
            return Err("go to a table (line items) to add a row".into());
        };
        let rows = self.values.groups.entry(group_id.clone()).or_default();
        if rows.len() >= group.max_rows as usize {
            return Err(format!("this table takes at most {} rows", group.max_rows));
        }
        rows.insert(row.min(rows.len()), BTreeMap::new());
        self.refresh(form, self.index());
        let first = self.places.iter().find(|p| {
            matches!(p, FieldPath::Cell { group, row: r, .. } if *group == group_id && *r == row)
        });
        if let Some(p) = first.cloned() {
            self.go(p);
        }
        Ok(())
    }

    /// Remove the cursor's row; the cursor goes to the same column of the row that
    /// takes its place (the one before, for the last row), or to the empty table.
    pub fn remove_row(&mut self, form: &Form) -> Result<(), String> {
        let FieldPath::Cell { group, row, column } = self.at.clone() else {
            return Err("go to a table row to remove it".into());
        };
        let fallback = self.index();
        let left = match self.values.groups.get_mut(&group) {
            Some(rows) if row < rows.len() => {
                rows.remove(row);
                rows.len()
            }
            _ => return Err("go to a table row to remove it".into()),
        };
        self.at = match left {
            0 => FieldPath::Field(group),
            n => FieldPath::Cell {
                group,
                row: row.min(n - 1),
                column,
            },
        };
        self.refresh(form, fallback);
        let at = self.at.clone();
        self.go(at);
        Ok(())
    }

    /// The problem to show at `path`: always for a value typed, and for empty required
    /// places once a submit was refused.
    pub fn shown_issue(&self, path: &FieldPath) -> Option<&str> {
        let issue = self.issues.get(path)?;
        let typed = !self.values.get(path).trim().is_empty();
        (typed || self.tried).then_some(issue.as_str())
    }
}

/// Every place the worker can be on, in form order: relevant fields, the relevant cells
/// of each row of a relevant group, or the group itself while it has no rows.
pub fn places(form: &Form, values: &FormValues) -> Vec<FieldPath> {
    let mut out = Vec::new();
    for field in &form.fields {
        if !form.is_relevant(field, values, None) {
            continue;
        }
        let FieldKind::Group(group) = &field.kind else {
            out.push(FieldPath::Field(field.id.clone()));
            continue;
        };
        let rows = values.row_count(&field.id);
        if rows == 0 {
            out.push(FieldPath::Field(field.id.clone()));
        }
        for row in 0..rows {
            for col in &group.columns {
                if form.is_relevant(col, values, Some((group, &field.id, row))) {
                    out.push(FieldPath::Cell {
                        group: field.id.clone(),
                        row,
                        column: col.id.clone(),
                    });
                }
            }
        }
    }
    out
}

/// The field a path names: a form field, or a group's column.
pub fn field_at<'f>(form: &'f Form, path: &FieldPath) -> Option<&'f Field> {
    match path {
        FieldPath::Field(id) => form.field(id),
        FieldPath::Cell { group, column, .. } => group_of(form, group)?
            .columns
            .iter()
            .find(|c| &c.id == column),
    }
}

pub fn group_of<'f>(form: &'f Form, id: &str) -> Option<&'f Group> {
    match &form.field(id)?.kind {
        FieldKind::Group(g) => Some(g),
        _ => None,
    }
}

/// Whether a field's value is picked by keys (options, yes/no) rather than typed.
pub fn is_picked(field: &Field) -> bool {
    matches!(
        field.kind,
        FieldKind::Choice { .. } | FieldKind::Choices { .. } | FieldKind::YesNo
    )
}

fn toggle(current: &str, id: &str, options: &[crate::model::form::FieldOption]) -> String {
    let mut picked: Vec<&str> = current.split('|').filter(|s| !s.is_empty()).collect();
    match picked.iter().position(|p| *p == id) {
        Some(i) => {
            picked.remove(i);
        }
        None => picked.push(id),
    }
    crate::model::form::join_choices(options, &picked)
}

/// `r Receipt, i Invoice`: an option list for messages and hints.
pub fn option_list(options: &[crate::model::form::FieldOption]) -> String {
    options
        .iter()
        .map(|o| format!("{} {}", o.key, o.label))
        .collect::<Vec<_>>()
        .join(", ")
}

//! Training: a project's exam rule (tasks per attempt, the pass mark, the wait before a
//! retry) as the project file's `[exam]` table sets it, and the exam draw. Lessons and
//! exam tasks themselves are task rows with gold, imported beside the project's tasks.

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// Most tasks one exam attempt may draw: an exam is a short check, not a shift.
pub const MAX_EXAM_SIZE: i64 = 100;
/// The longest wait before a failed exam may be taken again.
pub const MAX_RETRY_SECS: u64 = 30 * 86_400;

/// How a project's exam is taken and passed. Times are server times.
// Every field has a default so a schema from a server one version apart (an exam table
// of another shape) still reads: a client never fails a whole sync over it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExamRule {
    /// Tasks drawn from the exam pool for one attempt.
    pub size: u32,
    /// Correct answers needed to pass, at most `size`.
    pub pass_mark: u32,
    /// Seconds after a failed attempt before the next may be drawn.
    pub retry_secs: u64,
}

impl ExamRule {
    pub fn passed(&self, correct: u32) -> bool {
        correct >= self.pass_mark
    }
}

/// The `[exam]` table of a project file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExamFile {
    size: Spanned<i64>,
    pass_mark: Spanned<i64>,
    #[serde(default)]
    retry_after: Option<Spanned<String>>,
}

/// Check an `[exam]` table: the rule, or the byte offset and message of what is wrong.
pub(super) fn exam_from_file(file: &ExamFile) -> Result<ExamRule, (usize, String)> {
    let size = *file.size.get_ref();
    if !(1..=MAX_EXAM_SIZE).contains(&size) {
        return Err((
            file.size.span().start,
            format!("exam size must be between 1 and {MAX_EXAM_SIZE} tasks, got {size}"),
        ));
    }
    let pass_mark = *file.pass_mark.get_ref();
    if !(1..=size).contains(&pass_mark) {
        return Err((
            file.pass_mark.span().start,
            format!(
                "pass_mark is the number of correct answers needed: from 1 to the exam size ({size}), got {pass_mark}"
            ),
        ));
    }
    let retry_secs = match &file.retry_after {
        None => 0,
        Some(text) => super::parse_duration_secs(text.get_ref())
            .filter(|&s| s <= MAX_RETRY_SECS)
            .ok_or_else(|| {
                (
                    text.span().start,
                    format!(
                        "retry_after '{}' must be at most 30 days; write e.g. \"0\", \"30m\" or \"1d\"",
                        super::sanitize_line(text.get_ref())
                    ),
                )
            })?,
    };
    Ok(ExamRule {
        size: size as u32,
        pass_mark: pass_mark as u32,
        retry_secs,
    })
}

/// Draw `size` of the exam pool `pool` (item ids) for one attempt. Items drawn for this
/// worker before (`drawn`: how many times each was) come last, so with a pool of at
/// least twice the size an attempt shares no task with the one before. `random` gives
/// the tie-break among items drawn equally often; the draw is in pool order otherwise
/// fixed by it, so a test can give its own numbers.
pub fn draw_exam(
    pool: &[i64],
    drawn: &std::collections::HashMap<i64, u32>,
    size: usize,
    random: &mut dyn FnMut() -> u64,
) -> Vec<i64> {
    let mut keyed: Vec<(u32, u64, i64)> = pool
        .iter()
        .map(|&item| (drawn.get(&item).copied().unwrap_or(0), random(), item))
        .collect();
    keyed.sort_unstable();
    keyed
        .into_iter()
        .take(size)
        .map(|(_, _, item)| item)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn counter() -> impl FnMut() -> u64 {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    #[test]
    fn a_retry_draws_tasks_not_drawn_before() {
        let pool: Vec<i64> = (1..=20).collect();
        let mut random = counter();
        let first = draw_exam(&pool, &HashMap::new(), 10, &mut random);
        assert_eq!(first.len(), 10);
        let mut drawn = HashMap::new();
        for &i in &first {
            *drawn.entry(i).or_insert(0) += 1;
        }
        let second = draw_exam(&pool, &drawn, 10, &mut random);
        assert!(
            second.iter().all(|i| !first.contains(i)),
            "{first:?} {second:?}"
        );
        // A pool smaller than twice the size still gives a full attempt, and every task
        // not drawn before is in it.
        let mut small = first.clone();
        small.extend([101, 102]);
        let again = draw_exam(&small, &drawn, 10, &mut random);
        assert_eq!(again.len(), 10);
        assert!(again.contains(&101) && again.contains(&102), "{again:?}");
    }

    #[test]
    fn the_draw_is_shuffled() {
        let pool: Vec<i64> = (1..=20).collect();
        let mut random = counter();
        let a = draw_exam(&pool, &HashMap::new(), 10, &mut random);
        assert_ne!(a, (1..=10).collect::<Vec<_>>(), "not simply the first ten");
    }

    const PROJECT: &str = r#"name = "p"
title = "P"
kind = "classify"
requires_qualification = true

[[labels]]
id = "a"
name = "A"
key = "1"

[exam]
size = 10
pass_mark = 8
retry_after = "30m"
"#;

    #[test]
    fn the_exam_table_is_read_and_checked() {
        use crate::model::Project;
        let p = Project::from_toml("p.toml", PROJECT).unwrap();
        assert!(p.requires_qualification);
        let rule = p.exam.unwrap();
        assert_eq!((rule.size, rule.pass_mark, rule.retry_secs), (10, 8, 1800));
        assert!(rule.passed(8) && !rule.passed(7));

        let e = Project::from_toml(
            "p.toml",
            &PROJECT.replace("pass_mark = 8", "pass_mark = 11"),
        )
        .unwrap_err();
        assert_eq!(e.line, 13, "{e}");
        assert!(e.message.contains("from 1 to the exam size (10)"), "{e}");
        let e = Project::from_toml("p.toml", &PROJECT.replace("\"30m\"", "\"soon\"")).unwrap_err();
        assert_eq!(e.line, 14, "{e}");
        let cut = PROJECT.split("[exam]").next().unwrap();
        let e = Project::from_toml("p.toml", cut).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("needs an [exam] table"), "{e}");
        let e = Project::from_toml(
            "p.toml",
            &PROJECT.replace("size = 10", "size = 10\nsizes = 3"),
        )
        .unwrap_err();
        assert!(e.message.contains("sizes"), "{e}");
    }

    #[test]
    fn a_project_without_training_keeps_its_schema() {
        use crate::model::Project;
        let cut = PROJECT
            .split("[exam]")
            .next()
            .unwrap()
            .replace("requires_qualification = true\n", "");
        let p = Project::from_toml("p.toml", &cut).unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert!(
            !json.contains("exam") && !json.contains("requires"),
            "{json}"
        );
    }
}

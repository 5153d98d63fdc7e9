//! What updating a project with `project add` would do to the answers it already has:
//! removing a label that answers use, or switching between one and several labels per
//! answer, changes what those answers mean. Such changes need `--force`.

use std::collections::BTreeSet;

use super::AdminError;
use crate::model::{AnswerValue, Project};
use crate::server::store::Store;

/// The changes from `old` to `new` that the answers given so far would not survive
/// unchanged, in words for the admin. `used` are the label ids answers use, `most` the
/// most labels any one answer holds.
pub(super) fn risky_changes(
    old: &Project,
    new: &Project,
    used: &BTreeSet<String>,
    most: usize,
) -> Vec<String> {
    let mut changes = Vec::new();
    let removed: Vec<&str> = old
        .labels
        .iter()
        .filter(|l| used.contains(&l.id) && !new.labels.iter().any(|n| n.id == l.id))
        .map(|l| l.id.as_str())
        .collect();
    if !removed.is_empty() {
        changes.push(format!(
            "removes label(s) {} that answers already use",
            removed.join(", ")
        ));
    }
    if !used.is_empty() && !old.multi_label && new.multi_label {
        changes.push("switches to several labels per answer while answers hold one".to_string());
    }
    if old.multi_label && !new.multi_label && most > 1 {
        changes.push("switches to one label per answer while answers hold several".to_string());
    }
    changes
}

/// Refuse an update that would change what existing answers mean, unless `force`.
pub(super) fn check_update(
    store: &dyn Store,
    project: &Project,
    force: bool,
) -> Result<(), AdminError> {
    if force {
        return Ok(());
    }
    let Some(old) = store.project(&project.name)? else {
        return Ok(());
    };
    let (mut used, mut most) = (BTreeSet::new(), 0);
    store.export(&project.name, &mut |task| {
        for answer in task.answers {
            if let AnswerValue::Labels(ids) = answer.value {
                most = most.max(ids.len());
                used.extend(ids);
            }
        }
        Ok(())
    })?;
    let changes = risky_changes(&old, project, &used, most);
    if changes.is_empty() {
        return Ok(());
    }
    Err(AdminError::RiskyUpdate {
        project: project.name.clone(),
        changes: changes.join("; "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(multi: bool, labels: &[&str]) -> Project {
        let mut toml =
            format!("name = \"p\"\ntitle = \"P\"\nkind = \"classify\"\nmulti_label = {multi}\n");
        for (i, id) in labels.iter().enumerate() {
            toml.push_str(&format!(
                "[[labels]]\nid = \"{id}\"\nname = \"{id}\"\nkey = \"{}\"\n",
                i + 1
            ));
        }
        Project::from_toml("p.toml", &toml).unwrap()
    }

    #[test]
    fn removing_an_answered_label_or_switching_kind_is_risky() {
        let used: BTreeSet<String> = ["a".to_string()].into();
        let old = project(false, &["a", "b", "c"]);
        // Removing a label nobody used, renaming, adding: safe.
        assert!(risky_changes(&old, &project(false, &["a", "b"]), &used, 1).is_empty());
        assert!(risky_changes(&old, &project(false, &["a", "b", "c", "d"]), &used, 1).is_empty());
        assert_eq!(
            risky_changes(&old, &project(false, &["b", "c"]), &used, 1),
            ["removes label(s) a that answers already use"]
        );
        assert_eq!(
            risky_changes(&old, &project(true, &["a", "b", "c"]), &used, 1),
            ["switches to several labels per answer while answers hold one"]
        );
        // Back to one label: risky only when some answer holds several.
        let multi = project(true, &["a", "b", "c"]);
        assert!(risky_changes(&multi, &old, &used, 1).is_empty());
        assert_eq!(
            risky_changes(&multi, &old, &used, 2),
            ["switches to one label per answer while answers hold several"]
        );
        // Without answers anything goes.
        assert!(risky_changes(&old, &project(true, &["x"]), &BTreeSet::new(), 0).is_empty());
    }
}

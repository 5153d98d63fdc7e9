//! The checks every imported task passes, whatever its format: a usable id and text, a
//! suggestion and gold the project knows, and answers from another tool that fit it.

use super::interchange::SourceTask;
use crate::model::transcript::Transcript;
use crate::model::{AnswerValue, Project, TaskKind, sanitize_line};
use crate::server::store::{NewTask, PriorAnswer};

/// Longest task text accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Longest task id accepted, in characters.
const MAX_ID_CHARS: usize = 128;
/// Longest annotator name accepted from another tool, in characters.
const MAX_ANNOTATOR_CHARS: usize = 128;

pub(super) fn label_list(project: &Project) -> String {
    project
        .labels
        .iter()
        .map(|l| l.id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Check a task read from another tool's file like any other record.
pub(super) fn check_source(project: &Project, source: SourceTask) -> Result<NewTask, String> {
    check_task(
        project,
        source.id,
        source.text,
        source.suggestion,
        source.gold,
        source.prior,
    )
}

/// Check one record against the project; the error says what is wrong.
pub(super) fn check_task(
    project: &Project,
    id: String,
    text: String,
    suggestion: Option<String>,
    gold: Option<Vec<String>>,
    prior: Vec<PriorAnswer>,
) -> Result<NewTask, String> {
    let id = id.trim().to_string();
    if id.is_empty() {
        return Err("task id is empty".into());
    }
    if id.chars().count() > MAX_ID_CHARS || id.chars().any(char::is_control) {
        return Err(format!(
            "task id '{}' must be at most {MAX_ID_CHARS} characters without control characters",
            sanitize_line(&id)
        ));
    }
    // A transcribe task's text is an optional note: the clip is the task.
    if text.trim().is_empty() && project.kind != TaskKind::Transcribe {
        return Err(format!("task '{}' has empty text", sanitize_line(&id)));
    }
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(format!(
            "task '{}' text has {chars} characters; at most {MAX_TEXT_CHARS} are allowed",
            sanitize_line(&id)
        ));
    }
    let suggestion = suggestion.filter(|s| !s.is_empty());
    if project.kind == TaskKind::Transcribe {
        return check_transcribe_task(project, id, text, suggestion, gold, prior);
    }
    if let Some(s) = &suggestion
        && project.label(s).is_none()
    {
        return Err(format!(
            "unknown label '{}' in suggestion; labels are: {}",
            sanitize_line(s),
            label_list(project)
        ));
    }
    // An entry task's gold is a form, checked where it is read (`gold_of_json`).
    if let Some(gold) = gold.as_ref().filter(|_| project.form.is_none()) {
        if let Some(unknown) = gold.iter().find(|g| project.label(g).is_none()) {
            return Err(format!(
                "unknown label '{}' in gold; labels are: {}",
                sanitize_line(unknown),
                label_list(project)
            ));
        }
        project
            .validate(&AnswerValue::Labels(gold.clone()))
            .map_err(|e| format!("gold does not fit the project: {e}"))?;
    }
    let prior = prior
        .into_iter()
        .map(|answer| check_prior_answer(project, &id, answer))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(NewTask {
        id,
        text,
        suggestion,
        gold,
        prior,
        clip: None,
    })
}

/// A transcribe task: its machine draft and gold transcript must fit the project's
/// transcript rules (length, tags), so no worker is handed a draft they cannot send.
fn check_transcribe_task(
    project: &Project,
    id: String,
    text: String,
    draft: Option<String>,
    gold: Option<Vec<String>>,
    prior: Vec<PriorAnswer>,
) -> Result<NewTask, String> {
    let fits = |what: &str, t: &str| {
        project
            .validate(&AnswerValue::Transcript(Transcript::new(t)))
            .map_err(|e| format!("the {what} does not fit the project: {e}"))
    };
    if let Some(d) = &draft {
        fits("draft", d)?;
    }
    match gold.as_deref() {
        None => {}
        Some([one]) => fits("gold transcript", one)?,
        Some(_) => return Err("gold must be one transcript".into()),
    }
    if !prior.is_empty() {
        return Err("answers from another tool are not taken for transcribe projects".into());
    }
    Ok(NewTask {
        id,
        text,
        suggestion: draft,
        gold,
        prior,
        clip: None,
    })
}

/// An answer from another tool: a usable annotator name and a value that fits the
/// project, stored in normal form so it votes with Kazi's answers.
fn check_prior_answer(
    project: &Project,
    task: &str,
    answer: PriorAnswer,
) -> Result<PriorAnswer, String> {
    let annotator = answer.annotator.trim().to_string();
    if annotator.is_empty()
        || annotator.chars().count() > MAX_ANNOTATOR_CHARS
        || annotator.chars().any(char::is_control)
    {
        return Err(format!(
            "annotator '{}' of task '{}' must be 1-{MAX_ANNOTATOR_CHARS} characters without \
             control characters",
            sanitize_line(&annotator),
            sanitize_line(task)
        ));
    }
    project.validate(&answer.value).map_err(|e| {
        format!(
            "the answer of '{}' to task '{}' does not fit the project: {e}",
            sanitize_line(&annotator),
            sanitize_line(task)
        )
    })?;
    Ok(PriorAnswer {
        annotator,
        value: project.normalise(&answer.value),
        at: answer.at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> Project {
        Project::from_toml(
            "t.toml",
            "name = \"p\"\ntitle = \"P\"\nkind = \"classify\"\n\
             [[labels]]\nid = \"food\"\nname = \"Food\"\nkey = \"1\"\n\
             [[labels]]\nid = \"toys\"\nname = \"Toys\"\nkey = \"2\"\n",
        )
        .unwrap()
    }

    #[test]
    fn checks_records() {
        let p = project();
        let ok = check_task(
            &p,
            " a1 ".into(),
            "Rice".into(),
            Some("food".into()),
            None,
            vec![],
        )
        .unwrap();
        assert_eq!(ok.id, "a1");
        let e = check_task(
            &p,
            "a".into(),
            "x".into(),
            None,
            Some(vec!["fod".into()]),
            vec![],
        );
        assert_eq!(
            e.unwrap_err(),
            "unknown label 'fod' in gold; labels are: food, toys"
        );
        let e = check_task(&p, "a".into(), "  ".into(), None, None, vec![]).unwrap_err();
        assert!(e.contains("empty text"), "{e}");
        let e = check_task(
            &p,
            "a".into(),
            "x".repeat(MAX_TEXT_CHARS + 1),
            None,
            None,
            vec![],
        );
        assert!(e.unwrap_err().contains("at most 20000"));
        let two = Some(vec!["food".into(), "toys".into()]);
        let e = check_task(&p, "a".into(), "x".into(), None, two, vec![]).unwrap_err();
        assert!(e.contains("takes one label"), "{e}");
    }
}

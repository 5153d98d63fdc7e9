//! The checks every imported task passes, whatever its format: a usable id and text, a
//! suggestion and gold the project knows, and answers from another tool that fit it.

use super::interchange::SourceTask;
use crate::model::gold::{Gold, GoldAnswer};
use crate::model::transcript::Transcript;
use crate::model::{AnswerValue, Project, TaskKind, sanitize_line};
use crate::server::store::{NewTask, PriorAnswer};

/// Longest task text accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Longest task id accepted, in characters.
const MAX_ID_CHARS: usize = 128;
/// Longest explanation of a gold answer, in characters.
const MAX_EXPLANATION_CHARS: usize = 2_000;
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
        source.gold.map(|labels| Gold::labels(vec![labels])),
        source.prior,
    )
}

/// Check one record against the project; the error says what is wrong.
pub(super) fn check_task(
    project: &Project,
    id: String,
    text: String,
    suggestion: Option<String>,
    gold: Option<Gold>,
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
        check_transcribe_task(project, suggestion.as_deref(), &prior)?;
    } else if let Some(s) = &suggestion
        && project.label(s).is_none()
    {
        return Err(format!(
            "unknown label '{}' in suggestion; labels are: {}",
            sanitize_line(s),
            label_list(project)
        ));
    }
    if let Some(GoldAnswer::Labels(sets)) = gold.as_ref().map(|g| &g.answer)
        && let Some(unknown) = sets.iter().flatten().find(|g| project.label(g).is_none())
    {
        return Err(format!(
            "unknown label '{}' in gold; labels are: {}",
            sanitize_line(unknown),
            label_list(project)
        ));
    }
    let (gold, gold_spec) = match gold {
        None => (None, None),
        Some(gold) => {
            gold.fits(project)?;
            if gold.explanation.chars().count() > MAX_EXPLANATION_CHARS {
                return Err(format!(
                    "explanation has more than {MAX_EXPLANATION_CHARS} characters"
                ));
            }
            // Accepted answers in normal form, so the stored gold compares as answers do.
            let gold = normal_gold(project, gold);
            let spec = serde_json::to_string(&gold).map_err(|e| e.to_string())?;
            let first = match gold.expected() {
                AnswerValue::Labels(labels) => labels,
                other => vec![other.to_compact()],
            };
            (Some(first), Some(spec))
        }
    };
    let prior = prior
        .into_iter()
        .map(|answer| check_prior_answer(project, &id, answer))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(NewTask {
        id,
        text,
        suggestion,
        gold,
        gold_spec,
        prior,
        clip: None,
    })
}

/// Gold with each accepted answer in the project's normal form.
fn normal_gold(project: &Project, gold: Gold) -> Gold {
    let answer = match gold.answer {
        GoldAnswer::Labels(sets) => GoldAnswer::Labels(
            sets.into_iter()
                .map(|set| {
                    let normal = project.normalise(&AnswerValue::Labels(set.clone()));
                    normal.labels().map_or(set, <[String]>::to_vec)
                })
                .collect(),
        ),
        GoldAnswer::Form(values) => match &project.form {
            Some(form) => GoldAnswer::Form(form.normalise(&values)),
            None => GoldAnswer::Form(values),
        },
        transcript @ GoldAnswer::Transcript { .. } => transcript,
    };
    Gold {
        answer,
        explanation: gold.explanation.trim().to_string(),
    }
}

/// A transcribe task: its machine draft must fit the project's transcript rules (length,
/// tags), so no worker is handed a draft they cannot send; its gold is checked with every
/// kind's (`Gold::fits`).
pub(super) fn check_transcribe_task(
    project: &Project,
    draft: Option<&str>,
    prior: &[PriorAnswer],
) -> Result<(), String> {
    if let Some(d) = draft {
        project
            .validate(&AnswerValue::Transcript(Transcript::new(d)))
            .map_err(|e| format!("the draft does not fit the project: {e}"))?;
    }
    if !prior.is_empty() {
        return Err("answers from another tool are not taken for transcribe projects".into());
    }
    Ok(())
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
            Some(Gold::labels(vec![vec!["fod".into()]])),
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
        let two = Some(Gold::labels(vec![vec!["food".into(), "toys".into()]]));
        let e = check_task(&p, "a".into(), "x".into(), None, two, vec![]).unwrap_err();
        assert!(e.contains("takes one label"), "{e}");
    }
}

//! Gold: the known answer of a control or training task, with the explanation a worker
//! reads after a miss, and the one pure check of an answer against it (`check`). It is in
//! the model because the server scores production gold with it and the client scores
//! training offline with the same code.

use serde::{Deserialize, Serialize};

use super::form::FormValues;
use super::transcript::Transcript;
use super::{AnswerValue, Project, TaskKind};

/// A task's gold: what is accepted, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gold {
    pub answer: GoldAnswer,
    /// Shown to the worker after a miss (and in training after every answer).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub explanation: String,
}

/// What a gold task accepts, per task kind. Externally tagged like `AnswerValue`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum GoldAnswer {
    /// Classify: any one of these label sets is right (each one label unless the project
    /// is multi-label). The first is the one shown as expected.
    Labels(Vec<Vec<String>>),
    /// Entry: the gold fields' values; each is compared with the worker's value of the
    /// same field in the form's normal form (`Form::comparison_key`). Fields not given
    /// are not gold.
    Form(FormValues),
    /// Transcribe: a transcript, and the word error rate (in percent, after the
    /// project's normalisation) up to which an answer still counts as right.
    Transcript { text: String, max_wer_percent: u32 },
}

/// The word error rate a transcript gold allows when its file names none, in percent.
pub const DEFAULT_MAX_WER_PERCENT: u32 = 10;

/// The outcome of checking one answer against gold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoldCheck {
    pub correct: bool,
    /// The answer that was expected (for classify, the first accepted label set; for
    /// entry, the gold fields).
    pub expected: AnswerValue,
    /// Entry only: the gold fields (paths like `total`, `items[1].qty`) the answer got
    /// wrong, in form order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missed_fields: Vec<String>,
}

impl Gold {
    /// Gold of a classify task: accepted label sets, no explanation.
    pub fn labels(accepted: Vec<Vec<String>>) -> Gold {
        Gold {
            answer: GoldAnswer::Labels(accepted),
            explanation: String::new(),
        }
    }

    /// The gold as one answer value: what counts as "the" gold answer where one is
    /// needed (aggregation anchors, export, "expected" on a worker's screen).
    pub fn expected(&self) -> AnswerValue {
        match &self.answer {
            GoldAnswer::Labels(sets) => {
                AnswerValue::Labels(sets.first().cloned().unwrap_or_default())
            }
            GoldAnswer::Form(values) => AnswerValue::Form(values.clone()),
            GoldAnswer::Transcript { text, .. } => {
                AnswerValue::Transcript(Transcript::new(text.clone()))
            }
        }
    }

    /// Whether this gold fits `project`: each accepted answer is one the project could
    /// take (labels it has; form values that fit their fields). The reason when not.
    pub fn fits(&self, project: &Project) -> Result<(), String> {
        if let GoldAnswer::Transcript {
            text,
            max_wer_percent,
        } = &self.answer
        {
            if *max_wer_percent > 100 {
                return Err("a transcript's gold word error rate is a percentage, 0 to 100".into());
            }
            return project
                .validate(&AnswerValue::Transcript(Transcript::new(text.clone())))
                .map_err(|e| format!("gold does not fit the project: {e}"));
        }
        match (&self.answer, &project.form) {
            (GoldAnswer::Labels(_), _) if project.kind == TaskKind::Transcribe => {
                Err("gold of a transcribe task is a transcript".into())
            }
            (GoldAnswer::Labels(sets), None) => {
                if sets.is_empty() {
                    return Err("gold accepts no answer: give at least one".into());
                }
                for set in sets {
                    project
                        .validate(&AnswerValue::Labels(set.clone()))
                        .map_err(|e| format!("gold does not fit the project: {e}"))?;
                }
                Ok(())
            }
            (GoldAnswer::Form(values), Some(form)) => match form.given_issues(values).first() {
                Some(issue) => Err(format!("gold {issue}")),
                None => Ok(()),
            },
            (GoldAnswer::Labels(_), Some(_)) => {
                Err("gold of an entry task must be an object of field values".into())
            }
            (GoldAnswer::Form(_), None) => {
                Err("gold of a classify task must be a label id or a list of label ids".into())
            }
            (GoldAnswer::Transcript { .. }, _) => Ok(()),
        }
    }
}

/// Check `answer` against `gold` in `project`. Pure: the same on the server (production
/// gold) and the client (training, offline). An answer of the wrong kind is a miss.
pub fn check(project: &Project, gold: &Gold, answer: &AnswerValue) -> GoldCheck {
    let expected = gold.expected();
    match (&gold.answer, answer) {
        (GoldAnswer::Labels(sets), AnswerValue::Labels(_)) => {
            let given = project.normalise(answer);
            let correct = sets
                .iter()
                .any(|set| project.normalise(&AnswerValue::Labels(set.clone())) == given);
            GoldCheck {
                correct,
                expected: project.normalise(&expected),
                missed_fields: Vec::new(),
            }
        }
        (GoldAnswer::Form(gold_values), AnswerValue::Form(values)) => {
            let Some(form) = &project.form else {
                return miss(expected);
            };
            let want = form.comparison_keys(gold_values);
            let got = form.comparison_keys(values);
            let missed_fields: Vec<String> = form
                .paths(gold_values)
                .into_iter()
                .map(|p| p.to_string())
                .filter(|p| want.get(p).is_some_and(|w| got.get(p) != Some(w)))
                .collect();
            GoldCheck {
                correct: missed_fields.is_empty(),
                expected,
                missed_fields,
            }
        }
        (
            GoldAnswer::Transcript {
                text,
                max_wer_percent,
            },
            AnswerValue::Transcript(given),
        ) => {
            let normalise = project
                .transcribe
                .as_ref()
                .map(|rules| rules.normalise.clone())
                .unwrap_or_default();
            let wer = normalise.wer(text, &given.text);
            GoldCheck {
                correct: wer * 100.0 <= f64::from(*max_wer_percent) + 1e-9,
                expected,
                missed_fields: Vec::new(),
            }
        }
        _ => miss(expected),
    }
}

fn miss(expected: AnswerValue) -> GoldCheck {
    GoldCheck {
        correct: false,
        expected,
        missed_fields: Vec::new(),
    }
}

/// For a classify miss, the (expected, given) label pairs it confused: each gold label
/// the answer lacks against each label it chose instead. Empty for a correct answer or
/// another kind; what "labels confused most" counts.
pub fn confusions(check: &GoldCheck, answer: &AnswerValue) -> Vec<(String, String)> {
    let (Some(expected), Some(given)) = (check.expected.labels(), answer.labels()) else {
        return Vec::new();
    };
    if check.correct {
        return Vec::new();
    }
    let lacked: Vec<&String> = expected.iter().filter(|l| !given.contains(l)).collect();
    let extra: Vec<&String> = given.iter().filter(|l| !expected.contains(l)).collect();
    let mut out = Vec::new();
    for want in &lacked {
        for got in &extra {
            out.push(((*want).clone(), (*got).clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(ids: &[&str]) -> AnswerValue {
        AnswerValue::Labels(ids.iter().map(|s| s.to_string()).collect())
    }

    fn sets(sets: &[&[&str]]) -> Gold {
        Gold::labels(
            sets.iter()
                .map(|s| s.iter().map(|x| x.to_string()).collect())
                .collect(),
        )
    }

    fn project(multi: bool) -> Project {
        Project::from_toml(
            "p.toml",
            &format!(
                "name = \"p\"\ntitle = \"P\"\nkind = \"classify\"\nmulti_label = {multi}\n\
                 [[labels]]\nid = \"a\"\nname = \"A\"\nkey = \"1\"\n\
                 [[labels]]\nid = \"b\"\nname = \"B\"\nkey = \"2\"\n\
                 [[labels]]\nid = \"c\"\nname = \"C\"\nkey = \"3\"\n"
            ),
        )
        .expect("test project parses")
    }

    fn entry() -> Project {
        Project::from_toml(
            "e.toml",
            "name = \"e\"\ntitle = \"E\"\nkind = \"entry\"\n\
             [[fields]]\nid = \"vendor\"\nlabel = \"Vendor\"\ntype = \"text\"\n\
             [[fields]]\nid = \"total\"\nlabel = \"Total\"\ntype = \"money\"\ncurrency = \"KES\"\n\
             [[fields]]\nid = \"note\"\nlabel = \"Note\"\ntype = \"text\"\n",
        )
        .expect("test form parses")
    }

    fn form(pairs: &[(&str, &str)]) -> FormValues {
        FormValues {
            fields: pairs
                .iter()
                .map(|&(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..FormValues::default()
        }
    }

    #[test]
    fn any_accepted_label_is_right() {
        let p = project(false);
        let gold = sets(&[&["a"], &["b"]]);
        assert!(check(&p, &gold, &labels(&["a"])).correct);
        assert!(check(&p, &gold, &labels(&["b"])).correct);
        let miss = check(&p, &gold, &labels(&["c"]));
        assert!(!miss.correct);
        assert_eq!(
            miss.expected,
            labels(&["a"]),
            "the first accepted is expected"
        );
        assert_eq!(
            confusions(&miss, &labels(&["c"])),
            vec![("a".to_string(), "c".to_string())]
        );
    }

    #[test]
    fn multi_label_sets_compare_as_sets() {
        let p = project(true);
        let gold = sets(&[&["c", "a"], &["b"]]);
        assert!(
            check(&p, &gold, &labels(&["a", "c"])).correct,
            "order does not matter"
        );
        assert!(
            !check(&p, &gold, &labels(&["a"])).correct,
            "a subset is a miss"
        );
        assert!(!check(&p, &gold, &labels(&["a", "b", "c"])).correct);
        let miss = check(&p, &gold, &labels(&["a", "b"]));
        assert_eq!(
            miss.expected,
            labels(&["a", "c"]),
            "expected in normal form"
        );
        assert_eq!(
            confusions(&miss, &labels(&["a", "b"])),
            vec![("c".to_string(), "b".to_string())]
        );
    }

    #[test]
    fn form_gold_is_checked_field_by_field_in_normal_form() {
        let p = entry();
        let gold = Gold {
            answer: GoldAnswer::Form(form(&[
                ("vendor", "Naivas  Supermarket"),
                ("total", "KES 1,250.00"),
            ])),
            explanation: "Total is the last line".into(),
        };
        // Case, spacing and the money's writing do not matter; a field not in gold
        // (note) is not checked.
        let right = form(&[
            ("vendor", "NAIVAS supermarket"),
            ("total", "1250 KES"),
            ("note", "x"),
        ]);
        assert!(check(&p, &gold, &AnswerValue::Form(right)).correct);
        let wrong = form(&[("vendor", "Naivas Supermarket"), ("total", "KES 1150")]);
        let c = check(&p, &gold, &AnswerValue::Form(wrong));
        assert!(!c.correct);
        assert_eq!(c.missed_fields, vec!["total".to_string()]);
        let empty = check(&p, &gold, &AnswerValue::Form(FormValues::default()));
        assert_eq!(
            empty.missed_fields,
            vec!["vendor".to_string(), "total".to_string()]
        );
    }

    #[test]
    fn an_answer_of_another_kind_is_a_miss() {
        let gold = sets(&[&["a"]]);
        assert!(
            !check(
                &project(false),
                &gold,
                &AnswerValue::Form(FormValues::default())
            )
            .correct
        );
        let form_gold = Gold {
            answer: GoldAnswer::Form(form(&[("vendor", "x")])),
            explanation: String::new(),
        };
        assert!(!check(&entry(), &form_gold, &labels(&["a"])).correct);
    }

    #[test]
    fn a_transcript_is_right_within_its_word_error_rate() {
        let p = Project::from_toml(
            "t.toml",
            "name = \"t\"\ntitle = \"T\"\nkind = \"transcribe\"\n",
        )
        .expect("transcribe project parses");
        let gold = Gold {
            answer: GoldAnswer::Transcript {
                text: "the red ball is on the table today".into(),
                max_wer_percent: 15,
            },
            explanation: String::new(),
        };
        let said = |t: &str| AnswerValue::Transcript(Transcript::new(t));
        // Case and punctuation do not count; one word wrong of eight is 12.5%.
        assert!(check(&p, &gold, &said("The red ball, is on the table today.")).correct);
        assert!(check(&p, &gold, &said("the red ball is on a table today")).correct);
        let miss = check(&p, &gold, &said("a red bowl is on a table today"));
        assert!(!miss.correct, "three of eight wrong");
        assert_eq!(miss.expected, said("the red ball is on the table today"));
        assert!(gold.fits(&p).is_ok());
        assert!(sets(&[&["a"]]).fits(&p).is_err());
    }

    #[test]
    fn gold_that_does_not_fit_is_refused() {
        let p = project(false);
        assert!(sets(&[&["a"], &["b"]]).fits(&p).is_ok());
        assert!(
            sets(&[&["a", "b"]])
                .fits(&p)
                .unwrap_err()
                .contains("one label")
        );
        assert!(
            sets(&[&["zz"]])
                .fits(&p)
                .unwrap_err()
                .contains("unknown label")
        );
        assert!(sets(&[]).fits(&p).is_err());
        assert!(sets(&[&["a"]]).fits(&entry()).is_err());
    }

    #[test]
    fn gold_round_trips_as_json() {
        let gold = Gold {
            answer: GoldAnswer::Labels(vec![vec!["a".into()], vec!["b".into()]]),
            explanation: "why".into(),
        };
        let json = serde_json::to_string(&gold).expect("gold serialises");
        assert_eq!(
            json,
            r#"{"answer":{"labels":[["a"],["b"]]},"explanation":"why"}"#
        );
        assert_eq!(
            serde_json::from_str::<Gold>(&json).expect("reads back"),
            gold
        );
    }
}

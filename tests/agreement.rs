//! Agreement per pair of workers from the server's own data (`kazi admin project
//! agreement`): labels answered over real HTTP syncs, transcripts and forms brought with
//! their tasks from another tool, on every backend; workers by pseudonym unless
//! `--with-names`; and the real binary on the real SQLite file.

#[path = "support/binary.rs"]
mod binary;
#[path = "support/server_harness.rs"]
mod harness;

use std::collections::BTreeMap;

use harness::{TestServer, answer, answers, every_backend, project};
use kazi::model::form::FormValues;
use kazi::model::transcript::Transcript;
use kazi::model::{AnswerValue, Project, Role};
use kazi::server::admin::{self, AgreementFormat, Naming, PairTable};
use kazi::server::store::{NewTask, PriorAnswer};

/// Four tasks, three workers, overlap 3:
///   t1 food food toys · t2 toys toys toys · t3 food toys food · t4 tools tools food
/// amina-baraka agree on t1, t2, t4 (3 of 4); amina-chausiku on t2, t3 (2 of 4);
/// baraka-chausiku on t2 (1 of 4).
async fn labelled(s: &TestServer) {
    s.add_project(&project(3));
    s.import_numbered("shop", 4);
    let said = [
        ("amina", ["food", "toys", "food", "tools"]),
        ("baraka", ["food", "toys", "toys", "tools"]),
        ("chausiku", ["toys", "toys", "food", "food"]),
    ];
    for (user, labels) in said {
        let token = s.enrol(user, Role::Worker).await;
        let leases = s.want(&token, "shop", 4).await.leases;
        assert_eq!(leases.len(), 4, "{}", s.backend());
        let uploads = leases
            .iter()
            .enumerate()
            .map(|(n, lease)| {
                let i: usize = lease.text.rsplit(' ').next().unwrap().parse().unwrap();
                answer(n as u64 + 1, lease.task, labels[i - 1])
            })
            .collect();
        s.sync(&token, &answers(uploads)).await;
    }
}

fn pairs(s: &TestServer, project: &str, naming: Naming) -> PairTable {
    s.blocking(|| admin::pair_agreement(&*s.store, project, naming))
        .expect("agreement")
}

fn rows(table: &PairTable) -> Vec<Vec<&str>> {
    table
        .rows
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect()
}

/// Tasks brought with answers from another tool, by annotator: no Kazi user needed.
fn import_prior(s: &TestServer, project: &Project, tasks: Vec<Vec<(&str, AnswerValue)>>) {
    s.blocking(|| {
        s.store.put_project(project, 1_800_000_000).unwrap();
        let mut stream = tasks.into_iter().enumerate().map(|(i, answers)| {
            Ok(NewTask {
                id: format!("t{i}"),
                text: format!("item {i}"),
                suggestion: None,
                gold: None,
                gold_spec: None,
                prior: answers
                    .into_iter()
                    .map(|(who, value)| PriorAnswer {
                        annotator: who.into(),
                        value: project.normalise(&value),
                        at: 1_800_000_000,
                    })
                    .collect(),
                clip: None,
            })
        });
        s.store.import_tasks(&project.name, &mut stream).unwrap();
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_pairs_share_their_common_tasks() {
    for s in every_backend("agreement per pair", |_| {}).await {
        labelled(&s).await;
        let named = pairs(&s, "shop", Naming::UserNames);
        assert_eq!(
            named.header,
            ["worker_a", "worker_b", "tasks", "agreed", "agreement"]
        );
        assert_eq!(
            rows(&named),
            [
                ["amina", "baraka", "4", "3", "0.7500"],
                ["amina", "chausiku", "4", "2", "0.5000"],
                ["baraka", "chausiku", "4", "1", "0.2500"],
            ],
            "{}",
            s.backend()
        );

        // By default, pseudonyms: the same figures, never a user name.
        let pseudonymous = pairs(&s, "shop", Naming::Pseudonyms);
        let mut figures: Vec<Vec<&str>> = rows(&pseudonymous)
            .into_iter()
            .map(|r| {
                assert!(r[0].starts_with("w-") && r[1].starts_with("w-"), "{r:?}");
                r[2..].to_vec()
            })
            .collect();
        figures.sort();
        assert_eq!(
            figures,
            [
                ["4", "1", "0.2500"],
                ["4", "2", "0.5000"],
                ["4", "3", "0.7500"]
            ]
        );

        let missing = s.blocking(|| admin::pair_agreement(&*s.store, "nope", Naming::UserNames));
        assert!(missing.unwrap_err().to_string().contains("nope"));
    }
}

const TRANSCRIBE: &str = r#"
name = "sauti"
title = "Voices"
kind = "transcribe"
overlap = 2

[transcribe.normalise]
ignore_case = true
ignore_punctuation = true
"#;

const ENTRY: &str = r#"
name = "forms"
title = "Forms"
kind = "entry"
overlap = 2

[[fields]]
id = "town"
label = "Town"
type = "text"

[[fields]]
id = "amount"
label = "Amount"
type = "decimal"
"#;

fn said(text: &str) -> AnswerValue {
    AnswerValue::Transcript(Transcript::new(text.to_string()))
}

fn entered(fields: &[(&str, &str)]) -> AnswerValue {
    AnswerValue::Form(FormValues {
        fields: fields
            .iter()
            .map(|&(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        ..FormValues::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcripts_by_word_error_rate_and_forms_field_by_field() {
    for s in every_backend("agreement per pair", |_| {}).await {
        let backend = s.backend();
        // In the project's normal form "Hello, there!" is "hello there": WER 0; then
        // one word of four differs: 0.25. Mean over the two clips: 0.125.
        let sauti = Project::from_toml("sauti.toml", TRANSCRIBE).expect("transcribe project");
        import_prior(
            &s,
            &sauti,
            vec![
                vec![("x", said("Hello, there!")), ("y", said("hello there"))],
                vec![
                    ("y", said("one two three five")),
                    ("x", said("one two three four")),
                ],
            ],
        );
        let table = pairs(&s, "sauti", Naming::Pseudonyms);
        assert_eq!(table.header, ["worker_a", "worker_b", "tasks", "wer"]);
        assert_eq!(rows(&table), [["x", "y", "2", "0.1250"]], "{backend}");

        // Towns compared without case and spaces, amounts by value. x and y agree on
        // both fields of the first form; on the second, towns differ and x left the
        // amount out.
        let forms = Project::from_toml("forms.toml", ENTRY).expect("entry project");
        import_prior(
            &s,
            &forms,
            vec![
                vec![
                    ("x", entered(&[("town", "Nairobi"), ("amount", "1500")])),
                    ("y", entered(&[("town", "nairobi "), ("amount", "1500.00")])),
                ],
                vec![
                    ("x", entered(&[("town", "Kisumu")])),
                    ("y", entered(&[("town", "Mombasa"), ("amount", "3")])),
                ],
            ],
        );
        let table = pairs(&s, "forms", Naming::Pseudonyms);
        assert_eq!(
            table.header,
            [
                "worker_a",
                "worker_b",
                "field",
                "tasks",
                "agreed",
                "agreement"
            ]
        );
        assert_eq!(
            rows(&table),
            [
                ["x", "y", "amount", "2", "1", "0.5000"],
                ["x", "y", "town", "2", "1", "0.5000"],
            ],
            "{backend}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_prints_pairs_by_pseudonym_unless_asked_for_names() {
    let s = harness::start().await;
    labelled(&s).await;
    let db = format!("sqlite:{}", s.dir.path().join("server.db").display());
    let home = s.dir.path().join("home");
    let run = |extra: &[&str]| {
        let mut args = vec!["admin", "--db", &db, "project", "agreement", "shop"];
        args.extend_from_slice(extra);
        binary::kazi(&args, &home)
    };
    assert_eq!(
        binary::ok(run(&["--format", "csv", "--with-names"])),
        "worker_a,worker_b,tasks,agreed,agreement\n\
         amina,baraka,4,3,0.7500\n\
         amina,chausiku,4,2,0.5000\n\
         baraka,chausiku,4,1,0.2500\n"
    );
    let table = binary::ok(run(&[]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(lines[0].starts_with("worker_a") && lines[0].ends_with("agreement"));
    for name in ["amina", "baraka", "chausiku"] {
        assert!(
            !table.contains(name),
            "a user name without --with-names: {table}"
        );
    }
    let mut args = vec!["admin", "--db", &db, "project", "agreement", "nope"];
    let refusal = binary::refused(binary::kazi(&args, &home));
    assert!(refusal.contains("nope"), "{refusal}");
    args[5] = "--help";
    let help = binary::ok(binary::kazi(&args, &home));
    assert!(help.contains("Example: kazi admin"), "{help}");
}

/// An annotator named by another tool is untrusted text: a table shows it inert, a CSV
/// to a file keeps it byte for byte.
#[test]
fn untrusted_names_are_shown_inert() {
    let table = PairTable {
        header: vec!["worker_a", "worker_b", "tasks", "wer"],
        rows: vec![vec![
            "\u{1b}]0;owned\u{7}".into(),
            "y".into(),
            "2".into(),
            "0.1250".into(),
        ]],
    };
    let mut shown = Vec::new();
    admin::write_pairs(&table, AgreementFormat::Table, false, &mut shown).unwrap();
    let shown = String::from_utf8(shown).unwrap();
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
        "{shown:?}"
    );
    assert!(
        shown.lines().nth(1).unwrap().ends_with("2  0.1250"),
        "{shown}"
    );
    let mut file = Vec::new();
    admin::write_pairs(&table, AgreementFormat::Csv, false, &mut file).unwrap();
    assert!(
        String::from_utf8(file)
            .unwrap()
            .contains("\u{1b}]0;owned\u{7}")
    );
}

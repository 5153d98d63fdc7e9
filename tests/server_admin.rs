//! Admin import and export on a real SQLite store: every bad line is named with its
//! number and nothing from a bad file is stored; exports carry provenance.

#[path = "support/server_harness.rs"]
mod harness;

use harness::{TestServer, answer, answers, project, start};
use kazi::model::Role;
use kazi::server::admin::{self, ExportFormat, ImportError, ImportSummary};

async fn shop() -> TestServer {
    let s = start().await;
    s.add_project(&project(2));
    s
}

fn import(s: &TestServer, name: &str, content: &str) -> Result<ImportSummary, ImportError> {
    let path = s.write_file(name, content);
    admin::import_tasks(&*s.store, "shop", &path, &mut |_, _| {})
}

fn task_count(s: &TestServer) -> usize {
    s.export("shop", ExportFormat::Jsonl).lines().count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonl_import_with_gold_and_progress() {
    let s = shop().await;
    let content = (1..=250)
        .map(|i| {
            let extra = match i % 3 {
                0 => r#","gold":"food""#,
                1 => r#","suggestion":"toys""#,
                _ => "",
            };
            format!(r#"{{"id":"p{i:04}","text":"Item number {i}"{extra}}}"#)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = s.write_file("products.jsonl", &content);
    let mut calls = Vec::new();
    let summary = admin::import_tasks(&*s.store, "shop", &path, &mut |done, total| {
        calls.push((done, total))
    })
    .unwrap();
    assert_eq!(
        summary,
        ImportSummary {
            added: 250,
            already_present: 0
        }
    );
    let total = calls[0].1;
    assert!(calls.len() > 10, "progress is reported along the way");
    assert_eq!(calls.last(), Some(&(total, total)));
    assert!(
        calls.windows(2).all(|w| w[0].0 <= w[1].0),
        "progress only grows"
    );

    // Running the same import again is safe.
    let again = admin::import_tasks(&*s.store, "shop", &path, &mut |_, _| {}).unwrap();
    assert_eq!(
        again,
        ImportSummary {
            added: 0,
            already_present: 250
        }
    );
    let export = s.export("shop", ExportFormat::Jsonl);
    let third: serde_json::Value = serde_json::from_str(export.lines().nth(2).unwrap()).unwrap();
    assert_eq!(third["id"], "p0003");
    assert_eq!(third["gold"], "food");

    // Suggestions reach the worker; gold never does.
    let token = s.enrol("amina", Role::Worker).await;
    let leases = s.want(&token, "shop", 3).await.leases;
    assert_eq!(leases[0].suggestion.as_deref(), Some("toys"));
    assert_eq!(leases[1].suggestion, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_jsonl_line_is_named_and_nothing_is_imported() {
    let s = shop().await;
    let cases: &[(&str, &str)] = &[
        (
            "{\"id\":\"a\",\"text\":\"ok\"}\n{\"id\":\"b\",\"text\":\"x\",\"gold\":\"fod\"}\n",
            "products.jsonl:2: unknown label 'fod' in gold; labels are: food, toys, tools",
        ),
        (
            "{\"id\":\"a\",\"text\":\"ok\"}\n\n{\"id\":\"b\",\"text\":\"x\",\"colour\":1}\n",
            "products.jsonl:3: not a valid task: unknown field `colour`",
        ),
        (
            "{\"id\":\"a\",\"text\":\"ok\"}\n{\"id\":\"a\",\"text\":\"again\"}\n",
            "products.jsonl:2: task id 'a' appears twice in this file (first on line 1)",
        ),
        (
            "{\"id\":\"a\",\"text\":\"ok\"}\n{\"id\":\"b\",\"text\":\"\"}\n",
            "products.jsonl:2: task 'b' has empty text",
        ),
        (
            "{\"id\":\"a\",\"text\":\"ok\"}\n{\"id\":\"b\",\"text\":\"x\",\"suggestion\":\"cars\"}\n",
            "products.jsonl:2: unknown label 'cars' in suggestion",
        ),
        (
            "{\"id\":\"a\",\"text\":\"x\",\"gold\":[\"food\",\"toys\"]}\n",
            "products.jsonl:1: gold does not fit the project: this project takes one label",
        ),
        (
            "{\"id\":\"a\",\"text\":\"ok\"}\n[1,2\n",
            "products.jsonl:2: not a valid task",
        ),
    ];
    for (content, expected) in cases {
        let e = import(&s, "products.jsonl", content).unwrap_err();
        let shown = e.to_string();
        let shown = shown.rsplit('/').next().unwrap();
        assert!(
            shown.starts_with(expected),
            "got: {shown}\nwant: {expected}"
        );
        assert_eq!(task_count(&s), 0, "nothing imported after: {expected}");
    }
    let long = format!("{{\"id\":\"a\",\"text\":\"{}\"}}\n", "x".repeat(20_001));
    let e = import(&s, "long.jsonl", &long).unwrap_err();
    assert!(e.to_string().contains("at most 20000"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_import_and_its_errors() {
    let s = shop().await;
    let bad_cases: &[(&str, &str)] = &[
        (
            "id,text,colour\na,x,red\n",
            "bad.csv:1: unknown column 'colour'",
        ),
        (
            "id,gold\na,food\n",
            "bad.csv:1: the header row needs columns id and text",
        ),
        ("id,text\na,x\nb\n", "bad.csv:3: bad CSV"),
        (
            "id,text,gold\na,x,food\nb,y,toys|fod\n",
            "bad.csv:3: unknown label 'fod' in gold",
        ),
        (
            "id,text\na,x\na,y\n",
            "bad.csv:3: task id 'a' appears twice",
        ),
        ("id,text\n", "bad.csv: the file holds no tasks"),
    ];
    for (content, expected) in bad_cases {
        let e = import(&s, "bad.csv", content).unwrap_err().to_string();
        let shown = e.rsplit('/').next().unwrap();
        assert!(
            shown.starts_with(expected),
            "got: {shown}\nwant: {expected}"
        );
        assert_eq!(task_count(&s), 0);
    }

    let good = "id,text,suggestion,gold\n\
                c1,\"Rice, 5 kg\",food,food\n\
                c2,\"Lego \"\"City\"\" set\",,toys\n\
                c3,Hammer,,\n";
    assert_eq!(import(&s, "good.csv", good).unwrap().added, 3);
    let export = s.export("shop", ExportFormat::Jsonl);
    let lines: Vec<serde_json::Value> = export
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["text"], "Rice, 5 kg");
    assert_eq!(lines[1]["text"], "Lego \"City\" set");
    assert_eq!(lines[1]["gold"], "toys");
    assert!(lines[2].get("gold").is_none());

    // An id already imported with other content is refused, with its line.
    let clash = "id,text\nc4,New\nc1,Rice 10 kg\n";
    let e = import(&s, "more.csv", clash).unwrap_err().to_string();
    assert!(
        e.ends_with("more.csv:3: task id 'c1' is already in project 'shop' with different content"),
        "{e}"
    );
    assert_eq!(task_count(&s), 3, "c4 was not imported either");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_refuses_unknown_projects_and_formats() {
    let s = shop().await;
    let path = s.write_file("t.jsonl", "{\"id\":\"a\",\"text\":\"x\"}\n");
    let e = admin::import_tasks(&*s.store, "nope", &path, &mut |_, _| {}).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no project 'nope'; add it with kazi admin project add FILE.toml"
    );
    let e = import(&s, "tasks.txt", "id,text\n")
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with(
            "tasks.txt: tasks must be in a .jsonl, .csv or .json (Label Studio) file, \
             or name the format with --format jsonl|csv|ls|prodigy"
        ),
        "{e}"
    );
    let missing = s.dir.path().join("missing.jsonl");
    let e = admin::import_tasks(&*s.store, "shop", &missing, &mut |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("cannot read"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_has_every_task_with_answers_workers_and_times() {
    let s = shop().await;
    let content = "{\"id\":\"p1\",\"text\":\"Rice 5kg\",\"gold\":\"food\"}\n\
                   {\"id\":\"p2\",\"text\":\"Teddy bear\"}\n\
                   {\"id\":\"p3\",\"text\":\"Spanner, 10\\\"\"}\n";
    import(&s, "products.jsonl", content).unwrap();
    let amina = s.enrol("amina", Role::Worker).await;
    let baraka = s.enrol("baraka", Role::Worker).await;
    let leases = s.want(&amina, "shop", 2).await.leases;
    s.want(&baraka, "shop", 1).await;
    let (p1, p2) = (leases[0].task, leases[1].task);
    let a = s
        .sync(
            &amina,
            &answers(vec![answer(1, p1, "food"), answer(2, p2, "toys")]),
        )
        .await;
    s.sync(&baraka, &answers(vec![answer(9, p1, "food")])).await;
    let time = kazi::model::format_utc(a.now);

    let jsonl = s.export("shop", ExportFormat::Jsonl);
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "one record per task");
    assert_eq!(lines[0]["id"], "p1");
    assert_eq!(lines[0]["gold"], "food");
    assert_eq!(lines[0]["final"], "food");
    assert_eq!(lines[0]["agreement"], 1.0);
    assert_eq!(lines[0]["method"], "mv");
    assert_eq!(lines[0]["confidence"], 1.0);
    assert_eq!(lines[1]["method"], serde_json::Value::Null, "not decided");
    assert_eq!(lines[0]["answers"][0]["worker"], "amina");
    assert_eq!(lines[0]["answers"][0]["value"], "food");
    assert_eq!(lines[0]["answers"][0]["time"], time.as_str());
    assert_eq!(lines[0]["answers"][1]["worker"], "baraka");
    assert_eq!(
        lines[1]["final"],
        serde_json::Value::Null,
        "one of two answers"
    );
    assert_eq!(lines[1]["answers"].as_array().unwrap().len(), 1);
    assert_eq!(lines[2]["answers"].as_array().unwrap().len(), 0);
    assert_eq!(lines[2]["text"], "Spanner, 10\"");

    let csv = s.export("shop", ExportFormat::Csv);
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        rows.headers().unwrap(),
        vec![
            "id",
            "text",
            "final",
            "agreement",
            "method",
            "confidence",
            "answers"
        ]
    );
    let rows: Vec<csv::StringRecord> = rows.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 3);
    let p1_answers = rows[0][6].to_string();
    assert_eq!(&rows[0][2], "food");
    assert_eq!(&rows[0][3], "1");
    assert_eq!(&rows[0][4], "mv");
    assert_eq!(&rows[0][5], "1");
    assert!(
        p1_answers.starts_with(&format!("amina=food@{time}; baraka=food@")),
        "{p1_answers}"
    );
    assert_eq!(&rows[1][2], "");
    assert_eq!(&rows[2][1], "Spanner, 10\"");

    let mut sink = Vec::new();
    let e = admin::export(&*s.store, "nope", ExportFormat::Csv, &mut sink).unwrap_err();
    assert!(e.to_string().contains("no project 'nope'"), "{e}");
}

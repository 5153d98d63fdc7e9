//! Data entry on a real server: the fixture project imports with its gold, the server
//! validates forms exactly as the client does, two workers' entries are compared field by
//! field, and the export shows nested values and per-field agreement.

#[path = "support/server_harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::path::PathBuf;

use harness::{TestServer, answers, start};
use kazi::model::form::FormValues;
use kazi::model::{AnswerValue, Project, Role};
use kazi::protocol::{AckStatus, AnswerUpload};
use kazi::server::admin::{self, ExportFormat};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/projects")
        .join(name)
}

/// The demo project, its gold mix off: these tests import `reference/receipts.jsonl`,
/// where every document has its entry, and lease them in import order.
fn receipts() -> Project {
    let text = std::fs::read_to_string(fixture("receipts.toml")).unwrap();
    let mut p = Project::from_toml("receipts.toml", &text).unwrap();
    p.gold_rate = 0.0;
    p
}

/// Gold as the fixture writes it (`{"vendor": "...", "items": [{...}]}`) as form values.
fn values_of(gold: &serde_json::Value) -> FormValues {
    let mut v = FormValues::default();
    for (id, x) in gold.as_object().expect("gold is an object") {
        match x {
            serde_json::Value::Array(rows) => {
                let rows = rows
                    .iter()
                    .map(|r| {
                        r.as_object()
                            .unwrap()
                            .iter()
                            .map(|(k, c)| (k.clone(), c.as_str().unwrap().to_string()))
                            .collect()
                    })
                    .collect();
                v.groups.insert(id.clone(), rows);
            }
            other => {
                v.fields
                    .insert(id.clone(), other.as_str().unwrap().to_string());
            }
        }
    }
    v
}

fn fixture_lines() -> Vec<serde_json::Value> {
    std::fs::read_to_string(fixture("reference/receipts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn receipts_server() -> TestServer {
    let s = start().await;
    s.add_project(&receipts());
    let summary = admin::import_tasks(
        &*s.store,
        "receipts",
        &fixture("reference/receipts.jsonl"),
        &mut |_, _| {},
    )
    .expect("the fixture imports");
    assert_eq!(summary.added, 44);
    s
}

fn upload(id: u64, task: i64, values: FormValues) -> AnswerUpload {
    AnswerUpload {
        id,
        task,
        value: AnswerValue::Form(values),
        ago: 0,
        replaces: None,
    }
}

#[test]
fn the_fixture_has_forty_documents_of_every_kind_and_its_gold_is_a_valid_entry() {
    let p = receipts();
    let lines = fixture_lines();
    assert!(lines.len() >= 40);
    let mut kinds = BTreeMap::new();
    for line in &lines {
        let gold = values_of(&line["gold"]);
        *kinds.entry(gold.fields["doc_kind"].clone()).or_insert(0) += 1;
        assert_eq!(
            p.validate(&AnswerValue::Form(gold)),
            Ok(()),
            "gold of {}",
            line["id"]
        );
    }
    assert_eq!(
        kinds.keys().collect::<Vec<_>>(),
        ["card", "form", "invoice", "receipt"]
    );
    let texts: String = lines.iter().map(|l| l["text"].as_str().unwrap()).collect();
    for region in ["KSh", "Rs.", "+91", "07", "M-PESA"] {
        assert!(texts.contains(region), "documents mention {region}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_gold_value_is_refused_with_file_and_line_and_nothing_is_imported() {
    let s = start().await;
    s.add_project(&receipts());
    let good = r#"{"id":"a","text":"NAIVAS","gold":{"doc_kind":"receipt","total":"KES 10"}}"#;
    let bad = r#"{"id":"b","text":"NAIVAS","gold":{"doc_kind":"receipt","date":"2026-03-14"}}"#;
    let path = s.write_file("bad.jsonl", &format!("{good}\n{bad}\n"));
    let e = admin::import_tasks(&*s.store, "receipts", &path, &mut |_, _| {}).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}:2: gold date: date must be dd/mm/yyyy", path.display())
    );
    let unknown = r#"{"id":"c","text":"x","gold":{"colour":"red"}}"#;
    let path = s.write_file("unknown.jsonl", &format!("{unknown}\n"));
    let e = admin::import_tasks(&*s.store, "receipts", &path, &mut |_, _| {}).unwrap_err();
    assert!(
        e.to_string()
            .ends_with(":1: gold colour: this form has no such field"),
        "{e}"
    );
    assert_eq!(
        s.export("receipts", ExportFormat::Jsonl),
        "",
        "nothing imported"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_entries_are_compared_field_by_field_and_exported() {
    let s = receipts_server().await;
    let amina = s.enrol("amina", Role::Worker).await;
    let baraka = s.enrol("baraka", Role::Worker).await;
    let gold = values_of(&fixture_lines()[0]["gold"]);

    let a = s.want(&amina, "receipts", 1).await;
    let b = s.want(&baraka, "receipts", 1).await;
    assert_eq!(
        a.leases[0].task, b.leases[0].task,
        "overlap 2: both get the first"
    );
    assert!(a.leases[0].text.contains("TUSKYS"));
    let task = a.leases[0].task;

    // A bad form is refused with the first bad field, in the client's words.
    let mut bad = gold.clone();
    bad.fields.insert("date".into(), "19-01-2025".into());
    let reply = s.sync(&amina, &answers(vec![upload(1, task, bad)])).await;
    assert_eq!(
        reply.acks[0].status,
        AckStatus::Rejected("date: date must be dd/mm/yyyy".into())
    );

    // Amina enters the gold; Baraka types the shop in capitals (agrees) and misreads the
    // date (disagrees).
    let ok = s
        .sync(&amina, &answers(vec![upload(2, task, gold.clone())]))
        .await;
    assert_eq!(ok.acks[0].status, AckStatus::Ok);
    let again = s
        .sync(&amina, &answers(vec![upload(2, task, gold.clone())]))
        .await;
    assert_eq!(
        again.acks[0].status,
        AckStatus::Dup,
        "sent twice counts once"
    );
    let mut other = gold.clone();
    other
        .fields
        .insert("vendor".into(), "TUSKYS  KISUMU".into());
    other.fields.insert("date".into(), "18/01/2025".into());
    let ok = s
        .sync(&baraka, &answers(vec![upload(1, task, other)]))
        .await;
    assert_eq!(ok.acks[0].status, AckStatus::Ok);

    let jsonl = s.export("receipts", ExportFormat::Jsonl);
    let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(first["id"], "ke-receipt-001");
    assert_eq!(first["final"]["vendor"], "Tuskys Kisumu");
    assert_eq!(first["final"]["total"], "KES 735");
    assert_eq!(first["final"]["items"][2]["qty"], "2");
    assert!(
        first["final"].get("date").is_none(),
        "a disputed field is not final"
    );
    assert_eq!(first["fields"]["vendor"]["agreed"], true);
    assert_eq!(first["fields"]["date"]["agreed"], false);
    assert_eq!(
        first["fields"]["date"]["values"],
        serde_json::json!(["2025-01-19", "2025-01-18"])
    );
    assert_eq!(first["gold"]["date"], "2025-01-19");
    assert_eq!(first["answers"].as_array().unwrap().len(), 2);
    assert_eq!(first["answers"][1]["value"]["date"], "2025-01-18");
    let agreement = first["agreement"].as_f64().unwrap();
    assert!(agreement > 0.9 && agreement < 1.0, "{agreement}");

    let csv = s.export("receipts", ExportFormat::Csv);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        &header[..5],
        ["id", "text", "agreement", "disputed", "doc_kind"]
    );
    assert!(
        header.contains(&"items[3].unit_price".to_string()),
        "{header:?}"
    );
    assert!(
        !header.contains(&"items[4].unit_price".to_string()),
        "{header:?}"
    );
    let row = reader.records().next().unwrap().unwrap();
    let col = |name: &str| &row[header.iter().position(|h| h == name).unwrap()];
    assert_eq!(col("disputed"), "date");
    assert_eq!(col("date"), "");
    assert_eq!(col("items[1].description"), "Sukuma wiki bunch");
    assert_eq!(col("total"), "KES 735");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_from_before_data_entry_never_gets_an_entry_project_and_keeps_syncing() {
    let s = receipts_server().await;
    s.add_project(&harness::project(1));
    s.import_numbered("shop", 2);
    let old = s.enrol("old", Role::Worker).await;
    // What a client before data entry sends: no kinds.
    let mut request = harness::want("receipts", 5);
    request.kinds.clear();
    request.want.push(kazi::protocol::Want {
        project: "shop".into(),
        count: 1,
    });
    let reply = s.sync(&old, &request).await;
    let names: Vec<&str> = reply.projects.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["shop"], "the entry project is left out of its list");
    assert!(
        reply.leases.iter().all(|l| l.project == "shop"),
        "{:?}",
        reply.leases
    );
    assert_eq!(reply.leases.len(), 1);
    // The reply is one the old client can read: no entry schema in it.
    let json = serde_json::to_string(&reply).unwrap();
    assert!(!json.contains("\"entry\""), "{json}");
    // A current client gets both.
    let new = s.enrol("new", Role::Worker).await;
    let reply = s.want(&new, "receipts", 1).await;
    assert_eq!(reply.projects.len(), 2);
    assert_eq!(reply.leases[0].project, "receipts");
}

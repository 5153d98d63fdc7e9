//! Aggregation on the server, on a real store over real HTTP (SQLite, and PostgreSQL
//! when `KAZI_TEST_PG` is set, for the background aggregator's reads and writes): syncs decide by
//! majority at once; for `wmv` and `ds` projects the background aggregator decides again
//! over every answer, with gold, and the export carries the method and confidence.

#[path = "support/server_harness.rs"]
mod harness;

use std::time::{Duration, Instant};

use harness::{TestServer, answer, answers, every_backend, project, start, start_with};
use kazi::model::{AggregateMethod, Role};
use kazi::server::admin::{self, ExportFormat};
use kazi::server::aggregator::{Watermarks, aggregate_pass};

/// Six tasks, two with gold. Amina answers every task right, Baraka every task wrong:
/// majority ties everywhere, gold shows whom to trust.
async fn split_crowd(s: &TestServer, method: AggregateMethod) {
    let mut p = project(2);
    p.aggregate = method;
    s.add_project(&p);
    let lines: String = (1..=6)
        .map(|i| {
            let gold = if i <= 2 {
                format!(r#","gold":"{}""#, truth(i))
            } else {
                String::new()
            };
            format!("{{\"id\":\"t{i}\",\"text\":\"item {i}\"{gold}}}\n")
        })
        .collect();
    let path = s.write_file("tasks.jsonl", &lines);
    s.blocking(|| admin::import_tasks(&*s.store, "shop", &path, &mut |_, _| {}))
        .expect("import");
    for (name, right) in [("amina", true), ("baraka", false)] {
        let token = s.enrol(name, Role::Worker).await;
        let leases = s.want(&token, "shop", 6).await.leases;
        assert_eq!(leases.len(), 6);
        let uploads = leases
            .iter()
            .enumerate()
            .map(|(n, lease)| {
                let i: usize = lease.text["item ".len()..].parse().expect("item N");
                let label = if right { truth(i) } else { wrong(i) };
                answer(n as u64 + 1, lease.task, label)
            })
            .collect();
        s.sync(&token, &answers(uploads)).await;
    }
}

fn truth(i: usize) -> &'static str {
    if i.is_multiple_of(2) { "food" } else { "toys" }
}

fn wrong(i: usize) -> &'static str {
    if i.is_multiple_of(2) { "toys" } else { "food" }
}

fn exported(s: &TestServer) -> Vec<serde_json::Value> {
    s.export("shop", ExportFormat::Jsonl)
        .lines()
        .map(|l| serde_json::from_str(l).expect("export line is JSON"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dawid_skene_with_gold_decides_what_majority_cannot() {
    // A long interval: this test runs the passes itself.
    let what = "the aggregator's passes";
    for s in every_backend(what, |c| c.aggregate_every = Duration::from_secs(3600)).await {
        gold_decides_on(&s).await;
    }
}

async fn gold_decides_on(s: &TestServer) {
    split_crowd(s, AggregateMethod::DawidSkene).await;

    let before = exported(s);
    assert!(
        before
            .iter()
            .all(|t| t["final"].is_null() && t["method"] == "mv"),
        "a sync decides by majority at once: ties everywhere"
    );

    let mut seen = Watermarks::default();
    let written = s.blocking(|| aggregate_pass(&*s.store, &mut seen, &s.clock));
    assert_eq!(written.expect("pass"), 6, "{}", s.backend());
    for (i, task) in exported(s).iter().enumerate() {
        assert_eq!(task["final"], truth(i + 1), "{task}");
        assert_eq!(task["method"], "ds");
        assert_eq!(task["agreement"], 0.5);
        let confidence = task["confidence"].as_f64().expect("a confidence");
        assert!(confidence > 0.5 && confidence <= 1.0, "{task}");
    }
    assert_eq!(
        s.blocking(|| aggregate_pass(&*s.store, &mut seen, &s.clock))
            .expect("pass"),
        0,
        "nothing new: nothing decided again"
    );

    let csv = s.export("shop", ExportFormat::Csv);
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let row = rows.records().next().expect("a row").expect("csv");
    assert_eq!((&row[2], &row[4]), ("toys", "ds"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weighted_vote_follows_gold_accuracy_and_majority_projects_are_left_alone() {
    let s = start_with(|c| c.aggregate_every = Duration::from_secs(3600)).await;
    split_crowd(&s, AggregateMethod::Weighted).await;
    aggregate_pass(&*s.store, &mut Watermarks::default(), &s.clock).expect("pass");
    for (i, task) in exported(&s).iter().enumerate() {
        assert_eq!(task["final"], truth(i + 1), "{task}");
        assert_eq!(task["method"], "wmv");
    }

    let s = start().await;
    split_crowd(&s, AggregateMethod::Majority).await;
    assert_eq!(
        aggregate_pass(&*s.store, &mut Watermarks::default(), &s.clock).expect("pass"),
        0
    );
    assert!(exported(&s).iter().all(|t| t["method"] == "mv"));
}

/// `serve` runs the aggregator by itself: the decisions change without anyone asking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_aggregates_in_the_background() {
    let what = "the background aggregator";
    for s in every_backend(what, |c| c.aggregate_every = Duration::from_millis(50)).await {
        aggregates_by_itself(&s).await;
    }
}

async fn aggregates_by_itself(s: &TestServer) {
    split_crowd(s, AggregateMethod::DawidSkene).await;
    // A liveness wait, not a timing claim: the deadline only stops a broken run.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let tasks = exported(s);
        if tasks.iter().all(|t| t["method"] == "ds") {
            assert!(
                tasks
                    .iter()
                    .enumerate()
                    .all(|(i, t)| t["final"] == truth(i + 1))
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{}: never aggregated: {tasks:?}",
            s.backend()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Four gold tasks (all food) and one production task, overlap 3. Amina gets every gold
/// right, Baraka and Chausiku every gold wrong, so at sync their weights are 5/6, 1/6
/// and 1/6 ((right + 1) / (checked + 2)). On the production task Amina says food, the
/// other two toys: majority says toys (2 of 3), wmv says food with confidence
/// (5/6) / (5/6 + 2/6) = 5/7.
async fn weighed_crowd(s: &TestServer, name: &str, method: AggregateMethod) {
    let mut p = project(3);
    p.name = name.to_string();
    p.aggregate = method;
    s.add_project(&p);
    let lines: String = (1..=4)
        .map(|i| format!("{{\"id\":\"g{i}\",\"text\":\"item {i}\",\"gold\":\"food\"}}\n"))
        .chain(["{\"id\":\"t5\",\"text\":\"item 5\"}\n".to_string()])
        .collect();
    let path = s.write_file(&format!("{name}.jsonl"), &lines);
    s.blocking(|| admin::import_tasks(&*s.store, name, &path, &mut |_, _| {}))
        .expect("import");
    for (user, right) in [("amina", true), ("baraka", false), ("chausiku", false)] {
        let token = s.enrol(&format!("{user}-{name}"), Role::Worker).await;
        let leases = s.want(&token, name, 5).await.leases;
        assert_eq!(leases.len(), 5, "{}", s.backend());
        let uploads = leases
            .iter()
            .enumerate()
            .map(|(n, lease)| {
                let label = if right { "food" } else { "toys" };
                answer(n as u64 + 1, lease.task, label)
            })
            .collect();
        s.sync(&token, &answers(uploads)).await;
    }
}

fn decided(s: &TestServer, project: &str) -> Vec<serde_json::Value> {
    s.export(project, ExportFormat::Jsonl)
        .lines()
        .map(|l| serde_json::from_str(l).expect("export line is JSON"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wmv_project_weighs_by_gold_accuracy_at_sync() {
    // No background pass runs by itself: what the export shows is the sync's decision.
    let what = "wmv at sync";
    for s in every_backend(what, |c| c.aggregate_every = Duration::from_secs(3600)).await {
        weighed_crowd(&s, "weighed", AggregateMethod::Weighted).await;
        weighed_crowd(&s, "counted", AggregateMethod::Majority).await;
        let backend = s.backend();

        let counted = decided(&s, "counted");
        assert_eq!(counted[4]["final"], "toys", "{backend}: majority");
        assert_eq!(counted[4]["method"], "mv");

        let weighed = decided(&s, "weighed");
        let t5 = &weighed[4];
        assert_eq!(t5["id"], "t5");
        assert_eq!(t5["final"], "food", "{backend}: {t5}");
        assert_eq!(t5["method"], "wmv");
        assert_eq!(t5["confidence"], 0.7143, "{backend}: 5/7");
        assert_eq!(t5["agreement"], 0.3333, "{backend}: one answer of three");
        for gold in &weighed[..4] {
            assert_eq!(gold["final"], "food", "{backend}: a gold task is its gold");
            assert_eq!(gold["confidence"], 1.0);
        }

        // The background pass weighs by the same records: it decides the same.
        let mut seen = Watermarks::default();
        s.blocking(|| aggregate_pass(&*s.store, &mut seen, &s.clock))
            .expect("pass");
        assert_eq!(decided(&s, "weighed"), weighed, "{backend}");
    }
}

//! Impact over a seeded history, on every backend (SQLite in a temp dir; PostgreSQL with
//! `KAZI_TEST_PG`): seven workers in two cohorts answer a project with gold over three
//! weeks through the real sync; the report's figures are checked against values this
//! test computes itself from what it sent, small groups are suppressed, the HTML report
//! is parsed, and work records verify and are refused after any byte changes. The
//! intake and history store methods are covered here on both backends.

#[path = "support/server_harness.rs"]
mod harness;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use harness::{pg, project};
use kazi::model::intake::{Intake, IntakeForm};
use kazi::model::{AnswerValue, Role};
use kazi::protocol::{AnswerUpload, SyncRequest};
use kazi::server::impact::figures::GroupBy;
use kazi::server::impact::signing::CentreKey;
use kazi::server::impact::{self, record, report};
use kazi::server::store::{NewTask, Principal, SecretHash};
use kazi::server::{Store, StoreError, open_store};

/// Monday 2026-11-02 00:00 UTC: the history's first week.
const BASE: i64 = 1_793_577_600;
const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

const INTAKE_FORM: &str = r#"
[[fields]]
id = "gender"
label = "Gender"
options = ["woman", "man", "other"]
"#;

struct Backend {
    url: String,
    _dir: Option<tempfile::TempDir>,
    _schema: Option<pg::PgSchema>,
}

fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut list = vec![Backend {
        url: format!("sqlite:{}", dir.path().join("server.db").display()),
        _dir: Some(dir),
        _schema: None,
    }];
    if let Some(base) = pg::test_database("the impact suite") {
        let schema = pg::PgSchema::create(&base);
        list.push(Backend {
            url: schema.url.clone(),
            _dir: None,
            _schema: Some(schema),
        });
    }
    list
}

fn hash(seed: &str, salt: u8) -> SecretHash {
    let mut h = [salt; 32];
    for (i, b) in seed.bytes().enumerate().take(31) {
        h[i + 1] = b;
    }
    h
}

fn worker(store: &dyn Store, name: &str) -> Principal {
    let code = hash(name, 1);
    store
        .put_user(name, Role::Worker, &code, BASE + 90 * DAY, BASE - DAY)
        .unwrap();
    let token = hash(name, 2);
    store
        .redeem_enrolment(name, &code, "pc", &token, BASE - DAY)
        .unwrap();
    store.authenticate(&token).unwrap().unwrap()
}

/// What the test itself sent: one entry per counted answer.
#[derive(Debug, Clone)]
struct Sent {
    user: String,
    at: i64,
    /// Some(right) on a gold task.
    gold: Option<bool>,
}

/// The seeded centre: users w1..w5 in cohort "a" (w1-w3 women, w4-w5 men), w6 and w7 in
/// cohort "b" (too small to show), w7 stops after the first week.
struct Seeded {
    store: Arc<dyn Store>,
    sent: Vec<Sent>,
    cohorts: BTreeMap<String, String>,
}

fn seed(url: &str) -> Seeded {
    let store = open_store(url).unwrap();
    let mut shop = project(7);
    shop.lease_secs = 30 * DAY as u64;
    store.put_project(&shop, BASE - DAY).unwrap();
    // Every fourth task is gold ("food"); 400 tasks leave enough for everyone.
    let mut tasks = (1..=400).map(|i| {
        Ok(NewTask {
            id: format!("t{i}"),
            text: format!("item {i}"),
            suggestion: None,
            gold: (i % 4 == 0).then(|| vec!["food".to_string()]),
            gold_spec: (i % 4 == 0).then(|| {
                serde_json::to_string(&kazi::model::Gold::labels(vec![vec!["food".into()]]))
                    .unwrap()
            }),
            clip: None,
            prior: Vec::new(),
        })
    });
    store.import_tasks("shop", &mut tasks).unwrap();
    store
        .put_intake_form(&IntakeForm::from_toml("intake.toml", INTAKE_FORM).unwrap())
        .unwrap();
    let form = store.intake_form().unwrap();
    let mut sent = Vec::new();
    let mut cohorts = BTreeMap::new();
    for w in 1..=7u64 {
        let name = format!("w{w}");
        let who = worker(store.as_ref(), &name);
        let (cohort, gender) = match w {
            1..=3 => ("a", "woman"),
            4 | 5 => ("a", "man"),
            _ => ("b", "prefer_not_to_say"),
        };
        let mut intake = Intake::default();
        intake
            .apply(
                &form,
                &[
                    "date=2026-10-26".into(),
                    format!("cohort={cohort}"),
                    format!("gender={gender}"),
                ],
            )
            .unwrap();
        store.put_intake(&name, &intake).unwrap();
        cohorts.insert(name.clone(), cohort.to_string());
        let weeks = if w == 7 { 1 } else { 3 };
        let mut client_id = 0u64;
        for week in 0..weeks {
            // Two sessions a week, on Tuesday and Thursday mornings, of 4 + w + week tasks.
            for session_day in [1, 3] {
                let start = BASE + week * WEEK + session_day * DAY + 8 * 3600 + (w as i64) * 60;
                let n = (4 + w + week as u64) as u32;
                let leased = store.sync(&who, harness::want("shop", n), start).unwrap();
                assert_eq!(leased.leases.len(), n as usize, "enough tasks for {name}");
                // Gaps of 20-80 s between answers; once a session, a 10-minute break.
                let mut at = start;
                let mut times = Vec::new();
                for (i, _) in leased.leases.iter().enumerate() {
                    let gap = if i == 3 {
                        600
                    } else {
                        20 + ((w as i64 * 7 + i as i64 * 13) % 61)
                    };
                    at += gap;
                    times.push(at);
                }
                let end = at + 5;
                let mut answers = Vec::new();
                for (i, lease) in leased.leases.iter().enumerate() {
                    let number: u64 = lease.text.trim_start_matches("item ").parse().unwrap();
                    let is_gold = number.is_multiple_of(4);
                    // Each worker misses some gold: w1 never, the others every (9 - w)th.
                    let right = w == 1 || !(number / 4 + w).is_multiple_of(9 - w);
                    let label = if !is_gold || right { "food" } else { "toys" };
                    client_id += 1;
                    answers.push(AnswerUpload {
                        id: client_id,
                        task: lease.task,
                        value: AnswerValue::Labels(vec![label.into()]),
                        ago: (end - times[i]) as u32,
                        replaces: None,
                    });
                    sent.push(Sent {
                        user: name.clone(),
                        at: times[i],
                        gold: is_gold.then_some(label == "food"),
                    });
                }
                let reply = store
                    .sync(
                        &who,
                        SyncRequest {
                            answers,
                            ..SyncRequest::default()
                        },
                        end,
                    )
                    .unwrap();
                assert!(reply.acks.iter().all(|a| a.status.is_stored()));
            }
        }
    }
    Seeded {
        store,
        sent,
        cohorts,
    }
}

/// Expected figures of one group and week, computed from what was sent.
#[derive(Debug, Default)]
struct Expected {
    people: BTreeSet<String>,
    tasks: u64,
    gold: u64,
    right: u64,
    seconds: i64,
    timed: u64,
}

fn expected_by_cohort(seeded: &Seeded) -> BTreeMap<(String, i64), Expected> {
    let mut by_user: BTreeMap<&str, Vec<&Sent>> = BTreeMap::new();
    for s in &seeded.sent {
        by_user.entry(&s.user).or_default().push(s);
    }
    let mut out: BTreeMap<(String, i64), Expected> = BTreeMap::new();
    for (user, mut list) in by_user {
        list.sort_by_key(|s| s.at);
        for (i, s) in list.iter().enumerate() {
            let week = BASE + (s.at - BASE).div_euclid(WEEK) * WEEK;
            let e = out.entry((seeded.cohorts[user].clone(), week)).or_default();
            e.people.insert(user.to_string());
            e.tasks += 1;
            if let Some(right) = s.gold {
                e.gold += 1;
                e.right += u64::from(right);
            }
            if i > 0 && s.at - list[i - 1].at <= 300 {
                e.seconds += s.at - list[i - 1].at;
                e.timed += 1;
            }
        }
    }
    out
}

#[test]
fn figures_over_a_seeded_history_match_an_independent_count_on_every_backend() {
    for backend in backends() {
        let seeded = seed(&backend.url);
        let rows =
            impact::report(seeded.store.as_ref(), i64::MIN, i64::MAX, &GroupBy::Cohort).unwrap();
        let expected = expected_by_cohort(&seeded);
        assert_eq!(
            rows.len(),
            expected.len(),
            "{}: one row per cohort and week",
            backend.url
        );
        for row in &rows {
            let e = &expected[&(row.group.clone(), row.week)];
            let cells = report::cells(row);
            if row.group == "b" {
                // Two people: every figure suppressed, none shown as a number.
                for cell in &cells[2..] {
                    assert_eq!(cell, report::SUPPRESSED, "{}: {row:?}", backend.url);
                }
                continue;
            }
            assert_eq!(cells[2], e.people.len().to_string(), "people {row:?}");
            assert_eq!(cells[3], e.tasks.to_string(), "tasks {row:?}");
            assert_eq!(
                cells[4],
                format!("{:.1}%", e.right as f64 * 100.0 / e.gold as f64),
                "gold accuracy {row:?}"
            );
            assert_eq!(
                cells[5],
                format!("{:.1}", e.seconds as f64 / e.timed as f64),
                "seconds per task {row:?}"
            );
            assert_eq!(
                cells[6],
                format!("{:.2}", e.seconds as f64 / 3600.0),
                "hours {row:?}"
            );
            let before = expected.get(&(row.group.clone(), row.week - WEEK));
            let retention = before.map_or_else(String::new, |b| {
                let kept = b.people.intersection(&e.people).count();
                format!("{:.0}%", kept as f64 * 100.0 / b.people.len() as f64)
            });
            assert_eq!(cells[7], retention, "retention {row:?}");
        }
        // Cohort a kept all five people every week.
        assert!(
            rows.iter()
                .any(|r| r.group == "a" && report::cells(r)[7] == "100%")
        );

        // By gender: women (3) and men (2) are both under 5, so both are suppressed, and
        // so is prefer_not_to_say (2).
        let rows = impact::report(
            seeded.store.as_ref(),
            i64::MIN,
            i64::MAX,
            &GroupBy::Field("gender".into()),
        )
        .unwrap();
        assert!(!rows.is_empty());
        for row in &rows {
            assert!(row.figures.is_none(), "{row:?}");
        }
        let table = report::table(&rows, &GroupBy::Field("gender".into()));
        assert!(table.contains("suppressed"), "{table}");
        for row in &rows {
            let line = table.lines().find(|l| l.starts_with(&row.group)).unwrap();
            assert!(
                !line
                    .split_whitespace()
                    .skip(2)
                    .any(|c| c.parse::<f64>().is_ok()),
                "a suppressed row shows no number: {line}"
            );
        }

        // By week over one week only (--from/--to): the whole centre, 7 people.
        let rows =
            impact::report(seeded.store.as_ref(), BASE, BASE + WEEK, &GroupBy::Week).unwrap();
        assert_eq!(rows.len(), 1);
        let week_tasks = seeded.sent.iter().filter(|s| s.at < BASE + WEEK).count();
        assert_eq!(report::cells(&rows[0])[2], "7");
        assert_eq!(report::cells(&rows[0])[3], week_tasks.to_string());
    }
}

#[test]
fn intake_records_are_kept_apart_and_checked_on_every_backend() {
    for backend in backends() {
        let store = open_store(&backend.url).unwrap();
        assert_eq!(store.intake_form().unwrap(), IntakeForm::default());
        let form = IntakeForm::from_toml("intake.toml", INTAKE_FORM).unwrap();
        store.put_intake_form(&form).unwrap();
        assert_eq!(store.intake_form().unwrap(), form);
        worker(store.as_ref(), "amina");
        let mut intake = Intake::default();
        intake
            .apply(
                &form,
                &["cohort=2026-sep".into(), "gender=prefer_not_to_say".into()],
            )
            .unwrap();
        store.put_intake("amina", &intake).unwrap();
        assert_eq!(
            store.intakes().unwrap(),
            vec![("amina".to_string(), intake.clone())]
        );
        // The helper the CLI uses merges new settings into the stored record.
        let merged =
            impact::intake_with(store.as_ref(), "amina", &["date=2026-09-01".into()]).unwrap();
        assert_eq!(merged.cohort.as_deref(), Some("2026-sep"));
        assert_eq!(merged.date.as_deref(), Some("2026-09-01"));
        assert!(matches!(
            store.put_intake("nobody", &intake),
            Err(StoreError::NoUser(_))
        ));
        // No answers: an empty history.
        let n = store
            .work_history(None, i64::MIN, i64::MAX, &mut |_| Ok(()))
            .unwrap();
        assert_eq!(n, 0);
    }
}

#[test]
fn work_history_is_one_users_counted_answers_in_time_order() {
    let backend = &backends()[0];
    let seeded = seed(&backend.url);
    let mut seen = Vec::new();
    seeded
        .store
        .work_history(Some("w3"), BASE, BASE + 2 * WEEK, &mut |item| {
            seen.push(item.at);
            Ok(())
        })
        .unwrap();
    let mut want: Vec<i64> = seeded
        .sent
        .iter()
        .filter(|s| s.user == "w3" && s.at >= BASE && s.at < BASE + 2 * WEEK)
        .map(|s| s.at)
        .collect();
    want.sort_unstable();
    assert_eq!(seen, want);
}

/// A small HTML reader for the test: every element opened is closed in order (void
/// elements aside); returns the tags seen and the text of every table cell.
fn parse_html(html: &str) -> (Vec<(String, String)>, Vec<String>) {
    const VOID: [&str; 3] = ["meta", "br", "hr"];
    let mut stack: Vec<String> = Vec::new();
    let mut tags = Vec::new();
    let mut cells = Vec::new();
    let mut rest = html
        .strip_prefix("<!DOCTYPE html>\n")
        .expect("doctype first");
    let mut cell_text: Option<String> = None;
    while let Some(open) = rest.find('<') {
        if let Some(text) = cell_text.as_mut() {
            text.push_str(&rest[..open]);
        }
        let close = rest[open..].find('>').expect("tag closes") + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "closing tag matches");
            if name == "td" || name == "th" {
                cells.push(cell_text.take().expect("in a cell"));
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, attrs) = tag.split_once(' ').unwrap_or((tag, ""));
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric()),
            "tag name {name}"
        );
        tags.push((name.to_string(), attrs.to_string()));
        if name == "td" || name == "th" {
            cell_text = Some(String::new());
        }
        if !self_closing && !VOID.contains(&name) {
            stack.push(name.to_string());
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    (tags, cells)
}

#[test]
fn the_html_report_is_self_contained_and_holds_the_figures() {
    let backend = &backends()[0];
    let seeded = seed(&backend.url);
    let rows = impact::report(seeded.store.as_ref(), i64::MIN, i64::MAX, &GroupBy::Cohort).unwrap();
    let html = report::html(&rows, &GroupBy::Cohort, "Centre report");
    let (tags, cells) = parse_html(&html);
    let names: BTreeSet<&str> = tags.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains("svg") && names.contains("polyline") && names.contains("table"));
    for (name, attrs) in &tags {
        assert_ne!(name, "script");
        assert_ne!(name, "link");
        assert_ne!(name, "img");
        // Attribute names (before '='): none loads anything or runs code.
        for name_of in attrs.split_whitespace().filter_map(|a| a.split_once('=')) {
            let attr = name_of.0;
            assert!(
                !["src", "href", "style"].contains(&attr) && !attr.starts_with("on"),
                "<{name} {attrs}> refers elsewhere or runs code"
            );
        }
        assert!(!attrs.contains("url("), "<{name} {attrs}>");
    }
    assert!(!html.contains("http:") && !html.contains("https:") && !html.contains("//"));
    assert!(!html.contains("@import") && !html.contains("url("));
    // Every figure of every row is in the table, suppressed rows as "suppressed".
    let per_row = report::HEADER.len();
    assert_eq!(cells.len(), per_row * (rows.len() + 1));
    for (i, row) in rows.iter().enumerate() {
        let want = report::cells(row);
        assert_eq!(
            cells[per_row * (i + 1)..per_row * (i + 2)],
            want[..],
            "row {i}"
        );
    }
    assert!(cells.iter().any(|c| c == report::SUPPRESSED));
    // Both charts are there, and cohort b (suppressed everywhere) has no line.
    assert!(html.contains("Accuracy on gold") && html.contains("Output (tasks)"));
    let lines: Vec<&String> = tags
        .iter()
        .filter(|(n, _)| n == "polyline")
        .map(|(_, a)| a)
        .collect();
    assert_eq!(lines.len(), 2, "one line per chart for cohort a only");
}

#[test]
fn a_work_record_verifies_and_is_refused_after_any_byte_changes() {
    let backend = &backends()[0];
    let seeded = seed(&backend.url);
    let record = impact::work_record(seeded.store.as_ref(), "w2", BASE + 30 * DAY).unwrap();
    let sent: Vec<&Sent> = seeded.sent.iter().filter(|s| s.user == "w2").collect();
    assert_eq!(record.tasks, sent.len() as u64);
    let gold: Vec<bool> = sent.iter().filter_map(|s| s.gold).collect();
    let accuracy = gold.iter().filter(|r| **r).count() as f64 / gold.len() as f64;
    assert_eq!(record.accuracy, Some(record::round(accuracy, 4)));
    assert_eq!(record.intake_date.as_deref(), Some("2026-10-26"));
    assert_eq!(record.projects.len(), 1);
    assert_eq!(record.projects[0].kind, "classify");

    let dir = tempfile::tempdir().unwrap();
    let (key, _) = CentreKey::load_or_create(&dir.path().join("centre.key")).unwrap();
    let (other, _) = CentreKey::load_or_create(&dir.path().join("other.key")).unwrap();
    let public = key.public_hex();
    for file in [
        record::signed_text(&record, &key),
        record::signed_json(&record, &key),
    ] {
        let ok = record::verify(&file, &public, "centre.key.pub").unwrap();
        assert_eq!(ok.worker, "w2");
        // Every single byte changed makes it fail.
        let bytes = file.as_bytes();
        for i in 0..bytes.len() {
            let mut changed = bytes.to_vec();
            changed[i] = if bytes[i] == b'7' {
                b'8'
            } else if bytes[i] == b' ' {
                b'\t'
            } else {
                b'7'
            };
            let Ok(changed) = String::from_utf8(changed) else {
                continue;
            };
            assert!(
                record::verify(&changed, &public, "k").is_err(),
                "byte {i} of {} changed and the record still verifies",
                &file[..20]
            );
        }
        assert!(matches!(
            record::verify(&file, &other.public_hex(), "other.pub"),
            Err(record::VerifyError::OtherKey(_))
        ));
    }
    // What was altered is named: a task count in the text, a field in the JSON.
    let text = record::signed_text(&record, &key);
    let forged = text.replacen(
        &format!("Tasks done: {}", record.tasks),
        "Tasks done: 9999",
        1,
    );
    match record::verify(&forged, &public, "k") {
        Err(record::VerifyError::Altered(parts)) => {
            assert_eq!(parts.len(), 1, "{parts:?}");
            assert!(
                parts[0].starts_with("line 5: altered") && parts[0].contains("9999"),
                "{parts:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let json = record::signed_json(&record, &key);
    let forged = json.replacen(
        &format!("\"tasks\": {}", record.tasks),
        "\"tasks\": 9999",
        1,
    );
    match record::verify(&forged, &public, "k") {
        Err(record::VerifyError::Altered(parts)) => {
            assert_eq!(
                parts,
                vec!["/projects/0/tasks: altered, now 9999".to_string()]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn exports_name_workers_by_pseudonyms_stable_per_project_and_different_across_projects() {
    use kazi::server::admin::{self, ExportFormat, ExportTarget, Naming};
    let backend = &backends()[0];
    let seeded = seed(&backend.url);
    let store = seeded.store.as_ref();
    // A second project the same workers answer.
    let mut other = project(7);
    other.name = "shop2".into();
    store.put_project(&other, BASE).unwrap();
    let mut tasks = (1..=3).map(|i| {
        Ok(NewTask {
            id: format!("u{i}"),
            text: format!("thing {i}"),
            suggestion: None,
            gold: None,
            gold_spec: None,
            clip: None,
            prior: Vec::new(),
        })
    });
    store.import_tasks("shop2", &mut tasks).unwrap();
    let token = hash("w1", 2);
    let who = store.authenticate(&token).unwrap().unwrap();
    let leased = store
        .sync(&who, harness::want("shop2", 1), BASE + 40 * DAY)
        .unwrap();
    let answer = AnswerUpload {
        id: 10_000,
        task: leased.leases[0].task,
        value: AnswerValue::Labels(vec!["food".into()]),
        ago: 0,
        replaces: None,
    };
    store
        .sync(&who, harness::answers(vec![answer]), BASE + 40 * DAY)
        .unwrap();

    let export = |project: &str, format: ExportFormat, naming: Naming| {
        let mut out = Vec::new();
        admin::export_named(store, project, format, ExportTarget::File, naming, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    for format in [
        ExportFormat::Jsonl,
        ExportFormat::Csv,
        ExportFormat::LabelStudio,
        ExportFormat::Prodigy,
    ] {
        let first = export("shop", format, Naming::Pseudonyms);
        assert_eq!(first, export("shop", format, Naming::Pseudonyms), "stable");
        for w in 1..=7 {
            let name = format!("w{w}");
            for quoted in [
                format!("\"{name}\""),
                format!("{name}="),
                format!("shop-{name}\""),
            ] {
                assert!(!first.contains(&quoted), "{format:?} names {name}");
            }
        }
        assert!(first.contains("w-"), "{format:?} carries pseudonyms");
        let named = export("shop", format, Naming::UserNames);
        assert!(
            named.contains("w1"),
            "{format:?} --with-names names workers"
        );
    }
    // w1's pseudonym in shop2 is not their pseudonym in shop.
    let in_shop2 = export("shop2", ExportFormat::Csv, Naming::Pseudonyms);
    let alias2 = in_shop2
        .lines()
        .nth(1)
        .and_then(|l| l.rsplit(',').next())
        .and_then(|a| a.split('=').next())
        .unwrap()
        .to_string();
    assert!(alias2.starts_with("w-"), "{in_shop2}");
    let shop_named = export("shop", ExportFormat::Jsonl, Naming::UserNames);
    let shop_pseudo = export("shop", ExportFormat::Jsonl, Naming::Pseudonyms);
    // The line of task t1 lists the same answers in the same order in both.
    let workers = |line: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        v["answers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["worker"].as_str().unwrap().to_string())
            .collect()
    };
    let names = workers(shop_named.lines().next().unwrap());
    let aliases = workers(shop_pseudo.lines().next().unwrap());
    let w1_in_shop = &aliases[names.iter().position(|n| n == "w1").unwrap()];
    assert_ne!(w1_in_shop, &alias2, "different across projects");
    let distinct: BTreeSet<&String> = aliases.iter().collect();
    assert_eq!(distinct.len(), aliases.len(), "one pseudonym per worker");
}

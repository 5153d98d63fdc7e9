//! Data entry through the `kazi` binary: an entry project added and its 44 documents
//! imported from the fixture, a bad form refused as `FILE:LINE: what` in one line, and
//! the export in both formats.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn kazi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kazi"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("kazi runs")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/projects")
        .join(name)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn an_entry_project_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.db").display());
    kazi::server::open_store(&db).expect("a fresh database");
    let toml = fixture("receipts.toml");
    let out = kazi(&[
        "admin",
        "--db",
        &db,
        "project",
        "add",
        toml.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("Project receipts (16 fields, overlap 2): added.\n"),
        "{}",
        text(&out.stdout)
    );
    let jsonl = fixture("receipts.jsonl");
    let out = kazi(&[
        "admin",
        "--db",
        &db,
        "tasks",
        "import",
        "receipts",
        jsonl.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("44"), "{}", text(&out.stdout));

    let out = kazi(&["export", "--db", &db, "receipts"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 44);
    assert_eq!(
        lines[0]["gold"]["date"], "2025-01-19",
        "gold in normal form"
    );
    assert_eq!(lines[0]["gold"]["items"][0]["unit_price"], "KES 30");
    assert!(lines[0]["final"].is_null(), "nothing entered yet");

    let out = kazi(&["export", "--db", &db, "receipts", "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    // No document decided yet: no rows of line items to give columns to.
    assert!(
        csv.starts_with("id,text,agreement,disputed,doc_kind,vendor,invoice_no,date,total,"),
        "{}",
        csv.lines().next().unwrap_or_default()
    );
}

#[test]
fn a_bad_form_is_refused_with_file_and_line_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.db").display());
    kazi::server::open_store(&db).expect("a fresh database");
    let good = std::fs::read_to_string(fixture("receipts.toml")).unwrap();
    let bad_text = good.replacen("type = \"date\"", "type = \"day\"", 1);
    let line = bad_text
        .lines()
        .position(|l| l == "type = \"day\"")
        .unwrap()
        + 1;
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, bad_text).unwrap();
    let out = kazi(&[
        "admin",
        "--db",
        &db,
        "project",
        "add",
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "kazi: {}:{line}: type 'day' is not known",
            bad.display()
        )),
        "{err}"
    );
}

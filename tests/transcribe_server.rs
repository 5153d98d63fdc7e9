//! Transcription on a real server: the fixture project imports its clips with drafts and
//! gold, an import with a broken audio file is refused at its line with nothing stored,
//! and the server validates transcripts (allowed tags, length) as the client does.

#[path = "support/server_harness.rs"]
mod harness;

use std::path::PathBuf;

use harness::{answers, start};
use kazi::model::transcript::Transcript;
use kazi::model::{AnswerValue, Project, Role};
use kazi::protocol::{AckStatus, AnswerUpload};
use kazi::server::admin::{self, ExportFormat};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/projects")
        .join(name)
}

/// The demo project, its gold mix off: these tests import `reference/sauti.jsonl`, where
/// every clip has its transcript, and lease the clips in import order.
fn sauti() -> Project {
    let text = std::fs::read_to_string(fixture("sauti.toml")).unwrap();
    let mut p = Project::from_toml("sauti.toml", &text).unwrap();
    p.gold_rate = 0.0;
    p
}

fn said(id: u64, task: i64, text: &str) -> AnswerUpload {
    AnswerUpload {
        id,
        task,
        value: AnswerValue::Transcript(Transcript::new(text)),
        ago: 0,
        replaces: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fixture_imports_and_transcripts_are_checked_on_submit() {
    let s = start().await;
    s.add_project(&sauti());
    let summary = admin::import_tasks(
        &*s.store,
        "sauti",
        &fixture("reference/sauti.jsonl"),
        &mut |_, _| {},
    )
    .expect("the fixture imports");
    assert!(summary.added >= 20, "{summary:?}");

    let amina = s.enrol("amina", Role::Worker).await;
    let reply = s.want(&amina, "sauti", 1).await;
    let lease = &reply.leases[0];
    assert!(lease.suggestion.is_some(), "the machine draft travels");
    let task = lease.task;

    let bad = s
        .sync(&amina, &answers(vec![said(1, task, "habari [music]")]))
        .await;
    match &bad.acks[0].status {
        AckStatus::Rejected(why) => assert!(why.contains("[inaudible]"), "{why}"),
        other => panic!("a tag the project lacks was taken: {other:?}"),
    }
    let ok = s
        .sync(
            &amina,
            &answers(vec![said(2, task, "The meeting starts [noise] at 9:30.")]),
        )
        .await;
    assert_eq!(ok.acks[0].status, AckStatus::Ok);
    let again = s
        .sync(
            &amina,
            &answers(vec![said(2, task, "The meeting starts [noise] at 9:30.")]),
        )
        .await;
    assert_eq!(
        again.acks[0].status,
        AckStatus::Dup,
        "sent twice counts once"
    );

    // A second worker on the same clip: agreement is one minus the pairwise WER in the
    // project's normal form (case, punctuation and [noise] ignored).
    let baraka = s.enrol("baraka", Role::Worker).await;
    let reply = s.want(&baraka, "sauti", 1).await;
    assert_eq!(
        reply.leases[0].task, task,
        "overlap 2: both get the first clip"
    );
    let ok = s
        .sync(
            &baraka,
            &answers(vec![said(1, task, "the meeting starts at 9 30")]),
        )
        .await;
    assert_eq!(ok.acks[0].status, AckStatus::Ok);
    let export = s.export("sauti", ExportFormat::Jsonl);
    let first: serde_json::Value = serde_json::from_str(export.lines().next().unwrap()).unwrap();
    assert_eq!(first["method"], "medoid", "{first}");
    assert_eq!(first["agreement"], 1.0, "{first}");
    assert_eq!(first["answers"].as_array().unwrap().len(), 2);
    assert_eq!(first["answers"][0]["worker"], "amina");
    assert_eq!(
        first["answers"][0]["value"],
        "The meeting starts [noise] at 9:30."
    );
    assert!(first["answers"][1]["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        first["gold"],
        "The meeting starts at nine thirty tomorrow morning."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_audio_file_is_refused_at_its_line_and_nothing_is_imported() {
    let s = start().await;
    s.add_project(&sauti());
    let clips = fixture("../audio/clips");
    let good = format!(
        r#"{{"id":"a","audio":"{}","draft":"habari"}}"#,
        clips.join("sw-01.ogg").display()
    );
    s.write_file("broken.ogg", "OggS this is not a clip");
    let bad = r#"{"id":"b","audio":"broken.ogg"}"#;
    let path = s.write_file("tasks.jsonl", &format!("{good}\n{bad}\n"));
    let e = admin::import_tasks(&*s.store, "sauti", &path, &mut |_, _| {}).unwrap_err();
    let e = e.to_string();
    assert!(e.starts_with(&format!("{}:2: ", path.display())), "{e}");
    assert!(e.contains("broken.ogg"), "{e}");
    let missing = r#"{"id":"c","audio":"nowhere.flac"}"#;
    let path = s.write_file("missing.jsonl", &format!("{missing}\n"));
    let e = admin::import_tasks(&*s.store, "sauti", &path, &mut |_, _| {}).unwrap_err();
    assert!(e.to_string().contains(":1: cannot read audio file"), "{e}");
    let tag = r#"{"id":"d","audio":"x.ogg","draft":"[music] hi"}"#;
    let path = s.write_file("tag.jsonl", &format!("{tag}\n"));
    let e = admin::import_tasks(&*s.store, "sauti", &path, &mut |_, _| {}).unwrap_err();
    assert!(e.to_string().contains(":1: the draft does not fit"), "{e}");
    assert_eq!(
        s.export("sauti", ExportFormat::Jsonl),
        "",
        "nothing imported"
    );
}

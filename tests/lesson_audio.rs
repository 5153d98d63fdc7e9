//! Transcription lessons on a real server, on every backend: a lesson row names its audio
//! file (relative to the lessons file), a bad or missing one refuses the import at its
//! line with nothing stored, the lessons travel with their clip named, and the real
//! client fetches those clips (and a held exam attempt's, first) into its cache after a
//! sync and keeps them there while the lesson set or the attempt needs them.

#[path = "support/server_harness.rs"]
mod harness;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use harness::TestServer;
use kazi::client::{self, LocalStore, PlanConfig, Remote};
use kazi::media;
use kazi::model::gold::GoldAnswer;
use kazi::model::{Project, Role};
use kazi::protocol::SyncRequest;
use kazi::server::admin;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The demo transcription project without gold mix or exam: these tests bring their own
/// lessons.
fn sauti() -> Project {
    let text = std::fs::read_to_string(fixture("projects/sauti.toml")).unwrap();
    let mut p = Project::from_toml("sauti.toml", &text).unwrap();
    p.gold_rate = 0.0;
    p.exam = None;
    p
}

/// A lesson row of a transcribe project.
fn row(id: &str, audio: &str, gold: &str) -> String {
    serde_json::json!({
        "id": id,
        "text": "Type what is said.",
        "audio": audio,
        "gold": gold,
        "explanation": format!("The speaker says: {gold}"),
        "hint": "Listen twice before typing.",
    })
    .to_string()
}

/// Two lessons: one clip copied beside the lessons file (named relatively), one named by
/// its absolute path in the fixtures.
fn good_lessons(s: &TestServer) -> PathBuf {
    let beside = s.write_file("sw-01.ogg", "");
    std::fs::copy(fixture("audio/clips/sw-01.ogg"), &beside).unwrap();
    let far = fixture("audio/clips/en-01.ogg");
    let lines = [
        row("l1", "sw-01.ogg", "Habari za asubuhi, karibu sana."),
        row(
            "l2",
            &far.display().to_string(),
            "The meeting starts at nine thirty tomorrow morning.",
        ),
    ];
    s.write_file("sauti.lessons.jsonl", &(lines.join("\n") + "\n"))
}

fn lessons_request() -> SyncRequest {
    SyncRequest {
        known: BTreeMap::from([("sauti".to_string(), String::new())]),
        lessons: Some(BTreeMap::new()),
        ..SyncRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lesson_with_bad_or_missing_audio_is_refused_at_its_line_and_nothing_is_stored() {
    for s in harness::every_backend("lesson audio refusals", |_| {}).await {
        s.add_project(&sauti());
        let good = row(
            "l1",
            &fixture("audio/clips/sw-01.ogg").display().to_string(),
            "Habari za asubuhi, karibu sana.",
        );
        let import = |path: &Path| {
            s.blocking(|| admin::import_lessons(&*s.store, "sauti", path))
                .unwrap_err()
                .to_string()
        };

        s.write_file("broken.ogg", "OggS this is not a clip");
        let path = s.write_file(
            "broken.jsonl",
            &format!("{good}\n{}\n", row("l2", "broken.ogg", "hi")),
        );
        let e = import(&path);
        assert!(e.starts_with(&format!("{}:2: ", path.display())), "{e}");
        assert!(e.contains("broken.ogg"), "{e}");

        let path = s.write_file(
            "missing.jsonl",
            &format!("{good}\n\n{}\n", row("l2", "nowhere.flac", "hi")),
        );
        let e = import(&path);
        assert!(e.contains(":3: cannot read audio file"), "{e}");

        let no_audio = r#"{"id":"l2","text":"t","gold":"hi","explanation":"why","hint":"h"}"#;
        let path = s.write_file("none.jsonl", &format!("{good}\n{no_audio}\n"));
        let e = import(&path);
        assert!(e.contains(":2: audio is missing"), "{e}");

        let no_gold = good.replace(r#""gold":"Habari za asubuhi, karibu sana.","#, "");
        assert_ne!(no_gold, good);
        let path = s.write_file("nogold.jsonl", &format!("{no_gold}\n"));
        assert!(import(&path).contains(":1: not a valid lesson row"));

        // Nothing was stored: no lessons reach a worker.
        let amina = s.enrol("amina", Role::Worker).await;
        let reply = s.sync(&amina, &lessons_request()).await;
        assert!(reply.lessons.is_empty(), "{}", s.backend());

        // Audio on a project without it is refused too.
        s.add_project(&harness::project(1));
        let classify = r#"{"id":"l1","text":"rice","gold":"food","explanation":"eaten","hint":"h","audio":"sw-01.ogg"}"#;
        let path = s.write_file("shop.jsonl", &format!("{classify}\n"));
        let e = s
            .blocking(|| admin::import_lessons(&*s.store, "shop", &path))
            .unwrap_err()
            .to_string();
        assert!(e.contains(":1: audio is for transcribe projects"), "{e}");
    }
}

#[test]
fn lesson_clips_travel_and_reach_the_client_cache_and_stay_while_needed() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for s in rt.block_on(harness::every_backend("lesson audio cache", |_| {})) {
        let _guard = rt.enter();
        s.add_project(&sauti());
        let file = good_lessons(&s);
        let counts = rt
            .block_on(async { s.blocking(|| admin::import_lessons(&*s.store, "sauti", &file)) })
            .expect("lessons import");
        assert_eq!((counts.lessons, counts.exam), (2, 0));
        let clips = [
            media::ingest(&fixture("audio/clips/sw-01.ogg")).unwrap(),
            media::ingest(&fixture("audio/clips/en-01.ogg")).unwrap(),
        ];

        // On the wire: each lesson names its clip and keeps its transcript gold.
        let token = rt.block_on(s.enrol("baraka", Role::Worker));
        let reply = rt.block_on(s.sync(&token, &lessons_request()));
        let set = &reply.lessons[0].tasks;
        for (lesson, clip) in set.iter().zip(&clips) {
            let sent = lesson.clip.as_ref().expect("a lesson names its clip");
            assert_eq!(sent.hash, clip.hash, "{}", s.backend());
            assert_eq!(sent.bytes, clip.wire.len() as u64);
            assert!(matches!(lesson.gold.answer, GoldAnswer::Transcript { .. }));
        }

        // The real client: a sync fetches the lessons' clips into its cache.
        let home = tempfile::tempdir().unwrap();
        let code = admin::add_user(&*s.store, "amina", Role::Worker, &s.clock).unwrap();
        let profile = client::login(home.path(), "amina", &s.base, "amina", &code).unwrap();
        let mut store = LocalStore::open(&profile.db_path()).unwrap();
        let remote = Remote::new(&profile.server, &profile.token).unwrap();
        let plan = PlanConfig {
            prefetch: 10,
            batch: 0,
        };
        // The first sync learns the catalogue, the next asks for its lessons.
        for _ in 0..2 {
            rt.block_on(client::sync_asked(&remote, &mut store, Some("sauti"), plan))
                .expect("sync");
        }
        let held = store.training().unwrap();
        let lessons = &held.lessons["sauti"];
        assert_eq!(lessons.len(), 2, "{}", s.backend());
        let cache = store.clip_cache();
        for (lesson, clip) in lessons.iter().zip(&clips) {
            let wanted = lesson.clip.as_ref().unwrap();
            assert_eq!(
                cache.get(wanted),
                Some(clip.wire.clone()),
                "{}",
                s.backend()
            );
        }

        // Nothing is queued, yet the lesson set's clips are in use: eviction keeps them.
        let in_use = store.clips_in_use().unwrap();
        for clip in &clips {
            assert!(in_use.contains(&clip.hash), "{}", s.backend());
        }
        assert_eq!(cache.retain(&in_use).unwrap(), 0);
        for lesson in lessons {
            assert!(cache.has(lesson.clip.as_ref().unwrap()), "{}", s.backend());
        }
    }
}

#[test]
fn an_exam_attempts_clips_reach_the_client_cache_so_the_exam_plays_offline() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = rt.block_on(harness::start());
    let mut project = sauti();
    project.exam = Some(kazi::model::training::ExamRule {
        size: 1,
        pass_mark: 1,
        retry_secs: 0,
    });
    s.add_project(&project);
    let exam = fixture("audio/clips/hi-01.ogg");
    // The exam row has no text: a transcribe task's note is optional, its clip is the task.
    let lines = [
        row(
            "l1",
            &fixture("audio/clips/sw-01.ogg").display().to_string(),
            "Habari za asubuhi, karibu sana.",
        ),
        serde_json::json!({
            "id": "e1",
            "audio": exam.display().to_string(),
            "gold": "नमस्ते, आप कैसे हैं?",
            "explanation": "A greeting.",
            "exam": true,
        })
        .to_string(),
    ];
    let file = s.write_file("sauti.lessons.jsonl", &(lines.join("\n") + "\n"));
    admin::import_lessons(&*s.store, "sauti", &file).expect("lessons import");
    let exam = media::ingest(&exam).unwrap();

    let home = tempfile::tempdir().unwrap();
    let code = admin::add_user(&*s.store, "amina", Role::Worker, &s.clock).unwrap();
    let profile = client::login(home.path(), "amina", &s.base, "amina", &code).unwrap();
    let mut store = LocalStore::open(&profile.db_path()).unwrap();
    let remote = Remote::new(&profile.server, &profile.token).unwrap();
    let plan = PlanConfig {
        prefetch: 10,
        batch: 0,
    };
    for _ in 0..3 {
        rt.block_on(client::sync_asked(&remote, &mut store, Some("sauti"), plan))
            .expect("sync");
    }
    let held = store.training().unwrap();
    let attempt = held.attempts.get("sauti").expect("an attempt is held");
    let clip = attempt.tasks[0]
        .clip
        .clone()
        .expect("the exam task names its clip");
    assert_eq!(clip.hash, exam.hash);
    // Fetched, and kept: the exam is answered from this computer.
    assert_eq!(store.clip_cache().get(&clip), Some(exam.wire.clone()));
    assert!(store.clips_in_use().unwrap().contains(&exam.hash));
    assert_eq!(
        store.clips_wanted().unwrap()[0],
        clip,
        "the exam's clip comes first"
    );
}

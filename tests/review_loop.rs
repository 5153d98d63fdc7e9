//! The review loop over real HTTP on every backend: three workers disagree, the task is
//! a dispute, a reviewer (through the client's `Remote`) takes it, sees every answer by
//! pseudonym, picks one with a note; the overturned workers get the note in their next
//! sync, accuracy counts the verdict, and the export shows it. Two reviewers never get
//! the same item; workers and unassigned reviewers are refused by the server. The review
//! screen itself, driven by keys over HTTP, edits a verdict on the workers' label grid
//! and rejects a flag with a note that reaches the worker who raised it. On a transcript
//! and on a form (its gold fields only) an upheld contest corrects the gold; the screen
//! fetches a transcript's clip and plays it (through a fake player).

#[path = "support/server_harness.rs"]
mod harness;

use harness::{TestServer, answer, every_backend, project};
use kazi::client::Remote;
use kazi::client::RemoteError;
use kazi::model::transcript::Transcript;
use kazi::model::{AnswerValue, Role};
use kazi::protocol::{
    FeedbackKind, FlagReason, Report, ReportKind, ReviewRequest, ReviewResponse, SyncRequest,
};
use kazi::tui::local::review::HttpLink;
use kazi::tui::review_link::ReviewExecutor;
use kazi::tui::runtime::Session;
use kazi::tui::{App, Event, Key, Keymap, Theme};

async fn take(remote: &Remote) -> Result<ReviewResponse, RemoteError> {
    remote
        .review(&ReviewRequest::Take {
            item: None,
            project: None,
            reason: None,
        })
        .await
}

async fn loop_on(s: &TestServer) {
    let b = s.backend();
    s.add_project(&project(3));
    s.import_numbered("shop", 2);
    let names = ["amina", "baraka", "chiku"];
    let mut tokens = Vec::new();
    for n in names {
        tokens.push(s.enrol(n, Role::Worker).await);
    }
    let zawadi = s.enrol("zawadi", Role::Reviewer).await;
    let outsider = s.enrol("juma", Role::Reviewer).await;
    s.blocking(|| s.store.assign_reviewer("zawadi", "shop", s.clock.now()))
        .expect("assigned");

    let split = ["food", "toys", "tools"];
    for (i, token) in tokens.iter().enumerate() {
        let leases = s.want(token, "shop", 2).await.leases;
        assert_eq!(leases.len(), 2, "{b}");
        let disputed = leases.iter().find(|l| l.text == "item 1").expect("t1").task;
        let agreed = leases.iter().find(|l| l.text == "item 2").expect("t2").task;
        let sent = harness::answers(vec![
            answer(1, disputed, split[i]),
            answer(2, agreed, "food"),
        ]);
        s.sync(token, &sent).await;
    }

    let remote = Remote::new(&s.base, &zawadi).unwrap();
    let ReviewResponse::Queue { items } = remote
        .review(&ReviewRequest::Queue {
            project: None,
            reason: None,
        })
        .await
        .unwrap()
    else {
        panic!("{b}: not a queue");
    };
    assert_eq!(items.len(), 1, "{b}: {items:?}");
    assert_eq!(
        (items[0].reason.as_str(), items[0].task.as_str()),
        ("dispute", "t1")
    );

    let ReviewResponse::Take { case: Some(case) } = take(&remote).await.unwrap() else {
        panic!("{b}: nothing to take");
    };
    assert_eq!(case.text, "item 1");
    assert_eq!(case.answers.len(), 3);
    assert_eq!(case.aggregate, None, "a three-way tie decides nothing");
    for a in &case.answers {
        assert!(a.worker.starts_with("w-"), "{}", a.worker);
        assert!(
            !names.iter().any(|n| a.worker.contains(n)),
            "never the name"
        );
        assert_eq!((a.scored_correct, a.scored_total), (0, 0));
    }
    let other = Remote::new(&s.base, &outsider).unwrap();
    let refused = other
        .review(&ReviewRequest::Take {
            item: Some(case.item),
            project: None,
            reason: None,
        })
        .await;
    assert!(
        matches!(&refused, Err(RemoteError::Refused(m)) if m.contains("not assigned")),
        "{b}: {refused:?}"
    );
    let worker = Remote::new(&s.base, &tokens[0]).unwrap();
    let refused = take(&worker).await;
    assert!(
        matches!(&refused, Err(RemoteError::Refused(m)) if m.contains("reviewers")),
        "{b}: {refused:?}"
    );
    // A second assigned reviewer finds nothing free while zawadi holds the item.
    let second = s.enrol("neema", Role::Reviewer).await;
    s.blocking(|| s.store.assign_reviewer("neema", "shop", s.clock.now()))
        .unwrap();
    let neema = Remote::new(&s.base, &second).unwrap();
    assert_eq!(
        take(&neema).await.unwrap(),
        ReviewResponse::Take { case: None },
        "{b}"
    );

    let decided = remote
        .review(&ReviewRequest::Decide {
            item: case.item,
            verdict: "pick".into(),
            value: Some(AnswerValue::Labels(vec!["toys".into()])),
            note: "a wooden train is a toy".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        decided,
        ReviewResponse::Decide {
            item: case.item,
            feedback_given: 2
        },
        "{b}"
    );

    for (i, token) in tokens.iter().enumerate() {
        let reply = s
            .sync(
                token,
                &SyncRequest {
                    feedback_seen: Some(0),
                    ..SyncRequest::default()
                },
            )
            .await;
        let reviews: Vec<_> = reply
            .feedback
            .iter()
            .filter(|f| f.kind == FeedbackKind::Review)
            .collect();
        if split[i] == "toys" {
            assert!(reviews.is_empty(), "{b}: {} was upheld", names[i]);
            continue;
        }
        assert_eq!(reviews.len(), 1, "{b}: {}: {:?}", names[i], reply.feedback);
        let f = reviews[0];
        assert_eq!(f.note, "a wooden train is a toy");
        assert!(!f.correct);
        assert_eq!(f.expected, Some(AnswerValue::Labels(vec!["toys".into()])));
        assert_eq!(f.answer, Some(AnswerValue::Labels(vec![split[i].into()])));
        let accuracy = reply
            .accuracy
            .iter()
            .find(|a| a.project == "shop")
            .expect("accuracy with the feedback");
        assert_eq!((accuracy.all_correct, accuracy.all_total), (0, 1), "{b}");
    }

    let export = s.export("shop", kazi::server::admin::ExportFormat::Jsonl);
    let t1: serde_json::Value = serde_json::from_str(export.lines().next().unwrap()).unwrap();
    assert_eq!(t1["final"], "toys", "{b}: {t1}");
    assert_eq!(t1["provenance"], "review", "{b}: {t1}");
    assert_eq!(t1["verdict"], "pick");
    assert_eq!(t1["note"], "a wooden train is a toy");
    assert!(t1["decided_by"].as_str().unwrap().starts_with("w-"), "{t1}");
    let t2: serde_json::Value = serde_json::from_str(export.lines().nth(1).unwrap()).unwrap();
    assert_eq!(t2["final"], "food");
    assert_eq!(t2["provenance"], "aggregate", "{b}: {t2}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispute_is_decided_and_the_verdict_reaches_workers_accuracy_and_export() {
    for s in every_backend("the review loop", |_| {}).await {
        loop_on(&s).await;
    }
}

/// The review screen over HTTP as `kazi review` runs it, fed keys; on a thread of its
/// own, since its link blocks on a runtime of its own.
fn on_screen(base: &str, token: &str, keys: &[&str], note: &str) -> Vec<String> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let link = HttpLink::new(base, token).unwrap();
                let app = App::review(Keymap::default(), Theme::default(), None);
                let mut session = Session::new(app, ReviewExecutor::new(link, None));
                session.feed(Event::Resize(80, 24));
                let mut seen = Vec::new();
                // Each item in turn: a dispute is edited, a flag rejected with a note.
                for _ in 0..2 {
                    session.feed(Event::Key(Key::parse("enter").unwrap()));
                    let reason = match session.app().review_screen().and_then(|r| r.case()) {
                        Some(case) => case.reason.clone(),
                        None => break,
                    };
                    let script: Vec<String> = if reason == "flag" {
                        let mut typed = vec!["ctrl-n".to_string()];
                        typed.extend(note.chars().map(|c| c.to_string().replace(' ', "space")));
                        typed.extend(["enter".to_string(), "ctrl-r".to_string()]);
                        typed
                    } else {
                        keys.iter().map(|k| k.to_string()).collect()
                    };
                    for k in script {
                        session.feed(Event::Key(Key::parse(&k).unwrap()));
                    }
                    seen.push(reason);
                }
                seen
            })
            .join()
            .unwrap()
    })
}

async fn screen_on(s: &TestServer) {
    let b = s.backend();
    s.add_project(&project(3));
    s.import_numbered("shop", 2);
    let names = ["amina", "baraka", "chiku"];
    let mut tokens = Vec::new();
    for n in names {
        tokens.push(s.enrol(n, Role::Worker).await);
    }
    let zawadi = s.enrol("zawadi", Role::Reviewer).await;
    s.blocking(|| s.store.assign_reviewer("zawadi", "shop", s.clock.now()))
        .expect("assigned");
    let split = ["food", "toys", "tools"];
    for (i, token) in tokens.iter().enumerate() {
        let leases = s.want(token, "shop", 2).await.leases;
        let disputed = leases.iter().find(|l| l.text == "item 1").expect("t1").task;
        let agreed = leases.iter().find(|l| l.text == "item 2").expect("t2").task;
        let mut sent = harness::answers(vec![
            answer(1, disputed, split[i]),
            answer(2, agreed, "food"),
        ]);
        if i == 0 {
            sent.reports = vec![Report {
                id: 1,
                task: agreed,
                kind: ReportKind::Flag(FlagReason::Unclear),
                note: "is this bread or a toy?".into(),
            }];
        }
        s.sync(token, &sent).await;
    }

    // The dispute: ctrl-e opens the label grid, 2 is Toys.
    let note = "bread, plainly";
    let seen = tokio::task::block_in_place(|| on_screen(&s.base, &zawadi, &["ctrl-e", "2"], note));
    assert_eq!(seen.len(), 2, "{b}: {seen:?}");
    assert!(seen.contains(&"dispute".to_string()) && seen.contains(&"flag".to_string()));

    let export = s.export("shop", kazi::server::admin::ExportFormat::Jsonl);
    let t1: serde_json::Value = serde_json::from_str(export.lines().next().unwrap()).unwrap();
    assert_eq!(t1["final"], "toys", "{b}: {t1}");
    assert_eq!(
        (t1["provenance"].as_str(), t1["verdict"].as_str()),
        (Some("review"), Some("edit"))
    );
    let reply = s
        .sync(
            &tokens[0],
            &SyncRequest {
                feedback_seen: Some(0),
                ..SyncRequest::default()
            },
        )
        .await;
    let notes: Vec<&str> = reply
        .feedback
        .iter()
        .filter(|f| f.kind == FeedbackKind::Review)
        .map(|f| f.note.as_str())
        .collect();
    assert!(
        notes.contains(&note),
        "{b}: amina hears why her flag was rejected: {notes:?}"
    );
    let queue = s.blocking(|| {
        s.store
            .review_list(&kazi::server::store::review::ReviewFilter::default())
            .unwrap()
    });
    assert!(
        queue.iter().all(|i| i.verdict.is_some()),
        "{b}: both decided: {queue:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screen_edits_a_verdict_and_rejects_a_flag_over_http() {
    for s in every_backend("the review screen over HTTP", |_| {}).await {
        screen_on(&s).await;
    }
}

/// The demo transcribe project, its gold leased like any other task, and one clip whose
/// gold is wrong ("half past nine" was said).
fn transcribe_gold(s: &TestServer) {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let toml = std::fs::read_to_string(dir.join("projects/sauti.toml")).unwrap();
    let mut p = kazi::model::Project::from_toml("sauti.toml", &toml).unwrap();
    p.gold_rate = 0.0;
    p.overlap = 1;
    s.add_project(&p);
    let clip = dir.join("audio/clips/en-01.ogg");
    let line = format!(
        r#"{{"id":"g1","audio":"{}","gold":"the meeting starts at nine"}}"#,
        clip.display()
    );
    let path = s.write_file("gold.jsonl", &format!("{line}\n"));
    s.blocking(|| kazi::server::admin::import_tasks(&*s.store, "sauti", &path, &mut |_, _| {}))
        .expect("the gold clip imports");
}

/// A worker misses the wrong gold of a clip and contests it; the reviewer's token, the
/// worker's and her lease.
async fn contested_clip(s: &TestServer) -> (String, String, kazi::protocol::Lease) {
    let b = s.backend();
    transcribe_gold(s);
    let amina = s.enrol("amina", Role::Worker).await;
    let zawadi = s.enrol("zawadi", Role::Reviewer).await;
    s.blocking(|| s.store.assign_reviewer("zawadi", "sauti", s.clock.now()))
        .expect("assigned");
    let lease = s.want(&amina, "sauti", 1).await.leases.remove(0);
    assert!(lease.clip.is_some(), "{b}: a clip travels with the lease");
    let mut sent = harness::answers(vec![kazi::protocol::AnswerUpload {
        id: 1,
        task: lease.task,
        value: AnswerValue::Transcript(Transcript::new(SAID)),
        ago: 0,
        replaces: None,
    }]);
    sent.feedback_seen = Some(0);
    let reply = s.sync(&amina, &sent).await;
    let missed = reply.feedback.iter().find(|f| f.kind == FeedbackKind::Gold);
    assert!(
        missed.is_some_and(|f| !f.correct),
        "{b}: {:?}",
        reply.feedback
    );
    let contest = SyncRequest {
        reports: vec![Report {
            id: 1,
            task: lease.task,
            kind: ReportKind::Contest,
            note: "she says half past nine".into(),
        }],
        ..SyncRequest::default()
    };
    s.sync(&amina, &contest).await;
    (zawadi, amina, lease)
}

/// What the worker said on the clip (its gold says "nine").
const SAID: &str = "the meeting starts at half past nine";

async fn transcript_contest_on(s: &TestServer) {
    let b = s.backend();
    let (zawadi, amina, lease) = contested_clip(s).await;
    let said = SAID;
    let remote = Remote::new(&s.base, &zawadi).unwrap();
    let ReviewResponse::Take { case: Some(case) } = take(&remote).await.unwrap() else {
        panic!("{b}: the contest is not in the queue");
    };
    assert_eq!(case.reason, "contest", "{b}");
    assert!(
        case.clip
            .as_ref()
            .is_some_and(|c| Some(c) == lease.clip.as_ref()),
        "{b}: the case carries the task's clip: {:?}",
        case.clip
    );
    let contested = case.answers[0].value.clone();
    let decided = remote
        .review(&ReviewRequest::Decide {
            item: case.item,
            verdict: "uphold".into(),
            value: Some(contested),
            note: "listen again: half past nine".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        decided,
        ReviewResponse::Decide {
            item: case.item,
            feedback_given: 1
        },
        "{b}"
    );
    let reply = s
        .sync(
            &amina,
            &SyncRequest {
                feedback_seen: Some(0),
                ..SyncRequest::default()
            },
        )
        .await;
    let corrected = reply
        .feedback
        .iter()
        .find(|f| f.kind == FeedbackKind::GoldCorrected)
        .expect("the correction reaches the worker");
    assert!(corrected.correct, "{b}: her transcript is the gold now");
    assert_eq!(corrected.note, "listen again: half past nine");
    let accuracy = reply
        .accuracy
        .iter()
        .find(|a| a.project == "sauti")
        .expect("accuracy");
    assert_eq!((accuracy.all_correct, accuracy.all_total), (1, 1), "{b}");
    let export = s.export("sauti", kazi::server::admin::ExportFormat::Jsonl);
    let g1: serde_json::Value = serde_json::from_str(export.lines().next().unwrap()).unwrap();
    assert_eq!(g1["gold"], said, "{b}: {g1}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upheld_contest_on_a_transcript_corrects_its_gold_and_the_accuracy() {
    for s in every_backend("a transcript contest upheld", |_| {}).await {
        transcript_contest_on(&s).await;
    }
}

/// A fake player: what it is fed lands in `dir/pcm`.
fn fake_player(dir: &std::path::Path) -> kazi::client::player::PlayerProgram {
    kazi::client::player::PlayerProgram {
        template: format!("cat > {}/pcm", dir.display()),
    }
}

async fn clip_on_screen(s: &TestServer) {
    let b = s.backend();
    let (zawadi, _, lease) = contested_clip(s).await;
    let clip = lease.clip.expect("the clip");
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("review-clips");
    let program = fake_player(dir.path());
    let (state_after_open, state_after_play) = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let link = HttpLink::new(&s.base, &zawadi).unwrap().with_sound(
                        cache.clone(),
                        Some(program),
                        std::sync::Arc::new(|_| {}),
                    );
                    let app = App::review(Keymap::default(), Theme::default(), None);
                    let mut session = Session::new(app, ReviewExecutor::new(link, None));
                    session.feed(Event::Resize(80, 24));
                    session.feed(Event::Key(Key::parse("enter").unwrap()));
                    let state = |session: &Session<_>| {
                        let app: &App = Session::app(session);
                        app.review_screen()
                            .and_then(|r| r.player())
                            .map(|p| p.state.clone())
                    };
                    let opened = state(&session);
                    session.feed(Event::Key(Key::parse("ctrl-p").unwrap()));
                    let playing = state(&session);
                    // What the player was fed arrives as it plays: wait for some of it.
                    for _ in 0..1000 {
                        if std::fs::metadata(dir.path().join("pcm")).is_ok_and(|m| m.len() > 0) {
                            break;
                        }
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    session.feed(Event::Key(Key::parse("esc").unwrap()));
                    (opened, playing)
                })
                .join()
                .unwrap()
        })
    });
    use kazi::client::player::PlayState;
    assert_eq!(state_after_open, Some(PlayState::Paused), "{b}: loaded");
    assert_eq!(state_after_play, Some(PlayState::Playing), "{b}");
    let cached = std::fs::read(cache.join(&clip.hash)).expect("the clip is in the review cache");
    assert_eq!(cached.len() as u64, clip.bytes, "{b}");
    assert_eq!(
        kazi::media::clip_hash(&cached),
        clip.hash,
        "{b}: the clip's own bytes"
    );
    let fed = std::fs::metadata(dir.path().join("pcm")).map_or(0, |m| m.len());
    assert!(fed > 0, "{b}: the player was fed the clip's sound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screen_fetches_a_transcripts_clip_and_plays_it() {
    for s in every_backend("the review screen's audio", |_| {}).await {
        clip_on_screen(&s).await;
    }
}

async fn form_contest_on(s: &TestServer) {
    let b = s.backend();
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/projects");
    let toml = std::fs::read_to_string(dir.join("receipts.toml")).unwrap();
    let mut p = kazi::model::Project::from_toml("receipts.toml", &toml).unwrap();
    p.gold_rate = 0.0;
    p.overlap = 1;
    s.add_project(&p);
    // The gold holds three fields; its total is wrong.
    let line = r#"{"id":"r1","text":"TUSKYS KISUMU\nDate: 19/01/2025\nTOTAL KSh 753.00\nCASH","gold":{"doc_kind":"receipt","vendor":"Tuskys Kisumu","total":"KES 735.00"}}"#;
    let path = s.write_file("receipts.jsonl", &format!("{line}\n"));
    s.blocking(|| kazi::server::admin::import_tasks(&*s.store, "receipts", &path, &mut |_, _| {}))
        .expect("the gold receipt imports");
    let amina = s.enrol("amina", Role::Worker).await;
    let zawadi = s.enrol("zawadi", Role::Reviewer).await;
    s.blocking(|| s.store.assign_reviewer("zawadi", "receipts", s.clock.now()))
        .expect("assigned");
    let lease = s.want(&amina, "receipts", 1).await.leases.remove(0);
    let mut values = kazi::model::form::FormValues::default();
    for (k, v) in [
        ("doc_kind", "receipt"),
        ("vendor", "Tuskys Kisumu"),
        ("date", "19/01/2025"),
        ("total", "KES 753.00"),
        ("paid_by", "cash"),
    ] {
        values.fields.insert(k.into(), v.into());
    }
    let row = [
        ("description", "Omo 1kg"),
        ("qty", "1"),
        ("unit_price", "753.00"),
    ];
    values.groups.insert(
        "items".into(),
        vec![
            row.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ],
    );
    let sent = harness::answers(vec![kazi::protocol::AnswerUpload {
        id: 1,
        task: lease.task,
        value: AnswerValue::Form(values),
        ago: 0,
        replaces: None,
    }]);
    let reply = s.sync(&amina, &sent).await;
    assert!(reply.acks[0].status.is_stored(), "{b}: {:?}", reply.acks);
    let contest = SyncRequest {
        reports: vec![Report {
            id: 1,
            task: lease.task,
            kind: ReportKind::Contest,
            note: "the receipt says 753".into(),
        }],
        ..SyncRequest::default()
    };
    s.sync(&amina, &contest).await;
    let remote = Remote::new(&s.base, &zawadi).unwrap();
    let ReviewResponse::Take { case: Some(case) } = take(&remote).await.unwrap() else {
        panic!("{b}: the contest is not in the queue");
    };
    let decided = remote
        .review(&ReviewRequest::Decide {
            item: case.item,
            verdict: "uphold".into(),
            value: Some(case.answers[0].value.clone()),
            note: "753, as printed".into(),
        })
        .await
        .unwrap();
    assert!(
        matches!(
            decided,
            ReviewResponse::Decide {
                feedback_given: 1,
                ..
            }
        ),
        "{b}: {decided:?}"
    );
    let reply = s
        .sync(
            &amina,
            &SyncRequest {
                feedback_seen: Some(0),
                ..SyncRequest::default()
            },
        )
        .await;
    let corrected = reply
        .feedback
        .iter()
        .find(|f| f.kind == FeedbackKind::GoldCorrected)
        .expect("the correction reaches the worker");
    assert!(corrected.correct, "{b}: her total is the gold's now");
    let export = s.export("receipts", kazi::server::admin::ExportFormat::Jsonl);
    let r1: serde_json::Value = serde_json::from_str(export.lines().next().unwrap()).unwrap();
    let gold = r1["gold"].to_string();
    assert!(gold.contains("753") && !gold.contains("735"), "{b}: {r1}");
    assert!(
        !gold.contains("2025"),
        "{b}: the date was not gold and is not now: {gold}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upheld_contest_on_a_form_corrects_its_gold_fields_only() {
    for s in every_backend("a form contest upheld", |_| {}).await {
        form_contest_on(&s).await;
    }
}

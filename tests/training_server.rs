//! Training on a real server, on every backend: lessons travel with their gold, an exam
//! attempt travels without it (checked in the decoded reply bytes), the server grades a
//! whole attempt once, a failed exam names what was missed and a retry draws new tasks
//! after the wait (server time), and only a pass opens production leases.

#[path = "support/server_harness.rs"]
mod harness;

use std::collections::BTreeMap;

use harness::{PROJECT_TOML, TestServer, every_backend};
use kazi::model::{AnswerValue, Project, Role};
use kazi::protocol::{
    self, Encoding, ExamAnswer, ExamAttempt, ExamState, ExamSubmission, SyncRequest,
};
use kazi::server::admin;

/// Server-time seconds a failed exam waits in these tests.
const RETRY_SECS: i64 = 600;

fn gated_project() -> Project {
    let text = PROJECT_TOML.replace(
        "lease = \"1h\"",
        "lease = \"1h\"\nrequires_qualification = true",
    ) + "\n[exam]\nsize = 4\npass_mark = 3\nretry_after = \"10m\"\n";
    Project::from_toml("shop.toml", &text).expect("gated project parses")
}

/// Lessons l1..l3 and exam tasks e1..e8: exam task eN's gold is "food" for odd N and
/// "toys" for even N; its text says N, so a test can answer right or wrong on purpose.
fn training_file(s: &TestServer) -> std::path::PathBuf {
    let mut lines = Vec::new();
    for i in 1..=3 {
        lines.push(format!(
            r#"{{"id":"l{i}","text":"lesson {i}","gold":"food","explanation":"it is eaten","hint":"think of the kitchen"}}"#
        ));
    }
    for i in 1..=8 {
        let gold = if i % 2 == 1 { "food" } else { "toys" };
        lines.push(format!(
            r#"{{"id":"e{i}","text":"exam {i}","gold":"{gold}","explanation":"secret reason {i}","exam":true}}"#
        ));
    }
    s.write_file("shop.lessons.jsonl", &(lines.join("\n") + "\n"))
}

async fn setup(s: &TestServer) -> String {
    s.add_project(&gated_project());
    s.import_numbered("shop", 5);
    let file = training_file(s);
    let counts = s
        .blocking(|| admin::import_lessons(&*s.store, "shop", &file))
        .expect("training set imports");
    assert_eq!((counts.lessons, counts.exam), (3, 8));
    s.enrol("amina", Role::Worker).await
}

fn exam_request() -> SyncRequest {
    SyncRequest {
        known: BTreeMap::from([("shop".to_string(), String::new())]),
        exams: vec!["shop".into()],
        ..SyncRequest::default()
    }
}

fn standing(reply: &protocol::SyncResponse) -> &ExamState {
    reply
        .exams
        .iter()
        .find(|e| e.project == "shop")
        .expect("the exam standing is in the reply")
}

fn gold_of(text: &str) -> &'static str {
    let n: u32 = text.trim_start_matches("exam ").parse().expect("exam N");
    if n % 2 == 1 { "food" } else { "toys" }
}

/// Answers to an attempt: right ones for the first `right` tasks, wrong ones after.
fn answer(attempt: &ExamAttempt, right: usize) -> ExamSubmission {
    let answers = attempt
        .tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let label = if i < right { gold_of(&t.text) } else { "tools" };
            ExamAnswer {
                item: t.item,
                value: AnswerValue::Labels(vec![label.to_string()]),
            }
        })
        .collect();
    ExamSubmission {
        attempt: attempt.id,
        answers,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lessons_carry_gold_and_an_exam_attempt_does_not() {
    for s in every_backend("training lessons", |_| {}).await {
        let amina = setup(&s).await;
        let mut request = exam_request();
        request.lessons = Some(BTreeMap::new());
        let raw = s.sync_raw(&amina, &request).await;
        assert_eq!(raw.status, 200, "{}", s.backend());
        let bytes = zstd::decode_all(&raw.body[..]).expect("reply decodes");
        let text = String::from_utf8(bytes.clone()).expect("JSON");
        let reply: protocol::SyncResponse =
            protocol::decode(&raw.body, Encoding::Zstd, protocol::MAX_DECODED_BYTES)
                .expect("reply");
        let lessons = &reply.lessons[0];
        assert_eq!(lessons.tasks.len(), 3);
        assert_eq!(lessons.tasks[0].gold.explanation, "it is eaten");
        assert_eq!(lessons.tasks[0].hint, "think of the kitchen");
        let attempt = standing(&reply)
            .attempt
            .as_ref()
            .expect("an attempt is drawn");
        assert_eq!(attempt.tasks.len(), 4);
        // No exam task's gold or explanation is anywhere in the bytes before grading.
        assert!(!text.contains("secret reason"), "{text}");
        for t in &attempt.tasks {
            let n = t.text.trim_start_matches("exam ");
            assert!(!text.contains(&format!("secret reason {n}")));
        }
        let exam_part = text.split("\"exams\"").nth(1).expect("exams in reply");
        assert!(!exam_part.contains("gold"), "{exam_part}");

        // Lessons held in their version are not sent again.
        request.lessons = Some(BTreeMap::from([(
            "shop".to_string(),
            lessons.version.clone(),
        )]));
        let again = s.sync(&amina, &request).await;
        assert!(again.lessons.is_empty(), "{}", s.backend());
        // The same open attempt, not a new draw, until it is answered.
        assert_eq!(
            standing(&again).attempt.as_ref().map(|a| a.id),
            Some(attempt.id)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_exam_keeps_production_closed_and_a_retry_draws_new_tasks() {
    for s in every_backend("training exam fail", |_| {}).await {
        let amina = setup(&s).await;
        // Not qualified: the server refuses production leases, whatever a client asks.
        assert!(
            s.want(&amina, "shop", 5).await.leases.is_empty(),
            "{}",
            s.backend()
        );

        let first = s.sync(&amina, &exam_request()).await;
        let attempt = standing(&first).attempt.clone().expect("attempt");
        let mut submit = exam_request();
        submit.exam_answers = vec![answer(&attempt, 2)];
        let graded = s.sync(&amina, &submit).await;
        let state = standing(&graded);
        let result = state.result.as_ref().expect("graded at once");
        assert_eq!(
            (result.correct, result.passed),
            (2, false),
            "{}",
            s.backend()
        );
        assert_eq!(result.missed.len(), 2);
        let miss = &result.missed[0];
        assert_eq!(miss.answer, AnswerValue::Labels(vec!["tools".into()]));
        assert_eq!(
            miss.expected.expected(),
            AnswerValue::Labels(vec![gold_of(&miss.text).into()])
        );
        assert!(miss.expected.explanation.starts_with("secret reason"));
        assert!(state.qualified.is_none() && state.attempt.is_none());
        assert_eq!(state.retry_at, Some(result.at + RETRY_SECS));

        // Sending the same attempt again (right this time) changes nothing.
        submit.exam_answers = vec![answer(&attempt, 4)];
        let again = s.sync(&amina, &submit).await;
        assert_eq!(standing(&again).result.as_ref().map(|r| r.correct), Some(2));
        assert!(s.want(&amina, "shop", 5).await.leases.is_empty());

        // After the wait, by the server's clock, a new attempt of other tasks.
        s.clock.advance(RETRY_SECS);
        let retry = s.sync(&amina, &exam_request()).await;
        let second = standing(&retry).attempt.clone().expect("retry drawn");
        assert_ne!(second.id, attempt.id);
        for t in &second.tasks {
            assert!(
                attempt.tasks.iter().all(|old| old.item != t.item),
                "pool of 8, size 4: a retry shares no task ({})",
                s.backend()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passed_exam_qualifies_on_the_server_and_opens_production() {
    for s in every_backend("training exam pass", |_| {}).await {
        let amina = setup(&s).await;
        let first = s.sync(&amina, &exam_request()).await;
        let attempt = standing(&first).attempt.clone().expect("attempt");
        let mut submit = exam_request();
        submit.exam_answers = vec![answer(&attempt, 3)];
        let graded = s.sync(&amina, &submit).await;
        let state = standing(&graded);
        assert!(
            state
                .result
                .as_ref()
                .is_some_and(|r| r.passed && r.correct == 3)
        );
        assert_eq!(state.qualified, Some(graded.now), "{}", s.backend());
        assert!(state.attempt.is_none(), "no more attempts once qualified");
        assert_eq!(s.want(&amina, "shop", 5).await.leases.len(), 5);

        // Another worker's submission of this attempt grants them nothing.
        let baraka = s.enrol("baraka", Role::Worker).await;
        let mut stolen = exam_request();
        stolen.exams.clear();
        stolen.exam_answers = vec![answer(&attempt, 4)];
        assert!(s.sync(&baraka, &stolen).await.exams.is_empty());
        assert!(s.want(&baraka, "shop", 5).await.leases.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trainers_and_admins_are_never_drawn_an_exam_and_are_not_held_back() {
    for s in every_backend("training roles", |_| {}).await {
        let amina = setup(&s).await;
        for (name, role) in [("tabitha", Role::Trainer), ("adan", Role::Admin)] {
            let who = s.enrol(name, role).await;
            let mut request = exam_request();
            request.lessons = Some(BTreeMap::new());
            let reply = s.sync(&who, &request).await;
            let state = standing(&reply);
            assert!(state.exempt, "{role} on {}", s.backend());
            assert!(state.attempt.is_none(), "{role} drawn an exam");
            assert!(state.qualified.is_none(), "{role} is not made qualified");
            // The lessons still come, to practise and check.
            assert_eq!(reply.lessons[0].tasks.len(), 3, "{role}");
            assert_eq!(s.want(&who, "shop", 2).await.leases.len(), 2, "{role}");
        }
        // A worker still takes the exam first.
        let first = s.sync(&amina, &exam_request()).await;
        assert!(!standing(&first).exempt);
        assert!(standing(&first).attempt.is_some());
        assert!(s.want(&amina, "shop", 2).await.leases.is_empty());
    }
}

/// A lesson file of `count` lessons whose texts take about `text_bytes` each.
fn big_lessons(s: &TestServer, name: &str, count: usize, text_bytes: usize) -> std::path::PathBuf {
    let filler = "flour and rice ".repeat(text_bytes / 15);
    let lines: Vec<String> = (1..=count)
        .map(|i| {
            format!(
                r#"{{"id":"l{i}","text":"lesson {i}: {filler}","gold":"food","explanation":"it is eaten","hint":"kitchen"}}"#
            )
        })
        .collect();
    s.write_file(name, &(lines.join("\n") + "\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lesson_set_larger_than_a_reply_is_refused_and_sets_share_the_reply_budget() {
    let s = harness::start().await;
    let shop = Project::from_toml("shop.toml", PROJECT_TOML).expect("project");
    s.add_project(&shop);
    // 150 lessons of 4 KB: under the count limit, over the reply's 512 KB.
    let file = big_lessons(&s, "big.lessons.jsonl", 150, 4 << 10);
    let e = s
        .blocking(|| admin::import_lessons(&*s.store, "shop", &file))
        .expect_err("too big to send");
    let message = e.to_string();
    assert!(
        message.contains("150 lessons") && message.contains("512 KB"),
        "{message}"
    );
    assert!(message.contains("shorter"), "says what to do: {message}");
    // Nothing was stored: the client is sent no lessons.
    let amina = s.enrol("amina", Role::Worker).await;
    let request = SyncRequest {
        known: BTreeMap::from([("shop".to_string(), String::new())]),
        lessons: Some(BTreeMap::new()),
        ..SyncRequest::default()
    };
    assert!(s.sync(&amina, &request).await.lessons.is_empty());

    // Two sets of about 300 KB each fit one at a time: the second follows next sync.
    let mut market = shop.clone();
    market.name = "market".into();
    s.add_project(&market);
    for name in ["shop", "market"] {
        let file = big_lessons(&s, &format!("{name}.lessons.jsonl"), 75, 4 << 10);
        s.blocking(|| admin::import_lessons(&*s.store, name, &file))
            .expect("a set under the budget imports");
    }
    let mut request = SyncRequest {
        known: BTreeMap::from([
            ("shop".to_string(), String::new()),
            ("market".to_string(), String::new()),
        ]),
        lessons: Some(BTreeMap::new()),
        ..SyncRequest::default()
    };
    let first = s.sync(&amina, &request).await;
    assert_eq!(first.lessons.len(), 1, "one set per reply at this size");
    let held = &first.lessons[0];
    request
        .lessons
        .as_mut()
        .unwrap()
        .insert(held.project.clone(), held.version.clone());
    let second = s.sync(&amina, &request).await;
    assert_eq!(second.lessons.len(), 1);
    assert_ne!(second.lessons[0].project, held.project);
    assert_eq!(second.lessons[0].tasks.len(), 75);
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/projects")
        .join(name)
}

/// Bytes of every file under `dir`.
fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("a folder")
        .map(|e| e.expect("an entry").path())
        .map(|p| {
            if p.is_dir() {
                dir_bytes(&p)
            } else {
                std::fs::metadata(&p).expect("a file").len()
            }
        })
        .sum()
}

fn jsonl(name: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(fixture(name))
        .expect("fixture")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_demo_project_has_lessons_an_exam_pool_and_gold_at_a_tenth() {
    let s = harness::start().await;
    for (file, name) in [
        ("products", "products"),
        ("sentiment", "reviews"),
        ("receipts", "receipts"),
        ("sauti", "sauti"),
    ] {
        let toml = std::fs::read_to_string(fixture(&format!("{file}.toml"))).expect("toml");
        let project = Project::from_toml(&format!("{file}.toml"), &toml).expect("parses");
        assert_eq!(project.name, name);
        assert_eq!(project.gold_rate, 0.1, "{name}");
        // Only products holds work back until the exam is passed.
        assert_eq!(project.requires_qualification, name == "products", "{name}");
        let exam = project.exam.expect("an exam");
        s.add_project(&project);

        let tasks = jsonl(&format!("{file}.jsonl"));
        let gold: Vec<_> = tasks.iter().filter(|t| t.get("gold").is_some()).collect();
        assert!(!gold.is_empty(), "{name} has gold");
        assert!(
            gold.len() * 3 <= tasks.len(),
            "{name}: most tasks are production work ({} gold of {})",
            gold.len(),
            tasks.len()
        );
        for g in &gold {
            let why = g["explanation"].as_str().unwrap_or_default();
            assert!(!why.trim().is_empty(), "{name}: gold {} explains", g["id"]);
        }
        let path = fixture(&format!("{file}.jsonl"));
        s.blocking(|| admin::import_tasks(&*s.store, name, &path, &mut |_, _| {}))
            .expect("tasks import");

        let rows = jsonl(&format!("{file}.lessons.jsonl"));
        for r in rows.iter().filter(|r| r.get("exam").is_none()) {
            assert!(
                !r["hint"].as_str().unwrap_or_default().is_empty(),
                "{name} {}",
                r["id"]
            );
        }
        let path = fixture(&format!("{file}.lessons.jsonl"));
        let counts = s
            .blocking(|| admin::import_lessons(&*s.store, name, &path))
            .expect("lessons import");
        assert!(counts.lessons >= 10, "{name}: {} lessons", counts.lessons);
        assert!(
            counts.exam >= 10 && counts.exam > u64::from(exam.size),
            "{name}: a pool of {} for an exam of {}: a retry draws new tasks",
            counts.exam,
            exam.size
        );
    }
    // Sauti's lessons and exam tasks each have a short clip and its transcript as gold,
    // and the demo's audio stays small.
    let rows = jsonl("sauti.lessons.jsonl");
    assert!(rows.iter().filter(|r| r.get("exam").is_some()).count() >= 12);
    for r in &rows {
        let audio = fixture(r["audio"].as_str().expect("each row names its audio"));
        let clip = kazi::media::ingest(&audio).expect("a clip");
        assert!(
            (2_000..=4_000).contains(&clip.duration_ms),
            "{}: {} ms",
            r["id"],
            clip.duration_ms
        );
        assert!(r["gold"].as_str().is_some_and(|g| !g.trim().is_empty()));
    }
    // Sending the machine's draft as it is misses most lessons: they teach correcting it
    // by ear (scored with the project's normalisation and WER tolerance).
    let sauti = Project::from_toml(
        "sauti.toml",
        &std::fs::read_to_string(fixture("sauti.toml")).unwrap(),
    )
    .unwrap();
    let draft_right = |r: &serde_json::Value| {
        let gold = kazi::model::gold::Gold {
            answer: kazi::model::gold::GoldAnswer::Transcript {
                text: r["gold"].as_str().unwrap().to_string(),
                max_wer_percent: kazi::model::gold::DEFAULT_MAX_WER_PERCENT,
            },
            explanation: String::new(),
        };
        let draft = kazi::model::transcript::Transcript::new(r["draft"].as_str().unwrap());
        kazi::model::gold::check(&sauti, &gold, &AnswerValue::Transcript(draft)).correct
    };
    let lessons: Vec<_> = rows.iter().filter(|r| r.get("exam").is_none()).collect();
    let easy = lessons.iter().filter(|r| draft_right(r)).count();
    assert!(
        easy * 4 <= lessons.len(),
        "{easy} of {} drafts already right",
        lessons.len()
    );
    let audio_bytes = dir_bytes(&fixture("../audio"));
    assert!(
        audio_bytes <= 2 << 20,
        "{audio_bytes} bytes of fixture audio"
    );
    // Production work comes where no exam is required, gold mixed in.
    let amina = s.enrol("amina", Role::Worker).await;
    for name in ["reviews", "receipts", "sauti"] {
        assert_eq!(s.want(&amina, name, 10).await.leases.len(), 10, "{name}");
    }
}

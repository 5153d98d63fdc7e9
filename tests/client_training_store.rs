//! The client store's training records on a real SQLite file: lesson sets and standings
//! from a reply, the planner asking for them until a standing is held, exam answers
//! saved one by one and the attempt waiting (counted unsent, blocking a switch of user,
//! surviving a reopen) until the server's grade arrives, and an attempt the server does
//! not know set aside with the reason instead of being sent for ever.

use kazi::client::{LocalStore, PlanConfig, StoreError, plan};
use kazi::model::gold::Gold;
use kazi::model::{AnswerValue, Project};
use kazi::protocol::{
    ExamAttempt, ExamResult, ExamState, ExamTask, LessonSet, LessonTask, SyncRequest, SyncResponse,
};

fn project() -> Project {
    Project::from_toml(
        "shop.toml",
        "name = \"shop\"\ntitle = \"Shop\"\nkind = \"classify\"\nrequires_qualification = true\n\
         [[labels]]\nid = \"food\"\nname = \"Food\"\nkey = \"1\"\n\
         [[labels]]\nid = \"toys\"\nname = \"Toys\"\nkey = \"2\"\n\
         [exam]\nsize = 2\npass_mark = 2\nretry_after = \"10m\"\n",
    )
    .unwrap()
}

fn food() -> AnswerValue {
    AnswerValue::Labels(vec!["food".into()])
}

fn attempt(id: i64) -> ExamAttempt {
    ExamAttempt {
        id,
        pass_mark: 2,
        tasks: (1..=2)
            .map(|i| ExamTask {
                item: id * 10 + i,
                text: format!("exam {i}"),
                suggestion: None,
                clip: None,
            })
            .collect(),
    }
}

fn standing(attempt: Option<ExamAttempt>) -> ExamState {
    ExamState {
        project: "shop".into(),
        attempt,
        ..ExamState::default()
    }
}

/// A store that holds the schema, a lesson set and attempt 5.
fn store_with_attempt(dir: &tempfile::TempDir) -> LocalStore {
    let mut store = LocalStore::open(&dir.path().join("client.db")).unwrap();
    let first = SyncResponse {
        now: 1_000,
        projects: vec![project()],
        ..SyncResponse::default()
    };
    store.apply(&SyncRequest::default(), &first).unwrap();
    // Schema here, standing not: worth a round trip that asks about the exam.
    let state = store.local_state(None).unwrap();
    assert!(state.training_due);
    let ask = plan(&state, PlanConfig::default()).expect("a sync to ask about training");
    assert_eq!(ask.exams, vec!["shop".to_string()]);
    assert_eq!(ask.lessons, Some(Default::default()));

    let mut gold = Gold::labels(vec![vec!["food".into()]]);
    gold.explanation = "it is eaten".into();
    let second = SyncResponse {
        now: 1_010,
        lessons: vec![LessonSet {
            project: "shop".into(),
            version: "v1".into(),
            tasks: vec![LessonTask {
                item: 1,
                text: "rice".into(),
                suggestion: None,
                gold,
                hint: "kitchen".into(),
                clip: None,
            }],
        }],
        exams: vec![standing(Some(attempt(5)))],
        ..SyncResponse::default()
    };
    let applied = store.apply(&ask, &second).unwrap();
    assert_eq!(
        applied.training, 3,
        "lesson set, standing and attempt are new"
    );
    // Applied again, nothing changed.
    assert_eq!(store.apply(&ask, &second).unwrap().training, 0);
    store
}

#[test]
fn lessons_and_the_attempt_arrive_and_the_planner_then_asks_only_along() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_attempt(&dir);
    let book = store.training().unwrap();
    assert_eq!(book.lessons["shop"][0].hint, "kitchen");
    assert_eq!(book.lessons["shop"][0].gold.explanation, "it is eaten");
    let held = &book.attempts["shop"];
    assert_eq!((held.id, held.tasks.len(), held.submitted), (5, 2, false));
    assert!(book.must_qualify(&project()));
    assert!(
        book.standings["shop"].attempt.is_none(),
        "tasks kept once, beside the standing"
    );
    let state = store.local_state(None).unwrap();
    assert!(!state.training_due);
    assert_eq!(
        state.lessons.unwrap().get("shop").map(String::as_str),
        Some("v1")
    );
    assert_eq!(state.exams, vec!["shop".to_string()], "still asked along");
    assert!(state.exam_answers.is_empty());
}

#[test]
fn an_answered_exam_waits_like_the_outbox_until_the_server_grades_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_attempt(&dir);
    assert!(matches!(
        store.record_exam_answer(5, 99, &food()),
        Err(StoreError::NoTask(99))
    ));
    assert!(!store.record_exam_answer(5, 51, &food()).unwrap());
    assert_eq!(
        store.counts(None).unwrap().unsent,
        0,
        "half an exam is not sent"
    );
    assert!(store.record_exam_answer(5, 52, &food()).unwrap());
    drop(store);

    // Reopened (as after a crash): the attempt waits, counted unsent, sent whole.
    let mut store = LocalStore::open(&dir.path().join("client.db")).unwrap();
    assert_eq!(store.counts(None).unwrap().unsent, 1);
    assert!(matches!(store.forget_user(), Err(StoreError::Unsent(1))));
    let state = store.local_state(None).unwrap();
    assert_eq!(state.exam_answers.len(), 1);
    assert_eq!(state.exam_answers[0].attempt, 5);
    assert_eq!(state.exam_answers[0].answers.len(), 2);
    let request = plan(&state, PlanConfig::default()).expect("the exam goes out");
    assert_eq!(request.exam_answers, state.exam_answers);
    // An answer after the attempt was answered whole changes nothing.
    assert!(
        store
            .record_exam_answer(5, 52, &AnswerValue::Labels(vec!["toys".into()]))
            .unwrap()
    );
    assert_eq!(
        store.local_state(None).unwrap().exam_answers,
        state.exam_answers
    );

    // A reply that did not carry the grade (a sync that crossed it) keeps it waiting.
    store
        .apply(
            &SyncRequest::default(),
            &SyncResponse {
                exams: vec![standing(Some(attempt(5)))],
                ..SyncResponse::default()
            },
        )
        .unwrap();
    assert_eq!(store.counts(None).unwrap().unsent, 1);

    let mut graded = standing(None);
    graded.qualified = Some(2_000);
    graded.result = Some(ExamResult {
        attempt: 5,
        correct: 2,
        size: 2,
        pass_mark: 2,
        passed: true,
        at: 2_000,
        missed: Vec::new(),
    });
    store
        .apply(
            &request,
            &SyncResponse {
                exams: vec![graded],
                ..SyncResponse::default()
            },
        )
        .unwrap();
    assert_eq!(store.counts(None).unwrap().unsent, 0);
    let book = store.training().unwrap();
    assert!(book.attempts.is_empty());
    assert!(!book.must_qualify(&project()));
    let state = store.local_state(None).unwrap();
    assert!(state.exams.is_empty() && state.exam_answers.is_empty());
    store.forget_user().unwrap();
    assert_eq!(store.training().unwrap(), Default::default());
}

#[test]
fn an_attempt_the_server_does_not_know_is_set_aside_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = store_with_attempt(&dir);
    store.record_exam_answer(5, 51, &food()).unwrap();
    store.record_exam_answer(5, 52, &food()).unwrap();
    let request = plan(&store.local_state(None).unwrap(), PlanConfig::default()).unwrap();
    // A server that says nothing about the project (a version behind) leaves it waiting.
    store.apply(&request, &SyncResponse::default()).unwrap();
    assert_eq!(store.counts(None).unwrap().unsent, 1);
    // One that answers about the project with another attempt does not know this one.
    store
        .apply(
            &request,
            &SyncResponse {
                exams: vec![standing(Some(attempt(6)))],
                ..SyncResponse::default()
            },
        )
        .unwrap();
    assert_eq!(store.counts(None).unwrap().unsent, 0);
    assert!(store.local_state(None).unwrap().exam_answers.is_empty());
    let book = store.training().unwrap();
    // The new attempt is the one held now; the old one is on record, not lost.
    assert_eq!(book.attempts["shop"].id, 6);
    let conn = rusqlite::Connection::open(dir.path().join("client.db")).unwrap();
    let (state, reason): (i64, String) = conn
        .query_row(
            "SELECT state, reason FROM exam_attempts WHERE id = 5",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(state, 3);
    assert!(
        reason.contains("does not know this exam attempt"),
        "{reason}"
    );
    let kept: i64 = conn
        .query_row(
            "SELECT count(*) FROM exam_answers WHERE attempt = 5",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 2, "its answers are kept");
}

#[test]
fn the_place_in_the_lessons_survives_a_reopen_and_goes_with_the_user() {
    use kazi::client::LessonPlace;
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_attempt(&dir);
    assert!(store.training().unwrap().places.is_empty(), "none kept yet");
    store.keep_lesson_place("shop", LessonPlace::At(1)).unwrap();
    store.keep_lesson_place("shop", LessonPlace::Done).unwrap();
    store
        .keep_lesson_place("other", LessonPlace::At(7))
        .unwrap();
    drop(store);

    let mut store = LocalStore::open(&dir.path().join("client.db")).unwrap();
    let places = store.training().unwrap().places;
    assert_eq!(
        places.get("shop"),
        Some(&LessonPlace::Done),
        "the last kept"
    );
    assert_eq!(places.get("other"), Some(&LessonPlace::At(7)));

    // Another user on this profile starts the lessons from the first (once the
    // answered exam no longer waits: here it has none).
    store.record_exam_answer(5, 51, &food()).unwrap();
    assert!(
        store.forget_user().is_ok(),
        "an open attempt does not block"
    );
    assert!(store.training().unwrap().places.is_empty());
}

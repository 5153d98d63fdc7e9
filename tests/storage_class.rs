//! Class sessions on every server backend, through the `Store` trait alone: a trainer
//! starts, steps and ends; students join and send answers, scored once each; the class
//! view names students to the trainer only, marks who is stuck, wrong or away, and moves
//! its version only on a change that shows; the report has every answer per step,
//! accuracy, time and who passed the exam. `KAZI_TEST_PG` adds PostgreSQL.

#[path = "support/backends.rs"]
mod backends;
#[path = "support/server_harness.rs"]
mod harness;

use std::collections::BTreeMap;

use backends::on_every_backend;
use kazi::model::{AnswerValue, Project, Role};
use kazi::protocol::{
    ClassAnswer, ClassMarker, ClassRequest, ClassResponse, ClassView, ExamAnswer, ExamSubmission,
    JOIN_ALPHABET, SyncRequest,
};
use kazi::server::Store;
use kazi::server::scheduler::class::{AWAY_AFTER, ClassRefusal, STUCK_AFTER};
use kazi::server::store::Principal;
use kazi::server::store::training::NewTrainingTask;

const NOW: i64 = 1_800_000_000;

/// "shop" with an exam of two tasks, both to get right; lessons l1 (food), l2 (toys),
/// l3 (tools); exam tasks e1, e2 (food).
fn shop(store: &dyn Store) {
    let text = harness::PROJECT_TOML.to_string()
        + "\n[exam]\nsize = 2\npass_mark = 2\nretry_after = \"10m\"\n";
    let project = Project::from_toml("shop.toml", &text).expect("project parses");
    store.put_project(&project, NOW).expect("project added");
    let mut tasks = Vec::new();
    for (i, gold) in ["food", "toys", "tools"].iter().enumerate() {
        tasks.push(training(&format!("l{}", i + 1), gold, false));
    }
    tasks.push(training("e1", "food", true));
    tasks.push(training("e2", "food", true));
    store.put_training("shop", &tasks).expect("lessons import");
}

fn training(id: &str, gold: &str, exam: bool) -> NewTrainingTask {
    NewTrainingTask {
        id: id.into(),
        text: format!("task {id}"),
        suggestion: None,
        gold: format!(r#"{{"answer":{{"labels":[["{gold}"]]}},"explanation":"because"}}"#),
        hint: String::new(),
        exam,
        clip: None,
    }
}

fn user(store: &dyn Store, name: &str, role: Role) -> Principal {
    let mut code = [1u8; 32];
    let mut token = [2u8; 32];
    for (i, b) in name.bytes().enumerate().take(31) {
        code[i + 1] = b;
        token[i + 1] = b;
    }
    store
        .put_user(name, role, &code, NOW + 86_400, NOW)
        .unwrap();
    store
        .redeem_enrolment(name, &code, "test device", &token, NOW)
        .unwrap();
    store.authenticate(&token).unwrap().expect("token known")
}

fn ask(store: &dyn Store, who: &Principal, request: ClassRequest, now: i64) -> ClassResponse {
    store
        .class(who, &request, now)
        .expect("store works")
        .unwrap_or_else(|r| panic!("refused: {r}"))
}

fn refusal(store: &dyn Store, who: &Principal, request: ClassRequest, now: i64) -> ClassRefusal {
    match store.class(who, &request, now).expect("store works") {
        Ok(reply) => panic!("expected a refusal, got {reply:?}"),
        Err(r) => r,
    }
}

fn start(store: &dyn Store, trainer: &Principal) -> String {
    let reply = ask(
        store,
        trainer,
        ClassRequest::Start {
            project: "shop".into(),
        },
        NOW,
    );
    let ClassResponse::Start { state, lessons } = reply else {
        panic!("not a start reply: {reply:?}");
    };
    let lessons = lessons.expect("the lessons come with the class");
    assert_eq!(lessons.tasks.len(), 3);
    assert_eq!((state.steps, state.step, state.revealed), (3, 0, false));
    assert_eq!(state.code.len(), 6);
    assert!(state.code.bytes().all(|b| JOIN_ALPHABET.contains(&b)));
    state.code
}

fn label(l: &str) -> AnswerValue {
    AnswerValue::Labels(vec![l.into()])
}

fn answer(id: u64, step: u32, l: &str) -> ClassAnswer {
    ClassAnswer {
        id,
        step,
        value: label(l),
        took: 4 + id as u32,
        ago: 0,
    }
}

fn presence(code: &str, step: u32, answers: Vec<ClassAnswer>) -> ClassRequest {
    ClassRequest::Presence {
        code: code.into(),
        step,
        answers,
    }
}

fn view(store: &dyn Store, who: &Principal, code: &str, since: u64, now: i64) -> Option<ClassView> {
    match ask(
        store,
        who,
        ClassRequest::View {
            code: code.into(),
            since,
            wait: None,
        },
        now,
    ) {
        ClassResponse::View { view } => view,
        other => panic!("not a view: {other:?}"),
    }
}

fn join(store: &dyn Store, who: &Principal, code: &str, now: i64) {
    let reply = ask(store, who, ClassRequest::Join { code: code.into() }, now);
    let ClassResponse::Join { lessons, .. } = reply else {
        panic!("not a join reply: {reply:?}");
    };
    assert_eq!(lessons.expect("lessons on join").tasks.len(), 3);
}

#[test]
fn students_follow_the_trainers_steps_until_the_class_ends() {
    on_every_backend(|b, store| {
        let store = &*store;
        shop(store);
        let trainer = user(store, "tess", Role::Trainer);
        let amina = user(store, "amina", Role::Worker);
        let code = start(store, &trainer);
        // A worker cannot start, step or end a class.
        let start_again = ClassRequest::Start {
            project: "shop".into(),
        };
        assert_eq!(
            refusal(store, &amina, start_again, NOW),
            ClassRefusal::Role,
            "{}",
            b.url
        );
        let step = |step, revealed| ClassRequest::Step {
            code: code.clone(),
            step,
            revealed,
        };
        assert_eq!(
            refusal(store, &amina, step(1, false), NOW),
            ClassRefusal::Role
        );
        // Presence before joining is refused; joining is by the code.
        let not_joined = refusal(store, &amina, presence(&code, 0, vec![]), NOW);
        assert_eq!(not_joined, ClassRefusal::NotJoined(code.clone()));
        let wrong = refusal(
            store,
            &amina,
            ClassRequest::Join {
                code: "XXXXXX".into(),
            },
            NOW,
        );
        assert_eq!(wrong, ClassRefusal::NoClass("XXXXXX".into()));
        join(store, &amina, &code, NOW);
        join(store, &amina, &code, NOW + 1);

        let ClassResponse::Step { state } = ask(store, &trainer, step(1, true), NOW + 5) else {
            panic!("not a step reply");
        };
        assert_eq!((state.step, state.revealed), (1, true));
        let ClassResponse::Presence { state, stored } =
            ask(store, &amina, presence(&code, 1, vec![]), NOW + 6)
        else {
            panic!("not a presence reply");
        };
        assert_eq!((state.step, state.revealed, state.ended), (1, true, None));
        assert!(stored.is_empty());
        let beyond = refusal(store, &trainer, step(3, false), NOW + 7);
        assert_eq!(
            beyond,
            ClassRefusal::NoStep {
                code: code.clone(),
                steps: 3,
                step: 3
            }
        );
        // Another trainer may not run it; an admin may.
        let other = user(store, "omar", Role::Trainer);
        assert_eq!(
            refusal(store, &other, step(2, false), NOW + 8),
            ClassRefusal::NotYours(code.clone())
        );
        let admin = user(store, "ada", Role::Admin);
        ask(store, &admin, step(2, false), NOW + 9);
        let ClassResponse::Open { classes } = ask(store, &trainer, ClassRequest::Open, NOW + 9)
        else {
            panic!("not an open reply");
        };
        assert_eq!(classes.len(), 1);
        assert_eq!(classes[0].step, 2);

        let end = ClassRequest::End { code: code.clone() };
        let ClassResponse::End { state } = ask(store, &trainer, end.clone(), NOW + 10) else {
            panic!("not an end reply");
        };
        assert_eq!(state.ended, Some(NOW + 10));
        // Ending twice keeps the first time.
        let ClassResponse::End { state } = ask(store, &trainer, end, NOW + 20) else {
            panic!("not an end reply");
        };
        assert_eq!(state.ended, Some(NOW + 10));
        // The student hears it; a late join is refused; answers still arrive.
        let ClassResponse::Presence { state, stored } = ask(
            store,
            &amina,
            presence(&code, 2, vec![answer(1, 2, "tools")]),
            NOW + 30,
        ) else {
            panic!("not a presence reply");
        };
        assert_eq!(state.ended, Some(NOW + 10));
        assert_eq!(stored.len(), 1);
        assert!(stored[0].correct);
        let late = user(store, "lulu", Role::Worker);
        let refused = refusal(
            store,
            &late,
            ClassRequest::Join { code: code.clone() },
            NOW + 31,
        );
        assert_eq!(refused, ClassRefusal::Ended(code.clone()));
        let ClassResponse::Open { classes } = ask(store, &trainer, ClassRequest::Open, NOW + 32)
        else {
            panic!("not an open reply");
        };
        assert!(classes.is_empty());
    });
}

#[test]
fn answers_count_once_and_names_reach_only_the_trainer() {
    on_every_backend(|b, store| {
        let store = &*store;
        shop(store);
        let trainer = user(store, "tess", Role::Trainer);
        let amina = user(store, "amina", Role::Worker);
        let baraka = user(store, "baraka", Role::Worker);
        let code = start(store, &trainer);
        join(store, &amina, &code, NOW);
        join(store, &baraka, &code, NOW);

        let sent = vec![answer(1, 0, "food"), answer(2, 1, "food")];
        let reply = ask(store, &amina, presence(&code, 1, sent.clone()), NOW + 10);
        let ClassResponse::Presence { stored, .. } = &reply else {
            panic!("not a presence reply");
        };
        let scores: Vec<(u64, bool)> = stored.iter().map(|s| (s.id, s.correct)).collect();
        assert_eq!(scores, vec![(1, true), (2, false)], "{}", b.url);
        // The same answers again (the reply was lost): the same scores, counted once.
        let again = ask(store, &amina, presence(&code, 1, sent), NOW + 12);
        let ClassResponse::Presence { stored: again, .. } = &again else {
            panic!("not a presence reply");
        };
        assert_eq!(again, stored);
        // A second try at step 1 is kept; the first answer is what counts.
        ask(
            store,
            &amina,
            presence(&code, 1, vec![answer(3, 1, "toys")]),
            NOW + 14,
        );
        // A step the class does not have is refused by name, not stored.
        let reply = ask(
            store,
            &baraka,
            presence(&code, 0, vec![answer(1, 9, "food")]),
            NOW + 15,
        );
        let ClassResponse::Presence { stored, .. } = &reply else {
            panic!("not a presence reply");
        };
        assert!(
            stored[0]
                .refused
                .as_deref()
                .unwrap_or("")
                .contains("no step 9")
        );
        // Nothing about another student in a student's reply.
        let json = serde_json::to_string(&reply).unwrap();
        assert!(!json.contains("amina"), "{json}");
        // Students cannot see the class view or the report.
        let look = ClassRequest::View {
            code: code.clone(),
            since: 0,
            wait: None,
        };
        assert_eq!(refusal(store, &baraka, look, NOW + 16), ClassRefusal::Role);
        let report = ClassRequest::Report { code: code.clone() };
        assert_eq!(
            refusal(store, &baraka, report, NOW + 16),
            ClassRefusal::Role
        );

        let view = view(store, &trainer, &code, 0, NOW + 16).expect("a first view");
        let rows: Vec<(&str, u32, u32, u32)> = view
            .students
            .iter()
            .map(|r| (r.name.as_str(), r.step, r.answered, r.correct))
            .collect();
        assert_eq!(rows, vec![("amina", 1, 2, 1), ("baraka", 0, 0, 0)]);
        assert_eq!(view.students[0].last_seen, NOW + 14);
    });
}

#[test]
fn the_view_marks_stuck_wrong_and_away_and_changes_only_when_a_row_does() {
    on_every_backend(|b, store| {
        let store = &*store;
        shop(store);
        let trainer = user(store, "tess", Role::Trainer);
        let amina = user(store, "amina", Role::Worker);
        let baraka = user(store, "baraka", Role::Worker);
        let code = start(store, &trainer);
        join(store, &amina, &code, NOW);
        join(store, &baraka, &code, NOW);
        let first = view(store, &trainer, &code, 0, NOW + 1).expect("a first view");
        assert!(first.students.iter().all(|r| r.marker.is_none()));
        // Only time passed, and a presence that changes nothing shown: no new view.
        ask(store, &amina, presence(&code, 0, vec![]), NOW + 3);
        assert_eq!(
            view(store, &trainer, &code, first.version, NOW + 5),
            None,
            "{}",
            b.url
        );

        // Amina answers wrong twice; Baraka does not answer step 0 for a minute.
        let wrong = vec![answer(1, 0, "toys"), answer(2, 0, "tools")];
        ask(store, &amina, presence(&code, 0, wrong), NOW + 20);
        let t = NOW + STUCK_AFTER + 1;
        ask(store, &baraka, presence(&code, 0, vec![]), t);
        ask(store, &amina, presence(&code, 0, vec![]), t);
        let marked = view(store, &trainer, &code, first.version, t).expect("rows changed");
        let markers: BTreeMap<&str, Option<ClassMarker>> = marked
            .students
            .iter()
            .map(|r| (r.name.as_str(), r.marker))
            .collect();
        assert_eq!(markers["amina"], Some(ClassMarker::Wrong));
        assert_eq!(markers["baraka"], Some(ClassMarker::Stuck));
        // A right answer clears it; silence past AWAY_AFTER marks away.
        ask(
            store,
            &baraka,
            presence(&code, 0, vec![answer(1, 0, "food")]),
            t + 1,
        );
        let later = t + 1 + AWAY_AFTER + 1;
        ask(store, &amina, presence(&code, 0, vec![]), later);
        let now = view(store, &trainer, &code, marked.version, later).expect("changed");
        let markers: BTreeMap<&str, Option<ClassMarker>> = now
            .students
            .iter()
            .map(|r| (r.name.as_str(), r.marker))
            .collect();
        assert_eq!(markers["baraka"], Some(ClassMarker::Away));
        assert_eq!(markers["amina"], Some(ClassMarker::Wrong));
    });
}

#[test]
fn the_report_has_answers_per_step_accuracy_time_and_who_passed_the_exam() {
    on_every_backend(|b, store| {
        let store = &*store;
        shop(store);
        let trainer = user(store, "tess", Role::Trainer);
        let amina = user(store, "amina", Role::Worker);
        let baraka = user(store, "baraka", Role::Worker);
        let code = start(store, &trainer);
        join(store, &amina, &code, NOW);
        join(store, &baraka, &code, NOW);
        let given = vec![
            answer(1, 0, "food"),
            answer(2, 1, "food"),
            answer(3, 1, "toys"),
        ];
        ask(store, &amina, presence(&code, 1, given), NOW + 30);
        ask(
            store,
            &baraka,
            presence(&code, 0, vec![answer(1, 0, "food")]),
            NOW + 30,
        );
        // Amina passes the exam (both exam tasks are "food").
        let known = BTreeMap::from([("shop".to_string(), String::new())]);
        let ask_exam = SyncRequest {
            known: known.clone(),
            exams: vec!["shop".into()],
            ..SyncRequest::default()
        };
        let reply = store.sync(&amina, ask_exam, NOW + 40).expect("sync");
        let attempt = reply.exams[0].attempt.clone().expect("an attempt");
        let submit = SyncRequest {
            known,
            exam_answers: vec![ExamSubmission {
                attempt: attempt.id,
                answers: attempt
                    .tasks
                    .iter()
                    .map(|t| ExamAnswer {
                        item: t.item,
                        value: label("food"),
                    })
                    .collect(),
            }],
            ..SyncRequest::default()
        };
        store.sync(&amina, submit, NOW + 50).expect("sync");

        let report = store.class_report(&code).expect("store").expect("a report");
        assert_eq!(store.class_report("XXXXXX").expect("store"), None);
        let ClassResponse::Report { report: asked } = ask(
            store,
            &trainer,
            ClassRequest::Report { code: code.clone() },
            NOW + 60,
        ) else {
            panic!("not a report");
        };
        assert_eq!(asked, report, "{}", b.url);
        let a = &report.students[0];
        assert_eq!(a.name, "amina");
        let steps: Vec<(u32, Vec<&str>, bool, u32)> = a
            .steps
            .iter()
            .map(|s| {
                let answers = s.answers.iter().map(String::as_str).collect();
                (s.step, answers, s.correct, s.took)
            })
            .collect();
        assert_eq!(
            steps,
            vec![
                (0, vec!["food"], true, 5),
                (1, vec!["food", "toys"], false, 6)
            ]
        );
        assert_eq!(a.accuracy, Some(0.5));
        assert_eq!(a.mean_took, Some(5.5));
        assert_eq!(a.qualified, Some(NOW + 50));
        let bk = &report.students[1];
        assert_eq!(
            (bk.name.as_str(), bk.accuracy, bk.qualified),
            ("baraka", Some(1.0), None)
        );
    });
}

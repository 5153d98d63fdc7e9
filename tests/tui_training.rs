//! The training screen as a state machine and at 80x24: a project that requires
//! qualification opens on its lessons (the picker says so), a practice answer gets its
//! feedback on the key, the hint shows before answering, the exam takes no hints or
//! skips and asks for each answer to be saved, then "sent for grading", the failed
//! result with what was missed and when a retry comes, and the pass that opens work.

mod tui_common;

use std::collections::BTreeMap;

use kazi::client::{HeldAttempt, LessonPlace, TrainingBook};
use kazi::model::gold::Gold;
use kazi::model::{AnswerValue, Project};
use kazi::protocol::{ExamMiss, ExamResult, ExamState, ExamTask, LessonTask};
use kazi::tui::screen::training::{Stage, TrainingEffect, TrainingEvent};
use kazi::tui::{App, Effect, Event, Keymap, ScreenId, Theme, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_common::*;

/// 2026-12-01T10:00:00Z, server time.
const NOW: i64 = 1_796_119_200;

fn gated() -> Project {
    let text = PRODUCTS.replace(
        "lease = \"72h\"",
        "lease = \"72h\"\nrequires_qualification = true\n[exam]\nsize = 3\npass_mark = 2\nretry_after = \"10m\"",
    );
    Project::from_toml("products.toml", &text).unwrap()
}

fn gold(label: &str, why: &str) -> Gold {
    let mut g = Gold::labels(vec![vec![label.to_string()]]);
    g.explanation = why.to_string();
    g
}

fn labels(id: &str) -> AnswerValue {
    AnswerValue::Labels(vec![id.to_string()])
}

fn lessons() -> Vec<LessonTask> {
    vec![
        LessonTask {
            item: 101,
            text: "Pishori rice 5kg".into(),
            suggestion: None,
            gold: gold("food", "Rice is eaten: Food & groceries."),
            hint: "Is it eaten or drunk?".into(),
            clip: None,
        },
        LessonTask {
            item: 102,
            text: "Coca-Cola 500ml".into(),
            suggestion: None,
            gold: gold("drinks", "A soda is drunk."),
            hint: String::new(),
            clip: None,
        },
    ]
}

fn exam_tasks() -> Vec<ExamTask> {
    ["Sukari 2kg", "Tecno Spark 20 128GB", "Baby wipes 80 pcs"]
        .iter()
        .enumerate()
        .map(|(i, t)| ExamTask {
            item: 201 + i as i64,
            text: t.to_string(),
            suggestion: None,
            clip: None,
        })
        .collect()
}

fn book(answered: &[(i64, &str)], submitted: bool) -> TrainingBook {
    let attempt = HeldAttempt {
        id: 7,
        pass_mark: 2,
        tasks: exam_tasks(),
        answered: answered.iter().map(|(i, l)| (*i, labels(l))).collect(),
        submitted,
        not_taken: None,
    };
    TrainingBook {
        lessons: BTreeMap::from([("products".to_string(), lessons())]),
        standings: BTreeMap::from([(
            "products".to_string(),
            ExamState {
                project: "products".into(),
                ..ExamState::default()
            },
        )]),
        attempts: BTreeMap::from([("products".to_string(), attempt)]),
        places: BTreeMap::new(),
    }
}

fn failed_book() -> TrainingBook {
    let mut b = book(&[], false);
    b.attempts.clear();
    let standing = b.standings.get_mut("products").unwrap();
    standing.retry_at = Some(NOW + 600);
    standing.result = Some(ExamResult {
        attempt: 7,
        correct: 1,
        size: 3,
        pass_mark: 2,
        passed: false,
        at: NOW,
        missed: vec![
            ExamMiss {
                item: 202,
                text: "Tecno Spark 20 128GB".into(),
                answer: labels("electronics"),
                expected: gold("phones", "A phone goes to Phones, not Electronics."),
            },
            ExamMiss {
                item: 203,
                text: "Baby wipes 80 pcs".into(),
                answer: labels("beauty"),
                expected: gold("baby", "Made for babies: Baby."),
            },
        ],
    });
    b
}

fn training_app(book: TrainingBook) -> App {
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Training(TrainingEvent::Book(book)));
    let fx = app.handle(Event::Projects(vec![gated()]));
    assert_eq!(fx, vec![Effect::ChooseProject("products".into())]);
    assert_eq!(app.screen(), ScreenId::Training);
    app
}

fn snap(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| render(app, f)).unwrap();
    format!("{}", terminal.backend())
}

fn stage(app: &App) -> Stage {
    app.training().expect("training on top").stage().clone()
}

#[test]
fn the_picker_says_training_comes_first_and_opens_it() {
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Training(TrainingEvent::Book(book(&[], false))));
    app.handle(Event::Projects(vec![gated(), multi_products()]));
    assert_eq!(app.screen(), ScreenId::Picker);
    let screen = snap(&app);
    assert!(
        screen.contains("(products, 10 labels) · exam first"),
        "{screen}"
    );
    assert!(!screen.contains("(tags, 10 labels): training"), "{screen}");
    press(&mut app, "1");
    assert_eq!(app.screen(), ScreenId::Training);
    // A project without the gate opens on its work.
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Training(TrainingEvent::Book(book(&[], false))));
    app.handle(Event::Projects(vec![gated(), multi_products()]));
    press(&mut app, "2");
    assert_eq!(app.screen(), ScreenId::Classify);
}

#[test]
fn practice_gives_feedback_on_the_key_and_the_hint_before_answering() {
    let mut app = training_app(book(&[], false));
    assert_eq!(
        stage(&app),
        Stage::Practice {
            index: 0,
            feedback: None
        }
    );
    press(&mut app, "f2");
    assert!(app.training().unwrap().hint_open());
    let screen = snap(&app);
    assert!(screen.contains("Lesson 1 of 2"), "{screen}");
    assert!(screen.contains("Hint: Is it eaten or drunk?"), "{screen}");
    // A wrong answer: scored here, nothing sent.
    let fx = press(&mut app, "2");
    assert!(fx.is_empty(), "practice answers go nowhere: {fx:?}");
    let Stage::Practice {
        feedback: Some(fb), ..
    } = stage(&app)
    else {
        panic!("feedback shown")
    };
    assert!(!fb.check.correct);
    assert_eq!(fb.check.expected, labels("food"));
    insta::assert_snapshot!("training_practice_feedback", snap(&app));
    press(&mut app, "enter");
    // The second lesson has no hint; answered right.
    press(&mut app, "f2");
    assert_eq!(app.message(), Some("this lesson has no hint"));
    press(&mut app, "2");
    let screen = snap(&app);
    assert!(screen.contains("RIGHT: that is the answer."), "{screen}");
    assert!(!screen.contains("Expected:"), "{screen}");
    press(&mut app, "enter");
    assert_eq!(stage(&app), Stage::LessonsDone);
    // Back over the lessons, and on again.
    press(&mut app, "left");
    assert!(matches!(stage(&app), Stage::Practice { index: 0, .. }));
}

#[test]
fn the_exam_takes_no_hints_nor_skips_and_saves_each_answer() {
    let mut app = training_app(book(&[], false));
    press(&mut app, "tab tab");
    assert_eq!(stage(&app), Stage::LessonsDone);
    press(&mut app, "enter");
    assert_eq!(stage(&app), Stage::Exam { attempt: 7 });
    insta::assert_snapshot!("training_exam", snap(&app));
    press(&mut app, "f2");
    assert_eq!(app.message(), Some("no hints in the exam"));
    press(&mut app, "tab");
    assert!(
        app.message()
            .unwrap()
            .contains("every exam task needs an answer")
    );
    let fx = press(&mut app, "1");
    assert_eq!(
        fx,
        vec![Effect::Training(TrainingEffect::ExamAnswer {
            project: "products".into(),
            attempt: 7,
            item: 201,
            value: labels("food"),
        })]
    );
    app.handle(Event::Training(TrainingEvent::Book(book(
        &[(201, "food")],
        false,
    ))));
    assert_eq!(app.training().unwrap().task_on_screen().unwrap().id, 202);
    // A save that failed: the next book lacks the answer, and the task comes back.
    press(&mut app, "5");
    app.handle(Event::Training(TrainingEvent::Book(book(
        &[(201, "food")],
        false,
    ))));
    assert_eq!(app.training().unwrap().task_on_screen().unwrap().id, 202);
    press(&mut app, "5");
    app.handle(Event::Training(TrainingEvent::Book(book(
        &[(201, "food"), (202, "electronics")],
        false,
    ))));
    press(&mut app, "3");
    app.handle(Event::Training(TrainingEvent::Book(book(
        &[(201, "food"), (202, "electronics"), (203, "beauty")],
        true,
    ))));
    assert_eq!(stage(&app), Stage::Waiting);
    let screen = snap(&app);
    assert!(
        screen.contains("Exam answered: sent for grading."),
        "{screen}"
    );
}

#[test]
fn a_failed_exam_shows_what_was_missed_and_when_to_retry_then_a_pass_opens_work() {
    let mut app = training_app(book(&[(201, "food")], true));
    assert_eq!(stage(&app), Stage::Waiting);
    app.handle(Event::Training(TrainingEvent::Book(failed_book())));
    assert_eq!(stage(&app), Stage::Result { missed: 0 });
    insta::assert_snapshot!("training_exam_failed", snap(&app));
    press(&mut app, "right");
    assert_eq!(stage(&app), Stage::Result { missed: 1 });
    assert!(snap(&app).contains("Baby wipes 80 pcs"));
    // No new attempt yet: enter says the exam comes from the server.
    press(&mut app, "enter");
    assert_eq!(stage(&app), Stage::Waiting);
    assert!(snap(&app).contains("2026-12-01T10:10:00Z"));

    let mut passed = failed_book();
    let standing = passed.standings.get_mut("products").unwrap();
    standing.qualified = Some(NOW + 700);
    standing.retry_at = None;
    let result = standing.result.as_mut().unwrap();
    (result.passed, result.correct, result.missed) = (true, 3, Vec::new());
    app.handle(Event::Training(TrainingEvent::Book(passed)));
    assert_eq!(stage(&app), Stage::Result { missed: 0 });
    insta::assert_snapshot!("training_exam_passed", snap(&app));
    let fx = press(&mut app, "enter");
    assert_eq!(app.screen(), ScreenId::Classify);
    assert!(fx.contains(&Effect::ChooseProject("products".into())));
}

#[test]
fn help_in_training_names_the_keys_of_where_the_worker_is() {
    let mut app = training_app(book(&[], false));
    // A lesson on screen: the keys of its kind, and what training is.
    press(&mut app, "?");
    let help = snap(&app);
    assert!(help.contains("1-9, 0"), "label keys: {help}");
    assert!(help.contains("hint: show or hide"), "{help}");
    // The feedback: the keys of the training screens, only those that do something.
    press(&mut app, "esc 1 ?");
    let help = snap(&app);
    assert!(help.contains("pick: choose this answer"), "{help}");
    assert!(help.contains("next: go to the next item"), "{help}");
    // (The feedback screen is the App's, a global key, and opens from here too.)
    assert!(!help.contains("reveal"), "{help}");
    assert!(help.contains("Training: the lessons first"), "{help}");
}

/// A small entry project that requires qualification.
fn gated_entry() -> Project {
    Project::from_toml(
        "shops.toml",
        "name = \"shops\"\ntitle = \"Shop receipts\"\nkind = \"entry\"\n\
         requires_qualification = true\n\
         [[fields]]\nid = \"vendor\"\nlabel = \"Vendor\"\ntype = \"text\"\n\
         [[fields]]\nid = \"total\"\nlabel = \"Total\"\ntype = \"money\"\ncurrency = \"KES\"\n\
         [exam]\nsize = 1\npass_mark = 1\n",
    )
    .unwrap()
}

#[test]
fn an_entry_lesson_is_answered_on_its_form_and_scored_per_field() {
    let mut values = kazi::model::form::FormValues::default();
    values.fields.insert("vendor".into(), "Naivas".into());
    values.fields.insert("total".into(), "430.00".into());
    let g = Gold {
        answer: kazi::model::gold::GoldAnswer::Form(values),
        explanation: "The total is the last amount, after TOTAL.".into(),
    };
    let book = TrainingBook {
        lessons: BTreeMap::from([(
            "shops".to_string(),
            vec![LessonTask {
                item: 1,
                text: "NAIVAS\nTOTAL KSh 430.00".into(),
                suggestion: None,
                gold: g,
                hint: "Look at the top and the bottom.".into(),
                clip: None,
            }],
        )]),
        ..TrainingBook::default()
    };
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Training(TrainingEvent::Book(book)));
    app.handle(Event::Projects(vec![gated_entry()]));
    assert_eq!(app.screen(), ScreenId::Training);
    // Typing goes to the form's field ('?' is a character there, not help).
    for c in "Naivas".chars() {
        app.handle(Event::Key(kazi::tui::Key::char(c)));
    }
    press(&mut app, "tab");
    for c in "403".chars() {
        app.handle(Event::Key(kazi::tui::Key::char(c)));
    }
    let fx = press(&mut app, "ctrl-s");
    assert!(fx.is_empty(), "nothing saved: {fx:?}");
    let Stage::Practice {
        feedback: Some(fb), ..
    } = stage(&app)
    else {
        panic!("feedback on the form's submit: {:?}", app.message())
    };
    assert!(!fb.check.correct);
    assert_eq!(fb.check.missed_fields, vec!["total".to_string()]);
    let screen = snap(&app);
    assert!(screen.contains("Fields wrong: total"), "{screen}");
    assert!(screen.contains("total: 430.00"), "{screen}");
}

#[test]
fn the_lessons_reopen_where_the_worker_left_them() {
    // Nothing kept: the first lesson, and nothing to write.
    let mut app = training_app(book(&[], false));
    assert!(matches!(stage(&app), Stage::Practice { index: 0, .. }));
    press(&mut app, "1");
    let fx = press(&mut app, "enter");
    assert_eq!(
        fx,
        vec![Effect::Training(TrainingEffect::LessonPlace {
            project: "products".into(),
            place: LessonPlace::At(102),
        })]
    );
    press(&mut app, "1");
    let fx = press(&mut app, "enter");
    assert_eq!(stage(&app), Stage::LessonsDone);
    assert_eq!(
        fx,
        vec![Effect::Training(TrainingEffect::LessonPlace {
            project: "products".into(),
            place: LessonPlace::Done,
        })]
    );

    // Kept at the second lesson: it opens there.
    let mut kept = book(&[], false);
    kept.places.insert("products".into(), LessonPlace::At(102));
    let app = training_app(kept.clone());
    assert!(matches!(stage(&app), Stage::Practice { index: 1, .. }));
    // Past the last: the step after the lessons.
    kept.places.insert("products".into(), LessonPlace::Done);
    let app = training_app(kept.clone());
    assert_eq!(stage(&app), Stage::LessonsDone);
    // A kept lesson gone from a changed set: the first, kept as the new place.
    kept.places.insert("products".into(), LessonPlace::At(999));
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Training(TrainingEvent::Book(kept)));
    let fx = app.handle(Event::Projects(vec![gated()]));
    assert!(matches!(stage(&app), Stage::Practice { index: 0, .. }));
    assert!(
        fx.contains(&Effect::Training(TrainingEffect::LessonPlace {
            project: "products".into(),
            place: LessonPlace::At(101),
        })),
        "{fx:?}"
    );
}

#[test]
fn lessons_open_by_hand_from_the_picker_and_lead_to_work_where_no_exam_is_required() {
    let mut book = book(&[], false);
    book.attempts.clear();
    book.lessons
        .insert("tags".into(), book.lessons["products"].clone());
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Training(TrainingEvent::Book(book)));
    app.handle(Event::Projects(vec![gated(), multi_products()]));
    press(&mut app, "down");
    press(&mut app, "f7");
    assert_eq!(app.screen(), ScreenId::Training);
    assert!(matches!(stage(&app), Stage::Practice { index: 0, .. }));
    press(&mut app, "tab");
    press(&mut app, "tab");
    assert_eq!(stage(&app), Stage::LessonsDone);
    let screen = snap(&app);
    assert!(
        screen.contains("does not require") || screen.contains("has no exam"),
        "{screen}"
    );
    assert!(screen.contains("enter: start work"), "{screen}");
    press(&mut app, "enter");
    assert_eq!(app.screen(), ScreenId::Classify);

    // A project with no lessons here says so and stays on the list.
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Projects(vec![gated(), multi_products()]));
    press(&mut app, "f7");
    assert_eq!(app.screen(), ScreenId::Picker);
    assert!(
        app.message().is_some_and(|m| m.contains("no lessons")),
        "{:?}",
        app.message()
    );
}

#[test]
fn a_trainer_exempt_from_the_exam_opens_the_work_itself() {
    let mut book = book(&[], false);
    book.attempts.clear();
    book.standings.get_mut("products").unwrap().exempt = true;
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Training(TrainingEvent::Book(book)));
    app.handle(Event::Projects(vec![gated(), multi_products()]));
    let screen = snap(&app);
    assert!(!screen.contains("exam first"), "{screen}");
    press(&mut app, "1");
    assert_eq!(app.screen(), ScreenId::Classify);
    // The lessons are there to check (f7 from the work itself), and say there is no
    // exam for this role.
    press(&mut app, "f7");
    assert_eq!(app.screen(), ScreenId::Training);
    press(&mut app, "tab");
    press(&mut app, "tab");
    let screen = snap(&app);
    assert!(
        screen.contains("Trainers and admins take no exam"),
        "{screen}"
    );
}

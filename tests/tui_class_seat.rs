//! The student's side of a class in `kazi work`, as a state machine and at 80x24: one key
//! and the code join from the picker, the class's lesson is answered with instant
//! feedback and the answer handed on for the trainer, the screen follows the trainer's
//! steps and reveal, the student cannot step, and leaving or the class ending goes back
//! to the picker.

mod tui_common;

use kazi::client::TrainingBook;
use kazi::model::AnswerValue;
use kazi::model::gold::Gold;
use kazi::protocol::{ClassState, LessonSet, LessonTask};
use kazi::tui::class::{ClassEffect, ClassEvent};
use kazi::tui::screen::training::{Stage, TrainingEvent};
use kazi::tui::{App, Effect, Event, Keymap, ScreenId, Theme, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_common::*;

fn gold(label: &str, why: &str) -> Gold {
    let mut g = Gold::labels(vec![vec![label.to_string()]]);
    g.explanation = why.to_string();
    g
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

fn state(step: u32, revealed: bool) -> ClassState {
    ClassState {
        code: "KX7M4P".into(),
        project: "products".into(),
        lessons: "v1".into(),
        steps: 2,
        step,
        revealed,
        ended: None,
        started: 1_796_119_200,
    }
}

fn snap(app: &mut App) -> String {
    app.handle(Event::Resize(80, 24));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| render(app, f)).unwrap();
    format!("{}", terminal.backend())
}

/// A worker at the picker (two projects, so it stays there).
fn at_picker() -> App {
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Training(
        TrainingEvent::Book(TrainingBook::default()),
    ));
    app.handle(Event::Projects(vec![products(), multi_products()]));
    assert_eq!(app.screen(), ScreenId::Picker);
    app
}

fn joined() -> App {
    let mut app = at_picker();
    assert!(press(&mut app, "f12").is_empty());
    let fx = press(&mut app, "k x 7 space m 4 p enter");
    assert_eq!(
        fx,
        vec![Effect::Class(ClassEffect::Join {
            code: "KX7M4P".into()
        })]
    );
    assert_eq!(app.message(), Some("joining class KX7M4P..."));
    let fx = app.handle(Event::Class(ClassEvent::Joined {
        state: state(0, false),
        lessons: Some(LessonSet {
            project: "products".into(),
            version: "v1".into(),
            tasks: lessons(),
        }),
    }));
    assert_eq!(fx, vec![Effect::Class(ClassEffect::At { step: 0 })]);
    assert_eq!(app.screen(), ScreenId::ClassSeat);
    app
}

#[test]
fn a_wrong_code_is_refused_on_the_spot_and_esc_cancels() {
    let mut app = at_picker();
    press(&mut app, "f12");
    let screen = snap(&mut app);
    assert!(screen.contains("Class code: _"), "{screen}");
    // 0 and O are not in a code's alphabet.
    let fx = press(&mut app, "K X 7 M 4 0 enter");
    assert!(fx.is_empty(), "{fx:?}");
    assert!(
        app.message().unwrap().contains("not a class code"),
        "{:?}",
        app.message()
    );
    let screen = snap(&mut app);
    assert!(screen.contains("Class code: KX7M40_"), "{screen}");
    press(&mut app, "esc");
    assert!(app.overlays().is_empty());
    assert_eq!(app.screen(), ScreenId::Picker);
}

#[test]
fn the_student_answers_the_trainers_step_with_instant_feedback_and_follows() {
    let mut app = joined();
    insta::assert_snapshot!("class_seat_lesson_80x24", snap(&mut app));
    // The student does not step.
    assert!(press(&mut app, "tab").is_empty());
    assert!(
        app.message()
            .unwrap()
            .contains("the trainer moves the class on")
    );
    // A wrong answer: feedback at once, the answer handed on for the trainer.
    let fx = press(&mut app, "2");
    assert_eq!(
        fx,
        vec![Effect::Class(ClassEffect::Answer {
            step: 0,
            value: AnswerValue::Labels(vec!["drinks".into()]),
            took: 0,
        })]
    );
    let screen = snap(&mut app);
    assert!(screen.contains("NOT RIGHT."), "{screen}");
    assert!(
        screen.contains("wait for the trainer's next lesson; f3 leaves"),
        "{screen}"
    );
    insta::assert_snapshot!("class_seat_feedback_80x24", screen);
    // Enter does not move on: the trainer does.
    assert!(press(&mut app, "enter").is_empty());
    assert!(matches!(
        app.class_seat().unwrap().training().stage(),
        Stage::Practice {
            index: 0,
            feedback: Some(_)
        }
    ));
    // The trainer moves on, then reveals.
    let fx = app.handle(Event::Class(ClassEvent::State(state(1, false))));
    assert_eq!(fx, vec![Effect::Class(ClassEffect::At { step: 1 })]);
    let screen = snap(&mut app);
    assert!(
        screen.contains("the trainer is on lesson 2 of 2"),
        "{screen}"
    );
    assert!(screen.contains("Coca-Cola 500ml"), "{screen}");
    app.handle(Event::Class(ClassEvent::State(state(1, true))));
    let screen = snap(&mut app);
    assert!(
        screen.contains("The trainer shows the answer: Drinks"),
        "{screen}"
    );
    // Offline: the answers wait here.
    app.handle(Event::Class(ClassEvent::Offline { unsent: 2 }));
    let screen = snap(&mut app);
    assert!(
        screen.contains("No link to the class: 2 answers kept here"),
        "{screen}"
    );
    // Leaving goes back to the picker and says so to the runtime.
    let fx = press(&mut app, "f3");
    assert_eq!(
        fx,
        vec![Effect::Class(ClassEffect::Leave), Effect::ShowProjects]
    );
    assert_eq!(app.screen(), ScreenId::Picker);
}

#[test]
fn the_class_ending_returns_the_student_to_the_picker() {
    let mut app = joined();
    let mut ended = state(0, false);
    ended.ended = Some(1_796_119_900);
    let fx = app.handle(Event::Class(ClassEvent::State(ended)));
    assert_eq!(fx, vec![Effect::ShowProjects]);
    assert_eq!(app.screen(), ScreenId::Picker);
    assert!(app.message().unwrap().contains("the class has ended"));
    // Training at one's own pace is as before: the project opens its work.
    press(&mut app, "1");
    assert_eq!(app.screen(), ScreenId::Classify);
}

#[test]
fn a_class_on_a_project_this_computer_lacks_is_left_with_a_word() {
    let mut app = at_picker();
    let mut other = state(0, false);
    other.project = "sauti".into();
    let fx = app.handle(Event::Class(ClassEvent::Joined {
        state: other,
        lessons: None,
    }));
    assert_eq!(fx, vec![Effect::Class(ClassEffect::Leave)]);
    assert_eq!(app.screen(), ScreenId::Picker);
    assert!(app.message().unwrap().contains("does not have yet"));
}

#[test]
fn a_trainer_does_not_join_classes() {
    let mut app = App::train(Keymap::default(), Theme::default(), None);
    app.handle(Event::Projects(vec![products(), multi_products()]));
    press(&mut app, "f12");
    assert!(app.overlays().is_empty());
    assert!(app.message().unwrap().contains("a trainer starts a class"));
}

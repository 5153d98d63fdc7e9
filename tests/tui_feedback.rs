//! The feedback screen: opened by its key from the work screen, reading the store's
//! items through the runtime, drawn at 80x24 (insta), and a contest of a missed gold
//! answer typed as a note and kept as an effect; the work screen's answers are untouched.

mod tui_common;

use kazi::model::AnswerValue;
use kazi::protocol::{Accuracy, Confusion, FeedbackItem, FeedbackKind, ReportKind};
use kazi::tui::screen::feedback::{FeedbackEffect, FeedbackEvent};
use kazi::tui::{App, Effect, Event, ScreenId, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_common::*;

fn labels(ids: &[&str]) -> Option<AnswerValue> {
    Some(AnswerValue::Labels(
        ids.iter().map(|s| s.to_string()).collect(),
    ))
}

fn items() -> Vec<FeedbackItem> {
    let item = |id, correct, text: &str, answer, expected, note: &str| FeedbackItem {
        id,
        kind: FeedbackKind::Gold,
        project: "products".into(),
        task: 100 + id as i64,
        text: text.into(),
        correct,
        answer,
        expected,
        note: note.into(),
        missed_fields: Vec::new(),
        at: 1_800_000_000,
    };
    vec![
        item(
            3,
            false,
            "Samsung 25W fast charger, USB-C \u{1b}]0;pwned\u{7}",
            labels(&["computers"]),
            labels(&["phones"]),
            "A phone charger belongs with phones: it is sold beside them.",
        ),
        item(2, true, "", labels(&["food"]), labels(&["food"]), ""),
    ]
}

fn accuracy() -> Vec<Accuracy> {
    vec![Accuracy {
        project: "products".into(),
        recent_correct: 42,
        recent_total: 50,
        all_correct: 130,
        all_total: 160,
        confused: vec![Confusion {
            expected: "phones".into(),
            given: "computers".into(),
            count: 4,
        }],
    }]
}

fn open_feedback(mut app: App) -> App {
    let fx = press(&mut app, "f3");
    assert_eq!(fx, vec![Effect::Feedback(FeedbackEffect::Load)]);
    assert_eq!(app.screen(), ScreenId::Feedback);
    app.handle(Event::Feedback(FeedbackEvent::Loaded {
        items: items(),
        accuracy: accuracy(),
    }));
    app
}

#[test]
fn the_feedback_screen_lists_items_with_accuracy_at_80x24() {
    let app = open_feedback(app_with(products(), 1..5));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| render(&app, f)).unwrap();
    let text = format!("{}", terminal.backend());
    assert!(!text.contains('\u{1b}'), "task text drawn inert");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn a_missed_gold_answer_is_contested_with_a_note_and_esc_goes_back_to_work() {
    let work = app_with(products(), 1..5);
    let before = shown(&work);
    assert!(before.is_some());
    let mut app = open_feedback(work);
    // The marked item is the miss; contest, type a note ("?" is text here), send.
    let mut fx = press(&mut app, "f8");
    assert!(fx.is_empty());
    for c in "it is a USB-C cable?".chars() {
        let k = if c == ' ' {
            "space".to_string()
        } else {
            c.to_string()
        };
        fx.extend(press(&mut app, &k));
    }
    fx.extend(press(&mut app, "enter"));
    assert_eq!(
        fx,
        vec![Effect::Feedback(FeedbackEffect::Report {
            task: 103,
            kind: ReportKind::Contest,
            note: "it is a USB-C cable?".into(),
        })]
    );
    assert!(app.message().unwrap().contains("reviewer"));
    // A right answer cannot be contested.
    press(&mut app, "down");
    assert!(press(&mut app, "f8").is_empty());
    assert!(app.message().unwrap().contains("only a missed gold answer"));
    press(&mut app, "esc");
    assert_eq!(app.screen(), ScreenId::Classify);
    assert_eq!(shown(&app), before, "the task on screen is where it was");
}

#[test]
fn flag_asks_why_and_keeps_the_task_on_screen() {
    let mut app = app_with(products(), 1..5);
    let on_screen = shown(&app).expect("a task on screen");
    assert!(press(&mut app, "ctrl-f").is_empty());
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| render(&app, f)).unwrap();
    let text = format!("{}", terminal.backend());
    assert!(
        text.contains("1 unclear, 2 broken audio, 3 offensive, 4 other"),
        "{text}"
    );
    // "1" is a label key, but the question takes it: no blind answer.
    let fx = press(&mut app, "3");
    assert_eq!(
        fx,
        vec![Effect::Feedback(FeedbackEffect::Report {
            task: on_screen,
            kind: ReportKind::Flag(kazi::protocol::FlagReason::Offensive),
            note: String::new(),
        })]
    );
    assert!(app.overlays().is_empty());
    assert_eq!(shown(&app), Some(on_screen), "flagging answers nothing");
    assert!(app.message().unwrap().contains("reviewer"));
    // Esc cancels.
    press(&mut app, "ctrl-f");
    assert!(press(&mut app, "esc").is_empty());
    assert!(app.overlays().is_empty());
}

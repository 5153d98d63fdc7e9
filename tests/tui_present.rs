//! The trainer's presentation screen as a state machine and at 80x24 and 120x40 (a
//! projector): a project opens its lessons (no tasks asked for), next/prev step through,
//! reveal shows the expected answer and why, the hint shows, label keys show their label,
//! and the key-echo line names each key and what it did.

mod tui_common;

use std::collections::BTreeMap;

use kazi::client::TrainingBook;
use kazi::model::Project;
use kazi::model::gold::Gold;
use kazi::protocol::LessonTask;
use kazi::tui::screen::training::TrainingEvent;
use kazi::tui::{App, Event, Keymap, ScreenId, Seat, Theme, render};
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
        },
        LessonTask {
            item: 102,
            text: "Coca-Cola 500ml\u{1b}[2J".into(),
            suggestion: None,
            gold: gold("drinks", "A soda is drunk."),
            hint: String::new(),
        },
        LessonTask {
            item: 103,
            text: "Tecno Spark 20 128GB".into(),
            suggestion: None,
            gold: gold("phones", "A phone goes to Phones, not Electronics."),
            hint: "Can you call with it?".into(),
        },
    ]
}

fn book(project: &Project) -> TrainingBook {
    TrainingBook {
        lessons: BTreeMap::from([(project.name.clone(), lessons())]),
        ..TrainingBook::default()
    }
}

/// The trainer's App on the products lessons.
fn presenting() -> App {
    let project = products();
    let mut app = App::train(Keymap::default(), Theme::default(), None);
    assert_eq!(app.seat(), Seat::Trainer);
    app.handle(Event::Training(TrainingEvent::Book(book(&project))));
    let fx = app.handle(Event::Projects(vec![project, multi_products()]));
    assert!(fx.is_empty(), "nothing chosen yet: {fx:?}");
    let fx = press(&mut app, "1");
    // The trainer's client asks for no tasks.
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(app.screen(), ScreenId::Present);
    app
}

fn snap_at(app: &mut App, w: u16, h: u16) -> String {
    app.handle(Event::Resize(w, h));
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| render(app, f)).unwrap();
    format!("{}", terminal.backend())
}

fn step(app: &App) -> Option<usize> {
    app.present().expect("presenting").step()
}

#[test]
fn next_and_prev_step_through_the_lessons_and_stop_at_the_ends() {
    let mut app = presenting();
    assert_eq!(step(&app), Some(0));
    press(&mut app, "left");
    assert_eq!(step(&app), Some(0));
    press(&mut app, "right right");
    assert_eq!(step(&app), Some(2));
    press(&mut app, "pagedown");
    assert_eq!(step(&app), Some(2));
    press(&mut app, "pageup");
    assert_eq!(step(&app), Some(1));
    let echo: Vec<String> = app
        .present()
        .unwrap()
        .echo()
        .map(|e| format!("{} {}", e.key, e.did))
        .collect();
    assert_eq!(
        echo,
        [
            "left prev: this is the first lesson",
            "right next: lesson 2",
            "right next: lesson 3",
            "pagedown next: this is the last lesson",
            "pageup prev: lesson 2",
        ]
    );
}

#[test]
fn reveal_hint_and_label_keys_show_on_the_screen_and_on_the_key_line() {
    let mut app = presenting();
    let screen = snap_at(&mut app, 80, 24);
    assert!(screen.contains("Lesson 1 of 3"), "{screen}");
    assert!(screen.contains("Pishori rice 5kg"), "{screen}");
    assert!(!screen.contains("ANSWER"), "{screen}");
    assert!(!screen.contains("Hint:"), "{screen}");
    press(&mut app, "f2 5 f4");
    let p = app.present().unwrap();
    assert!(p.revealed() && p.hint_open());
    assert!(p.shown()[4], "label 5 shown");
    let screen = snap_at(&mut app, 80, 24);
    assert!(screen.contains("Hint: Is it eaten or drunk?"), "{screen}");
    assert!(screen.contains("ANSWER: Food & groceries"), "{screen}");
    assert!(screen.contains("Why: Rice is eaten"), "{screen}");
    assert!(
        screen.contains("Keys: f2 hint: shown | 5 Electronics | f4 reveal: the answer"),
        "{screen}"
    );
    insta::assert_snapshot!("present_revealed_80x24", screen);
    insta::assert_snapshot!("present_revealed_120x40", snap_at(&mut app, 120, 40));
    // Moving on hides the answer, the hint and the shown label again.
    press(&mut app, "right");
    let p = app.present().unwrap();
    assert!(!p.revealed() && !p.hint_open() && !p.shown().contains(&true));
    // The second lesson has no hint; its text is inert (the escape is not drawn raw).
    press(&mut app, "f2");
    assert!(!app.present().unwrap().hint_open());
    let screen = snap_at(&mut app, 80, 24);
    assert!(screen.contains("f2 hint: this lesson has none"), "{screen}");
    assert!(screen.contains("Coca-Cola 500ml"), "{screen}");
    assert!(!screen.contains('\u{1b}'), "{screen}");
    // A key that does nothing says so.
    press(&mut app, "x");
    let screen = snap_at(&mut app, 80, 24);
    assert!(screen.contains("x nothing: not a label's key"), "{screen}");
}

#[test]
fn the_presentation_waits_for_lessons_that_come_with_a_sync() {
    let mut app = App::train(Keymap::default(), Theme::default(), None);
    app.handle(Event::Projects(vec![products()]));
    // One project: it opens at once, without lessons yet.
    assert_eq!(app.screen(), ScreenId::Present);
    assert_eq!(step(&app), None);
    assert!(
        app.message().unwrap().contains("no lessons"),
        "{:?}",
        app.message()
    );
    app.handle(Event::Training(TrainingEvent::Book(book(&products()))));
    assert_eq!(step(&app), Some(0));
    let screen = snap_at(&mut app, 80, 24);
    assert!(screen.contains("Lesson 1 of 3"), "{screen}");
}

#[test]
fn the_help_names_the_presentation_keys() {
    let mut app = presenting();
    press(&mut app, "?");
    let screen = snap_at(&mut app, 120, 40);
    for row in [
        "reveal: show the answer and why",
        "next: go to the next item",
        "labels: show the class",
    ] {
        assert!(screen.contains(row), "{row}: {screen}");
    }
}

#[test]
fn the_vim_keymap_steps_with_capitals() {
    let root = env!("CARGO_MANIFEST_DIR");
    let km = Keymap::load(&std::path::Path::new(root).join("keymaps/vim.toml")).unwrap();
    let mut app = App::train(km, Theme::default(), None);
    app.handle(Event::Training(TrainingEvent::Book(book(&products()))));
    app.handle(Event::Projects(vec![products()]));
    press(&mut app, "L R");
    assert_eq!(step(&app), Some(1));
    assert!(app.present().unwrap().revealed());
}

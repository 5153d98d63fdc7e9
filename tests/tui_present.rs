//! The trainer's presentation screen as a state machine and at 80x24 and 120x40 (a
//! projector): a project opens its lessons (no tasks asked for), next/prev step through,
//! reveal shows the expected answer and why, the hint shows, label keys show their label,
//! and the key-echo line names each key and what it did.

mod tui_common;

use std::collections::BTreeMap;

use kazi::client::TrainingBook;
use kazi::model::Project;
use kazi::model::gold::Gold;
use kazi::protocol::{
    ClassMarker, ClassReport, ClassRow, ClassState, ClassView, LessonTask, ReportStep,
    ReportStudent,
};
use kazi::tui::class::{ClassEffect, ClassEvent};
use kazi::tui::screen::present::Pane;
use kazi::tui::screen::training::TrainingEvent;
use kazi::tui::{App, Effect, Event, Keymap, ScreenId, Seat, Theme, render};
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
            text: "Coca-Cola 500ml\u{1b}[2J".into(),
            suggestion: None,
            gold: gold("drinks", "A soda is drunk."),
            hint: String::new(),
            clip: None,
        },
        LessonTask {
            item: 103,
            text: "Tecno Spark 20 128GB".into(),
            suggestion: None,
            gold: gold("phones", "A phone goes to Phones, not Electronics."),
            hint: "Can you call with it?".into(),
            clip: None,
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
    let screen = snap_at(&mut app, 80, 24);
    assert!(
        screen.contains("Which project's lessons do you want to present?"),
        "{screen}"
    );
    assert!(
        screen.contains("(products, 10 labels) · 3 lessons"),
        "{screen}"
    );
    assert!(screen.contains(" · no lessons yet"), "{screen}");
    assert!(!screen.contains("waiting"), "{screen}");
    let fx = press(&mut app, "1");
    // The trainer's client asks for no tasks; only whether a class is left open.
    assert_eq!(fx, vec![Effect::Class(ClassEffect::Open)]);
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

fn state(step: u32, revealed: bool) -> ClassState {
    ClassState {
        code: "KX7M4P".into(),
        project: "products".into(),
        lessons: "v1".into(),
        steps: 3,
        step,
        revealed,
        ended: None,
        started: 1_796_119_200,
    }
}

fn row(
    name: &str,
    step: u32,
    answered: u32,
    correct: u32,
    ago: i64,
    marker: Option<ClassMarker>,
) -> ClassRow {
    ClassRow {
        name: name.into(),
        step,
        answered,
        correct,
        last_seen: 1_796_119_300 - ago,
        marker,
    }
}

fn view(version: u64, students: Vec<ClassRow>) -> ClassView {
    ClassView {
        state: state(1, false),
        version,
        now: 1_796_119_300,
        students,
    }
}

/// A class started from the presentation, its code on screen.
fn in_class() -> App {
    let mut app = presenting();
    let fx = press(&mut app, "f7");
    assert_eq!(
        fx,
        vec![Effect::Class(ClassEffect::Start {
            project: "products".into()
        })]
    );
    let fx = app.handle(Event::Class(ClassEvent::Started {
        state: state(0, false),
        lessons: None,
    }));
    assert_eq!(
        fx,
        vec![Effect::Class(ClassEffect::Watch {
            code: "KX7M4P".into()
        })]
    );
    app
}

#[test]
fn a_class_starts_from_the_presentation_shows_its_code_and_follows_the_steps() {
    let mut app = in_class();
    let p = app.present().unwrap();
    assert_eq!(p.pane(), Pane::Class);
    let screen = snap_at(&mut app, 80, 24);
    assert!(screen.contains("Class KX7M4P: 0 students"), "{screen}");
    assert!(
        screen.contains("Join in kazi work: f12, then type KX7M4P"),
        "{screen}"
    );
    assert!(screen.contains("No students yet."), "{screen}");
    // Back to the lesson; each step goes to the class, and so does reveal.
    press(&mut app, "f7");
    assert_eq!(app.present().unwrap().pane(), Pane::Lesson);
    let step = |step, revealed| {
        vec![Effect::Class(ClassEffect::Step {
            code: "KX7M4P".into(),
            step,
            revealed,
        })]
    };
    assert_eq!(press(&mut app, "right"), step(1, false));
    assert_eq!(press(&mut app, "f4"), step(1, true));
    assert_eq!(press(&mut app, "left"), step(0, false));
    // At the first lesson prev does nothing, and sends nothing.
    assert_eq!(press(&mut app, "left"), vec![]);
    let screen = snap_at(&mut app, 80, 24);
    assert!(
        screen.contains("Class KX7M4P: 0 students | step shown"),
        "{screen}"
    );
    // Ending it: the server's state says so, the watching stops.
    assert_eq!(
        press(&mut app, "ctrl-e"),
        vec![Effect::Class(ClassEffect::End {
            code: "KX7M4P".into()
        })]
    );
    let mut ended = state(0, false);
    ended.ended = Some(1_796_119_900);
    let fx = app.handle(Event::Class(ClassEvent::State(ended)));
    assert_eq!(fx, vec![Effect::Class(ClassEffect::Unwatch)]);
    assert_eq!(
        press(&mut app, "right"),
        vec![],
        "an ended class is not stepped"
    );
}

#[test]
fn the_class_view_has_a_row_per_student_and_redraws_only_when_a_row_changed() {
    let mut app = in_class();
    let rows = vec![
        row("amina", 1, 2, 2, 3, None),
        row("baraka", 0, 1, 0, 40, Some(ClassMarker::Stuck)),
        row("chao", 1, 2, 0, 5, Some(ClassMarker::Wrong)),
    ];
    app.handle(Event::Class(ClassEvent::View(view(4, rows.clone()))));
    insta::assert_snapshot!("present_class_view_80x24", snap_at(&mut app, 80, 24));
    let screen = snap_at(&mut app, 120, 40);
    insta::assert_snapshot!("present_class_view_120x40", screen);
    let _ = app.take_redraw();
    // The same rows under a newer version: nothing to redraw.
    app.handle(Event::Class(ClassEvent::View(view(5, rows.clone()))));
    assert!(!app.take_redraw(), "an unchanged view does not redraw");
    let mut changed = rows;
    changed[1] = row("baraka", 1, 2, 1, 1, None);
    app.handle(Event::Class(ClassEvent::View(view(6, changed))));
    assert!(app.take_redraw(), "a changed row redraws");
    let screen = snap_at(&mut app, 80, 24);
    assert!(screen.contains("baraka"), "{screen}");
    assert!(!screen.contains("STUCK"), "{screen}");
    assert!(screen.contains("WRONG AGAIN"), "{screen}");
    // A hostile name stays text.
    app.handle(Event::Class(ClassEvent::View(view(
        7,
        vec![row("x\u{1b}[31my", 0, 0, 0, 0, None)],
    ))));
    let screen = snap_at(&mut app, 80, 24);
    assert!(!screen.contains('\u{1b}'), "{screen}");
}

#[test]
fn the_class_report_shows_on_the_trainers_screen() {
    let mut app = in_class();
    assert_eq!(
        press(&mut app, "f9"),
        vec![Effect::Class(ClassEffect::Report {
            code: "KX7M4P".into()
        })]
    );
    let report = ClassReport {
        state: state(2, true),
        students: vec![ReportStudent {
            name: "amina".into(),
            steps: vec![
                ReportStep {
                    step: 0,
                    answers: vec!["food".into()],
                    correct: true,
                    took: 9,
                },
                ReportStep {
                    step: 1,
                    answers: vec!["food".into(), "drinks".into()],
                    correct: false,
                    took: 21,
                },
            ],
            accuracy: Some(0.5),
            mean_took: Some(15.0),
            qualified: None,
        }],
    };
    app.handle(Event::Class(ClassEvent::Report(report)));
    assert_eq!(app.present().unwrap().pane(), Pane::Report);
    let screen = snap_at(&mut app, 80, 24);
    assert!(
        screen.contains("amina: 50% right, 15 s a task, exam not passed"),
        "{screen}"
    );
    assert!(screen.contains("1+ 2x"), "{screen}");
    insta::assert_snapshot!("present_report_80x24", screen);
}

#[test]
fn a_class_left_open_is_picked_up_again_at_its_step() {
    let mut app = presenting();
    let fx = app.handle(Event::Class(ClassEvent::Open(vec![state(2, true)])));
    assert_eq!(
        fx,
        vec![Effect::Class(ClassEffect::Watch {
            code: "KX7M4P".into()
        })]
    );
    let p = app.present().unwrap();
    assert_eq!(p.step(), Some(2));
    assert!(p.revealed());
    assert_eq!(p.pane(), Pane::Lesson);
    assert!(app.message().unwrap().contains("still open"));
    // f7 now switches to the class rather than starting another.
    assert!(press(&mut app, "f7").is_empty());
    assert_eq!(app.present().unwrap().pane(), Pane::Class);
}

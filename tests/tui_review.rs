//! The review screen as a state machine and at 80x24: the queue, an item with every
//! answer by pseudonym (label answers, a transcript's word diff), one key picks, a note
//! goes with the verdict, esc puts the item back.

mod tui_common;

use kazi::model::transcript::Transcript;
use kazi::model::{AnswerValue, Project};
use kazi::protocol::{CaseAnswer, QueueEntry, ReviewCase};
use kazi::tui::screen::review::{ReviewEffect, ReviewEvent};
use kazi::tui::{App, Effect, Event, Keymap, Theme, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_common::*;

fn draw(app: &App) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| render(app, f)).unwrap();
    terminal
}

fn entry(item: i64, reason: &str, task: &str, age: i64, busy: bool) -> QueueEntry {
    QueueEntry {
        item,
        reason: reason.into(),
        project: "products".into(),
        task: task.into(),
        age,
        busy,
        fields: Vec::new(),
    }
}

fn answer(worker: &str, value: AnswerValue, took: i64, right: u64, of: u64) -> CaseAnswer {
    CaseAnswer {
        worker: worker.into(),
        value,
        at: 1_800_000_000,
        took: Some(took),
        scored_correct: right,
        scored_total: of,
    }
}

fn labels(l: &str) -> AnswerValue {
    AnswerValue::Labels(vec![l.into()])
}

fn case(project: Project, answers: Vec<CaseAnswer>) -> ReviewCase {
    ReviewCase {
        item: 7,
        reason: "dispute".into(),
        project,
        task: "p-104".into(),
        text: "Wooden train set, 12 pieces, painted".into(),
        fields: Vec::new(),
        raised_by: None,
        note: String::new(),
        answers,
        aggregate: None,
        agreement: Some(1.0 / 3.0),
        confidence: Some(1.0 / 3.0),
        held_until: 1_800_001_800,
    }
}

fn reviewer() -> App {
    let mut app = App::review(Keymap::default(), Theme::default(), None);
    app.handle(Event::Review(ReviewEvent::Queue(vec![
        entry(7, "dispute", "p-104", 300, false),
        entry(9, "flag", "p-220", 7200, true),
    ])));
    app
}

fn three_way() -> ReviewCase {
    case(
        products(),
        vec![
            answer("w-3f2a9c", labels("toys"), 12, 40, 50),
            answer("w-81b0e4", labels("home"), 31, 0, 0),
            answer("w-c0ffee", labels("other"), 4, 12, 30),
        ],
    )
}

#[test]
fn the_queue_at_80x24() {
    insta::assert_snapshot!(draw(&reviewer()).backend());
}

#[test]
fn an_item_with_every_answer_at_80x24() {
    let mut app = reviewer();
    app.handle(Event::Review(ReviewEvent::Case(Some(
        Box::new(three_way()),
    ))));
    insta::assert_snapshot!(draw(&app).backend());
}

#[test]
fn a_transcript_dispute_shows_word_diffs_at_80x24() {
    let mut project = products();
    project.name = "voices".into();
    let t = |s: &str| AnswerValue::Transcript(Transcript::new(s.to_string()));
    let mut app = reviewer();
    app.handle(Event::Review(ReviewEvent::Case(Some(Box::new(case(
        project,
        vec![
            answer(
                "w-3f2a9c",
                t("the bus leaves at nine from the market"),
                64,
                3,
                4,
            ),
            answer(
                "w-81b0e4",
                t("the bus leaves at five from market"),
                80,
                1,
                4,
            ),
        ],
    ))))));
    insta::assert_snapshot!(draw(&app).backend());
}

#[test]
fn enter_takes_the_marked_item_and_a_busy_one_is_not_taken() {
    let mut app = reviewer();
    assert_eq!(
        press(&mut app, "enter"),
        vec![Effect::Review(ReviewEffect::Take { item: 7 })]
    );
    assert!(
        press(&mut app, "down enter").is_empty(),
        "item 9 is open elsewhere"
    );
}

#[test]
fn one_key_picks_an_answer_with_the_note_typed_first() {
    let mut app = reviewer();
    app.handle(Event::Review(ReviewEvent::Case(Some(
        Box::new(three_way()),
    ))));
    press(&mut app, "ctrl-n");
    for c in "a toy".chars() {
        app.handle(key(&c.to_string().replace(' ', "space")));
    }
    press(&mut app, "enter");
    assert_eq!(
        press(&mut app, "1"),
        vec![Effect::Review(ReviewEffect::Decide {
            item: 7,
            value: labels("toys"),
            note: "a toy".into(),
        })]
    );
    let fx = app.handle(Event::Review(ReviewEvent::Decided { item: 7, told: 2 }));
    assert_eq!(
        fx,
        vec![Effect::Review(ReviewEffect::Queue { project: None })]
    );
}

#[test]
fn esc_puts_the_item_back_and_shows_the_queue() {
    let mut app = reviewer();
    app.handle(Event::Review(ReviewEvent::Case(Some(
        Box::new(three_way()),
    ))));
    assert_eq!(
        press(&mut app, "esc"),
        vec![
            Effect::Review(ReviewEffect::Release { item: 7 }),
            Effect::Review(ReviewEffect::Queue { project: None })
        ]
    );
}

//! The training screen on a transcribe project: the lesson's clip is loaded as the lesson
//! is shown, the work screen's player keys reach the runtime as player effects, what the
//! player says reaches the held screen, and a typed transcript is scored on the key
//! against the lesson's gold with its word-error-rate tolerance (`model::gold`).

mod tui_common;

use std::collections::BTreeMap;
use std::time::Instant;

use kazi::client::player::{PlayState, PlayerCommand, PlayerStatus};
use kazi::client::{LessonTask, TrainingBook};
use kazi::model::gold::{Gold, GoldAnswer};
use kazi::model::{ClipRef, Project};
use kazi::protocol::ExamState;
use kazi::tui::screen::training::{Stage, TrainingEvent};
use kazi::tui::{App, Effect, Event, Key, Keymap, ScreenId, Theme, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_common::press;

/// The demo transcription project, holding work back until its exam is passed, so the
/// App opens its training first.
fn sauti() -> Project {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/projects/sauti.toml"),
    )
    .unwrap();
    let mut p = Project::from_toml("sauti.toml", &text).unwrap();
    p.requires_qualification = true;
    p
}

fn clip(n: u8) -> ClipRef {
    ClipRef {
        hash: format!("{n:x}").repeat(64),
        bytes: 12_000,
        ms: 2_500,
    }
}

fn lesson(item: i64, draft: &str, said: &str, n: u8) -> LessonTask {
    LessonTask {
        item,
        text: "Speaker: a trader at the market.".into(),
        suggestion: Some(draft.into()),
        gold: Gold {
            answer: GoldAnswer::Transcript {
                text: said.into(),
                max_wer_percent: 10,
            },
            explanation: format!("The speaker says: {said}"),
        },
        hint: "Listen to the end of the last word.".into(),
        clip: Some(clip(n)),
    }
}

fn book() -> TrainingBook {
    TrainingBook {
        lessons: BTreeMap::from([(
            "sauti".to_string(),
            vec![
                lesson(
                    301,
                    "Habari za asubuhi",
                    "Habari za asubuhi, karibu sana.",
                    1,
                ),
                lesson(
                    302,
                    "Mvua itanyesha kesho jioni.",
                    "Mvua itanyesha kesho jioni.",
                    2,
                ),
            ],
        )]),
        standings: BTreeMap::from([(
            "sauti".to_string(),
            ExamState {
                project: "sauti".into(),
                ..ExamState::default()
            },
        )]),
        ..TrainingBook::default()
    }
}

fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| app.handle(Event::Key(Key::char(c))))
        .collect()
}

fn players(effects: &[Effect]) -> Vec<PlayerCommand> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Player(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

fn draw(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| render(app, f)).unwrap();
    terminal.backend().to_string()
}

fn stage(app: &App) -> Stage {
    app.training().expect("training on top").stage().clone()
}

#[test]
fn a_transcribe_lesson_loads_and_plays_its_clip_and_scores_the_typed_transcript() {
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Training(TrainingEvent::Book(book())));
    let fx = app.handle(Event::Projects(vec![sauti()]));
    assert_eq!(app.screen(), ScreenId::Training);
    // The first lesson's clip is loaded as it is shown.
    assert_eq!(players(&fx), [PlayerCommand::Load(clip(1))], "{fx:?}");
    let shown = app.training().unwrap().task_on_screen().unwrap();
    assert_eq!(shown.clip, Some(clip(1)));
    let screen = draw(&app);
    assert!(screen.contains("Lesson 1 of 2"), "{screen}");
    assert!(
        screen.contains("Habari za asubuhi"),
        "the draft to correct: {screen}"
    );
    // The hint key shows the lesson's hint here, not the style rules.
    assert!(
        screen.contains("ctrl-p plays")
            && screen.contains("f2 hint")
            && !screen.contains("f2 style"),
        "{screen}"
    );

    // The work screen's player keys reach the runtime.
    assert_eq!(
        players(&press(&mut app, "ctrl-p")),
        [PlayerCommand::PlayPause]
    );
    assert_eq!(players(&press(&mut app, "alt-left")), [PlayerCommand::Back]);
    // What the player says reaches the held screen: a problem is said once.
    let status = PlayerStatus {
        state: PlayState::Missing,
        clip: Some(clip(1).hash),
        duration_ms: 0,
        position_ms: 0,
        at: Instant::now(),
        speed_pct: 100,
        looping: None,
        problem: Some("the clip is not downloaded yet".into()),
    };
    app.handle(Event::Player(status));
    let said = app.message().unwrap_or_default().to_string();
    assert!(
        said.starts_with("no sound: the clip is not downloaded yet"),
        "{said}"
    );

    // The draft completed by ear; case and punctuation are normalised away, so this is
    // a word error rate of 0.
    press(&mut app, "end");
    type_text(&mut app, " karibu sana");
    let fx = press(&mut app, "ctrl-s");
    assert_eq!(players(&fx), [PlayerCommand::Stop], "{fx:?}");
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Save { .. })),
        "a practice answer goes nowhere: {fx:?}"
    );
    let Stage::Practice {
        index: 0,
        feedback: Some(fb),
    } = stage(&app)
    else {
        panic!("feedback shown: {:?}", stage(&app))
    };
    assert!(fb.check.correct, "{fb:?}");
    let screen = draw(&app);
    assert!(screen.contains("RIGHT: that is the answer."), "{screen}");

    // The next lesson loads its own clip; a transcript far from its gold is a miss.
    let fx = press(&mut app, "enter");
    assert_eq!(players(&fx), [PlayerCommand::Load(clip(2))], "{fx:?}");
    press(&mut app, "end");
    for _ in 0.."Mvua itanyesha kesho jioni.".len() {
        press(&mut app, "backspace");
    }
    type_text(&mut app, "Jua litawaka leo");
    press(&mut app, "ctrl-s");
    let Stage::Practice {
        index: 1,
        feedback: Some(fb),
    } = stage(&app)
    else {
        panic!("feedback shown: {:?}", stage(&app))
    };
    assert!(!fb.check.correct, "{fb:?}");
}

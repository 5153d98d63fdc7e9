//! The transcribe screen as key sequences on App state and as 80x24 snapshots: the text
//! area pre-filled with the machine draft, typing over Devanagari, combining marks and
//! emoji by grapheme, word deletes, a bracketed paste as one undo step, drafts kept with
//! their cursor, an empty transcript sent only when confirmed, player keys as effects.

mod tui_common;

use kazi::client::player::PlayerCommand;
use kazi::model::transcript::Transcript;
use kazi::model::{AnswerValue, Project, Task};
use kazi::tui::{App, Effect, Event, Key, Keymap, Link, Status, Tally, Theme, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_common::key;

fn sauti() -> Project {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/projects/sauti.toml"),
    )
    .unwrap();
    Project::from_toml("sauti.toml", &text).unwrap()
}

/// A task of the project; `..Task::default()` leaves room for the clip reference.
#[allow(clippy::needless_update)]
fn clip(id: i64, draft: Option<&str>) -> Task {
    Task {
        id,
        project: "sauti".into(),
        text: "Speaker: a trader at Gikomba market.".into(),
        suggestion: draft.map(str::to_string),
        ..Task::default()
    }
}

fn app(tasks: Vec<Task>) -> App {
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Projects(vec![sauti()]));
    app.handle(Event::Tasks(tasks));
    app.handle(Event::Status(Status {
        link: Link::Online,
        counts: Some(Tally {
            unsent: 0,
            done_today: 3,
            cached: 2,
        }),
    }));
    app
}

fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| app.handle(Event::Key(Key::char(c))))
        .collect()
}

fn press(app: &mut App, keys: &str) -> Vec<Effect> {
    keys.split(' ').flat_map(|k| app.handle(key(k))).collect()
}

fn text(app: &App) -> String {
    app.transcribe()
        .and_then(|s| s.current())
        .map(|c| c.area.text().to_string())
        .expect("a task on the transcribe screen")
}

fn cursor_tail(app: &App) -> String {
    let c = app.transcribe().and_then(|s| s.current()).unwrap();
    c.area.text()[c.area.cursor()..].to_string()
}

fn draw(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| render(app, f)).unwrap();
    terminal.backend().to_string()
}

fn saved(effects: &[Effect]) -> Vec<AnswerValue> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Save { value, .. } => Some(value.clone()),
            _ => None,
        })
        .collect()
}

fn last_draft(effects: &[Effect]) -> Option<Transcript> {
    effects.iter().rev().find_map(|e| match e {
        Effect::SaveDraft {
            value: AnswerValue::Transcript(t),
            ..
        } => Some(t.clone()),
        _ => None,
    })
}

#[test]
fn the_draft_is_corrected_and_sent() {
    let mut app = app(vec![
        clip(1, Some("We sold twenty for bags of maize")),
        clip(2, None),
    ]);
    assert_eq!(text(&app), "We sold twenty for bags of maize");
    // ctrl-left four times lands on "for"; delete it and type "four".
    press(&mut app, "ctrl-left ctrl-left ctrl-left ctrl-left");
    assert_eq!(cursor_tail(&app), "for bags of maize");
    let fx = press(&mut app, "alt-d");
    assert_eq!(text(&app), "We sold twenty  bags of maize");
    assert!(last_draft(&fx).is_some(), "every edit keeps the draft");
    let fx = type_text(&mut app, "four");
    let kept = last_draft(&fx).unwrap();
    assert_eq!(kept.text, "We sold twenty four bags of maize");
    assert_eq!(&kept.text[kept.cursor.unwrap()..], " bags of maize");
    // "?" is typed, not help, while the text area takes text.
    press(&mut app, "ctrl-end");
    type_text(&mut app, "?");
    assert!(!app.help_open());
    let fx = press(&mut app, "ctrl-s");
    assert_eq!(
        saved(&fx),
        [AnswerValue::Transcript(Transcript::new(
            "We sold twenty four bags of maize?"
        ))]
    );
    assert!(fx.contains(&Effect::Player(PlayerCommand::Stop)));
    assert_eq!(text(&app), "", "the next clip has no draft");
}

#[test]
fn graphemes_paste_and_undo() {
    let mut app = app(vec![clip(1, None)]);
    type_text(&mut app, "नमस्ते");
    type_text(&mut app, " e\u{301} 👍🏽");
    press(&mut app, "left left left");
    assert_eq!(cursor_tail(&app), "e\u{301} 👍🏽", "one step per cluster");
    press(&mut app, "backspace backspace");
    assert_eq!(text(&app), "नमe\u{301} 👍🏽", "स्ते goes in one step");
    press(&mut app, "ctrl-z");
    assert_eq!(text(&app), "नमस्ते e\u{301} 👍🏽");
    // A paste is one edit: one undo takes it all back.
    press(&mut app, "ctrl-end");
    app.handle(Event::Paste(" habari\r\nza asubuhi\u{1b}[2J".into()));
    assert_eq!(text(&app), "नमस्ते e\u{301} 👍🏽 habari\nza asubuhi[2J");
    press(&mut app, "ctrl-z");
    assert_eq!(text(&app), "नमस्ते e\u{301} 👍🏽");
}

#[test]
fn an_empty_transcript_needs_a_second_submit_or_a_tag() {
    let mut app = app(vec![clip(1, None), clip(2, None)]);
    let fx = press(&mut app, "ctrl-s");
    assert!(saved(&fx).is_empty());
    let said = app.message().unwrap().to_string();
    assert!(said.contains("ctrl-s again sends it empty"), "{said}");
    assert!(said.contains("[no speech]"), "{said}");
    // Typing in between asks again.
    type_text(&mut app, "x");
    press(&mut app, "backspace");
    assert!(saved(&press(&mut app, "ctrl-s")).is_empty());
    let fx = press(&mut app, "ctrl-s");
    assert_eq!(saved(&fx), [AnswerValue::Transcript(Transcript::new(""))]);
    // A tag the project does not know is refused, with the tags it does.
    type_text(&mut app, "[music]");
    assert!(saved(&press(&mut app, "ctrl-s")).is_empty());
    assert!(app.message().unwrap().contains("[inaudible]"));
}

#[test]
fn a_kept_draft_comes_back_with_its_cursor() {
    let mut app = app(vec![clip(7, Some("machine guess"))]);
    app.handle(Event::Draft {
        task: 7,
        value: AnswerValue::Transcript(Transcript {
            text: "what I typed before".into(),
            cursor: Some(7),
        }),
    });
    assert_eq!(text(&app), "what I typed before");
    assert_eq!(cursor_tail(&app), "typed before");
}

#[test]
fn player_keys_are_effects_and_never_type() {
    let mut app = app(vec![clip(1, Some("abc"))]);
    for (keys, command) in [
        ("ctrl-p", PlayerCommand::PlayPause),
        ("alt-left", PlayerCommand::Back),
        ("alt-right", PlayerCommand::Forward),
        ("alt-down", PlayerCommand::Slower),
        ("alt-up", PlayerCommand::Faster),
        ("ctrl-l", PlayerCommand::Loop),
    ] {
        let fx = press(&mut app, keys);
        assert_eq!(fx, [Effect::Player(command)], "{keys}");
    }
    assert_eq!(text(&app), "abc");
}

#[test]
fn transcribe_screen_with_a_draft() {
    let app = app(vec![clip(
        1,
        Some("We sold twenty for bags of maize at the market."),
    )]);
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn transcribe_screen_with_style_hints_and_typing() {
    let mut app = app(vec![clip(1, None)]);
    press(&mut app, "f2");
    type_text(&mut app, "Habari za asubuhi, karibu sana. हम पचास रुपये देंगे।");
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn the_help_says_the_players_timings_of_the_project() {
    use kazi::tui::Screen;
    let app = app(vec![clip(1, None)]);
    let notes = app.transcribe().unwrap().help().notes;
    assert!(
        notes.contains(
            "Player: back and forward jump 2 s; play after a pause starts 1 s earlier; loop repeats the last 3 s."
        ),
        "{notes}"
    );
    // A schema update with the centre's own timings: the help follows it.
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/projects/sauti.toml"),
    )
    .unwrap();
    let text = format!("{text}\n[transcribe.player]\njump_secs = 5\nrewind_secs = 0\n");
    let mut app = app;
    app.handle(Event::Projects(vec![
        Project::from_toml("sauti.toml", &text).unwrap(),
    ]));
    let notes = app.transcribe().unwrap().help().notes;
    assert!(
        notes.contains(
            "jump 5 s; play after a pause goes on where it stopped; loop repeats the last 3 s"
        ),
        "{notes}"
    );
}

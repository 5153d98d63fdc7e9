//! The review screen as a state machine and at 80x24: the queue, an item with every
//! answer by pseudonym (label answers, a transcript's word diff), one key picks, a note
//! goes with the verdict, esc puts the item back. Edit writes the final answer in the
//! workers' own screens (label grid, text area, form); a flag or a contest is upheld or
//! rejected; the status line counts the reviewer's queue and verdicts.

mod tui_common;

use std::time::Instant;

use kazi::client::player::{PlayState, PlayerCommand, PlayerStatus};
use kazi::model::transcript::Transcript;
use kazi::model::{AnswerValue, ClipRef, Project};
use kazi::protocol::{
    CaseAnswer, QueueEntry, ReviewCase, ReviewRequest, ReviewResponse, VerdictKind,
};
use kazi::tui::review_link::{LinkFailure, NO_SOUND_OVER_SSH, ReviewExecutor, ReviewLink};
use kazi::tui::runtime::Session;
use kazi::tui::screen::ScreenId;
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
        clip: None,
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
            verdict: VerdictKind::Pick,
            value: Some(labels("toys")),
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

fn fixture(name: &str) -> Project {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/projects");
    let text = std::fs::read_to_string(path.join(name)).unwrap();
    Project::from_toml(name, &text).unwrap()
}

fn transcript(text: &str) -> AnswerValue {
    AnswerValue::Transcript(Transcript::new(text.to_string()))
}

/// The verdicts among effects.
fn verdicts(fx: &[Effect]) -> Vec<(VerdictKind, Option<AnswerValue>, String)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Review(ReviewEffect::Decide {
                verdict,
                value,
                note,
                ..
            }) => Some((*verdict, value.clone(), note.clone())),
            _ => None,
        })
        .collect()
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.handle(Event::Key(kazi::tui::Key::char(c)));
    }
}

fn open_case(case: ReviewCase) -> App {
    let mut app = reviewer();
    app.handle(Event::Review(ReviewEvent::Case(Some(Box::new(case)))));
    app
}

fn screen_text(app: &App) -> String {
    draw(app).backend().to_string()
}

fn flagged(reason: &str) -> ReviewCase {
    ReviewCase {
        reason: reason.into(),
        raised_by: Some("w-81b0e4".into()),
        note: "this is a toy, not kitchenware".into(),
        ..three_way()
    }
}

#[test]
fn edit_chooses_a_label_of_its_own_on_the_workers_grid_at_80x24() {
    let mut app = open_case(three_way());
    press(&mut app, "ctrl-n");
    type_text(&mut app, "none of them");
    press(&mut app, "enter");
    assert!(press(&mut app, "ctrl-e").is_empty(), "nothing sent yet");
    assert!(app.review_screen().unwrap().editing());
    assert_eq!(app.mode(), kazi::tui::Mode::Classify, "the workers' keys");
    insta::assert_snapshot!(draw(&app).backend());
    let fx = press(&mut app, "1");
    assert_eq!(
        verdicts(&fx),
        vec![(
            VerdictKind::Edit,
            Some(labels("food")),
            "none of them".to_string()
        )]
    );
    assert!(!app.review_screen().unwrap().editing());
}

#[test]
fn edit_writes_a_transcript_in_the_text_area_from_the_marked_answer_at_80x24() {
    let mut app = open_case(case(
        fixture("sauti.toml"),
        vec![
            answer("w-3f2a9c", transcript("the bus leaves at nine"), 64, 3, 4),
            answer("w-81b0e4", transcript("the bus leaves at five"), 80, 1, 4),
        ],
    ));
    press(&mut app, "down ctrl-e");
    assert_eq!(app.mode(), kazi::tui::Mode::Transcribe);
    type_text(&mut app, " sharp");
    insta::assert_snapshot!(draw(&app).backend());
    let fx = press(&mut app, "ctrl-s");
    let sent = verdicts(&fx);
    assert_eq!(sent.len(), 1, "{fx:?}");
    assert_eq!(sent[0].0, VerdictKind::Edit);
    let Some(AnswerValue::Transcript(t)) = &sent[0].1 else {
        panic!("a transcript: {sent:?}")
    };
    assert_eq!(
        t.text, "the bus leaves at five sharp",
        "from the marked answer"
    );
}

#[test]
fn esc_leaves_the_editor_and_edit_comes_back_to_what_was_written() {
    let mut app = open_case(case(
        fixture("sauti.toml"),
        vec![answer("w-3f2a9c", transcript("habari"), 64, 3, 4)],
    ));
    press(&mut app, "ctrl-e");
    type_text(&mut app, " yako");
    assert!(press(&mut app, "esc").is_empty(), "the item stays held");
    assert!(!app.review_screen().unwrap().editing());
    assert!(screen_text(&app).contains("w-3f2a9c"), "the answers again");
    press(&mut app, "ctrl-e");
    let fx = press(&mut app, "ctrl-s");
    let Some(AnswerValue::Transcript(t)) = verdicts(&fx).remove(0).1 else {
        panic!("a transcript")
    };
    assert_eq!(t.text, "habari yako");
}

fn receipt(vendor: &str, total: &str) -> AnswerValue {
    let json = format!(
        r#"{{"fields":{{"doc_kind":"receipt","vendor":"{vendor}","date":"14/03/2026",
        "total":"{total}","paid_by":"cash"}},
        "groups":{{"items":[{{"description":"Unga Jogoo 2kg","qty":"2","unit_price":"185.00"}}]}}}}"#
    );
    AnswerValue::Form(serde_json::from_str(&json).unwrap())
}

#[test]
fn edit_fills_the_workers_form_from_the_marked_answer_at_80x24() {
    let receipts = fixture("receipts.toml");
    let first = receipt("Naivas", "370.00");
    assert_eq!(receipts.validate(&first), Ok(()), "a valid receipt");
    let mut item = case(
        receipts.clone(),
        vec![
            answer("w-3f2a9c", first, 64, 3, 4),
            answer("w-81b0e4", receipt("Naivas", "730.00"), 80, 1, 4),
        ],
    );
    item.reason = "field_dispute".into();
    item.fields = vec!["total".into()];
    let mut app = open_case(item);
    press(&mut app, "ctrl-e");
    assert_eq!(app.mode(), kazi::tui::Mode::Entry);
    // To the vendor and onto its end: the form is the workers', keys and all.
    press(&mut app, "tab end");
    type_text(&mut app, " Ltd");
    insta::assert_snapshot!(draw(&app).backend());
    let fx = press(&mut app, "ctrl-s");
    let sent = verdicts(&fx);
    assert_eq!(sent.len(), 1, "{fx:?}");
    let Some(AnswerValue::Form(v)) = &sent[0].1 else {
        panic!("a form: {sent:?}")
    };
    assert_eq!(v.fields["vendor"], "Naivas Ltd");
    assert_eq!(receipts.validate(sent[0].1.as_ref().unwrap()), Ok(()));
}

#[test]
fn a_refused_edit_comes_back_to_the_editor_to_change() {
    let mut app = open_case(three_way());
    press(&mut app, "ctrl-e");
    press(&mut app, "1");
    assert!(!app.review_screen().unwrap().editing());
    app.handle(Event::Review(ReviewEvent::Failed(
        "the server refused the request: no".into(),
    )));
    assert!(app.review_screen().unwrap().editing(), "back to change it");
    assert_eq!(app.message(), Some("the server refused the request: no"));
    let fx = press(&mut app, "7");
    assert_eq!(
        verdicts(&fx),
        vec![(VerdictKind::Edit, Some(labels("fashion")), String::new())]
    );
}

#[test]
fn a_flag_opens_on_its_raisers_answer_and_is_upheld_with_it_at_80x24() {
    let mut app = open_case(flagged("flag"));
    insta::assert_snapshot!(draw(&app).backend());
    let fx = press(&mut app, "ctrl-u");
    assert_eq!(
        verdicts(&fx),
        vec![(VerdictKind::Uphold, Some(labels("home")), String::new())],
        "answer 2 is the flagger's"
    );
}

#[test]
fn a_contest_is_rejected_only_with_a_note_for_the_worker() {
    let mut app = open_case(flagged("contest"));
    assert!(press(&mut app, "ctrl-r").is_empty());
    assert!(app.message().unwrap().contains("write why first (ctrl-n)"));
    press(&mut app, "ctrl-n");
    type_text(&mut app, "kitchenware it is");
    press(&mut app, "enter");
    let fx = press(&mut app, "ctrl-r");
    assert_eq!(
        verdicts(&fx),
        vec![(VerdictKind::Reject, None, "kitchenware it is".to_string())]
    );
}

#[test]
fn a_flag_without_answers_is_upheld_with_the_reviewers_own() {
    let mut app = open_case(ReviewCase {
        answers: Vec::new(),
        ..flagged("flag")
    });
    assert!(
        press(&mut app, "ctrl-u").is_empty(),
        "nothing to uphold with yet"
    );
    assert!(app.review_screen().unwrap().editing());
    let fx = press(&mut app, "2");
    assert_eq!(
        verdicts(&fx),
        vec![(VerdictKind::Uphold, Some(labels("drinks")), String::new())]
    );
}

#[test]
fn a_dispute_is_neither_upheld_nor_rejected() {
    let mut app = open_case(three_way());
    for k in ["ctrl-u", "ctrl-r"] {
        assert!(press(&mut app, k).is_empty(), "{k}");
        assert!(app.message().unwrap().contains("only a flag or a contest"));
    }
}

#[test]
fn the_status_line_counts_the_queue_the_filter_and_the_verdicts() {
    let mut app = App::review(Keymap::default(), Theme::default(), Some("products".into()));
    app.handle(Event::Review(ReviewEvent::Queue(vec![
        entry(7, "dispute", "p-104", 300, false),
        entry(9, "flag", "p-220", 7200, true),
    ])));
    let status = |app: &App| screen_text(app).lines().last().unwrap().to_string();
    assert!(
        status(&app).contains("queue 2 │ decided 0 │ project products"),
        "{}",
        status(&app)
    );
    assert!(!status(&app).contains("unsent"), "no worker counts");
    app.handle(Event::Review(ReviewEvent::Case(Some(
        Box::new(three_way()),
    ))));
    press(&mut app, "1");
    app.handle(Event::Review(ReviewEvent::Decided { item: 7, told: 2 }));
    app.handle(Event::Review(ReviewEvent::Queue(vec![entry(
        9, "flag", "p-220", 7200, true,
    )])));
    assert!(
        status(&app).contains("queue 1 │ decided 1 │ project products"),
        "{}",
        status(&app)
    );
}

#[test]
fn forty_columns_keep_the_task_ids_and_the_keys_that_fit() {
    let mut app = reviewer();
    app.handle(Event::Resize(40, 24));
    let narrow = |app: &App| {
        let mut terminal = Terminal::new(TestBackend::new(40, 24)).unwrap();
        terminal.draw(|f| render(app, f)).unwrap();
        terminal.backend().to_string()
    };
    let queue = narrow(&app);
    assert!(
        queue.contains("p-104") && queue.contains("p-220"),
        "{queue}"
    );
    app.handle(Event::Review(ReviewEvent::Case(Some(Box::new(flagged(
        "flag",
    ))))));
    let item = narrow(&app);
    let guide = item.lines().nth(22).unwrap();
    assert!(
        guide.contains("1-3 pick") && guide.contains("esc back"),
        "{item}"
    );
    assert!(item.contains("w-81b0e4"), "{item}");
}

// The audio of a transcript: the clip loads as the item opens, ctrl-p plays it (also in
// the editor), esc stops it; over SSH the screen says there is no sound.

fn clip() -> ClipRef {
    ClipRef {
        hash: "a".repeat(64),
        bytes: 4096,
        ms: 12_000,
    }
}

fn heard() -> ReviewCase {
    let mut project = fixture("sauti.toml");
    project.name = "sauti".into();
    ReviewCase {
        text: "Clip en-01".into(),
        clip: Some(clip()),
        ..case(
            project,
            vec![
                answer(
                    "w-3f2a9c",
                    transcript("the meeting starts at nine"),
                    20,
                    3,
                    4,
                ),
                answer(
                    "w-81b0e4",
                    transcript("the meeting starts at half past nine"),
                    25,
                    1,
                    4,
                ),
            ],
        )
    }
}

fn paused_at(ms: u64) -> PlayerStatus {
    PlayerStatus {
        state: PlayState::Paused,
        clip: Some(clip().hash),
        duration_ms: 12_000,
        position_ms: ms,
        at: Instant::now(),
        speed_pct: 100,
        looping: None,
        problem: None,
    }
}

fn player_effects(fx: &[Effect]) -> Vec<PlayerCommand> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Player(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_transcripts_clip_loads_as_the_item_opens_plays_on_ctrl_p_and_stops_on_esc() {
    let mut app = reviewer();
    let fx = app.handle(Event::Review(ReviewEvent::Case(Some(Box::new(heard())))));
    assert_eq!(player_effects(&fx), vec![PlayerCommand::Load(clip())]);
    assert_eq!(
        player_effects(&press(&mut app, "ctrl-p")),
        vec![PlayerCommand::PlayPause]
    );
    let fx = press(&mut app, "esc");
    assert_eq!(player_effects(&fx), vec![PlayerCommand::Stop]);
    assert!(fx.contains(&Effect::Review(ReviewEffect::Release { item: 7 })));

    // A task without audio: nothing to play, and the screen says so.
    let mut app = open_case(three_way());
    assert!(player_effects(&press(&mut app, "ctrl-p")).is_empty());
    assert_eq!(app.message(), Some("this task has no audio"));
}

#[test]
fn a_transcript_item_shows_its_player_line_at_80x24() {
    let mut app = open_case(heard());
    let before = screen_text(&app);
    assert!(before.contains("audio: ctrl-p plays"), "{before}");
    app.handle(Event::Player(paused_at(3_000)));
    let player = app.review_screen().unwrap().player().unwrap();
    assert_eq!(player.position_ms, 3_000);
    insta::assert_snapshot!(draw(&app).backend());
}

#[test]
fn the_editor_plays_the_same_clip_with_the_workers_keys() {
    let mut app = open_case(heard());
    app.handle(Event::Player(paused_at(3_000)));
    let fx = press(&mut app, "ctrl-e");
    assert!(app.review_screen().unwrap().editing());
    assert!(
        player_effects(&fx).is_empty(),
        "the clip is loaded already: {fx:?}"
    );
    assert!(screen_text(&app).contains("0:03"), "{}", screen_text(&app));
    assert_eq!(
        player_effects(&press(&mut app, "ctrl-p")),
        vec![PlayerCommand::PlayPause]
    );
}

/// A link that answers like the SSH server's store link, without its store: one item.
struct Canned(Option<ReviewCase>);

impl ReviewLink for Canned {
    type Notice = std::convert::Infallible;

    fn ask(&mut self, request: ReviewRequest) -> Result<ReviewResponse, LinkFailure> {
        Ok(match request {
            ReviewRequest::Queue { .. } => ReviewResponse::Queue {
                items: vec![entry(7, "dispute", "p-104", 300, false)],
            },
            ReviewRequest::Take { .. } => ReviewResponse::Take {
                case: self.0.take().map(Box::new),
            },
            ReviewRequest::Release { item } => ReviewResponse::Release { item },
            ReviewRequest::Decide { item, .. } => ReviewResponse::Decide {
                item,
                feedback_given: 0,
            },
        })
    }

    fn notice(&mut self, notice: Self::Notice) -> Vec<Event> {
        match notice {}
    }
}

#[test]
fn without_sound_as_over_ssh_the_item_says_so_instead_of_ctrl_p_at_80x24() {
    let app = App::review(Keymap::default(), Theme::default(), None);
    let mut session = Session::new(app, ReviewExecutor::new(Canned(Some(heard())), None));
    session.feed(Event::Resize(80, 24));
    session.feed(key("enter"));
    let text = screen_text(session.app());
    assert!(text.contains(NO_SOUND_OVER_SSH), "{text}");
    assert!(!text.contains("ctrl-p plays"), "{text}");
    // ctrl-p says it again, on the item and in the editor.
    session.feed(key("down"));
    session.feed(key("x"));
    assert_ne!(session.app().message(), Some(NO_SOUND_OVER_SSH));
    session.feed(key("ctrl-p"));
    assert_eq!(session.app().message(), Some(NO_SOUND_OVER_SSH));
    let shown = draw(session.app()).backend().clone();
    session.feed(key("ctrl-e"));
    session.feed(key("ctrl-p"));
    assert_eq!(session.app().message(), Some(NO_SOUND_OVER_SSH));
    let editor = screen_text(session.app());
    assert!(!editor.contains("ctrl-p plays"), "{editor}");
    assert!(editor.contains(NO_SOUND_OVER_SSH), "{editor}");
    session.feed(key("esc"));
    insta::assert_snapshot!(shown);
}

// The global keys of the workers' screens: f3 filters the queue by project, the others
// say they are not on the review screen, and help says what they do here.

#[test]
fn f3_steps_the_queue_through_its_projects_and_back_to_all() {
    let mut app = App::review(Keymap::default(), Theme::default(), None);
    let mut sauti = entry(11, "contest", "en-01", 60, false);
    sauti.project = "sauti".into();
    app.handle(Event::Review(ReviewEvent::Queue(vec![
        entry(7, "dispute", "p-104", 300, false),
        sauti,
    ])));
    let queue = |p: Option<&str>| {
        vec![Effect::Review(ReviewEffect::Queue {
            project: p.map(str::to_string),
        })]
    };
    assert_eq!(press(&mut app, "f3"), queue(Some("products")));
    assert_eq!(app.screen(), ScreenId::Review, "no worker's picker");
    assert_eq!(app.message(), Some("the queue of project products"));
    // The filtered queue comes back with one project; the steps stay those seen.
    app.handle(Event::Review(ReviewEvent::Queue(vec![entry(
        7, "dispute", "p-104", 300, false,
    )])));
    assert!(screen_text(&app).contains("project products"));
    assert_eq!(press(&mut app, "f3"), queue(Some("sauti")));
    assert_eq!(press(&mut app, "f3"), queue(None));
    assert_eq!(app.message(), Some("the queue of all your projects"));
    // On an item, f3 points back to the queue first.
    app.handle(Event::Review(ReviewEvent::Case(Some(
        Box::new(three_way()),
    ))));
    assert!(press(&mut app, "f3").is_empty());
    assert!(app.message().unwrap().contains("esc goes back"));
}

#[test]
fn the_workers_screens_are_not_on_the_review_screen_and_help_says_so() {
    let vim = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("keymaps/vim.toml");
    for keymap in [Keymap::default(), Keymap::load(&vim).unwrap()] {
        let mut app = App::review(keymap, Theme::default(), None);
        app.handle(Event::Review(ReviewEvent::Queue(vec![entry(
            7, "dispute", "p-104", 300, false,
        )])));
        for k in ["f6", "f9", "f7", "f8"] {
            assert!(press(&mut app, k).is_empty(), "{k}");
            assert_eq!(app.screen(), ScreenId::Review, "{k}");
            let said = app.message().unwrap_or_default().to_string();
            assert!(said.contains("not on the review screen"), "{k}: {said}");
        }
        // Tall enough for every row of help at once.
        app.handle(Event::Resize(80, 40));
        press(&mut app, "f1");
        let mut terminal = Terminal::new(TestBackend::new(80, 40)).unwrap();
        terminal.draw(|f| render(&app, f)).unwrap();
        let help = terminal.backend().to_string();
        assert!(help.contains("filter the queue"), "{help}");
        assert!(!help.contains("go back to the list of projects"), "{help}");
        assert!(!help.contains("show feedback on your answers"), "{help}");
    }
}

#[test]
fn f3_from_a_project_given_on_the_command_line_goes_to_all_then_back() {
    let mut app = App::review(Keymap::default(), Theme::default(), Some("products".into()));
    app.handle(Event::Review(ReviewEvent::Queue(vec![entry(
        7, "dispute", "p-104", 300, false,
    )])));
    let queue = |p: Option<&str>| {
        vec![Effect::Review(ReviewEffect::Queue {
            project: p.map(str::to_string),
        })]
    };
    assert_eq!(press(&mut app, "f3"), queue(None));
    assert_eq!(app.message(), Some("the queue of all your projects"));
    assert_eq!(press(&mut app, "f3"), queue(Some("products")));
}

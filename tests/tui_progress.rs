//! The progress view: opened by its key from a project and from the picker, reading the
//! figures kept in the store through the runtime, drawn at 80x24 in colour and in
//! monochrome ASCII (insta), with untrusted titles drawn inert; esc goes back.

mod tui_common;

use kazi::model::Rate;
use kazi::protocol::{Held, Period, Progress, ProjectProgress};
use kazi::tui::keymap::{Action, Keymap, Mode};
use kazi::tui::screen::progress::{ProgressEffect, ProgressEvent, accuracy_marks, day_bars};
use kazi::tui::{App, Effect, Event, ScreenId, Theme, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_common::*;

/// Thursday 2026-11-26 14:30 UTC, server time.
const AS_OF: i64 = 1_795_703_400;
const DAY: i64 = 86_400;

fn progress() -> Progress {
    let today = AS_OF.div_euclid(DAY) * DAY;
    let tasks = [0, 12, 30, 41, 0, 0, 25, 38, 44, 52, 61, 0, 18, 40];
    let days = tasks
        .iter()
        .enumerate()
        .map(|(i, &n)| Period {
            start: today - (13 - i as i64) * DAY,
            tasks: n,
            seconds: n * 35,
        })
        .collect();
    // Monday of AS_OF's week: 2026-11-23.
    let monday = 1_795_392_000;
    let weeks = (0..8)
        .map(|i| Period {
            start: monday - (7 - i) * 7 * DAY,
            tasks: [0, 0, 40, 90, 120, 150, 166, 98][i as usize],
            seconds: [0, 0, 1800, 4000, 5200, 6100, 6900, 3500][i as usize],
        })
        .collect();
    Progress {
        as_of: AS_OF,
        days,
        weeks,
        projects: vec![
            ProjectProgress {
                project: "products".into(),
                title: "Product categories".into(),
                weeks: vec![
                    (0, 0, 0),
                    (0, 0, 0),
                    (40, 6, 10),
                    (90, 14, 20),
                    (100, 17, 20),
                    (120, 19, 20),
                    (130, 20, 20),
                    (80, 9, 10),
                ],
                rate: Some(Rate::new("0.05", "USD").unwrap()),
            },
            ProjectProgress {
                project: "receipts".into(),
                title: "Receipts \u{1b}]0;pwned\u{7}".into(),
                weeks: vec![
                    (0, 0, 0),
                    (0, 0, 0),
                    (0, 0, 0),
                    (0, 0, 0),
                    (20, 3, 4),
                    (30, 0, 0),
                    (36, 5, 6),
                    (18, 2, 2),
                ],
                rate: None,
            },
        ],
        qualifications: vec![Held {
            project: "products".into(),
            title: "Product categories".into(),
            since: monday - 5 * 7 * DAY + 2 * DAY + 3600,
        }],
    }
}

fn open_progress(app: App) -> App {
    open_with(app, progress())
}

fn open_with(mut app: App, progress: Progress) -> App {
    let fx = press(&mut app, "f9");
    assert_eq!(fx, vec![Effect::Progress(ProgressEffect::Load)]);
    assert_eq!(app.screen(), ScreenId::Progress);
    app.handle(Event::Progress(ProgressEvent::Loaded(Some(progress))));
    app
}

fn drawn(app: &App) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| render(app, f)).unwrap();
    terminal
}

#[test]
fn the_progress_view_draws_its_charts_at_80x24_in_colour() {
    let app = open_progress(app_with(products(), 1..5));
    let terminal = drawn(&app);
    let text = format!("{}", terminal.backend());
    assert!(!text.contains('\u{1b}'), "a title drawn inert");
    assert!(
        text.contains("as of 2026-11-26 14:30 UTC (server time)"),
        "{text}"
    );
    assert!(text.contains("Product categories: 28.00 USD in 8 weeks, 4.00 USD this week"));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn the_progress_view_reads_in_monochrome_ascii() {
    let mut app = App::new(
        Keymap::default(),
        Theme {
            color: false,
            ascii: true,
        },
        None,
    );
    app.handle(Event::Projects(vec![products()]));
    app.handle(Event::Tasks(tasks("products", 1..5)));
    // The sanitiser shows a control character as its picture (not ASCII): this view's
    // own drawing is checked with plain titles.
    let mut plain = progress();
    plain.projects[1].title = "Receipts".into();
    let app = open_with(app, plain);
    let terminal = drawn(&app);
    let buffer = terminal.backend().buffer();
    for cell in buffer.content() {
        assert!(cell.symbol().is_ascii(), "non-ASCII {:?}", cell.symbol());
        assert_eq!(
            cell.fg,
            ratatui::style::Color::Reset,
            "no colour carries meaning"
        );
    }
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn charts_scale_to_the_busiest_day_and_mark_accuracy_by_tens_in_ascii() {
    let days: Vec<Period> = [0, 10, 40, 1]
        .iter()
        .enumerate()
        .map(|(i, &n)| Period {
            start: AS_OF - (3 - i as i64) * DAY,
            tasks: n,
            seconds: 0,
        })
        .collect();
    let rows = day_bars(&days, true);
    // Four rows of bars and the dates: the busiest day is full height, any work at all
    // shows, a day without none.
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0], "      ##");
    assert_eq!(rows[3], "   ## ## ##");
    assert_eq!(rows[4], "23 24 25 26");
    let unicode = day_bars(&days, false);
    assert_eq!(unicode[0], "      ██");
    assert_eq!(unicode[3], "   ██ ██ ▁▁");
    assert_eq!(
        accuracy_marks(&[(0, 0), (7, 10), (99, 100), (5, 5)], true),
        "-79*"
    );
    assert_eq!(accuracy_marks(&[(0, 0), (1, 8), (5, 5)], false), "·▁█");
}

#[test]
fn the_view_opens_from_the_picker_says_when_there_are_no_figures_and_esc_goes_back() {
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    let mut other = products();
    other.name = "more".into();
    other.title = "More products".into();
    app.handle(Event::Projects(vec![products(), other]));
    assert_eq!(app.screen(), ScreenId::Picker);
    let fx = press(&mut app, "f9");
    assert_eq!(fx, vec![Effect::Progress(ProgressEffect::Load)]);
    assert_eq!(app.screen(), ScreenId::Progress);
    app.handle(Event::Progress(ProgressEvent::Loaded(None)));
    let text = format!("{}", drawn(&app).backend());
    assert!(text.contains("No figures yet."), "{text}");
    // Fresh figures replace none; a later read that finds none keeps them.
    app.handle(Event::Progress(ProgressEvent::Loaded(Some(progress()))));
    app.handle(Event::Progress(ProgressEvent::Loaded(None)));
    let text = format!("{}", drawn(&app).backend());
    assert!(text.contains("as of 2026-11-26 14:30 UTC"), "{text}");
    press(&mut app, "esc");
    assert_eq!(app.screen(), ScreenId::Picker);
}

#[test]
fn both_keymaps_give_progress_a_key_and_the_help_names_it() {
    let root = env!("CARGO_MANIFEST_DIR");
    for file in ["keymaps/default.toml", "keymaps/vim.toml"] {
        let map = Keymap::load(&std::path::Path::new(root).join(file)).unwrap();
        assert!(
            !map.keys_for(Mode::Global, Action::Progress).is_empty(),
            "{file}"
        );
    }
    let mut app = app_with(products(), 1..5);
    press(&mut app, "?");
    let text = format!("{}", drawn(&app).backend());
    assert!(
        text.contains("progress: your tasks, accuracy and earnings"),
        "{text}"
    );
}

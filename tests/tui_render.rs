//! Rendered screens: insta snapshots of TestBackend buffers (text only), plus buffer
//! checks where style matters and size torture for panics.

mod tui_common;

use kazi::model::{AnswerValue, Project};
use kazi::tui::{App, Event, Keymap, Link, Status, Tally, Theme, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use tui_common::*;

fn draw(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| render(app, f)).unwrap();
    terminal
}

fn screen_text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn online(app: &mut App) {
    app.handle(Event::Status(Status {
        link: Link::Online,
        counts: Some(Tally {
            unsent: 2,
            done_today: 37,
            cached: 48,
        }),
    }));
}

#[test]
fn work_screen_single_label() {
    let mut app = app_with(products(), 1..31);
    online(&mut app);
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn work_screen_with_suggestion() {
    let mut app = app_with(products(), 1..1);
    online(&mut app);
    let mut t = task(
        5,
        "products",
        "Tecno Spark 10 Pro 128GB dual SIM, 8GB RAM, blue",
    );
    t.suggestion = Some("phones".into());
    app.handle(Event::Tasks(vec![t]));
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn work_screen_multi_label_with_selections() {
    let mut app = app_with(multi_products(), 1..31);
    online(&mut app);
    press(&mut app, "1 2 6");
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn work_screen_after_undo() {
    let mut app = app_with(products(), 1..31);
    online(&mut app);
    press(&mut app, "3");
    app.handle(Event::Undone(Some((
        task(1, "products", TITLES[1]),
        AnswerValue::Labels(vec!["drinks".into()]),
    ))));
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn work_screen_with_hints() {
    let mut app = app_with(products(), 1..31);
    online(&mut app);
    press(&mut app, "f2");
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn help_overlay() {
    let mut app = app_with(products(), 1..31);
    online(&mut app);
    press(&mut app, "?");
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn project_picker() {
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Projects(vec![products(), multi_products()]));
    press(&mut app, "down");
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn empty_and_offline() {
    let mut app = app_with(products(), 1..1);
    app.handle(Event::Status(Status {
        link: Link::Offline,
        counts: Some(Tally {
            unsent: 12,
            done_today: 40,
            cached: 0,
        }),
    }));
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn hostile_task_text_is_inert() {
    let mut app = app_with(products(), 1..1);
    online(&mut app);
    let text = "Shoe\x1b[2J\x1b]0;pwned\x07 size 42\r\n\u{9b}31mRED\u{202e}desrever \x1b[?1049l";
    app.handle(Event::Tasks(vec![task(1, "products", text)]));
    app.handle(Event::Message("server says: \x1b[31mno\x1b[0m".into()));
    let terminal = draw(&app, 80, 24);
    let shown = screen_text(terminal.backend().buffer());
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\n'),
        "{shown:?}"
    );
    assert!(shown.contains("Shoe␛[2J␛]0;pwned␇ size 42␍"), "{shown}");
    insta::assert_snapshot!(terminal.backend());
}

fn world_project() -> Project {
    let text = PRODUCTS.replace(
        "title = \"Product categories\"",
        "title = \"उत्पाद श्रेणियाँ 商品分类 — मार्च की सूची\"",
    );
    Project::from_toml("world.toml", &text).unwrap()
}

#[test]
fn wide_and_combining_scripts_wrap() {
    let mut app = app_with(world_project(), 1..1);
    online(&mut app);
    let text = "बच्चों की हिन्दी किताबें सेट (५ पुस्तकें) रंगीन चित्रों के साथ 儿童中文图画书套装五本彩色插图 \
                Livres pour enfants en français, édition illustrée";
    app.handle(Event::Tasks(vec![task(1, "products", text)]));
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn small_screen_40x12() {
    let mut app = app_with(products(), 1..31);
    online(&mut app);
    insta::assert_snapshot!(draw(&app, 40, 12).backend());
}

#[test]
fn ascii_fallback() {
    let theme = Theme {
        color: false,
        ascii: true,
    };
    let mut app = App::new(Keymap::default(), theme, None);
    app.handle(Event::Projects(vec![products()]));
    app.handle(Event::Tasks(tasks("products", 1..5)));
    online(&mut app);
    let terminal = draw(&app, 80, 24);
    let shown = screen_text(terminal.backend().buffer());
    assert!(shown.is_ascii(), "{shown}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn link_state_is_a_word_not_only_a_colour() {
    for (link, word) in [
        (Link::Online, "online"),
        (Link::Offline, "offline"),
        (Link::Syncing, "syncing"),
    ] {
        for color in [true, false] {
            let theme = Theme {
                color,
                ascii: false,
            };
            let mut app = App::new(Keymap::default(), theme, None);
            app.handle(Event::Projects(vec![products()]));
            app.handle(Event::Tasks(tasks("products", 1..5)));
            app.handle(Event::Status(Status {
                link,
                counts: Some(Tally {
                    unsent: 7,
                    done_today: 3,
                    cached: 4,
                }),
            }));
            let terminal = draw(&app, 80, 24);
            let buf = terminal.backend().buffer();
            let last = screen_text(buf).lines().nth(23).unwrap().to_string();
            assert!(last.starts_with(&format!(" {word} ")), "{last}");
            assert!(
                last.contains("unsent 7") && last.contains("done today 3"),
                "{last}"
            );
            // The word itself carries the state; with colour on it is also coloured,
            // with NO_COLOR no cell anywhere has a colour.
            let cell = &buf[(1, 23)];
            if color {
                assert_ne!(cell.fg, Color::Reset, "{link:?} has a colour");
            } else {
                for y in 0..24 {
                    for x in 0..80 {
                        let c = &buf[(x, y)];
                        assert_eq!((c.fg, c.bg), (Color::Reset, Color::Reset), "({x},{y})");
                    }
                }
            }
        }
    }
}

#[test]
fn selection_is_marked_without_colour() {
    let theme = Theme {
        color: false,
        ascii: false,
    };
    let mut app = App::new(Keymap::default(), theme, None);
    app.handle(Event::Projects(vec![multi_products()]));
    app.handle(Event::Tasks(tasks("tags", 1..5)));
    press(&mut app, "2");
    let terminal = draw(&app, 80, 24);
    let buf = terminal.backend().buffer();
    let text = screen_text(buf);
    let row = text
        .lines()
        .position(|l| l.contains("[x] 2 Drinks"))
        .unwrap();
    assert!(text.contains("[ ] 1 Food"), "{text}");
    let col = text.lines().nth(row).unwrap().find("[x]").unwrap() as u16;
    assert!(buf[(col, row as u16)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn labels_keep_their_places_from_task_to_task() {
    let mut app = app_with(products(), 1..31);
    let label_rows = |app: &App| {
        let t = screen_text(draw(app, 80, 24).backend().buffer());
        t.lines()
            .skip(14)
            .take(8)
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let before = label_rows(&app);
    press(&mut app, "1");
    app.handle(Event::Tasks(vec![task(
        500,
        "products",
        &"a very long product title ".repeat(30),
    )]));
    press(&mut app, "1 1 1");
    assert_eq!(label_rows(&app), before);
}

#[test]
fn no_panic_at_any_size() {
    let mut apps = vec![
        app_with(products(), 1..31),
        app_with(multi_products(), 1..3),
    ];
    let mut help = app_with(products(), 1..31);
    press(&mut help, "?");
    apps.push(help);
    let mut picker = App::new(Keymap::default(), Theme::default(), None);
    picker.handle(Event::Projects(vec![products(), multi_products()]));
    apps.push(picker);
    apps.push(app_with(products(), 1..1));
    for app in &apps {
        for w in 0..=90 {
            for h in (0..=30).step_by(1) {
                if w > 12 && h > 3 && w % 7 != 0 && h % 5 != 0 {
                    continue; // keep the test quick: all small sizes, a spread of large
                }
                draw(app, w, h);
            }
        }
    }
}

#[test]
fn picker_help_lists_the_pickers_own_keys() {
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Projects(vec![products(), multi_products()]));
    press(&mut app, "?");
    let text = screen_text(draw(&app, 80, 24).backend().buffer());
    for row in [
        "1-2             open the project with that number",
        "up, down        move the marker",
        "enter           open the marked project",
        "?, f1           help: show or hide this help",
        "ctrl-q, ctrl-c  quit: send what is unsent and leave",
    ] {
        assert!(text.contains(row), "{row} in\n{text}");
    }
}

#[test]
fn unknown_counts_show_as_a_question_mark() {
    let mut app = app_with(products(), 1..31);
    app.handle(Event::Status(Status {
        link: Link::Offline,
        counts: None,
    }));
    let text = screen_text(draw(&app, 80, 24).backend().buffer());
    let last = text.lines().nth(23).unwrap();
    assert!(
        last.starts_with(" offline │ unsent ? │ done today ? │ cached ?"),
        "{last}"
    );
}

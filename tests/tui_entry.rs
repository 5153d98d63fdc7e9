//! The entry screen as key sequences on App state and as 80x24 snapshots: typing with
//! validation as typed, choice keys, skip logic, table rows, submit refused until the
//! form is valid, drafts with the cursor.

mod tui_common;

use kazi::model::form::{FieldPath, FormValues};
use kazi::model::{AnswerValue, Project, Task};
use kazi::tui::screen::entry::Filling;
use kazi::tui::{App, Effect, Event, Key, Keymap, Link, Status, Tally, Theme, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_common::key;

fn receipts() -> Project {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/projects/receipts.toml"),
    )
    .unwrap();
    Project::from_toml("receipts.toml", &text).unwrap()
}

const RECEIPT: &str = "NAIVAS SUPERMARKET\nMoi Avenue, Nairobi\nDate: 14/03/2026  Till 4\n\
--------------------------------\nUnga Jogoo 2kg\n  2 x 185.00        370.00\n\
Milk Brookside 500ml\n  1 x 60.00        60.00\n--------------------------------\n\
TOTAL          KSh 430.00\nM-PESA 430.00  Ref SGK4H7TQ2P\nThank you, karibu tena";

fn doc(id: i64) -> Task {
    Task {
        id,
        project: "receipts".into(),
        text: RECEIPT.into(),
        suggestion: None,
        clip: None,
    }
}

fn app() -> App {
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Projects(vec![receipts()]));
    app.handle(Event::Tasks(vec![doc(1), doc(2)]));
    app.handle(Event::Status(Status {
        link: Link::Online,
        counts: Some(Tally {
            unsent: 0,
            done_today: 12,
            cached: 2,
        }),
    }));
    app
}

/// Type text character by character (a space is a key too).
fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| app.handle(Event::Key(Key::char(c))))
        .collect()
}

fn press(app: &mut App, keys: &str) -> Vec<Effect> {
    keys.split(' ').flat_map(|k| app.handle(key(k))).collect()
}

fn filling(app: &App) -> &Filling {
    app.entry()
        .and_then(|e| e.current())
        .expect("a form on the entry screen")
}

fn at(app: &App) -> String {
    filling(app).at.to_string()
}

fn value(app: &App, path: &str) -> String {
    filling(app)
        .values
        .get(&FieldPath::parse(path).unwrap())
        .to_string()
}

fn draw(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal.draw(|f| render(app, f)).unwrap();
    terminal.backend().to_string()
}

/// Fill the receipt on screen completely and correctly, ending on the last field.
fn fill_receipt(app: &mut App) {
    type_text(app, "r");
    press(app, "tab");
    type_text(app, "Naivas Supermarket");
    press(app, "tab");
    type_text(app, "14/03/2026");
    press(app, "tab");
    type_text(app, "Unga Jogoo 2kg");
    press(app, "tab");
    type_text(app, "2");
    press(app, "tab");
    type_text(app, "185.00");
    press(app, "ctrl-n");
    type_text(app, "Milk Brookside 500ml");
    press(app, "tab");
    type_text(app, "1");
    press(app, "tab");
    type_text(app, "60");
    press(app, "tab");
    type_text(app, "KSh 430.00");
    press(app, "enter");
    type_text(app, "m");
    press(app, "enter");
    type_text(app, "SGK4H7TQ2P");
}

#[test]
fn a_receipt_is_typed_field_by_field_and_sent_once_valid() {
    let mut app = app();
    assert_eq!(at(&app), "doc_kind", "the cursor starts on the first field");
    // A choice field takes its options' keys only.
    let fx = type_text(&mut app, "x");
    assert!(fx.is_empty());
    assert!(
        app.message().unwrap().contains("press one of: r Receipt"),
        "{:?}",
        app.message()
    );
    fill_receipt(&mut app);
    assert_eq!(value(&app, "doc_kind"), "receipt");
    assert_eq!(value(&app, "items[2].description"), "Milk Brookside 500ml");
    assert_eq!(value(&app, "paid_by"), "mpesa");
    assert_eq!(at(&app), "mpesa_code", "M-Pesa asks for its code");
    assert!(
        filling(&app).issues.is_empty(),
        "{:?}",
        filling(&app).issues
    );
    let fx = press(&mut app, "ctrl-s");
    let saved: Vec<&AnswerValue> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Save { value, .. } => Some(value),
            _ => None,
        })
        .collect();
    assert_eq!(saved.len(), 1, "{fx:?}");
    let AnswerValue::Form(sent) = saved[0] else {
        panic!("a form is sent")
    };
    assert_eq!(
        sent.cursor, None,
        "the cursor is a draft's, never an answer's"
    );
    assert_eq!(sent.groups["items"].len(), 2);
    assert_eq!(receipts().validate(saved[0]), Ok(()), "the server agrees");
    assert_eq!(filling(&app).task.id, 2, "the next document is on screen");
    assert_eq!(at(&app), "doc_kind");
}

#[test]
fn validation_shows_as_typed_and_never_blocks_moving() {
    let mut app = app();
    type_text(&mut app, "r");
    press(&mut app, "tab tab");
    assert_eq!(
        at(&app),
        "date",
        "an empty required field does not hold the cursor"
    );
    type_text(&mut app, "14-03");
    assert_eq!(
        filling(&app).shown_issue(&FieldPath::parse("date").unwrap()),
        Some("date must be dd/mm/yyyy")
    );
    press(&mut app, "tab");
    assert_eq!(
        at(&app),
        "items[1].description",
        "a bad value does not hold it either"
    );
    press(&mut app, "backtab");
    press(
        &mut app,
        "backspace backspace backspace backspace backspace",
    );
    type_text(&mut app, "14/03/2026");
    assert_eq!(
        filling(&app).shown_issue(&FieldPath::parse("date").unwrap()),
        None
    );
}

#[test]
fn submit_is_refused_until_valid_and_jumps_to_the_first_bad_field() {
    let mut app = app();
    type_text(&mut app, "r");
    press(&mut app, "tab tab");
    type_text(&mut app, "14/03/2026");
    let fx = press(&mut app, "ctrl-s");
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Save { .. })),
        "{fx:?}"
    );
    assert_eq!(at(&app), "vendor", "back to the first bad field");
    assert_eq!(
        app.message(),
        Some("not sent: Shop or company: required: fill it in")
    );
    // A total that does not add up is said in words.
    let mut app = self::app();
    fill_receipt(&mut app);
    press(&mut app, "backtab backtab");
    assert_eq!(at(&app), "total");
    press(
        &mut app,
        "backspace backspace backspace backspace backspace backspace",
    );
    type_text(&mut app, "500.00");
    let fx = press(&mut app, "ctrl-s");
    assert!(!fx.iter().any(|e| matches!(e, Effect::Save { .. })));
    assert_eq!(
        app.message(),
        Some("not sent: Total: line items add up to 430, less than the total 500")
    );
}

#[test]
fn skip_logic_hides_fields_and_a_card_asks_for_its_own() {
    let mut app = app();
    type_text(&mut app, "c");
    let places: Vec<String> = filling(&app)
        .places
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        places,
        ["doc_kind", "person", "job_title", "phone", "email"]
    );
    press(&mut app, "tab");
    type_text(&mut app, "Wanjiru Kamau");
    press(&mut app, "tab tab");
    type_text(&mut app, "0722 431 908");
    let fx = press(&mut app, "ctrl-s");
    let Some(Effect::Save { value, .. }) = fx.iter().find(|e| matches!(e, Effect::Save { .. }))
    else {
        panic!("a valid card is sent: {fx:?} {:?}", app.message());
    };
    let AnswerValue::Form(v) = value else {
        panic!()
    };
    assert!(
        v.groups.is_empty(),
        "the receipt's empty table is not sent: {v:?}"
    );
}

#[test]
fn rows_are_added_and_removed_with_their_keys() {
    let mut app = app();
    type_text(&mut app, "i");
    press(&mut app, "tab tab tab tab");
    assert_eq!(at(&app), "items[1].description");
    press(&mut app, "ctrl-n");
    assert_eq!(at(&app), "items[2].description");
    type_text(&mut app, "Cement");
    press(&mut app, "ctrl-n");
    assert_eq!(filling(&app).values.row_count("items"), 3);
    press(&mut app, "ctrl-d");
    assert_eq!(filling(&app).values.row_count("items"), 2);
    assert_eq!(
        at(&app),
        "items[2].description",
        "the row before takes the cursor"
    );
    assert_eq!(value(&app, "items[2].description"), "Cement");
    press(&mut app, "backtab backtab backtab ctrl-d");
    assert_eq!(at(&app), "items[1].description", "the next row moves up");
    assert_eq!(value(&app, "items[1].description"), "Cement");
    press(&mut app, "ctrl-d");
    assert_eq!(filling(&app).values.row_count("items"), 0);
    assert_eq!(at(&app), "items", "an empty table is a place to add a row");
    press(&mut app, "ctrl-n");
    assert_eq!(at(&app), "items[1].description");
}

#[test]
fn question_mark_is_typed_into_a_field_and_f1_still_helps() {
    let mut app = app();
    type_text(&mut app, "r");
    press(&mut app, "tab");
    type_text(&mut app, "Duka la ?");
    assert_eq!(value(&app, "vendor"), "Duka la ?");
    assert!(!app.help_open());
    press(&mut app, "f1");
    assert!(app.help_open());
}

#[test]
fn every_change_saves_a_draft_with_the_cursor_and_a_draft_comes_back_whole() {
    let mut app = app();
    let fx = type_text(&mut app, "r");
    assert!(
        matches!(fx.last(), Some(Effect::SaveDraft { task: 1, .. })),
        "{fx:?}"
    );
    press(&mut app, "tab");
    let fx = type_text(&mut app, "Na");
    let drafts: Vec<&AnswerValue> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::SaveDraft { value, .. } => Some(value),
            _ => None,
        })
        .collect();
    assert_eq!(drafts.len(), 2, "a draft per keystroke");
    let AnswerValue::Form(last) = drafts[1].clone() else {
        panic!()
    };
    assert_eq!(last.fields["vendor"], "Na");
    assert_eq!(last.cursor.as_deref(), Some("vendor"));

    // A new App (a restart) gets the draft from the store: values and cursor are back.
    let mut again = App::new(Keymap::default(), Theme::default(), None);
    again.handle(Event::Projects(vec![receipts()]));
    again.handle(Event::Tasks(vec![doc(1)]));
    again.handle(Event::Draft {
        task: 1,
        value: AnswerValue::Form(last),
    });
    assert_eq!(at(&again), "vendor");
    assert_eq!(value(&again, "vendor"), "Na");
    type_text(&mut again, "ivas");
    assert_eq!(value(&again, "vendor"), "Naivas", "the caret is at the end");
}

#[test]
fn a_draft_for_a_queued_task_waits_for_it() {
    let mut app = app();
    let mut v = FormValues::default();
    v.fields.insert("doc_kind".into(), "card".into());
    v.cursor = Some("person".into());
    app.handle(Event::Draft {
        task: 2,
        value: AnswerValue::Form(v),
    });
    assert_eq!(at(&app), "doc_kind", "task 1 is untouched");
    press(&mut app, "f4");
    assert_eq!(filling(&app).task.id, 2);
    assert_eq!(at(&app), "person");
}

#[test]
fn the_document_scrolls_on_its_own_keys() {
    let mut app = app();
    assert_eq!(app.entry().unwrap().doc_top(), 0);
    press(&mut app, "pagedown");
    assert_eq!(app.entry().unwrap().doc_top(), 3);
    assert_eq!(at(&app), "doc_kind", "the form does not move");
    press(&mut app, "pageup pageup");
    assert_eq!(app.entry().unwrap().doc_top(), 0);
}

#[test]
fn entry_screen_fresh() {
    insta::assert_snapshot!(draw(&app()));
}

#[test]
fn entry_screen_receipt_half_done_with_a_bad_date() {
    let mut app = app();
    type_text(&mut app, "r");
    press(&mut app, "tab");
    type_text(&mut app, "Naivas Supermarket");
    press(&mut app, "tab");
    type_text(&mut app, "14-03-2026");
    press(&mut app, "tab");
    type_text(&mut app, "Unga Jogoo 2kg");
    press(&mut app, "tab");
    type_text(&mut app, "2");
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn entry_screen_after_a_refused_submit() {
    let mut app = app();
    type_text(&mut app, "f");
    press(&mut app, "ctrl-s");
    insta::assert_snapshot!(draw(&app));
}

#[test]
fn hostile_document_text_is_inert() {
    let mut app = App::new(Keymap::default(), Theme::default(), None);
    app.handle(Event::Projects(vec![receipts()]));
    app.handle(Event::Tasks(vec![Task {
        id: 9,
        project: "receipts".into(),
        text: "SHOP\x1b]0;pwned\x07\n\x1b[2Jtotal 10".into(),
        suggestion: None,
        clip: None,
    }]));
    type_text(&mut app, "r");
    press(&mut app, "tab");
    type_text(&mut app, "\x1b[31m");
    let screen = draw(&app);
    assert!(!screen.contains('\x1b'), "{screen}");
    assert!(screen.contains("SHOP␛]0;pwned␇"), "{screen}");
}

#[test]
fn small_and_odd_sizes_never_panic() {
    let mut app = app();
    fill_receipt(&mut app);
    for (w, h) in [(20, 5), (40, 10), (80, 12), (10, 3), (132, 50), (1, 1)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal.draw(|f| render(&app, f)).unwrap();
    }
}

/// A terminal that only counts what would be written to it.
#[derive(Clone, Default)]
struct Counter(std::rc::Rc<std::cell::Cell<usize>>);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.set(self.0.get() + buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_typed_character_costs_few_terminal_bytes() {
    use ratatui::backend::CrosstermBackend;
    use ratatui::layout::Rect;
    use ratatui::{TerminalOptions, Viewport};
    let mut app = app();
    let counter = Counter::default();
    let mut terminal = Terminal::with_options(
        CrosstermBackend::new(counter.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
        },
    )
    .unwrap();
    let mut frame = |app: &mut App| {
        let before = counter.0.get();
        if app.take_redraw() {
            terminal.draw(|f| render(app, f)).unwrap();
        }
        counter.0.get() - before
    };
    frame(&mut app);
    type_text(&mut app, "r");
    press(&mut app, "tab");
    frame(&mut app);
    let mut per_char = Vec::new();
    for c in "Naivas Supermarket Moi Avenue".chars() {
        app.handle(Event::Key(Key::char(c)));
        per_char.push(frame(&mut app));
    }
    press(&mut app, "tab");
    frame(&mut app);
    for c in "14/03/2026".chars() {
        app.handle(Event::Key(Key::char(c)));
        per_char.push(frame(&mut app));
    }
    per_char.sort_unstable();
    let median = per_char[per_char.len() / 2];
    eprintln!("terminal bytes per typed character: median {median}, all {per_char:?}");
    assert!(
        median <= 40,
        "median {median} bytes per character: {per_char:?}"
    );
}

#[test]
fn a_paste_is_typed_into_the_field_with_line_breaks_as_spaces() {
    let mut app = app();
    type_text(&mut app, "r");
    press(&mut app, "tab");
    app.handle(Event::Paste("Duka\nla 1\u{7}".into()));
    assert_eq!(value(&app, "vendor"), "Duka la 1");
    assert!(!app.help_open());
}

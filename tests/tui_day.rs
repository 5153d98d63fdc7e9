//! Everything on screen can be read at 80x24 and at small sizes: a long task scrolls with
//! its position shown, help scrolls to its last rule, each label's whole description is
//! somewhere, 36 labels all keep a distinguishable place, and below a usable size a plain
//! "make the window larger" replaces a broken screen.

mod tui_common;

use kazi::model::Project;
use kazi::tui::{App, Event, Link, Status, Tally, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_common::*;

fn screen(app: &mut App, w: u16, h: u16) -> String {
    app.handle(Event::Resize(w, h));
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| render(app, f)).unwrap();
    let buf = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        for x in 0..w {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn online(app: &mut App) {
    app.handle(Event::Status(Status {
        link: Link::Online,
        counts: Some(Tally::default()),
    }));
}

/// A task text of `n` numbered sentences, the last one marked.
fn long_text(n: usize) -> String {
    let mut text: Vec<String> = (1..n)
        .map(|i| format!("Sentence {i} of a long product description."))
        .collect();
    text.push("THE LAST SENTENCE.".into());
    text.join(" ")
}

#[test]
fn a_long_task_scrolls_to_its_end_and_says_where_it_is() {
    let mut app = app_with(products(), 1..1);
    online(&mut app);
    app.handle(Event::Tasks(vec![task(1, "products", &long_text(60))]));
    let first = screen(&mut app, 80, 24);
    assert!(first.contains("task, lines 1-"), "{first}");
    assert!(first.contains("pagedown: more"), "{first}");
    assert!(!first.contains("THE LAST SENTENCE"), "{first}");
    let mut last = first.clone();
    for _ in 0..40 {
        press(&mut app, "pagedown");
        last = screen(&mut app, 80, 24);
        if last.contains("THE LAST SENTENCE") {
            break;
        }
    }
    assert!(last.contains("THE LAST SENTENCE"), "{last}");
    assert!(last.contains("pageup: back"), "{last}");
    assert!(!last.contains("does nothing"), "{last}");
    // Up goes back to the start; the next task starts at its top.
    for _ in 0..40 {
        press(&mut app, "up");
    }
    assert!(screen(&mut app, 80, 24).contains("Sentence 1 of"));
    press(&mut app, "pagedown");
    app.handle(Event::Tasks(vec![task(2, "products", &long_text(60))]));
    press(&mut app, "1");
    assert_eq!(shown(&app), Some(2));
    assert!(screen(&mut app, 80, 24).contains("Sentence 1 of"));
}

#[test]
fn the_help_scrolls_to_the_last_rule_of_the_instructions() {
    let mut project = products();
    project.instructions = (1..=30)
        .map(|i| format!("- Rule {i}: read the whole name before you answer."))
        .collect::<Vec<_>>()
        .join("\n");
    let mut app = app_with(project.clone(), 1..5);
    online(&mut app);
    press(&mut app, "?");
    let top = screen(&mut app, 80, 24);
    assert!(top.contains("closes this help; lines 1-"), "{top}");
    assert!(!top.contains("Rule 30:"), "{top}");
    let mut all = top;
    for _ in 0..20 {
        press(&mut app, "pagedown");
        all.push_str(&screen(&mut app, 80, 24));
    }
    let bottom = screen(&mut app, 80, 24);
    // The last line of the help is the last label, so everything before it was passed.
    assert!(bottom.contains("0 Other: nothing above fits"), "{bottom}");
    for i in 1..=30 {
        assert!(all.contains(&format!("Rule {i}: read")), "rule {i}: {all}");
    }
    // Every label's whole description is in the help.
    for label in &project.labels {
        assert!(all.contains(&label.description), "{}: {all}", label.id);
    }
    // The keys scrolled the help, not the task below it; up goes back to the top.
    assert_eq!(shown(&app), Some(1));
    assert!(app.help_open());
    for _ in 0..60 {
        press(&mut app, "up");
    }
    assert!(screen(&mut app, 80, 24).contains("lines 1-"));
}

#[test]
fn the_chosen_labels_whole_description_shows_under_the_task() {
    let mut project = products();
    let long = "Phones, tablets, TVs, speakers, earphones, cameras, smart watches, and phone chargers, cables and covers. Not laptops or printers (those go to Computers).";
    project.labels[3].description = long.into();
    let mut app = app_with(project.clone(), 1..1);
    online(&mut app);
    let mut t = task(1, "products", "Tecno Spark 10 Pro");
    t.suggestion = Some(project.labels[3].id.clone());
    app.handle(Event::Tasks(vec![t]));
    let shown = screen(&mut app, 80, 24).replace('│', " ");
    let flat = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("(those go to Computers)."), "{shown}");
}

/// A project of `n` labels named "Label number N", keys 0-9 then a-z.
fn many_labels(n: usize) -> Project {
    let keys: Vec<char> = ('0'..='9').chain('a'..='z').collect();
    let mut toml = String::from("name = \"many\"\ntitle = \"Many\"\nkind = \"classify\"\n");
    for (i, key) in keys.iter().take(n).enumerate() {
        toml.push_str(&format!(
            "[[labels]]\nid = \"l{i}\"\nname = \"Label number {i}\"\nkey = \"{key}\"\n\
             description = \"what label {i} is for\"\n"
        ));
    }
    Project::from_toml("many.toml", &toml).unwrap()
}

#[test]
fn thirty_six_labels_each_keep_a_place_that_tells_them_apart() {
    let project = many_labels(36);
    for (w, h) in [(80, 24), (40, 20)] {
        let mut app = app_with(project.clone(), 1..3);
        online(&mut app);
        let shown = screen(&mut app, w, h);
        // Each label's key followed by its name as drawn: all 36 there, all different.
        let mut names = std::collections::BTreeSet::new();
        for label in &project.labels {
            let start = format!(" {} Lab", label.key);
            let at = shown
                .find(&start)
                .unwrap_or_else(|| panic!("{w}x{h}: label {} missing:\n{shown}", label.key));
            let rest = &shown[at + 3..];
            let name = rest.split("  ").next().unwrap().trim().to_string();
            names.insert(name);
        }
        assert_eq!(names.len(), 36, "{w}x{h}: {names:?}\n{shown}");
        if w == 80 {
            // Room enough: whole names.
            assert!(names.contains("Label number 35"), "{names:?}");
        }
        assert!(!shown.contains("Make the window larger"), "{shown}");
    }
}

#[test]
fn below_a_usable_size_the_screen_asks_for_a_larger_window() {
    let mut app = app_with(products(), 1..3);
    online(&mut app);
    let shown = screen(&mut app, 24, 6);
    assert!(shown.contains("Make the window"), "{shown}");
    // 36 labels cannot fit at 40x10: said, rather than labels left out.
    let mut app = app_with(many_labels(36), 1..3);
    online(&mut app);
    let shown = screen(&mut app, 40, 10);
    let flat = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Make the window larger: this project's 36 labels"),
        "{shown}"
    );
}

#[test]
fn refresh_asks_the_server_from_any_screen() {
    let mut app = app_with(products(), 1..3);
    let fx = press(&mut app, "f5");
    assert_eq!(fx, vec![kazi::tui::Effect::Refresh]);
    assert_eq!(app.message(), Some("asking the server for new work..."));
    assert_eq!(shown(&app), Some(1), "the task stays");
}

#[test]
fn a_message_too_long_for_its_line_takes_a_second_one_and_is_never_cut() {
    let mut app = app_with(products(), 1..3);
    online(&mut app);
    let long = "this device was signed out \u{2014} ask your admin for a new code; \
                your 3 unsent answers stay saved on this computer";
    app.handle(Event::Message(long.into()));
    let shown = screen(&mut app, 80, 24);
    let rows: Vec<&str> = shown.lines().collect();
    let flat = format!("{} {}", rows[21].trim(), rows[22].trim());
    assert_eq!(flat, long, "{shown}");
    assert!(
        rows[23].contains("online"),
        "the status line stays: {shown}"
    );
}

/// The picker says how many tasks of each project wait for the worker, and `projects`
/// (f3) goes back to it from a project, which opens again by its number.
#[test]
fn the_picker_shows_waiting_tasks_and_a_project_goes_back_to_it() {
    let mut app = kazi::tui::App::new(
        kazi::tui::Keymap::default(),
        kazi::tui::Theme::default(),
        None,
    );
    online(&mut app);
    let mut reviews = products();
    reviews.name = "reviews".into();
    reviews.title = "Shop reviews".into();
    app.handle(Event::Projects(vec![products(), reviews]));
    let waiting = [("products".to_string(), 42)].into_iter().collect();
    app.handle(Event::Waiting(waiting));
    let picker = screen(&mut app, 80, 24);
    assert!(
        picker.contains("(products, 10 labels) · 42 waiting"),
        "{picker}"
    );
    assert!(
        picker.contains("(reviews, 10 labels) · 0 waiting"),
        "{picker}"
    );

    press(&mut app, "1");
    app.handle(Event::Tasks(tasks("products", 1..3)));
    assert_eq!(shown(&app), Some(1));
    let help = {
        press(&mut app, "?");
        let s = screen(&mut app, 80, 24);
        press(&mut app, "?");
        s
    };
    assert!(
        help.contains("projects: go back to the list of projects"),
        "{help}"
    );
    let fx = press(&mut app, "f3");
    assert_eq!(fx, vec![kazi::tui::Effect::ShowProjects]);
    assert_eq!(app.screen(), kazi::tui::ScreenId::Picker);
    let back = screen(&mut app, 80, 24);
    assert!(back.contains("42 waiting"), "{back}");
    let fx = press(&mut app, "2");
    assert_eq!(fx[0], kazi::tui::Effect::ChooseProject("reviews".into()));
}

//! The review screen's terminal bytes per key at 80x24, as over `ssh -t host kazi
//! review`: open an item, move the mark, pick (the next queue arrives), over and over.
//! The App is fed the events the HTTP executor returns (a case, a verdict, the queue),
//! so the figure is the screen's drawing alone, link aside.

use anyhow::Result;

use kazi::model::AnswerValue;
use kazi::protocol::{CaseAnswer, QueueEntry, ReviewCase};
use kazi::tui::screen::review::ReviewEvent;
use kazi::tui::{App, Event, Key, Keymap, Theme};

use crate::common::{CountingScreen, Report, median, products};

const ITEMS: i64 = 200;

fn queue(from: i64) -> Vec<QueueEntry> {
    (from..ITEMS)
        .take(20)
        .map(|i| QueueEntry {
            item: i,
            reason: "dispute".into(),
            project: "products".into(),
            task: format!("prod-{i:04}"),
            age: 60 * i,
            busy: false,
            fields: Vec::new(),
        })
        .collect()
}

fn case(item: i64, project: &kazi::model::Project) -> ReviewCase {
    let answers = (0..3)
        .map(|w| CaseAnswer {
            worker: format!("w-{:06x}", 0xabc000 + w),
            value: AnswerValue::Labels(vec![
                project.labels[(item as usize + w) % project.labels.len()]
                    .id
                    .clone(),
            ]),
            at: 1_800_000_000,
            took: Some(7 + w as i64),
            scored_correct: 30 + w as u64,
            scored_total: 50,
        })
        .collect();
    ReviewCase {
        item,
        reason: "dispute".into(),
        project: project.clone(),
        task: format!("prod-{item:04}"),
        text: format!("Item {item}: Tecno Spark 10 Pro 128GB dual SIM, 8GB RAM, blue"),
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

pub fn run(report: &mut Report, _titles: &[String]) -> Result<()> {
    let project = products()?;
    let mut screen = CountingScreen::new()?;
    let mut app = App::review(Keymap::default(), Theme::default(), None);
    app.handle(Event::Resize(80, 24));
    app.handle(Event::Review(ReviewEvent::Queue(queue(0))));
    screen.draw_app(&mut app)?;
    let mut per_key = Vec::new();
    for item in 0..ITEMS {
        for key in ["enter", "down", "down", "up", "1"] {
            let before = screen.bytes();
            app.handle(Event::Key(Key::parse(key).expect("a key")));
            // What the executor answers to that key's effect.
            match key {
                "enter" => {
                    app.handle(Event::Review(ReviewEvent::Case(Some(Box::new(case(
                        item, &project,
                    ))))));
                }
                "1" => {
                    app.handle(Event::Review(ReviewEvent::Decided { item, told: 2 }));
                    app.handle(Event::Review(ReviewEvent::Queue(queue(item + 1))));
                }
                _ => {}
            }
            screen.draw_app(&mut app)?;
            per_key.push((screen.bytes() - before) as f64);
        }
    }
    report.add("review_terminal_bytes_per_key", median(&per_key), "bytes");
    Ok(())
}

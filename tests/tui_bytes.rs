//! Terminal bytes per keystroke, counted on the real crossterm backend writing into
//! memory: the screen must change by little more than the new task (issue 3: <= 300).

mod tui_common;

use kazi::tui::{App, Event, Link, Status, Tally, render};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use tui_common::*;

use std::cell::Cell;
use std::rc::Rc;

/// A terminal that only counts what would be written to it.
#[derive(Clone, Default)]
struct Counter(Rc<Cell<usize>>);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.set(self.0.get() + buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

type MemTerminal = (Terminal<CrosstermBackend<Counter>>, Counter);

fn terminal() -> MemTerminal {
    let counter = Counter::default();
    let terminal = Terminal::with_options(
        CrosstermBackend::new(counter.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
        },
    )
    .unwrap();
    (terminal, counter)
}

/// Redraw if the App asks for it; the bytes that took.
fn frame_bytes(app: &mut App, (terminal, counter): &mut MemTerminal) -> usize {
    let before = counter.0.get();
    if app.take_redraw() {
        terminal.draw(|f| render(app, f)).unwrap();
    }
    counter.0.get() - before
}

#[test]
fn an_answer_costs_few_terminal_bytes() {
    let mut app = app_with(products(), 1..200);
    let mut tally = Tally {
        unsent: 0,
        done_today: 0,
        cached: 199,
    };
    let status = |tally| Status {
        link: Link::Online,
        counts: Some(tally),
    };
    app.handle(Event::Status(status(tally)));
    let mut term = terminal();
    let first = frame_bytes(&mut app, &mut term);
    assert!(first > 1000, "the first frame draws everything: {first}");
    let mut per_key = Vec::new();
    for i in 0..100 {
        let label = ["1", "2", "3", "4", "5"][i % 5];
        app.handle(key(label));
        // What the runtime reports after storing the answer.
        tally.done_today += 1;
        tally.unsent += 1;
        tally.cached -= 1;
        app.handle(Event::Status(status(tally)));
        per_key.push(frame_bytes(&mut app, &mut term));
    }
    per_key.sort_unstable();
    let median = per_key[per_key.len() / 2];
    eprintln!(
        "terminal bytes per key: median {median}, max {}",
        per_key[99]
    );
    assert!(median <= 300, "median {median} bytes per key");
}

#[test]
fn nothing_is_written_without_a_change() {
    let mut app = app_with(products(), 1..50);
    let mut term = terminal();
    frame_bytes(&mut app, &mut term);
    // A key that does nothing new twice: the message shows once, then nothing.
    app.handle(key("x"));
    assert!(frame_bytes(&mut app, &mut term) > 0);
    app.handle(key("x"));
    assert_eq!(frame_bytes(&mut app, &mut term), 0);
    // The same status again: nothing.
    app.handle(Event::Status(app.status()));
    assert_eq!(frame_bytes(&mut app, &mut term), 0);
}

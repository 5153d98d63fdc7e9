//! The one runtime: feeds events to the App, carries out its effects through an
//! `Executor` and draws on any ratatui `Backend`, taking input from any `InputSource`.
//! The local adapter (`tui::local`) plugs in crossterm and the client store; an SSH
//! session plugs in its own byte-stream input and an executor over the server's store.
//!
//! Order: events are handled first-in, first-out. The effects of one event are carried
//! out in the order the App gave them, and the follow-up events they produce are queued
//! behind every event already waiting, in the order produced. Quit ends the handling at
//! once: effects and events after it are dropped (what is confirmed is already stored).

use std::collections::VecDeque;

use ratatui::Terminal;
use ratatui::backend::Backend;

use super::app::{App, Effect, Event};
use super::key::Key;
use super::view::render;

/// What an input source yields.
#[derive(Debug, Clone, PartialEq)]
pub enum Input<N> {
    Key(Key),
    /// Text pasted as a whole (bracketed paste): typed into a text field, never keys.
    Paste(String),
    Resize(u16, u16),
    /// A report for the executor from its background part (the sync engine's status).
    Notice(N),
    /// Asked to stop (SIGTERM): end as on quit, sending what is unsent.
    Stop,
    /// The input is gone (hang-up, closed channel): end, keeping what is unsent.
    Closed,
}

/// Where keys, resizes and notices come from.
pub trait InputSource {
    type Notice;
    /// Wait for the next input.
    fn next(&mut self) -> Input<Self::Notice>;
    /// An input already waiting, if any, without waiting.
    fn try_next(&mut self) -> Option<Input<Self::Notice>>;
}

/// Carries out the App's effects against some store.
pub trait Executor {
    type Notice;
    /// Events to begin with: the projects, the status line's figures.
    fn start(&mut self) -> Vec<Event>;
    /// Carry out one effect (never `Quit`: the runtime keeps that); the events it
    /// produced, in order.
    fn execute(&mut self, effect: Effect) -> Vec<Event>;
    /// Take in a notice from the input source; the events it produces, in order.
    fn notice(&mut self, notice: Self::Notice) -> Vec<Event>;
}

/// Why the runtime ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The worker quit.
    Quit,
    /// Asked to stop from outside (SIGTERM).
    Stopped,
    /// The input went away (hang-up).
    InputClosed,
}

/// A terminal that cannot be drawn on.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError<E: std::error::Error + 'static> {
    #[error("cannot draw the screen")]
    Draw(#[source] E),
}

/// The App and its executor, without a terminal: tests, benchmarks and the runtime
/// below drive it with events.
pub struct Session<X> {
    app: App,
    executor: X,
}

impl<X: Executor> Session<X> {
    /// The App, fed the executor's first events.
    pub fn new(app: App, mut executor: X) -> Session<X> {
        let events = executor.start();
        let mut session = Session { app, executor };
        session.feed_all(events);
        session
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    pub fn app_mut(&mut self) -> &mut App {
        &mut self.app
    }

    pub fn executor(&self) -> &X {
        &self.executor
    }

    pub fn executor_mut(&mut self) -> &mut X {
        &mut self.executor
    }

    /// Give the App an event and carry out its effects (first-in, first-out, see the
    /// module doc); true when the worker quit.
    pub fn feed(&mut self, event: Event) -> bool {
        self.feed_all(vec![event])
    }

    /// Carry out `effect` as if the App had asked for it, feeding what it produced to the
    /// App: for a test, or a caller that acts before any screen does.
    pub fn carry_out(&mut self, effect: Effect) -> bool {
        let events = self.executor.execute(effect);
        self.feed_all(events)
    }

    /// Take in a notice of the executor's background part; true when the worker quit.
    pub fn notice(&mut self, notice: X::Notice) -> bool {
        let events = self.executor.notice(notice);
        self.feed_all(events)
    }

    fn feed_all(&mut self, events: Vec<Event>) -> bool {
        let mut pending: VecDeque<Event> = events.into();
        while let Some(event) = pending.pop_front() {
            for effect in self.app.handle(event) {
                if effect == Effect::Quit {
                    return true;
                }
                pending.extend(self.executor.execute(effect));
            }
        }
        false
    }
}

/// A session on a terminal, fed by an input source, until it ends.
pub struct Runtime<'t, B: Backend, I: InputSource, X: Executor<Notice = I::Notice>> {
    pub terminal: &'t mut Terminal<B>,
    pub input: I,
    pub session: Session<X>,
}

impl<B, I, X> Runtime<'_, B, I, X>
where
    B: Backend,
    B::Error: 'static,
    I: InputSource,
    X: Executor<Notice = I::Notice>,
{
    /// Draw when the App says something changed, take every input already waiting,
    /// draw once, and so on until the worker quits or the input ends.
    pub fn run(&mut self) -> Result<Exit, RuntimeError<B::Error>> {
        loop {
            if self.session.app.take_redraw() {
                let app = &self.session.app;
                self.terminal
                    .draw(|f| render(app, f))
                    .map_err(RuntimeError::Draw)?;
            }
            let input = self.input.next();
            if let Some(exit) = self.take(input) {
                return Ok(exit);
            }
            while let Some(input) = self.input.try_next() {
                if let Some(exit) = self.take(input) {
                    return Ok(exit);
                }
            }
        }
    }

    fn take(&mut self, input: Input<I::Notice>) -> Option<Exit> {
        let quit = match input {
            Input::Key(key) => self.session.feed(Event::Key(key)),
            Input::Paste(text) => self.session.feed(Event::Paste(text)),
            Input::Resize(w, h) => self.session.feed(Event::Resize(w, h)),
            Input::Notice(notice) => self.session.notice(notice),
            Input::Stop => return Some(Exit::Stopped),
            Input::Closed => return Some(Exit::InputClosed),
        };
        quit.then_some(Exit::Quit)
    }
}

//! `kazi review` on this computer's terminal: the App's review effects carried out over
//! HTTP with the profile's device token (`POST /v1/review`). The server decides every
//! rule; a refusal or a dropped link comes back as a line on the message line.

use std::sync::mpsc;

use anyhow::{Context, Result};

use super::{read_keys, watch_signals};
use crate::client::{Profile, Remote, RemoteError};
use crate::protocol::{ReviewRequest, ReviewResponse};
use crate::tui::app::{App, Effect, Event};
use crate::tui::keymap::Keymap;
use crate::tui::runtime::{Executor, Input, InputSource, Runtime, Session};
use crate::tui::screen::review::{ReviewEffect, ReviewEvent};
use crate::tui::terminal;
use crate::tui::theme::Theme;

pub struct ReviewExecutor {
    remote: Remote,
    runtime: tokio::runtime::Runtime,
    project: Option<String>,
}

/// The review session without a terminal: tests and benchmarks drive it with keys.
pub type ReviewSession = Session<ReviewExecutor>;

impl ReviewExecutor {
    pub fn new(server: &str, token: &str, project: Option<String>) -> Result<ReviewExecutor> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the network runtime")?;
        Ok(ReviewExecutor {
            remote: Remote::new(server, token)?,
            runtime,
            project,
        })
    }

    fn ask(&self, request: ReviewRequest) -> Result<ReviewResponse, RemoteError> {
        self.runtime.block_on(self.remote.review(&request))
    }

    fn queue(&self) -> Vec<Event> {
        let request = ReviewRequest::Queue {
            project: self.project.clone(),
            reason: None,
        };
        vec![Event::Review(match self.ask(request) {
            Ok(ReviewResponse::Queue { items }) => ReviewEvent::Queue(items),
            Ok(_) => ReviewEvent::Failed("the server answered something else".into()),
            Err(e) => ReviewEvent::Failed(e.to_string()),
        })]
    }
}

impl Executor for ReviewExecutor {
    type Notice = ();

    fn start(&mut self) -> Vec<Event> {
        self.queue()
    }

    fn execute(&mut self, effect: Effect) -> Vec<Event> {
        let review = match effect {
            Effect::Review(review) => review,
            Effect::Refresh => return self.queue(),
            _ => return Vec::new(),
        };
        let request = match review {
            ReviewEffect::Queue { .. } => return self.queue(),
            ReviewEffect::Take { item } => ReviewRequest::Take {
                item: Some(item),
                project: None,
                reason: None,
            },
            ReviewEffect::Decide { item, value, note } => ReviewRequest::Decide {
                item,
                verdict: "pick".into(),
                value: Some(value),
                note,
            },
            ReviewEffect::Release { item } => ReviewRequest::Release { item },
        };
        let event = match self.ask(request) {
            Ok(ReviewResponse::Take { case }) => ReviewEvent::Case(case),
            Ok(ReviewResponse::Decide {
                item,
                feedback_given,
            }) => ReviewEvent::Decided {
                item,
                told: feedback_given,
            },
            Ok(ReviewResponse::Release { .. }) => return Vec::new(),
            Ok(ReviewResponse::Queue { items }) => ReviewEvent::Queue(items),
            Err(e) => ReviewEvent::Failed(e.to_string()),
        };
        vec![Event::Review(event)]
    }

    fn notice(&mut self, _notice: ()) -> Vec<Event> {
        Vec::new()
    }
}

/// The review session for a profile, as `kazi review` opens it.
pub fn session(
    profile: &Profile,
    keymap: Keymap,
    theme: Theme,
    project: Option<String>,
) -> Result<ReviewSession> {
    let executor = ReviewExecutor::new(&profile.server, &profile.token, project.clone())?;
    Ok(Session::new(App::review(keymap, theme, project), executor))
}

struct Keys(mpsc::Receiver<Input<()>>);

impl InputSource for Keys {
    type Notice = ();

    fn next(&mut self) -> Input<()> {
        self.0.recv().unwrap_or(Input::Closed)
    }

    fn try_next(&mut self) -> Option<Input<()>> {
        self.0.try_recv().ok()
    }
}

/// Run the review screen until the reviewer quits.
pub fn review(profile: &Profile, project: Option<String>, keymap: Keymap) -> Result<()> {
    let (tx, rx) = mpsc::channel::<Input<()>>();
    watch_signals(tx.clone()).context("cannot watch for SIGTERM and SIGHUP")?;
    let mut session = session(profile, keymap, Theme::from_env(), project)?;
    let mut guard = terminal::enter().context("cannot set up the terminal")?;
    std::thread::Builder::new()
        .name("kazi-keys".into())
        .spawn(move || read_keys(&tx))?;
    let size = guard.terminal().size()?;
    session.feed(Event::Resize(size.width, size.height));
    let mut runtime = Runtime {
        terminal: guard.terminal(),
        input: Keys(rx),
        session,
    };
    let result = runtime.run();
    drop(runtime);
    drop(guard);
    result.map(|_| ()).context("the terminal failed")
}

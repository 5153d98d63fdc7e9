//! `kazi review` on this computer's terminal: the review executor (`tui::review_link`)
//! over HTTP with the profile's device token (`POST /v1/review`). The server decides
//! every rule; a refusal or a dropped link comes back as a line on the message line.

use std::convert::Infallible;
use std::sync::mpsc;

use anyhow::{Context, Result};

use super::{read_keys, watch_signals};
use crate::client::{Profile, Remote, RemoteError};
use crate::protocol::{ReviewRequest, ReviewResponse};
use crate::tui::app::{App, Event};
use crate::tui::keymap::Keymap;
use crate::tui::review_link::{LinkFailure, ReviewExecutor, ReviewLink};
use crate::tui::runtime::{Input, InputSource, Runtime, Session};
use crate::tui::terminal;
use crate::tui::theme::Theme;

/// The server over HTTP with the profile's device token.
pub struct HttpLink {
    remote: Remote,
    runtime: tokio::runtime::Runtime,
}

impl HttpLink {
    pub fn new(server: &str, token: &str) -> Result<HttpLink> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the network runtime")?;
        Ok(HttpLink {
            remote: Remote::new(server, token)?,
            runtime,
        })
    }
}

impl ReviewLink for HttpLink {
    fn ask(&mut self, request: ReviewRequest) -> Result<ReviewResponse, LinkFailure> {
        self.runtime
            .block_on(self.remote.review(&request))
            .map_err(|e| LinkFailure {
                offline: matches!(e, RemoteError::Offline(_)),
                message: e.to_string(),
            })
    }
}

/// The review session without a terminal: tests and benchmarks drive it with keys.
pub type ReviewSession = Session<ReviewExecutor<HttpLink>>;

/// The review session for a profile, as `kazi review` opens it.
pub fn session(
    profile: &Profile,
    keymap: Keymap,
    theme: Theme,
    project: Option<String>,
) -> Result<ReviewSession> {
    let link = HttpLink::new(&profile.server, &profile.token)?;
    let executor = ReviewExecutor::new(link, project.clone());
    Ok(Session::new(App::review(keymap, theme, project), executor))
}

struct Keys(mpsc::Receiver<Input<Infallible>>);

impl InputSource for Keys {
    type Notice = Infallible;

    fn next(&mut self) -> Input<Infallible> {
        self.0.recv().unwrap_or(Input::Closed)
    }

    fn try_next(&mut self) -> Option<Input<Infallible>> {
        self.0.try_recv().ok()
    }
}

/// Run the review screen until the reviewer quits.
pub fn review(profile: &Profile, project: Option<String>, keymap: Keymap) -> Result<()> {
    let (tx, rx) = mpsc::channel::<Input<Infallible>>();
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

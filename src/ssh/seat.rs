//! What an SSH session shows: the App for the user's role, in-process, through the one
//! runtime (`tui::runtime`) with an executor over the server's store. A role's screen
//! plugs in with one arm of `run_role`. A panic ends only the session it happened in.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use ratatui::Terminal;

use super::input::{EndReason, SshInput};
use super::review::StoreLink;
use super::terminal::{LEAVE, Outbox, SshBackend};
use super::train::{TickingInput, TrainExecutor};
use super::work::WorkExecutor;
use crate::model::Role;
use crate::server::store::Principal;
use crate::server::{Clock, Store};
use crate::tui::app::{App, Event};
use crate::tui::review_link::ReviewExecutor;
use crate::tui::runtime::{Executor, Exit, InputSource, Runtime, Session};
use crate::tui::{Keymap, Theme};

/// Everything a session's screens run against.
pub struct SeatContext {
    pub store: Arc<dyn Store>,
    pub who: Principal,
    /// The fingerprint of the key the session signed in with.
    pub fingerprint: String,
    pub clock: Clock,
    pub keymap: Keymap,
    pub theme: Theme,
}

/// The App for the role, until the user quits or the input ends.
fn run_role(
    cx: SeatContext,
    terminal: &mut Terminal<SshBackend>,
    input: SshInput,
) -> std::io::Result<Exit> {
    match cx.who.role {
        Role::Worker => {
            let app = App::new(cx.keymap, cx.theme, None);
            run_app(
                terminal,
                input,
                app,
                WorkExecutor::new(cx.store, cx.who, cx.fingerprint, cx.clock),
            )
        }
        // An admin may review too (every project); admin commands stay on the server.
        Role::Reviewer | Role::Admin => {
            let app = App::review(cx.keymap, cx.theme, None);
            let link = StoreLink::new(cx.store, cx.who, cx.fingerprint, cx.clock);
            run_app(terminal, input, app, ReviewExecutor::new(link, None))
        }
        Role::Trainer => {
            let app = App::train(cx.keymap, cx.theme, None);
            let executor = TrainExecutor::new(cx.store, cx.who, cx.fingerprint, cx.clock);
            run_app(terminal, TickingInput::new(input), app, executor)
        }
    }
}

/// An App over an executor, on this terminal, through the runtime.
fn run_app<I: InputSource, X: Executor<Notice = I::Notice>>(
    terminal: &mut Terminal<SshBackend>,
    input: I,
    app: App,
    executor: X,
) -> std::io::Result<Exit> {
    let size = terminal.size()?;
    let mut session = Session::new(app, executor);
    session.feed(Event::Resize(size.width, size.height));
    let mut runtime = Runtime {
        terminal,
        input,
        session,
    };
    runtime.run().map_err(std::io::Error::other)
}

/// The session thread's body: run the role's screens, then leave the client's terminal
/// as it was, with a line saying why the session ended when the user did not quit, and
/// close the channel. A panic in the screens is caught here and ends this session alone.
pub fn run(
    cx: SeatContext,
    backend: SshBackend,
    input: SshInput,
    ended: EndReason,
    outbox: &Outbox,
) {
    let user = crate::model::sanitize_line(&cx.who.user).into_owned();
    guarded(backend, &user, &ended, outbox, move |terminal| {
        run_role(cx, terminal, input)
    });
}

/// Run `screens` on the terminal, catching a panic; then leave the screen, say why the
/// session ended, and let the channel close.
fn guarded(
    backend: SshBackend,
    user: &str,
    ended: &EndReason,
    outbox: &Outbox,
    screens: impl FnOnce(&mut Terminal<SshBackend>) -> std::io::Result<Exit>,
) {
    let outcome = catch_unwind(AssertUnwindSafe(move || {
        let mut terminal = Terminal::new(backend)?;
        screens(&mut terminal)
    }));
    let line = match outcome {
        Ok(Ok(Exit::Quit)) => None,
        Ok(Ok(_)) => ended.lock().ok().and_then(|e| e.clone()),
        Ok(Err(e)) => Some(format!("Kazi could not draw on your terminal: {e}")),
        Err(_) => Some(format!(
            "Kazi stopped on an internal error in this session, {user}; answers you confirmed are saved. Connect again to continue."
        )),
    };
    let mut bye = LEAVE.to_vec();
    if let Some(line) = line {
        bye.extend_from_slice(line.as_bytes());
        bye.extend_from_slice(b"\r\n");
    }
    outbox.push(&bye);
    outbox.finish();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh::terminal::{Drained, PtySize};
    use ratatui::widgets::Paragraph;

    fn said(outbox: &Outbox) -> (String, bool) {
        let mut text = Vec::new();
        let finished = loop {
            match outbox.drain() {
                Drained::Bytes(b) => text.extend(b),
                Drained::Empty => break false,
                Drained::Finished => break true,
            }
        };
        (String::from_utf8_lossy(&text).into_owned(), finished)
    }

    #[test]
    fn a_panic_ends_only_its_own_session_with_the_screen_left() {
        let sessions: Vec<_> = [true, false]
            .into_iter()
            .map(|panics| {
                std::thread::spawn(move || {
                    let outbox = Arc::new(Outbox::default());
                    let size = Arc::new(PtySize::new(40, 10));
                    let backend = SshBackend::new(outbox.clone(), size);
                    guarded(backend, "ana", &EndReason::default(), &outbox, |terminal| {
                        terminal.draw(|f| f.render_widget(Paragraph::new("task"), f.area()))?;
                        assert!(!panics, "a bug in a screen");
                        Ok(Exit::Quit)
                    });
                    said(&outbox)
                })
            })
            .collect();
        let results: Vec<(String, bool)> = sessions
            .into_iter()
            .map(|s| s.join().expect("the thread lives"))
            .collect();
        let (crashed, finished) = &results[0];
        assert!(*finished);
        assert!(
            crashed.contains("internal error in this session, ana"),
            "{crashed:?}"
        );
        assert!(
            crashed.contains("\x1b[?1049l"),
            "the screen is left: {crashed:?}"
        );
        let (fine, finished) = &results[1];
        assert!(*finished);
        assert!(
            fine.contains("task") && !fine.contains("internal error"),
            "{fine:?}"
        );
    }
}

//! A session's input: the bytes, window changes and endings the SSH connection hands
//! over, decoded into our keys by a stateful `KeyDecoder` (sequences and UTF-8 split
//! across packets). A lone ESC waits `esc_wait` for a following byte (alt- or a
//! sequence); no key for `idle` ends the session.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::tui::key::{KeyDecoder, Typed};
use crate::tui::runtime::{Input, InputSource};

/// What the connection hands the session thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Raw {
    Bytes(Vec<u8>),
    Resize(u16, u16),
    /// The client caught up after output was dropped: draw the whole screen again.
    Redraw,
    /// The connection or channel ended.
    Closed,
    /// The session must end, and why (the key was removed, the user revoked, the server
    /// stopping): shown on the client's terminal after the screen is left.
    End(String),
}

/// Why a session ended when it was not the user's own quit.
pub type EndReason = Arc<Mutex<Option<String>>>;

pub struct SshInput {
    rx: Receiver<Raw>,
    decoder: KeyDecoder,
    ready: VecDeque<Input<Infallible>>,
    size: (u16, u16),
    esc_wait: Duration,
    idle: Duration,
    last_key: Instant,
    ended: EndReason,
    /// Bytes the connection handed over and not yet decoded (its flow control).
    pending: Option<Arc<AtomicUsize>>,
}

impl SshInput {
    pub fn new(
        rx: Receiver<Raw>,
        size: (u16, u16),
        esc_wait: Duration,
        idle: Duration,
        ended: EndReason,
    ) -> SshInput {
        SshInput {
            rx,
            decoder: KeyDecoder::new(),
            ready: VecDeque::new(),
            size,
            esc_wait,
            idle,
            last_key: Instant::now(),
            ended,
            pending: None,
        }
    }

    /// Count decoded bytes off `pending`, which the connection counts up.
    pub fn with_pending(mut self, pending: Arc<AtomicUsize>) -> SshInput {
        self.pending = Some(pending);
        self
    }

    fn end(&mut self, why: String) -> Input<Infallible> {
        if let Ok(mut ended) = self.ended.lock() {
            ended.get_or_insert(why);
        }
        Input::Closed
    }

    fn typed(&mut self, typed: Vec<Typed>) {
        for t in typed {
            self.ready.push_back(match t {
                Typed::Key(key) => Input::Key(key),
                Typed::Paste(text) => Input::Paste(text),
            });
        }
    }

    /// Take one message; `Some` when it ends the session.
    fn take(&mut self, raw: Raw) -> Option<Input<Infallible>> {
        match raw {
            Raw::Bytes(bytes) => {
                self.last_key = Instant::now();
                if let Some(pending) = &self.pending {
                    pending.fetch_sub(bytes.len(), Ordering::Relaxed);
                }
                let typed = self.decoder.feed_input(&bytes);
                self.typed(typed);
            }
            Raw::Resize(w, h) => {
                self.size = (w, h);
                self.ready.push_back(Input::Resize(w, h));
            }
            // The App redraws on a resize to the same size; the backend, told that
            // output was lost, sends every cell.
            Raw::Redraw => self
                .ready
                .push_back(Input::Resize(self.size.0, self.size.1)),
            Raw::Closed => return Some(Input::Closed),
            Raw::End(why) => return Some(self.end(why)),
        }
        None
    }
}

impl SshInput {
    /// The next input, or None when `within` passed without one (the trainer's screens
    /// ask for the class view then). The idle timeout still counts from the last key.
    pub fn next_within(&mut self, within: Duration) -> Option<Input<Infallible>> {
        self.next_by(Some(Instant::now() + within))
    }

    fn next_by(&mut self, until: Option<Instant>) -> Option<Input<Infallible>> {
        loop {
            if let Some(input) = self.ready.pop_front() {
                return Some(input);
            }
            let idle_left = self.idle.saturating_sub(self.last_key.elapsed());
            let pending = self.decoder.has_pending();
            let mut wait = if pending {
                self.esc_wait.min(idle_left)
            } else {
                idle_left
            };
            let tick_left = until.map(|u| u.saturating_duration_since(Instant::now()));
            let ticks = tick_left.is_some_and(|t| t < wait);
            if let Some(t) = tick_left.filter(|_| ticks) {
                wait = t;
            }
            match self.rx.recv_timeout(wait) {
                Ok(raw) => {
                    if let Some(end) = self.take(raw) {
                        return Some(end);
                    }
                }
                Err(RecvTimeoutError::Timeout) if ticks => return None,
                Err(RecvTimeoutError::Timeout) if pending => {
                    let typed = self.decoder.flush_timeout_input();
                    self.typed(typed);
                }
                Err(RecvTimeoutError::Timeout) => {
                    let minutes = self.idle.as_secs().div_ceil(60);
                    return Some(self.end(format!(
                        "Kazi closed this session after {minutes} minute(s) without a key; connect again to go on."
                    )));
                }
                Err(RecvTimeoutError::Disconnected) => return Some(Input::Closed),
            }
        }
    }
}

impl InputSource for SshInput {
    type Notice = Infallible;

    fn next(&mut self) -> Input<Infallible> {
        loop {
            if let Some(input) = self.next_by(None) {
                return input;
            }
        }
    }

    fn try_next(&mut self) -> Option<Input<Infallible>> {
        while self.ready.is_empty() {
            let raw = self.rx.try_recv().ok()?;
            if let Some(end) = self.take(raw) {
                return Some(end);
            }
        }
        self.ready.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::key::Key;

    #[test]
    fn next_within_gives_up_after_the_tick_and_keeps_the_keys() {
        let (tx, rx) = std::sync::mpsc::channel();
        let ended = EndReason::default();
        let mut input = SshInput::new(
            rx,
            (80, 24),
            Duration::from_millis(20),
            Duration::from_secs(600),
            ended.clone(),
        );
        assert_eq!(input.next_within(Duration::from_millis(10)), None);
        tx.send(Raw::Bytes(b"a".to_vec())).unwrap();
        assert_eq!(
            input.next_within(Duration::from_millis(10)),
            Some(Input::Key(Key::parse("a").unwrap()))
        );
        // A tick is no key: the session is not called idle, nor ended.
        assert_eq!(input.next_within(Duration::from_millis(10)), None);
        assert!(ended.lock().unwrap().is_none());
    }
}

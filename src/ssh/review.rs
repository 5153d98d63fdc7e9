//! The reviewer's link over the server's store: the same App, screen and executor as
//! `kazi review` (`tui::review_link`), each request carried out in-process by the rules
//! the HTTP API uses (`scheduler::review::answer`). The session's key is looked up again
//! before every request, so a key removed or a user revoked a moment ago decides nothing.

use std::sync::Arc;

use crate::protocol::{ReviewRequest, ReviewResponse};
use crate::server::{Clock, Store, scheduler, store::Principal};
use crate::tui::review_link::{LinkFailure, ReviewLink};

pub struct StoreLink {
    store: Arc<dyn Store>,
    who: Principal,
    fingerprint: String,
    clock: Clock,
}

impl StoreLink {
    pub fn new(
        store: Arc<dyn Store>,
        who: Principal,
        fingerprint: String,
        clock: Clock,
    ) -> StoreLink {
        StoreLink {
            store,
            who,
            fingerprint,
            clock,
        }
    }
}

impl ReviewLink for StoreLink {
    /// Nothing reports of its own: there is no sound over SSH (`ReviewLink::play`).
    type Notice = std::convert::Infallible;

    fn notice(&mut self, notice: Self::Notice) -> Vec<crate::tui::app::Event> {
        match notice {}
    }

    fn ask(&mut self, request: ReviewRequest) -> Result<ReviewResponse, LinkFailure> {
        let failed = |message: String| LinkFailure {
            offline: false,
            message,
        };
        match self.store.ssh_principal(&self.fingerprint) {
            Ok(Some(now)) if now == self.who => {}
            Ok(_) => {
                return Err(failed(
                    "this key was signed out by the centre's admin; the session ends".into(),
                ));
            }
            Err(e) => return Err(failed(format!("the review queue cannot be read: {e}"))),
        }
        match scheduler::review::answer(self.store.as_ref(), &self.who, request, self.clock.now()) {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(refusal)) => Err(failed(refusal.to_string())),
            Err(e) => Err(failed(format!("the review queue cannot be read: {e}"))),
        }
    }
}

//! The review screen's executor, whatever carries its requests: each `ReviewEffect` is
//! one `ReviewRequest` over a `ReviewLink` (HTTP for `kazi review`, the server's store
//! in-process over SSH), and its reply comes back as the screen's events, with the link's
//! state for the status line. Requests go one at a time, in the order the screen asked.

use std::convert::Infallible;

use crate::protocol::{ReviewRequest, ReviewResponse};
use crate::tui::app::{Effect, Event, Link, Status};
use crate::tui::runtime::Executor;
use crate::tui::screen::review::{ReviewEffect, ReviewEvent};

/// Why a request came to nothing: shown to the reviewer as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkFailure {
    /// The server could not be reached (the status line says offline), rather than
    /// refusing the request.
    pub offline: bool,
    pub message: String,
}

/// Where a reviewer's requests go.
pub trait ReviewLink {
    fn ask(&mut self, request: ReviewRequest) -> Result<ReviewResponse, LinkFailure>;
}

pub struct ReviewExecutor<L> {
    link: L,
    project: Option<String>,
}

impl<L: ReviewLink> ReviewExecutor<L> {
    /// `project`: the queue shows this project only (`--project NAME`).
    pub fn new(link: L, project: Option<String>) -> ReviewExecutor<L> {
        ReviewExecutor { link, project }
    }

    fn queue(&mut self) -> Vec<Event> {
        let request = ReviewRequest::Queue {
            project: self.project.clone(),
            reason: None,
        };
        self.ask(request)
    }

    /// One request, its reply as events: the link's state first, then the screen's event.
    fn ask(&mut self, request: ReviewRequest) -> Vec<Event> {
        let (link, event) = match self.link.ask(request) {
            Ok(response) => (
                Link::Online,
                match response {
                    ReviewResponse::Queue { items } => Some(ReviewEvent::Queue(items)),
                    ReviewResponse::Take { case } => Some(ReviewEvent::Case(case)),
                    ReviewResponse::Decide {
                        item,
                        feedback_given,
                    } => Some(ReviewEvent::Decided {
                        item,
                        told: feedback_given,
                    }),
                    ReviewResponse::Release { .. } => None,
                },
            ),
            Err(failure) => (
                if failure.offline {
                    Link::Offline
                } else {
                    Link::Online
                },
                Some(ReviewEvent::Failed(failure.message)),
            ),
        };
        let status = Event::Status(Status { link, counts: None });
        std::iter::once(status)
            .chain(event.map(Event::Review))
            .collect()
    }
}

impl<L: ReviewLink> Executor for ReviewExecutor<L> {
    type Notice = Infallible;

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
            ReviewEffect::Decide {
                item,
                verdict,
                value,
                note,
            } => ReviewRequest::Decide {
                item,
                verdict: verdict.as_str().to_string(),
                value,
                note,
            },
            ReviewEffect::Release { item } => ReviewRequest::Release { item },
        };
        self.ask(request)
    }

    fn notice(&mut self, notice: Infallible) -> Vec<Event> {
        match notice {}
    }
}

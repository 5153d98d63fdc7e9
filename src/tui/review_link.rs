//! The review screen's executor, whatever carries its requests: each `ReviewEffect` is
//! one `ReviewRequest` over a `ReviewLink` (HTTP for `kazi review`, the server's store
//! in-process over SSH), and its reply comes back as the screen's events, with the link's
//! state for the status line. Requests go one at a time, in the order the screen asked.
//! The screen's player commands (a transcript's clip) go to the link too: `kazi review`
//! fetches the clip and plays it; over SSH there is no sound, and the screen says so.

use std::time::Instant;

use crate::client::player::{PlayerCommand, PlayerConfig, PlayerStatus};
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

/// What the review screen's player line says where no sound can be played.
pub const NO_SOUND_OVER_SSH: &str =
    "no sound over SSH: hear the clip with kazi review on a computer";

/// Where a reviewer's requests go.
pub trait ReviewLink {
    /// What the link's own threads report (the player's feed, where it plays sound).
    type Notice;

    fn ask(&mut self, request: ReviewRequest) -> Result<ReviewResponse, LinkFailure>;

    /// Carry out a player command on the open item's clip with the project's timings.
    /// A link without sound (SSH) answers every command with a status saying so.
    fn play(&mut self, command: PlayerCommand, config: PlayerConfig) -> Vec<Event> {
        let _ = (command, config);
        vec![Event::Player(PlayerStatus::no_sound(
            NO_SOUND_OVER_SSH,
            Instant::now(),
        ))]
    }

    /// One of the link's own reports, as the screen's events.
    fn notice(&mut self, notice: Self::Notice) -> Vec<Event>;
}

pub struct ReviewExecutor<L> {
    link: L,
    project: Option<String>,
    /// The player timings of the open item's project (`[transcribe.player]`).
    player: PlayerConfig,
}

impl<L: ReviewLink> ReviewExecutor<L> {
    /// `project`: the queue shows this project only (`--project NAME`).
    pub fn new(link: L, project: Option<String>) -> ReviewExecutor<L> {
        ReviewExecutor {
            link,
            project,
            player: PlayerConfig::default(),
        }
    }

    /// The link, as tests look at it.
    pub fn link(&self) -> &L {
        &self.link
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
                    ReviewResponse::Take { case } => {
                        if let Some(rules) =
                            case.as_ref().and_then(|c| c.project.transcribe.as_ref())
                        {
                            self.player = rules.player;
                        }
                        Some(ReviewEvent::Case(case))
                    }
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
    type Notice = L::Notice;

    fn start(&mut self) -> Vec<Event> {
        self.queue()
    }

    fn execute(&mut self, effect: Effect) -> Vec<Event> {
        let review = match effect {
            Effect::Review(review) => review,
            Effect::Refresh => return self.queue(),
            Effect::Player(command) => return self.link.play(command, self.player),
            _ => return Vec::new(),
        };
        let request = match review {
            // The screen's filter (`--project`, or the project it stepped to).
            ReviewEffect::Queue { project } => {
                self.project = project;
                return self.queue();
            }
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

    fn notice(&mut self, notice: L::Notice) -> Vec<Event> {
        self.link.notice(notice)
    }
}

//! The trainer's executor over the server's store: the same App and screens as `kazi
//! train` (the lessons picker, the presentation, the class view). The projects and
//! lesson sets come through the worker executor's sync rounds (`Store::sync` asking for
//! lessons), class requests go to `Store::class` (`scheduler::class::handle`) directly,
//! and the class view is asked for again whenever the session's input wakes (a `Tick`
//! at most every `TICK`): the App hears of it only when it changed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::input::SshInput;
use super::work::WorkExecutor;
use crate::client::TrainingBook;
use crate::protocol::{ClassRequest, ClassResponse, SyncRequest};
use crate::server::{Clock, Store, store::Principal};
use crate::tui::app::{Effect, Event, Link, Status, Tally};
use crate::tui::class::{ClassEffect, ClassEvent};
use crate::tui::runtime::{Executor, Input, InputSource};
use crate::tui::screen::training::TrainingEvent;

/// The longest the class view waits to be asked for again while no key comes.
pub const TICK: Duration = Duration::from_secs(2);

/// Sync rounds at most to bring the lessons in one go (the rest come on the next ask).
const ROUNDS: usize = 8;

/// The session's input woke: time to look at the class view again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick;

/// The SSH input with a `Tick` after each input, and after `TICK` without one.
pub struct TickingInput {
    input: SshInput,
    ticked: bool,
}

impl TickingInput {
    pub fn new(input: SshInput) -> TickingInput {
        TickingInput {
            input,
            ticked: false,
        }
    }
}

impl InputSource for TickingInput {
    type Notice = Tick;

    fn next(&mut self) -> Input<Tick> {
        if !self.ticked {
            self.ticked = true;
            return Input::Notice(Tick);
        }
        match self.input.next_within(TICK) {
            Some(input) => {
                self.ticked = false;
                widen(input)
            }
            None => Input::Notice(Tick),
        }
    }

    fn try_next(&mut self) -> Option<Input<Tick>> {
        self.input.try_next().map(|input| {
            self.ticked = false;
            widen(input)
        })
    }
}

fn widen(input: Input<std::convert::Infallible>) -> Input<Tick> {
    match input {
        Input::Key(k) => Input::Key(k),
        Input::Paste(p) => Input::Paste(p),
        Input::Resize(w, h) => Input::Resize(w, h),
        Input::Notice(n) => match n {},
        Input::Stop => Input::Stop,
        Input::Closed => Input::Closed,
    }
}

pub struct TrainExecutor {
    /// Its sync rounds bring the projects and lesson sets, under the session's key.
    work: WorkExecutor,
    store: Arc<dyn Store>,
    who: Principal,
    clock: Clock,
    /// Lessons held, as a client's store keeps them.
    book: TrainingBook,
    /// Lesson set versions held, project -> version (`SyncRequest::lessons`).
    versions: BTreeMap<String, String>,
    /// The class whose view the screen follows, and the view version it last heard.
    watching: Option<(String, u64)>,
}

impl TrainExecutor {
    pub fn new(
        store: Arc<dyn Store>,
        who: Principal,
        fingerprint: String,
        clock: Clock,
    ) -> TrainExecutor {
        TrainExecutor {
            work: WorkExecutor::new(store.clone(), who.clone(), fingerprint, clock.clone()),
            store,
            who,
            clock,
            book: TrainingBook::default(),
            versions: BTreeMap::new(),
            watching: None,
        }
    }

    /// Sync rounds asking for the lesson sets missing or changed, until a round brings
    /// no new project nor set (lessons come for the projects a round already knows, and
    /// as many as one reply's budget takes); the projects and lessons as events.
    fn lessons(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        let mut changed = false;
        for _ in 0..ROUNDS {
            let request = SyncRequest {
                lessons: Some(self.versions.clone()),
                ..SyncRequest::default()
            };
            let (response, more) = match self.work.sync(request) {
                Ok(done) => done,
                Err(e) => {
                    events.push(Event::Message(format!("cannot read the lessons: {e}")));
                    break;
                }
            };
            events.extend(more);
            let again = !response.projects.is_empty() || !response.lessons.is_empty();
            for set in response.lessons {
                changed = true;
                self.versions.insert(set.project.clone(), set.version);
                self.book.lessons.insert(set.project, set.tasks);
            }
            if !again {
                break;
            }
        }
        if changed {
            // Before the projects: a project opened on them finds its lessons.
            events.insert(0, Event::Training(TrainingEvent::Book(self.book.clone())));
        }
        // Nothing is kept on the trainer's side: nothing unsent, no tasks held.
        events.push(Event::Status(Status {
            link: Link::Online,
            counts: Some(Tally::default()),
        }));
        events
    }

    /// One class request, in-process, as `POST /v1/class` would carry it out.
    fn ask(&mut self, request: ClassRequest) -> Result<ClassResponse, String> {
        self.work.signed_in().map_err(|e| e.to_string())?;
        match self.store.class(&self.who, &request, self.clock.now()) {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(refusal)) => Err(refusal.to_string()),
            Err(e) => Err(format!("the class cannot be reached: {e}")),
        }
    }

    fn class(&mut self, effect: ClassEffect) -> Vec<Event> {
        let request = match effect {
            ClassEffect::Start { project } => ClassRequest::Start { project },
            ClassEffect::Step {
                code,
                step,
                revealed,
            } => ClassRequest::Step {
                code,
                step,
                revealed,
            },
            ClassEffect::End { code } => {
                self.watching = None;
                ClassRequest::End { code }
            }
            ClassEffect::Watch { code } => {
                self.watching = Some((code, 0));
                return self.view();
            }
            ClassEffect::Unwatch => {
                self.watching = None;
                return Vec::new();
            }
            ClassEffect::Open => ClassRequest::Open,
            ClassEffect::Report { code } => ClassRequest::Report { code },
            ClassEffect::Join { .. }
            | ClassEffect::At { .. }
            | ClassEffect::Answer { .. }
            | ClassEffect::Leave => {
                return failed(
                    "students join a class from kazi work, not from a trainer's session",
                );
            }
        };
        let stepped = matches!(request, ClassRequest::Step { .. });
        let mut events = match self.ask(request) {
            Ok(reply) => {
                ClassEvent::of_reply(reply).map_or_else(Vec::new, |e| vec![Event::Class(e)])
            }
            Err(why) => return failed(why),
        };
        if stepped {
            // The view carries the step too: the followed class shows it at once.
            events.extend(self.view());
        }
        events
    }

    /// The followed class's view, when it changed since the version last given.
    fn view(&mut self) -> Vec<Event> {
        let Some((code, since)) = self.watching.clone() else {
            return Vec::new();
        };
        let request = ClassRequest::View {
            code,
            since,
            wait: None,
        };
        match self.ask(request) {
            Ok(ClassResponse::View { view: Some(view) }) => {
                if let Some(watching) = self.watching.as_mut() {
                    watching.1 = view.version;
                }
                vec![Event::Class(ClassEvent::View(view))]
            }
            Ok(_) => Vec::new(),
            Err(why) => {
                // Said once: the screen picks the view up again with its next `Watch`.
                self.watching = None;
                failed(why)
            }
        }
    }
}

fn failed(message: impl Into<String>) -> Vec<Event> {
    vec![Event::Class(ClassEvent::Failed(message.into()))]
}

impl Executor for TrainExecutor {
    type Notice = Tick;

    fn start(&mut self) -> Vec<Event> {
        let mut events = self.lessons();
        if !events.iter().any(|e| matches!(e, Event::Projects(_))) {
            // No project at all: the picker says so.
            events.insert(0, Event::Projects(Vec::new()));
        }
        events
    }

    fn execute(&mut self, effect: Effect) -> Vec<Event> {
        match effect {
            Effect::Quit | Effect::ChooseProject(_) | Effect::SaveDraft { .. } => Vec::new(),
            // Back at the picker or asked for news: lessons changed since come now.
            Effect::ShowProjects | Effect::Refresh => self.lessons(),
            Effect::Class(effect) => self.class(effect),
            Effect::Review(_) => Vec::new(),
            Effect::Player(_) => vec![Event::Message(
                "no sound over SSH: play the clips from a centre computer".into(),
            )],
            Effect::WantTasks { .. }
            | Effect::Save { .. }
            | Effect::Undo { .. }
            | Effect::Skip { .. }
            | Effect::Feedback(_)
            | Effect::Progress(_)
            | Effect::Training(_) => vec![Event::Message(
                "a trainer's session shows lessons and classes; work and exams run in kazi work"
                    .into(),
            )],
        }
    }

    fn notice(&mut self, Tick: Tick) -> Vec<Event> {
        self.view()
    }
}

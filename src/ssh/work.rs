//! The worker's executor over the server's store: the same App and screens as `kazi
//! work`, with each effect carried out as a sync round of the scheduler (`Store::sync`)
//! under the SSH key's device. Leasing, answering, correcting and skipping follow the
//! scheduler's rules exactly as over HTTP; an answer is committed before the next frame.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::Arc;

use crate::client::feedback_notice;
use crate::model::{AnswerValue, Project, Task, TaskKind};
use crate::protocol::{
    Accuracy, AckStatus, AnswerUpload, FeedbackItem, Lease, Report, SyncRequest, SyncResponse, Want,
};
use crate::server::{Clock, Store, StoreError, store::Principal};
use crate::tui::app::{Effect, Event, Link, Status, Tally};
use crate::tui::class::ClassEvent;
use crate::tui::runtime::Executor;
use crate::tui::screen::feedback::{FEEDBACK_SHOWN, FeedbackEffect, FeedbackEvent};
use crate::tui::screen::progress::{ProgressEffect, ProgressEvent};

/// Tasks asked for at a time (the project's lease cap still bounds what is held).
const WANT: u32 = 10;

pub struct WorkExecutor {
    store: Arc<dyn Store>,
    who: Principal,
    /// The key the session signed in with: looked up again before every round, so a key
    /// removed (or a user revoked) a moment ago cannot answer or lease any more.
    fingerprint: String,
    clock: Clock,
    /// Schemas held, name -> version, as a client keeps them.
    known: BTreeMap<String, String>,
    projects: Vec<Project>,
    active: Option<String>,
    /// Leased tasks not yet handed to the App, per project (the session's queue).
    waiting: BTreeMap<String, Vec<Task>>,
    /// Tasks the App holds or was given, for the status line's count.
    given: usize,
    /// The last reply applied (leases of replies after it are sent again).
    seen: u64,
    /// Answers of this session, newest last, for undo: client id, task, value.
    answered: Vec<(u64, Task, AnswerValue)>,
    /// Tasks taken back by undo: the answer their next one replaces.
    undone: HashMap<i64, u64>,
    done_today: u32,
    /// Feedback the server gave in this session's rounds, newest last (the server keeps
    /// the record; a session shows what it was told, as a client's cache does).
    feedback: Vec<FeedbackItem>,
    /// The highest feedback item number received (`SyncRequest::feedback_seen`).
    feedback_seen: u64,
    accuracy: Vec<Accuracy>,
    /// The next contest or flag's id (unique per device, as a client numbers them).
    next_report: u64,
}

impl WorkExecutor {
    pub fn new(
        store: Arc<dyn Store>,
        who: Principal,
        fingerprint: String,
        clock: Clock,
    ) -> WorkExecutor {
        WorkExecutor {
            store,
            who,
            fingerprint,
            clock,
            known: BTreeMap::new(),
            projects: Vec::new(),
            active: None,
            waiting: BTreeMap::new(),
            given: 0,
            seen: 0,
            answered: Vec::new(),
            undone: HashMap::new(),
            done_today: 0,
            feedback: Vec::new(),
            feedback_seen: 0,
            accuracy: Vec::new(),
            next_report: 1,
        }
    }

    /// One sync round through the scheduler; the schemas and leases it brought are
    /// taken in, and the events they make returned beside the reply.
    pub(super) fn sync(
        &mut self,
        mut request: SyncRequest,
    ) -> Result<(SyncResponse, Vec<Event>), StoreError> {
        self.signed_in()?;
        request.known = self.known.clone();
        // The first round asks for every live lease this key's device holds: a session
        // that dropped resumes the tasks it was given.
        request.seen = Some(self.seen);
        request.kinds = TaskKind::ALL.map(|k| k.name().to_string()).to_vec();
        request.feedback_seen = Some(self.feedback_seen);
        let response = self.store.sync(&self.who, request, self.clock.now())?;
        let mut events = Vec::new();
        if let Some(notice) = feedback_notice(&response.feedback) {
            events.push(Event::Message(notice));
        }
        for item in &response.feedback {
            self.feedback_seen = self.feedback_seen.max(item.id);
            self.feedback.push(item.clone());
        }
        let excess = self.feedback.len().saturating_sub(FEEDBACK_SHOWN);
        self.feedback.drain(..excess);
        if !response.accuracy.is_empty() {
            self.accuracy = response.accuracy.clone();
        }
        if !response.projects.is_empty() || !response.removed.is_empty() {
            for p in &response.projects {
                self.known.insert(p.name.clone(), p.version());
                self.projects.retain(|old| old.name != p.name);
                self.projects.push(p.clone());
            }
            for name in &response.removed {
                self.known.remove(name);
                self.projects.retain(|p| &p.name != name);
            }
            self.projects.sort_by(|a, b| a.name.cmp(&b.name));
            events.push(Event::Projects(self.projects.clone()));
        }
        if response.reply > 0 {
            self.seen = response.reply;
        }
        self.done_today = response.done_today;
        for lease in &response.leases {
            self.waiting
                .entry(lease.project.clone())
                .or_default()
                .push(task_of(lease));
        }
        Ok((response, events))
    }

    /// Refused when the session's key was removed or its user's role changed.
    pub(super) fn signed_in(&self) -> Result<(), StoreError> {
        if self.store.ssh_principal(&self.fingerprint)?.as_ref() != Some(&self.who) {
            return Err(StoreError::Aborted(
                "this key was signed out by the centre's admin; the session ends".into(),
            ));
        }
        Ok(())
    }

    fn status(&self) -> Event {
        let waiting = self
            .active
            .as_ref()
            .and_then(|p| self.waiting.get(p))
            .map_or(0, Vec::len);
        Event::Status(Status {
            link: Link::Online,
            counts: Some(Tally {
                unsent: 0,
                done_today: self.done_today,
                cached: u32::try_from(waiting + self.given).unwrap_or(u32::MAX),
            }),
        })
    }

    /// Hand the App the waiting tasks of `project`, leasing more first when few wait.
    fn tasks_for(&mut self, project: &str) -> Vec<Event> {
        if self.active.as_deref() != Some(project) {
            return Vec::new();
        }
        let mut events = Vec::new();
        if self.waiting.get(project).is_none_or(Vec::is_empty) {
            let request = SyncRequest {
                want: vec![Want {
                    project: project.to_string(),
                    count: WANT,
                }],
                ..SyncRequest::default()
            };
            match self.sync(request) {
                Ok((_, more)) => events.extend(more),
                Err(e) => events.push(Event::Message(format!("cannot get tasks: {e}"))),
            }
        }
        let tasks = self.waiting.remove(project).unwrap_or_default();
        self.given += tasks.len();
        if !tasks.is_empty() {
            events.push(Event::Tasks(tasks));
        }
        events.push(self.status());
        events
    }

    fn save(&mut self, task: Task, value: AnswerValue) -> Vec<Event> {
        let replaces = self.undone.get(&task.id).copied();
        let id = match client_id() {
            Ok(id) => id,
            Err(e) => return not_saved(task, value, &e),
        };
        let upload = AnswerUpload {
            id,
            task: task.id,
            value: value.clone(),
            ago: 0,
            replaces,
        };
        let request = SyncRequest {
            answers: vec![upload],
            ..SyncRequest::default()
        };
        let (response, mut events) = match self.sync(request) {
            Ok(done) => done,
            Err(e) => return not_saved(task, value, &e.to_string()),
        };
        match response.acks.first().map(|a| &a.status) {
            Some(AckStatus::Ok | AckStatus::Dup) => {
                self.undone.remove(&task.id);
                self.given = self.given.saturating_sub(1);
                self.answered.push((id, task, value));
            }
            Some(AckStatus::Conflict(why) | AckStatus::Rejected(why)) => {
                events.push(Event::Undone(Some((task, value))));
                events.push(Event::Message(format!(
                    "the server refused this answer: {why}"
                )));
            }
            None => return not_saved(task, value, "the server sent no acknowledgement"),
        }
        events.push(self.status());
        events
    }
}

fn task_of(lease: &Lease) -> Task {
    Task {
        id: lease.task,
        project: lease.project.clone(),
        text: lease.text.clone(),
        suggestion: lease.suggestion.clone(),
        clip: lease.clip.clone(),
    }
}

/// An answer's idempotency key: random, so ids never repeat across sessions of a key.
fn client_id() -> Result<u64, String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    // Positive in every backend's signed 64-bit column.
    Ok(u64::from_le_bytes(bytes) >> 1)
}

/// The screen moved on too early: bring the task back with the choice marked.
fn not_saved(task: Task, value: AnswerValue, why: &str) -> Vec<Event> {
    vec![
        Event::Undone(Some((task, value))),
        Event::Message(format!("NOT SAVED, press the key again: {why}")),
    ]
}

impl Executor for WorkExecutor {
    type Notice = Infallible;

    fn start(&mut self) -> Vec<Event> {
        match self.sync(SyncRequest::default()) {
            Ok((_, mut events)) => {
                if events.is_empty() {
                    // No project at all: the picker says so.
                    events.push(Event::Projects(Vec::new()));
                }
                events.push(self.status());
                events
            }
            Err(e) => vec![
                Event::Projects(Vec::new()),
                Event::Message(format!("cannot read the projects: {e}")),
            ],
        }
    }

    fn execute(&mut self, effect: Effect) -> Vec<Event> {
        match effect {
            Effect::Quit => Vec::new(),
            Effect::ChooseProject(name) => {
                self.active = Some(name);
                self.given = 0;
                vec![self.status()]
            }
            Effect::WantTasks { project, .. } => self.tasks_for(&project),
            Effect::Refresh => match self.active.clone() {
                Some(project) => self.tasks_for(&project),
                None => Vec::new(),
            },
            Effect::ShowProjects => {
                self.active = None;
                let waiting = self
                    .waiting
                    .iter()
                    .map(|(p, tasks)| (p.clone(), u32::try_from(tasks.len()).unwrap_or(u32::MAX)))
                    .collect();
                vec![Event::Waiting(waiting), self.status()]
            }
            // A session runs beside the server's records: the figures are computed now.
            Effect::Progress(ProgressEffect::Load) => {
                let now = self.clock.now();
                match crate::server::impact::progress::progress(
                    self.store.as_ref(),
                    &self.who.user,
                    now,
                ) {
                    Ok(p) => vec![Event::Progress(ProgressEvent::Loaded(Some(p)))],
                    Err(e) => vec![Event::Message(format!("cannot read your progress: {e}"))],
                }
            }
            Effect::Feedback(FeedbackEffect::Load) => {
                let items = self.feedback.iter().rev().cloned().collect();
                let accuracy = self.accuracy.clone();
                vec![Event::Feedback(FeedbackEvent::Loaded { items, accuracy })]
            }
            Effect::Feedback(FeedbackEffect::Report { task, kind, note }) => {
                let report = Report {
                    id: self.next_report,
                    task,
                    kind,
                    note,
                };
                let request = SyncRequest {
                    reports: vec![report],
                    ..SyncRequest::default()
                };
                match self.sync(request) {
                    Ok((response, mut events))
                        if response.reports_done.contains(&self.next_report) =>
                    {
                        self.next_report += 1;
                        events.push(Event::Message("sent to the reviewers; thank you".into()));
                        events
                    }
                    Ok((_, mut events)) => {
                        events.push(Event::Message(
                            "NOT SENT: the server did not take it; try again".into(),
                        ));
                        events
                    }
                    Err(e) => vec![Event::Message(format!("NOT SENT, try again: {e}"))],
                }
            }
            // Lessons and exams are kept on a worker's own computer, for offline practice.
            Effect::Training(_) => vec![Event::Message(
                "training runs in kazi work on a centre computer, not over SSH".into(),
            )],
            // A class follows the trainer from a centre computer on the LAN.
            Effect::Class(_) => vec![Event::Class(ClassEvent::Failed(
                "classes run in kazi work on a centre computer, not over SSH".into(),
            ))],
            // The worker's session has no review screen to ask.
            Effect::Review(_) => Vec::new(),
            // No sound over SSH: the session's terminal is far from any speaker.
            Effect::Player(_) => vec![Event::Message(
                "no sound over SSH: transcribe from a centre computer".into(),
            )],
            Effect::Save { task, value } => self.save(task, value),
            // Drafts live in the App for the session; the server keeps none.
            Effect::SaveDraft { .. } => Vec::new(),
            Effect::Undo { project } => {
                let last = self
                    .answered
                    .iter()
                    .rposition(|(_, t, _)| t.project == project);
                let undone = last.map(|i| self.answered.remove(i));
                match undone {
                    Some((id, task, value)) => {
                        self.undone.insert(task.id, id);
                        self.given += 1;
                        vec![Event::Undone(Some((task, value))), self.status()]
                    }
                    None => vec![Event::Undone(None)],
                }
            }
            Effect::Skip { task } => {
                let request = SyncRequest {
                    released: vec![task.id],
                    ..SyncRequest::default()
                };
                match self.sync(request) {
                    Ok((_, mut events)) => {
                        self.given = self.given.saturating_sub(1);
                        events.push(self.status());
                        events
                    }
                    Err(e) => vec![Event::Message(format!("cannot skip: {e}"))],
                }
            }
        }
    }

    fn notice(&mut self, notice: Infallible) -> Vec<Event> {
        match notice {}
    }
}

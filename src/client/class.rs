//! The class link: a background thread that carries a device's class requests to the
//! server and reports what came back, never blocking the screen. A trainer's requests
//! (start, step, end, open, report) go one at a time, in order; the class view is
//! followed by a long poll of its own and reported only when it changed. A student who
//! joined sends a small presence message every `every` (2 s on the LAN) with the answers
//! kept in the local store; when the link drops it backs off, says so once, and catches
//! up when it returns — answers left from an earlier session go first.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::profile::Profile;
use super::remote::{Remote, RemoteError};
use super::store::LocalStore;
use crate::protocol::{
    ClassRequest, ClassResponse, ClassState, ClassView, MAX_CLASS_ANSWERS, MAX_VIEW_WAIT,
    ScoredAnswer,
};

/// What the class link reports, from its thread.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassNotice {
    /// The server's reply to a trainer's request or a join.
    Replied(ClassResponse),
    /// A request refused or failed; presence messages are retried instead, and the
    /// class view is asked for again.
    Failed(String),
    /// The trainer's class view changed.
    View(ClassView),
    /// A presence went through and something changed: the class's state (the trainer
    /// moved on, revealed, ended) or answers the server now has.
    Presence {
        state: ClassState,
        stored: Vec<ScoredAnswer>,
    },
    /// The link to the class dropped; `unsent` answers wait here. Said once per drop.
    Offline { unsent: u32 },
}

#[derive(Debug, Clone, Copy)]
pub struct ClassConfig {
    /// Between presence messages of a joined student.
    pub every: Duration,
    /// The longest wait between tries while the link is down.
    pub backoff_max: Duration,
    /// How long the server may hold a long poll of the class view, seconds.
    pub view_wait: u32,
}

impl Default for ClassConfig {
    fn default() -> Self {
        ClassConfig {
            every: Duration::from_secs(2),
            backoff_max: Duration::from_secs(30),
            view_wait: 20,
        }
    }
}

type Notify = Arc<dyn Fn(ClassNotice) + Send + Sync>;

enum Command {
    Ask(ClassRequest),
    Watch(String),
    Unwatch,
    Join(String),
    At(u32),
    Answered,
    Leave,
    Shutdown(Duration, std::sync::mpsc::Sender<Option<u32>>),
}

/// Handle to the class link's thread.
pub struct ClassLink {
    tx: mpsc::UnboundedSender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl ClassLink {
    /// Start the link for `profile`. `on_notice` is called from the link's thread.
    pub fn start(
        profile: &Profile,
        config: ClassConfig,
        on_notice: impl Fn(ClassNotice) + Send + Sync + 'static,
    ) -> Result<ClassLink, super::SyncError> {
        // Nothing to do until the first class request, unless an earlier session left
        // class answers unsent: the link's runtime, connection and store come then, so a
        // worker who never joins a class pays nothing for it.
        let path = profile.db_path();
        let behind = !LocalStore::open(&path)?.classes_with_unsent()?.is_empty();
        let (server, token) = (profile.server.clone(), profile.token.clone());
        let (tx, mut rx) = mpsc::unbounded_channel();
        let notify: Notify = Arc::new(on_notice);
        let thread = std::thread::Builder::new()
            .name("kazi-class".into())
            .spawn(move || {
                let first = if behind {
                    None
                } else {
                    match rx.blocking_recv() {
                        None => return,
                        // Nothing was ever asked: nothing to send.
                        Some(Command::Shutdown(_, done)) => {
                            let _ = done.send(Some(0));
                            return;
                        }
                        Some(command) => Some(command),
                    }
                };
                let (Ok(rt), Ok(remote), Ok(store)) = (
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build(),
                    Remote::new(&server, &token),
                    LocalStore::open(&path),
                ) else {
                    notify(ClassNotice::Failed(
                        "cannot reach classes from this machine; answers stay saved here".into(),
                    ));
                    return;
                };
                rt.block_on(Link::new(store, remote, config, notify).run(first, rx));
            })
            .map_err(super::SyncError::Thread)?;
        Ok(ClassLink {
            tx,
            thread: Some(thread),
        })
    }

    /// A trainer's request (start, step, end, open, report), after those before it.
    pub fn ask(&self, request: ClassRequest) {
        let _ = self.tx.send(Command::Ask(request));
    }

    /// Follow the class view of `code` (instead of any other).
    pub fn watch(&self, code: String) {
        let _ = self.tx.send(Command::Watch(code));
    }

    pub fn unwatch(&self) {
        let _ = self.tx.send(Command::Unwatch);
    }

    /// Join the class `code` (a normalised code); presence follows until it ends.
    pub fn join(&self, code: String) {
        let _ = self.tx.send(Command::Join(code));
    }

    /// The step on the student's screen, for the next presence.
    pub fn at(&self, step: u32) {
        let _ = self.tx.send(Command::At(step));
    }

    /// An answer was kept in the local store: send it now.
    pub fn answered(&self) {
        let _ = self.tx.send(Command::Answered);
    }

    /// Leave the class once its answers are sent.
    pub fn leave(&self) {
        let _ = self.tx.send(Command::Leave);
    }

    /// Send what is unsent (waiting at most `wait`), stop, and return how many class
    /// answers are left here (None if the link did not answer in time).
    pub fn shutdown(mut self, wait: Duration) -> Option<u32> {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let _ = self.tx.send(Command::Shutdown(wait, done_tx));
        let left = done_rx
            .recv_timeout(wait + Duration::from_secs(1))
            .ok()
            .flatten();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        left
    }
}

impl Drop for ClassLink {
    fn drop(&mut self) {
        // Dropped without a shutdown (a test, a failed start): the closed channel ends
        // the loop; nothing waits for it.
        self.thread.take();
    }
}

/// The class a student is in, as the link follows it.
struct Joined {
    code: String,
    step: u32,
    /// The state last reported (the screen hears only changes).
    state: Option<ClassState>,
    /// Leave once every answer is sent.
    leaving: bool,
}

struct Link {
    store: LocalStore,
    remote: Remote,
    config: ClassConfig,
    notify: Notify,
    joined: Option<Joined>,
    /// Classes whose answers an earlier session left unsent.
    behind: Vec<String>,
    next_presence: Option<Instant>,
    failures: u32,
    offline: bool,
    watching: Option<tokio::task::JoinHandle<()>>,
}

impl Link {
    fn new(store: LocalStore, remote: Remote, config: ClassConfig, notify: Notify) -> Link {
        let behind = store.classes_with_unsent().unwrap_or_else(|e| {
            notify(ClassNotice::Failed(format!(
                "cannot read the class answers kept here: {e}"
            )));
            Vec::new()
        });
        let next_presence = (!behind.is_empty()).then(Instant::now);
        Link {
            store,
            remote,
            config,
            notify,
            joined: None,
            behind,
            next_presence,
            failures: 0,
            offline: false,
            watching: None,
        }
    }

    /// Carry out `first` (the command that woke the link), then every later one.
    async fn run(mut self, mut first: Option<Command>, mut rx: mpsc::UnboundedReceiver<Command>) {
        loop {
            let command = match self.next_presence {
                _ if first.is_some() => first.take(),
                Some(at) => tokio::select! {
                    c = rx.recv() => c,
                    () = tokio::time::sleep_until(at) => {
                        self.presence().await;
                        continue;
                    }
                },
                None => rx.recv().await,
            };
            match command {
                None => break,
                Some(Command::Ask(request)) => {
                    let notice = match self.remote.class(&request).await {
                        Ok(reply) => ClassNotice::Replied(reply),
                        Err(e) => ClassNotice::Failed(e.to_string()),
                    };
                    (self.notify)(notice);
                }
                Some(Command::Watch(code)) => self.watch(code),
                Some(Command::Unwatch) => {
                    if let Some(task) = self.watching.take() {
                        task.abort();
                    }
                }
                Some(Command::Join(code)) => self.join(code).await,
                Some(Command::At(step)) => {
                    if let Some(j) = &mut self.joined {
                        j.step = step;
                    }
                }
                Some(Command::Answered) => {
                    if self.joined.is_some() && !self.offline {
                        self.next_presence = Some(Instant::now());
                    }
                }
                Some(Command::Leave) => {
                    if let Some(j) = &mut self.joined {
                        j.leaving = true;
                        self.next_presence = Some(Instant::now());
                    }
                }
                Some(Command::Shutdown(wait, done)) => {
                    let _ = done.send(self.flush(wait).await);
                    break;
                }
            }
        }
        if let Some(task) = self.watching.take() {
            task.abort();
        }
    }

    async fn join(&mut self, code: String) {
        match self
            .remote
            .class(&ClassRequest::Join { code: code.clone() })
            .await
        {
            Ok(reply) => {
                let state = match &reply {
                    ClassResponse::Join { state, .. } => Some(state.clone()),
                    _ => None,
                };
                self.joined = Some(Joined {
                    code,
                    step: state.as_ref().map_or(0, |s| s.step),
                    state,
                    leaving: false,
                });
                self.failures = 0;
                self.offline = false;
                self.next_presence = Some(Instant::now() + self.config.every);
                (self.notify)(ClassNotice::Replied(reply));
            }
            Err(e) => (self.notify)(ClassNotice::Failed(e.to_string())),
        }
    }

    fn watch(&mut self, code: String) {
        if let Some(task) = self.watching.take() {
            task.abort();
        }
        let (remote, notify, config) = (self.remote.clone(), self.notify.clone(), self.config);
        self.watching = Some(tokio::spawn(follow_view(remote, notify, config, code)));
    }

    /// One presence message: for the joined class, else for a class an earlier session
    /// left answers of.
    async fn presence(&mut self) {
        let (code, step, current) = match (&self.joined, self.behind.first()) {
            (Some(j), _) => (j.code.clone(), j.step, true),
            (None, Some(code)) => (code.clone(), 0, false),
            (None, None) => {
                self.next_presence = None;
                return;
            }
        };
        let answers = match self.store.unsent_class_answers(&code, MAX_CLASS_ANSWERS) {
            Ok(a) => a,
            Err(e) => {
                (self.notify)(ClassNotice::Failed(format!(
                    "class answers kept here cannot be read: {e}"
                )));
                self.next_presence = Some(Instant::now() + self.config.backoff_max);
                return;
            }
        };
        let full = answers.len() == MAX_CLASS_ANSWERS;
        let request = ClassRequest::Presence {
            code: code.clone(),
            step,
            answers,
        };
        match self.remote.class(&request).await {
            Ok(ClassResponse::Presence { state, stored }) => {
                self.failures = 0;
                // Back after a drop: the screen hears the state even if it is the same.
                let back = std::mem::take(&mut self.offline);
                if let Err(e) = self.store.class_answers_stored(&code, &stored) {
                    // Sent again next time; the server counts each once.
                    (self.notify)(ClassNotice::Failed(format!(
                        "cannot note the answers the server has: {e}"
                    )));
                }
                let left = self.store.unsent_class_count(&code).unwrap_or(1);
                self.after_presence(current, back, state, stored, left);
                self.next_presence = Some(if full {
                    Instant::now()
                } else {
                    Instant::now() + self.config.every
                });
            }
            Ok(_) => {
                (self.notify)(ClassNotice::Failed(
                    "the server answered a presence with something else".into(),
                ));
                self.next_presence = Some(Instant::now() + self.config.backoff_max);
            }
            Err(RemoteError::Offline(_)) => {
                self.failures += 1;
                if !self.offline && current {
                    self.offline = true;
                    let unsent = self.store.unsent_class_count(&code).unwrap_or(0);
                    (self.notify)(ClassNotice::Offline { unsent });
                }
                self.next_presence = Some(Instant::now() + self.backoff());
            }
            Err(e) if current => {
                // Refused (too many requests, no such class), signed out, another
                // protocol: said once, asked again at the longest pause, answers kept.
                self.failures += 1;
                if !self.offline {
                    self.offline = true;
                    (self.notify)(ClassNotice::Failed(e.to_string()));
                }
                self.next_presence = Some(Instant::now() + self.config.backoff_max);
            }
            Err(e) => {
                // An earlier session's class: tried again at the next start.
                (self.notify)(ClassNotice::Failed(format!(
                    "class {code}: answers kept here not sent: {e}"
                )));
                self.behind.remove(0);
                self.next_presence = (self.joined.is_some() || !self.behind.is_empty())
                    .then(|| Instant::now() + self.config.every);
            }
        }
    }

    fn after_presence(
        &mut self,
        current: bool,
        back: bool,
        state: ClassState,
        stored: Vec<ScoredAnswer>,
        left: u32,
    ) {
        if !current {
            if left == 0 {
                self.behind.remove(0);
            }
            return;
        }
        let Some(j) = &mut self.joined else {
            return;
        };
        let changed = back || j.state.as_ref() != Some(&state);
        let done = left == 0 && (state.ended.is_some() || j.leaving);
        j.state = Some(state.clone());
        if changed || !stored.is_empty() {
            (self.notify)(ClassNotice::Presence { state, stored });
        }
        if done {
            self.joined = None;
        }
    }

    /// Between half and all of `every` * 2^failures, at most `backoff_max`.
    fn backoff(&self) -> Duration {
        let exp = self.failures.saturating_sub(1).min(8);
        let full = self
            .config
            .every
            .saturating_mul(1 << exp)
            .min(self.config.backoff_max);
        let jitter = getrandom::u32().unwrap_or(u32::MAX / 2) as f64 / u32::MAX as f64;
        full.mul_f64(0.5 + 0.5 * jitter)
    }

    /// On quit: send the joined class's unsent answers within `wait`; how many are left.
    async fn flush(&mut self, wait: Duration) -> Option<u32> {
        let deadline = Instant::now() + wait;
        let code = self.joined.as_ref().map(|j| j.code.clone())?;
        while self.store.unsent_class_count(&code).ok()? > 0 && Instant::now() < deadline {
            if tokio::time::timeout_at(deadline, self.presence())
                .await
                .is_err()
            {
                break;
            }
            if self.joined.is_none() || self.offline {
                break;
            }
        }
        self.store.unsent_class_count(&code).ok()
    }
}

/// Follow the class view by long polls, reporting each change; after a failure, ask
/// again with a growing pause (said once per outage). A refusal ends the watch.
async fn follow_view(remote: Remote, notify: Notify, config: ClassConfig, code: String) {
    let mut since = 0;
    let mut pause = config.every;
    let mut told = false;
    loop {
        let request = ClassRequest::View {
            code: code.clone(),
            since,
            wait: Some(config.view_wait.min(MAX_VIEW_WAIT)),
        };
        match remote.class(&request).await {
            Ok(ClassResponse::View { view }) => {
                pause = config.every;
                told = false;
                if let Some(view) = view {
                    since = view.version;
                    notify(ClassNotice::View(view));
                }
                continue;
            }
            Ok(_) => notify(ClassNotice::Failed(
                "the server answered the class view with something else".into(),
            )),
            Err(RemoteError::Offline(why)) => {
                if !told {
                    told = true;
                    notify(ClassNotice::Failed(format!(
                        "class view: no connection to the server ({why}); trying again"
                    )));
                }
            }
            Err(e) => {
                notify(ClassNotice::Failed(e.to_string()));
                return;
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(config.backoff_max);
    }
}

//! The sync engine: a background thread running the sync loop, which decides when to
//! sync (enough answers waiting, the cache running low, or asked to), does the round
//! trip, applies the reply, and retries with exponential backoff and jitter while the
//! link is down. It reports link state and counts through a callback and never blocks
//! the screen.

use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::plan::{PlanConfig, plan, plan_asked};
use super::profile::Profile;
use super::remote::{Remote, RemoteError};
use super::store::{Applied, Counts, LocalStore, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Online,
    Offline,
    Syncing,
}

/// What the engine reports after each change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStatus {
    pub link: Link,
    /// None when the local store cannot be read: the counts are unknown, and `message`
    /// says why. Never shown as zero.
    pub counts: Option<Counts>,
    /// Tasks that arrived in the last sync.
    pub new_tasks: usize,
    /// Something the worker should read (refused answers, login needed), if any.
    pub message: Option<String>,
    /// Syncs so far that changed lessons or exams here: when it moves, they are worth
    /// reading again.
    pub training: u64,
    /// Syncs so far that brought progress figures: when it moves, they are worth
    /// reading again.
    pub progress: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct SyncConfig {
    pub plan: PlanConfig,
    /// Send as soon as this many answers wait.
    pub send_after_answers: u32,
    /// Send answers at the latest this long after the oldest was given.
    pub send_after: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// After the server had fewer tasks than asked for, wait this long before asking
    /// again for tasks alone. Short: the worker on an empty queue waits this long at
    /// most for tasks just imported, and the ask is a few hundred bytes.
    pub exhausted_retry: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            plan: PlanConfig::default(),
            send_after_answers: 10,
            send_after: Duration::from_secs(30),
            backoff_min: Duration::from_secs(2),
            backoff_max: Duration::from_secs(300),
            exhausted_retry: Duration::from_secs(30),
        }
    }
}

impl SyncConfig {
    /// The defaults with this device's cache size.
    pub fn for_profile(profile: &Profile) -> SyncConfig {
        let mut config = SyncConfig::default();
        config.plan.prefetch = profile.prefetch;
        config
    }
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// Nothing to send or ask for.
    Idle,
    Synced {
        applied: Applied,
        wanted: u32,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the sync thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// One planned sync: plan from local state, one round trip, apply the reply.
pub async fn sync_once(
    remote: &Remote,
    store: &mut LocalStore,
    active: Option<&str>,
    config: PlanConfig,
) -> Result<SyncOutcome, SyncError> {
    let state = store.local_state(active)?;
    let Some(request) = plan(&state, config) else {
        return Ok(SyncOutcome::Idle);
    };
    let wanted = request.want.iter().map(|w| w.count).sum();
    let response = remote.sync(&request).await?;
    let applied = store.apply(&request, &response)?;
    keep_clips(remote, store).await?;
    Ok(SyncOutcome::Synced { applied, wanted })
}

/// A sync someone asked for: always one round trip, so "nothing new" and "the server
/// cannot be reached" come from the server, never from local state alone.
pub async fn sync_asked(
    remote: &Remote,
    store: &mut LocalStore,
    active: Option<&str>,
    config: PlanConfig,
) -> Result<SyncOutcome, SyncError> {
    let state = store.local_state(active)?;
    let request = plan_asked(&state, config);
    let wanted = request.want.iter().map(|w| w.count).sum();
    let response = remote.sync(&request).await?;
    let applied = store.apply(&request, &response)?;
    keep_clips(remote, store).await?;
    Ok(SyncOutcome::Synced { applied, wanted })
}

/// After a sync: drop clips whose answers are acknowledged, then fetch the queue's
/// clips ahead of the screen. A download that fails leaves the sync done; the next one
/// resumes it (the screen says when a clip is missing).
async fn keep_clips(remote: &Remote, store: &LocalStore) -> Result<(), SyncError> {
    let cache = store.clip_cache();
    let keep = store.clips_in_use()?;
    let wanted = store.clips_wanted()?;
    // Neither failure is the sync's (its answers are stored): a clip not removed is
    // tried again next time, and a clip not fetched is reported missing by the screen
    // that needs it, which offers skip.
    let _ = cache.retain(&keep);
    let _ = cache.prefetch(remote, &wanted).await;
    Ok(())
}

enum Command {
    Project(Option<String>),
    /// Something changed locally (an answer, a skip): consider syncing.
    Changed,
    /// Sync now unless backing off.
    Kick,
    /// The worker asked for new work: ask the server now, even while backing off.
    Refresh,
    Shutdown(Duration, std::sync::mpsc::Sender<Option<Counts>>),
}

/// Handle to the background sync thread.
pub struct SyncEngine {
    tx: mpsc::UnboundedSender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl SyncEngine {
    /// Start syncing `profile` in the background. `on_status` is called from the sync
    /// thread after every change of link state or counts.
    pub fn start(
        profile: &Profile,
        config: SyncConfig,
        on_status: impl Fn(SyncStatus) + Send + 'static,
    ) -> Result<SyncEngine, SyncError> {
        let store = LocalStore::open(&profile.db_path())?;
        let (server, token) = (profile.server.clone(), profile.token.clone());
        let (tx, rx) = mpsc::unbounded_channel();
        let thread = std::thread::Builder::new()
            .name("kazi-sync".into())
            .spawn(move || {
                // Built here, not by the caller: setting up HTTP and TLS takes milliseconds
                // that the first frame should not wait for.
                let (Ok(rt), Ok(remote)) = (
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build(),
                    Remote::new(&server, &token),
                ) else {
                    on_status(SyncStatus {
                        link: Link::Offline,
                        counts: None,
                        new_tasks: 0,
                        training: 0,
                        progress: 0,
                        message: Some(
                            "cannot start syncing on this machine; answers stay saved here".into(),
                        ),
                    });
                    return;
                };
                rt.block_on(SyncLoop::new(store, remote, config, Box::new(on_status)).run(rx));
            })
            .map_err(SyncError::Thread)?;
        Ok(SyncEngine {
            tx,
            thread: Some(thread),
        })
    }

    pub fn set_project(&self, project: Option<String>) {
        let _ = self.tx.send(Command::Project(project));
    }

    /// An answer or skip was saved locally.
    pub fn changed(&self) {
        let _ = self.tx.send(Command::Changed);
    }

    pub fn kick(&self) {
        let _ = self.tx.send(Command::Kick);
    }

    /// The worker asked for new work: one round trip now, whatever the local state.
    pub fn refresh(&self) {
        let _ = self.tx.send(Command::Refresh);
    }

    /// Send what is unsent (waiting at most `wait`), stop, and return the final counts
    /// (None if the loop did not answer in time or the store could not be read).
    pub fn shutdown(mut self, wait: Duration) -> Option<Counts> {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let _ = self.tx.send(Command::Shutdown(wait, done_tx));
        let answered = done_rx.recv_timeout(wait + Duration::from_secs(1)).ok();
        let counts = answered.clone().flatten();
        if answered.is_some()
            && let Some(t) = self.thread.take()
        {
            let _ = t.join();
        }
        counts
    }
}

/// The loop on the sync thread: when to sync, the round trip, backoff, reports.
struct SyncLoop {
    store: LocalStore,
    remote: Remote,
    config: SyncConfig,
    on_status: Box<dyn Fn(SyncStatus) + Send>,
    active: Option<String>,
    link: Link,
    failures: u32,
    retry_at: Option<Instant>,
    exhausted_until: Option<Instant>,
    first_unsent_seen: Option<Instant>,
    kicked: bool,
    /// The next sync goes out even with nothing to send or ask for.
    asked: bool,
    last_reported: Option<SyncStatus>,
    /// Syncs that changed lessons or exams here (`SyncStatus::training`).
    training: u64,
    /// Syncs that brought progress figures (`SyncStatus::progress`).
    progress: u64,
}

impl SyncLoop {
    fn new(
        store: LocalStore,
        remote: Remote,
        config: SyncConfig,
        on_status: Box<dyn Fn(SyncStatus) + Send>,
    ) -> SyncLoop {
        SyncLoop {
            store,
            remote,
            config,
            on_status,
            active: None,
            link: Link::Offline,
            failures: 0,
            retry_at: None,
            exhausted_until: None,
            first_unsent_seen: None,
            // Sync once at start: schemas, answers left from last time, fresh tasks.
            kicked: true,
            asked: false,
            last_reported: None,
            training: 0,
            progress: 0,
        }
    }

    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        loop {
            if self.due() {
                self.sync().await;
            }
            let command = match self.next_wake() {
                Some(at) => tokio::select! {
                    c = rx.recv() => c,
                    _ = tokio::time::sleep_until(at) => Some(Command::Changed),
                },
                None => rx.recv().await,
            };
            match command {
                None => return,
                Some(Command::Project(p)) => {
                    self.active = p;
                    self.exhausted_until = None;
                    self.kicked = true;
                }
                Some(Command::Changed) => {}
                Some(Command::Kick) => self.kicked = true,
                Some(Command::Refresh) => {
                    self.kicked = true;
                    self.asked = true;
                    self.exhausted_until = None;
                    self.retry_at = None;
                }
                Some(Command::Shutdown(wait, done)) => {
                    let counts = self.flush(wait).await;
                    let _ = done.send(counts);
                    return;
                }
            }
        }
    }

    fn counts(&self) -> Result<Counts, StoreError> {
        self.store.counts(self.active.as_deref())
    }

    /// Unsent answers, or None when the store cannot be read.
    fn unsent(&self) -> Option<u32> {
        self.counts().ok().map(|c| c.unsent)
    }

    /// When the loop must wake by itself: a retry, or the deadline of waiting answers.
    fn next_wake(&self) -> Option<Instant> {
        if let Some(at) = self.retry_at {
            return Some(at);
        }
        let mut wake = self.first_unsent_seen.map(|t| t + self.config.send_after);
        if let Some(at) = self.exhausted_until {
            wake = Some(wake.map_or(at, |w| w.min(at)));
        }
        wake
    }

    fn due(&mut self) -> bool {
        let now = Instant::now();
        if self.retry_at.is_some_and(|at| now < at) {
            return false;
        }
        let Ok(counts) = self.counts() else {
            // The store cannot be read: try the sync anyway, which fails, reports why
            // and backs off; a busy store may have cleared by then.
            return true;
        };
        if counts.unsent == 0 {
            self.first_unsent_seen = None;
        } else if self.first_unsent_seen.is_none() {
            self.first_unsent_seen = Some(now);
        }
        if self.exhausted_until.is_some_and(|at| now >= at) {
            self.exhausted_until = None;
        }
        let low = self.active.is_some()
            && (counts.queued as usize) < self.config.plan.prefetch
            && self.exhausted_until.is_none();
        self.kicked
            || self.retry_at.is_some()
            || low
            || counts.unsent >= self.config.send_after_answers
            || self
                .first_unsent_seen
                .is_some_and(|t| now >= t + self.config.send_after)
    }

    async fn sync(&mut self) {
        self.kicked = false;
        let asked = std::mem::take(&mut self.asked);
        // "syncing" only while answers are on their way: a background top-up with nothing
        // to send must not redraw an idle screen.
        if self.link == Link::Online && self.unsent().is_some_and(|n| n > 0) {
            self.report(Link::Syncing, 0, None);
        }
        let active = self.active.as_deref();
        let result = if asked {
            sync_asked(&self.remote, &mut self.store, active, self.config.plan).await
        } else {
            sync_once(&self.remote, &mut self.store, active, self.config.plan).await
        };
        match result {
            Ok(outcome) => {
                self.failures = 0;
                self.retry_at = None;
                let (new_tasks, message) = match outcome {
                    SyncOutcome::Idle => {
                        self.exhausted_until = Some(Instant::now() + self.config.exhausted_retry);
                        (0, None)
                    }
                    SyncOutcome::Synced { applied, wanted } => {
                        if (applied.new_tasks as u32) < wanted {
                            self.exhausted_until =
                                Some(Instant::now() + self.config.exhausted_retry);
                        }
                        // New schemas: ask at once about their lessons and exams, which
                        // the server answers only for projects the request names.
                        if applied.schemas > 0 {
                            self.kicked = true;
                        }
                        if applied.training > 0 {
                            self.training += 1;
                        }
                        if applied.progress {
                            self.progress += 1;
                        }
                        let message = (!applied.refused.is_empty())
                            .then(|| {
                                format!(
                                    "{} answer(s) refused by the server: {}",
                                    applied.refused.len(),
                                    applied.refused[0]
                                )
                            })
                            .or_else(|| super::feedback_notice(&applied.feedback));
                        (applied.new_tasks, message)
                    }
                };
                self.first_unsent_seen = None;
                // The worker asked: say that the server was asked, even when it had nothing.
                let message = message.or_else(|| {
                    (asked && new_tasks == 0).then(|| "asked the server: no new tasks yet".into())
                });
                self.report(Link::Online, new_tasks, message);
                // More than one sync's worth waiting: go on at once.
                if self
                    .unsent()
                    .is_some_and(|n| n as usize >= crate::protocol::MAX_ANSWERS_PER_SYNC)
                {
                    self.kicked = true;
                }
            }
            Err(e) => {
                self.failures += 1;
                // A server of another protocol version, or one that signed this device
                // out, answers the same until someone acts: ask again only at the
                // longest backoff. Unsent answers stay in the outbox meanwhile.
                let wait = match &e {
                    SyncError::Remote(
                        RemoteError::Incompatible(_)
                        | RemoteError::SignedOut
                        | RemoteError::Paused(_),
                    ) => self.config.backoff_max,
                    _ => self.backoff(),
                };
                self.retry_at = Some(Instant::now() + wait);
                let message = match &e {
                    SyncError::Remote(RemoteError::Offline(_)) => None,
                    other => Some(other.to_string()),
                };
                self.report(Link::Offline, 0, message);
            }
        }
    }

    /// Exponential backoff with jitter: between half and all of min * 2^failures.
    fn backoff(&self) -> Duration {
        let exp = self.failures.saturating_sub(1).min(16);
        let full = self
            .config
            .backoff_min
            .saturating_mul(1 << exp)
            .min(self.config.backoff_max);
        let jitter = getrandom::u32().unwrap_or(u32::MAX / 2) as f64 / u32::MAX as f64;
        full.mul_f64(0.5 + 0.5 * jitter)
    }

    fn report(&mut self, link: Link, new_tasks: usize, message: Option<String>) {
        self.link = if link == Link::Syncing {
            Link::Online
        } else {
            link
        };
        let (counts, message) = match self.counts() {
            Ok(counts) => (Some(counts), message),
            Err(e) => {
                // Often the same failure the sync just met: say it once.
                let why = e.to_string();
                let message = match message {
                    Some(m) if m != why => format!("{m}; unsent answers unknown: {why}"),
                    _ => format!("unsent answers unknown: {why}"),
                };
                (None, Some(message))
            }
        };
        let status = SyncStatus {
            link,
            counts,
            new_tasks,
            message,
            training: self.training,
            progress: self.progress,
        };
        if self.last_reported.as_ref() != Some(&status) {
            (self.on_status)(status.clone());
            self.last_reported = Some(status);
        }
    }

    /// On quit: try to send what is unsent, within `wait`. A dropped connection is tried
    /// again after a pause: on a thin link one attempt in a few fails, and giving up at
    /// the first would leave answers behind that the wait had time for.
    async fn flush(&mut self, wait: Duration) -> Option<Counts> {
        let deadline = Instant::now() + wait;
        let mut pause = self.config.backoff_min;
        while self.unsent().is_some_and(|n| n > 0) && Instant::now() < deadline {
            // Only answers now: asking for tasks on the way out would lease them for nothing.
            let attempt = sync_once(&self.remote, &mut self.store, None, self.config.plan);
            match tokio::time::timeout_at(deadline, attempt).await {
                Ok(Ok(_)) => {}
                Ok(Err(SyncError::Remote(RemoteError::Offline(_)))) => {
                    tokio::time::sleep_until((Instant::now() + pause).min(deadline)).await;
                    pause = pause.saturating_mul(2);
                }
                // Refused, or out of time: trying again would not help.
                _ => break,
            }
        }
        self.counts().ok()
    }
}

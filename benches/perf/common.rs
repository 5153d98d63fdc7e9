//! What the benchmark's parts share: the figures report, a real queue server on loopback
//! (on SQLite, or on a given database URL), the products fixture, a cache filler for
//! client stores, a worker's session with its sync engine, a counting 80x24 terminal, and
//! small statistics.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

use kazi::client::{LocalStore, Profile, SyncConfig, SyncEngine, SyncStatus};
use kazi::model::{Project, Role};
use kazi::protocol::{Lease, SyncRequest, SyncResponse};
use kazi::server::{self, Clock, ServerConfig, Store, admin};
use kazi::tui::local::LocalSession as Session;
use kazi::tui::{App, Event, Keymap, Theme, render};

/// Figures as they are measured: printed at once as `name: value unit`, kept for the
/// verdicts at the end.
#[derive(Default)]
pub struct Report {
    figures: Vec<(String, f64, String)>,
}

impl Report {
    pub fn add(&mut self, name: &str, value: f64, unit: &str) {
        println!("{name}: {} {unit}", shown(value));
        self.figures.push((name.into(), value, unit.into()));
    }

    pub fn get(&self, name: &str) -> Option<f64> {
        self.figures
            .iter()
            .find(|(n, ..)| n == name)
            .map(|(_, v, _)| *v)
    }
}

/// Whole numbers for large values, one decimal for small ones.
pub fn shown(value: f64) -> String {
    if value.abs() >= 100.0 || value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// The `p`-quantile (0..=1) of `samples` (sorted here), by nearest rank.
pub fn quantile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub fn median(samples: &[f64]) -> f64 {
    quantile(samples, 0.5)
}

pub fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/projects")
        .join(name)
}

/// The products project of the fixtures, without its exam gate: the figures are of
/// production work, which a worker in the demo reaches after the exam.
pub fn products() -> Result<Project> {
    let path = fixture("products.toml");
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let mut project = Project::from_toml("products.toml", &text)?;
    project.requires_qualification = false;
    Ok(project)
}

/// The 381 product titles of the fixtures, in file order.
pub fn titles() -> Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Line {
        text: String,
    }
    let path = fixture("products.jsonl");
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Ok(serde_json::from_str::<Line>(l)?.text))
        .collect()
}

/// A queue server on SQLite in a temp dir, serving HTTP on 127.0.0.1:0 from its own tokio
/// runtime (two worker threads: this machine's cores).
pub struct BenchServer {
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl BenchServer {
    pub fn start(config: ServerConfig) -> Result<BenchServer> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite:{}", dir.path().join("server.db").display());
        BenchServer::start_on(&url, dir, config)
    }

    /// A server on the database at `url` (one of several instances on one PostgreSQL
    /// database, say); `dir` keeps its scratch files.
    pub fn start_on(
        url: &str,
        dir: tempfile::TempDir,
        config: ServerConfig,
    ) -> Result<BenchServer> {
        let store = server::open_store(url)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("bench-server")
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = store.clone();
        runtime.spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = server::serve(listener, serving, config, shutdown).await {
                eprintln!("bench server stopped: {e}");
            }
        });
        Ok(BenchServer {
            addr,
            store,
            dir,
            stop: Some(stop),
            runtime: Some(runtime),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn add_project(&self, project: &Project) -> Result<()> {
        admin::add_project(&*self.store, project)?;
        Ok(())
    }

    /// Import `count` tasks into `project`, titles taken in turn from `titles`.
    pub fn import(&self, project: &str, titles: &[String], count: usize) -> Result<()> {
        let mut jsonl = String::with_capacity(count * 64);
        for i in 0..count {
            let line = serde_json::json!({"id": format!("t{i}"), "text": titles[i % titles.len()]});
            jsonl.push_str(&line.to_string());
            jsonl.push('\n');
        }
        let path = self.dir.path().join(format!("{project}-{count}.jsonl"));
        std::fs::write(&path, jsonl)?;
        admin::import_tasks(&*self.store, project, &path, &mut |_, _| {})?;
        Ok(())
    }

    /// A new worker; returns their one-time enrolment code.
    pub fn add_worker(&self, name: &str) -> Result<String> {
        Ok(admin::add_user(
            &*self.store,
            name,
            Role::Worker,
            &Clock::system(),
        )?)
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

/// Put `count` leased tasks of `project` (ids from `first_id`, titles in turn) and its
/// schema into a client store, as one applied sync would.
pub fn fill_cache(
    store: &mut LocalStore,
    project: &Project,
    titles: &[String],
    count: usize,
    first_id: i64,
) -> Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let leases = (0..count)
        .map(|i| Lease {
            task: first_id + i as i64,
            project: project.name.clone(),
            text: titles[i % titles.len()].clone(),
            suggestion: None,
            expires: now + 3 * 86_400,
            clip: None,
        })
        .collect();
    cache_leases(store, project, leases, now)
}

/// Put `leases` of `project` and its schema into a client store, as one applied sync
/// at `now` (Unix seconds) would.
pub fn cache_leases(
    store: &mut LocalStore,
    project: &Project,
    leases: Vec<Lease>,
    now: i64,
) -> Result<()> {
    let response = SyncResponse {
        now,
        done_today: 0,
        leases,
        projects: vec![project.clone()],
        ..SyncResponse::default()
    };
    store.apply(&SyncRequest::default(), &response)?;
    Ok(())
}

/// A terminal's output stream that only counts what is written to it.
#[derive(Clone, Default)]
pub struct CountingSink {
    bytes: Arc<AtomicU64>,
}

impl CountingSink {
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The sync engine of `profile`, reporting into a channel.
pub fn start_engine(profile: &Profile) -> Result<(SyncEngine, mpsc::Receiver<SyncStatus>)> {
    let (tx, statuses) = mpsc::channel();
    let engine = SyncEngine::start(profile, SyncConfig::default(), move |s| {
        let _ = tx.send(s);
    })?;
    Ok((engine, statuses))
}

/// The worker screen on `project` at 80x24, as `kazi work --project NAME` opens it.
pub fn open_session<'a>(
    store: &'a mut LocalStore,
    engine: &'a SyncEngine,
    project: &str,
) -> Result<Session<'a>> {
    let projects = store.projects()?;
    let theme = Theme {
        color: true,
        ascii: false,
    };
    let mut session = kazi::tui::local::session(
        store,
        engine,
        Keymap::default(),
        theme,
        Some(project.into()),
        projects,
    );
    session.feed(Event::Resize(80, 24));
    Ok(session)
}

/// Hand the sync engine's reports to the session, as the real loop does between keys.
pub fn take_reports(session: &mut Session<'_>, statuses: &mpsc::Receiver<SyncStatus>) {
    while let Ok(status) = statuses.try_recv() {
        session.notice(status.into());
    }
}

/// Nothing on screen yet: wait a little for the sync engine's next report.
pub fn await_report(session: &mut Session<'_>, statuses: &mpsc::Receiver<SyncStatus>) {
    if let Ok(status) = statuses.recv_timeout(Duration::from_millis(200)) {
        session.notice(status.into());
    }
}

/// Stop the sync engine after its final flush; every `what` (answers, forms, ...) must
/// have been sent and taken.
pub fn flush(engine: SyncEngine, what: &str) -> Result<()> {
    let left = engine
        .shutdown(Duration::from_secs(10))
        .context("the sync engine did not stop")?;
    if left.unsent > 0 || left.refused > 0 {
        bail!(
            "{} {what} unsent and {} refused after the final flush",
            left.unsent,
            left.refused
        );
    }
    Ok(())
}

/// The worker's terminal: ratatui over crossterm at 80x24, into a byte counter.
pub struct CountingScreen {
    terminal: Terminal<CrosstermBackend<CountingSink>>,
    sink: CountingSink,
}

impl CountingScreen {
    pub fn new() -> Result<CountingScreen> {
        let sink = CountingSink::default();
        // Fixed at 80x24: a fullscreen viewport would ask a real terminal for its size.
        // The back buffer starts blank, as after the real screen's clear.
        let terminal = Terminal::with_options(
            CrosstermBackend::new(sink.clone()),
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
            },
        )?;
        Ok(CountingScreen { terminal, sink })
    }

    /// Bytes written to the terminal so far.
    pub fn bytes(&self) -> u64 {
        self.sink.bytes()
    }

    /// Draw when the App says something visible changed, as the real loop does.
    pub fn draw_if_needed(&mut self, session: &mut Session<'_>) -> Result<()> {
        self.draw_app(session.app_mut())
    }

    /// The same for an App without a session (fed the executor's events by hand).
    pub fn draw_app(&mut self, app: &mut App) -> Result<()> {
        if app.take_redraw() {
            self.terminal.draw(|f| render(app, f))?;
        }
        Ok(())
    }
}

/// Median time of a small write plus fdatasync in `dir`: what one durable commit costs
/// this disk at least.
pub fn fsync_us(dir: &Path, rounds: usize) -> Result<f64> {
    use std::os::fd::AsRawFd;
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path)?;
    let mut samples = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let start = Instant::now();
        file.write_all(format!("answer {i}\n").as_bytes())?;
        // SAFETY: the fd belongs to `file`, open for the whole call.
        if unsafe { libc::fdatasync(file.as_raw_fd()) } != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        samples.push(micros(start.elapsed()));
    }
    drop(file);
    let _ = std::fs::remove_file(&path);
    Ok(median(&samples))
}

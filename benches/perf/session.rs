//! A scripted worker at the real worker screen without a terminal: `Session` with a real
//! local store on disk, the real sync engine, and a ratatui terminal at 80x24 writing to a
//! counting sink. Online, every byte to and from the server crosses a counting proxy.
//! Gives the wire bytes (login to first task, per task), the time from an answer key to
//! the next frame, and the terminal bytes per key; then the same keys offline.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use kazi::client::{self, LocalStore, Profile, SyncStatus};
use kazi::model::{AnswerValue, Project, Role, Task};
use kazi::tui::local::LocalSession as Session;
use kazi::tui::{Event, Key};

use crate::common::{
    self, BenchServer, CountingScreen, Report, median, micros, open_session, quantile, start_engine,
};
use crate::link::{Faults, HostileLink};

/// Answers in the online session: most of the 381 fixture tasks, leaving the cache a margin.
const ONLINE_ANSWERS: usize = 330;
const OFFLINE_ANSWERS: usize = 300;
/// Time between keys, outside the measurement: slower than a sync round trip on loopback,
/// so the engine batches as it would for a person (who takes seconds per task).
const ONLINE_PACE: Duration = Duration::from_millis(20);
const OFFLINE_PACE: Duration = Duration::from_millis(2);

/// What one run of scripted keys measured.
struct KeyRun {
    /// Key to the end of the next frame's draw, per key.
    frame_us: Vec<f64>,
    /// The part of it spent in `feed` (the App, the store commit, the status counts).
    feed_us: Vec<f64>,
    /// Terminal bytes of that frame, per key.
    key_bytes: Vec<f64>,
    /// Terminal bytes drawn between keys because of sync reports (status line).
    between_bytes: u64,
    /// A bare answer commit in another store in the same directory, right after each
    /// key: what the disk charged at that moment.
    commit_us: Vec<f64>,
}

impl KeyRun {
    /// Key to frame less the paired commit: the part that is not the disk's.
    fn excl_commit_us(&self) -> f64 {
        let rest: Vec<f64> = self
            .frame_us
            .iter()
            .zip(&self.commit_us)
            .map(|(frame, commit)| (frame - commit).max(0.0))
            .collect();
        median(&rest)
    }
}

/// Answers committed to a store of their own beside the session's, to time the disk.
struct CommitProbe {
    store: LocalStore,
    tasks: Vec<Task>,
    value: AnswerValue,
}

impl CommitProbe {
    fn new(dir: &Path, project: &Project, titles: &[String], count: usize) -> Result<CommitProbe> {
        let mut store = LocalStore::open(&dir.join("commit-probe.db"))?;
        common::fill_cache(&mut store, project, titles, count, 1)?;
        let (mut tasks, _) = store.queued_tasks(&project.name, 0, count)?;
        tasks.reverse();
        Ok(CommitProbe {
            store,
            tasks,
            value: AnswerValue::Labels(vec![project.labels[0].id.clone()]),
        })
    }

    fn commit_us(&mut self) -> Result<f64> {
        let task = self.tasks.pop().context("commit probe ran out of tasks")?;
        let start = Instant::now();
        self.store.record_answer(&task, &self.value)?;
        Ok(micros(start.elapsed()))
    }
}

/// The label key for a task: spread over all labels, as real answers are.
fn label_key(project: &Project, task: &Task) -> char {
    let i = (task.id.unsigned_abs() as usize * 7 + 3) % project.labels.len();
    project.labels[i].key
}

/// Answer `count` tasks one key each, taking in sync reports between keys as the real
/// loop does.
fn answer_keys(
    session: &mut Session<'_>,
    screen: &mut CountingScreen,
    statuses: &mpsc::Receiver<SyncStatus>,
    project: &Project,
    probe: &mut CommitProbe,
    count: usize,
    pace: Duration,
) -> Result<KeyRun> {
    let mut run = KeyRun {
        frame_us: Vec::with_capacity(count),
        feed_us: Vec::with_capacity(count),
        key_bytes: Vec::with_capacity(count),
        between_bytes: 0,
        commit_us: Vec::with_capacity(count),
    };
    for n in 0..count {
        let before_between = screen.bytes();
        while let Ok(status) = statuses.try_recv() {
            session.notice(status.into());
        }
        screen.draw_if_needed(session)?;
        run.between_bytes += screen.bytes() - before_between;
        let Some(current) = session.app().classify().and_then(|c| c.current()) else {
            bail!("no task on screen after {n} answers; the cache ran dry");
        };
        let key = Key::char(label_key(project, &current.task));
        let bytes = screen.bytes();

        let start = Instant::now();
        session.feed(Event::Key(key));
        let fed = start.elapsed();
        screen.draw_if_needed(session)?;
        let frame = start.elapsed();

        if let Some(message) = session.app().message() {
            bail!("key {n} ({key}) did not answer: {message}");
        }
        run.frame_us.push(micros(frame));
        run.feed_us.push(micros(fed));
        run.key_bytes.push((screen.bytes() - bytes) as f64);
        run.commit_us.push(probe.commit_us()?);
        std::thread::sleep(pace);
    }
    Ok(run)
}

/// Online: log in through the counting proxy, work `ONLINE_ANSWERS` tasks, quit.
pub fn online(report: &mut Report, titles: &[String]) -> Result<()> {
    let project = common::products()?;
    let server = BenchServer::start(kazi::server::ServerConfig::default())?;
    server.add_project(&project)?;
    server.import(&project.name, titles, titles.len())?;
    let code = server.add_worker("amina")?;
    let link = HostileLink::start(server.addr, Faults::clean());
    let wire = || link.bytes_up() + link.bytes_down();

    let home = tempfile::tempdir()?;
    report.add("fsync_us", common::fsync_us(home.path(), 50)?, "us");
    let mut probe = CommitProbe::new(home.path(), &project, titles, ONLINE_ANSWERS)?;
    let profile = client::login(home.path(), "default", &link.url(), "amina", &code)?;
    let after_login = wire();

    // As `kazi work --project products` runs on a fresh device.
    let mut store = LocalStore::open(&profile.db_path())?;
    let (engine, statuses) = start_engine(&profile)?;
    let mut screen = CountingScreen::new()?;
    let mut session = open_session(&mut store, &engine, &project.name)?;
    screen.draw_if_needed(&mut session)?;
    let waiting = Instant::now();
    let mut syncs_to_first = 0;
    while session.app().classify().and_then(|c| c.current()).is_none() {
        let status = statuses
            .recv_timeout(Duration::from_secs(10))
            .context("no task arrived within 10 s of starting")?;
        if status.link != client::Link::Syncing {
            syncs_to_first += 1;
        }
        session.notice(status.into());
        screen.draw_if_needed(&mut session)?;
    }
    let first_task_ms = waiting.elapsed().as_secs_f64() * 1e3;
    let to_first_task = wire();
    report.add(
        "wire_bytes_login_to_first_task",
        to_first_task as f64,
        "bytes",
    );
    println!(
        "  login {after_login} B + {} B in {syncs_to_first} sync(s) until the first task was on screen ({first_task_ms:.0} ms after start)",
        to_first_task - after_login
    );

    let run = answer_keys(
        &mut session,
        &mut screen,
        &statuses,
        &project,
        &mut probe,
        ONLINE_ANSWERS,
        ONLINE_PACE,
    )?;
    drop(session);
    let left = engine
        .shutdown(Duration::from_secs(10))
        .context("the sync engine did not stop")?;
    if left.unsent > 0 || left.refused > 0 {
        bail!(
            "after the final flush {} answers are unsent and {} refused: {:?}",
            left.unsent,
            left.refused,
            store.refused(3)?
        );
    }
    let session_bytes = wire() - after_login;
    report.add(
        "wire_bytes_per_task",
        session_bytes as f64 / ONLINE_ANSWERS as f64,
        "bytes",
    );
    println!(
        "  {session_bytes} B both ways ({} B up, {} B down, login excluded) for {ONLINE_ANSWERS} answers, final flush included; {} TCP connection(s)",
        link.bytes_up(),
        link.bytes_down(),
        link.connections()
    );
    let stored = count_answers(&server, "amina")?;
    if stored != ONLINE_ANSWERS {
        bail!("the server holds {stored} answers of {ONLINE_ANSWERS} given");
    }

    report.add("answer_to_next_frame_us", median(&run.frame_us), "us");
    report.add(
        "answer_to_next_frame_p99_us",
        quantile(&run.frame_us, 0.99),
        "us",
    );
    report.add("terminal_bytes_per_key", median(&run.key_bytes), "bytes");
    println!(
        "  feed (App + store commit + counts) median {:.0} us; terminal bytes per key p99 {:.0}, plus {:.1} per key redrawn for sync reports",
        median(&run.feed_us),
        quantile(&run.key_bytes, 0.99),
        run.between_bytes as f64 / ONLINE_ANSWERS as f64
    );

    report.add("store_commit_us", median(&run.commit_us), "us");
    report.add(
        "answer_to_next_frame_excl_commit_us",
        run.excl_commit_us(),
        "us",
    );
    Ok(())
}

fn count_answers(server: &BenchServer, user: &str) -> Result<usize> {
    let db = rusqlite::Connection::open(server.dir.path().join("server.db"))?;
    let n: i64 = db.query_row(
        "SELECT count(*) FROM answers a JOIN users u ON u.id = a.user_id WHERE u.name = ?1",
        [user],
        |r| r.get(0),
    )?;
    Ok(n as usize)
}

/// Offline: the same keys with the server unreachable, from a cache filled earlier.
pub fn offline(report: &mut Report, titles: &[String]) -> Result<()> {
    let project = common::products()?;
    let home = tempfile::tempdir()?;
    // A port that was free a moment ago: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let profile = Profile {
        name: "offline".into(),
        dir: home.path().join("offline"),
        server: format!("http://{closed}"),
        user: "amina".into(),
        role: Role::Worker,
        token: "no-server-will-see-this".into(),
        prefetch: kazi::client::DEFAULT_PREFETCH,
    };
    let mut probe = CommitProbe::new(home.path(), &project, titles, OFFLINE_ANSWERS)?;
    let mut store = LocalStore::open(&profile.db_path())?;
    common::fill_cache(&mut store, &project, titles, OFFLINE_ANSWERS + 60, 1)?;
    let (engine, statuses) = start_engine(&profile)?;
    let mut screen = CountingScreen::new()?;
    let mut session = open_session(&mut store, &engine, &project.name)?;
    screen.draw_if_needed(&mut session)?;
    // Let the engine find the link down first, as a worker starting offline would.
    if let Ok(status) = statuses.recv_timeout(Duration::from_secs(5)) {
        session.notice(status.into());
    }
    let run = answer_keys(
        &mut session,
        &mut screen,
        &statuses,
        &project,
        &mut probe,
        OFFLINE_ANSWERS,
        OFFLINE_PACE,
    )?;
    if session.app().status().link != kazi::tui::Link::Offline {
        bail!("the offline session did not show the link as offline");
    }
    drop(session);
    let left = engine.shutdown(Duration::from_millis(200));
    if left.is_some_and(|c| c.unsent as usize != OFFLINE_ANSWERS) {
        bail!("offline answers were not all kept as unsent");
    }
    report.add(
        "answer_to_next_frame_offline_us",
        median(&run.frame_us),
        "us",
    );
    report.add(
        "answer_to_next_frame_offline_p99_us",
        quantile(&run.frame_us, 0.99),
        "us",
    );
    report.add(
        "answer_to_next_frame_offline_excl_commit_us",
        run.excl_commit_us(),
        "us",
    );
    report.add(
        "terminal_bytes_per_key_offline",
        median(&run.key_bytes),
        "bytes",
    );
    Ok(())
}

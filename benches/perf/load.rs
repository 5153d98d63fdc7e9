//! The server under load, in process on loopback, driven by simulated clients that speak
//! the real client's protocol (`client::Remote`: zstd bodies, keep-alive): answers accepted
//! per second beside a raw SQLite insert loop of the same durability, and sync latency
//! with 1,000 clients at worker pace. One tokio thread drives all clients; it shares the
//! machine's two cores with the server.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use kazi::client::{Remote, RemoteError};
use kazi::model::{AnswerValue, Project};
use kazi::protocol::{AckStatus, AnswerUpload, LoginRequest, SyncRequest, Want};
use kazi::server::ServerConfig;

use crate::common::{self, BenchServer, Report, median, quantile};

const RAW_SECS: f64 = 3.0;
const THROUGHPUT_CLIENTS: usize = 64;
const THROUGHPUT_SECS: f64 = 5.0;
const THROUGHPUT_TASKS: usize = 30_000;
const FLEET: usize = 1_000;
const FLEET_TASKS: usize = 12_000;
/// Each simulated worker syncs once per period (10 answers, wanting 10 more).
const FLEET_PERIOD: Duration = Duration::from_secs(10);
const FLEET_ROUNDS: u32 = 2;
const PER_SYNC: u32 = 10;

/// One commit per insert, WAL, synchronous=FULL: what the server's durability costs
/// without any batching.
fn raw_sqlite_inserts(dir: &std::path::Path) -> Result<f64> {
    let conn = rusqlite::Connection::open(dir.join("raw.db"))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    anyhow::ensure!(mode.eq_ignore_ascii_case("wal"), "raw loop: no WAL mode");
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         CREATE TABLE answers (id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL,
             client_id INTEGER NOT NULL, task_id INTEGER NOT NULL, user_id INTEGER NOT NULL,
             value TEXT NOT NULL, at INTEGER NOT NULL, UNIQUE (device_id, client_id));",
    )?;
    let mut insert = conn.prepare(
        "INSERT INTO answers (device_id, client_id, task_id, user_id, value, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let start = Instant::now();
    let mut n: i64 = 0;
    while start.elapsed().as_secs_f64() < RAW_SECS {
        n += 1;
        insert.execute(rusqlite::params![
            n % 64,
            n,
            n,
            n % 64,
            r#"{"labels":["food"]}"#,
            n
        ])?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// A simulated worker: its device token's connection, the leases it holds and the
/// answers it has not had acknowledged.
struct SimClient {
    remote: Remote,
    known: BTreeMap<String, String>,
    project: String,
    label: String,
    held: Vec<i64>,
    unsent: Vec<AnswerUpload>,
    next_id: u64,
    /// The last reply applied, as a real client tracks it.
    seen: u64,
}

/// What one sync did.
struct SyncResult {
    latency: Duration,
    accepted: usize,
    error: Option<RemoteError>,
}

impl SimClient {
    fn new(base: &str, token: &str, project: &Project, know_schema: bool) -> Result<SimClient> {
        let known = if know_schema {
            [(project.name.clone(), project.version())].into()
        } else {
            BTreeMap::new()
        };
        Ok(SimClient {
            remote: Remote::new(base, token)?,
            known,
            project: project.name.clone(),
            label: project.labels[0].id.clone(),
            held: Vec::new(),
            unsent: Vec::new(),
            next_id: 1,
            seen: 0,
        })
    }

    /// Answer every held task and ask for `want` more, in one sync.
    async fn sync(&mut self, want: u32) -> SyncResult {
        for task in self.held.drain(..) {
            self.unsent.push(AnswerUpload {
                id: self.next_id,
                task,
                value: AnswerValue::Labels(vec![self.label.clone()]),
                ago: 0,
                replaces: None,
            });
            self.next_id += 1;
        }
        let request = SyncRequest {
            answers: self.unsent.clone(),
            released: Vec::new(),
            want: vec![Want {
                project: self.project.clone(),
                count: want,
            }],
            known: self.known.clone(),
            seen: Some(self.seen),
            kinds: Vec::new(),
            ..SyncRequest::default()
        };
        let start = Instant::now();
        let reply = self.remote.sync(&request).await;
        let latency = start.elapsed();
        match reply {
            Ok(response) => {
                self.unsent.clear();
                self.seen = self.seen.max(response.reply);
                for p in &response.projects {
                    self.known.insert(p.name.clone(), p.version());
                }
                self.held = response.leases.iter().map(|l| l.task).collect();
                let accepted = response
                    .acks
                    .iter()
                    .filter(|a| a.status == AckStatus::Ok)
                    .count();
                SyncResult {
                    latency,
                    accepted,
                    error: None,
                }
            }
            // Unacknowledged answers go again in the next sync, as the real client does.
            Err(e) => SyncResult {
                latency,
                accepted: 0,
                error: Some(e),
            },
        }
    }
}

/// Log in `count` new workers (created concurrently, so the writer batches them).
fn enrol(server: &BenchServer, rt: &tokio::runtime::Runtime, count: usize) -> Result<Vec<String>> {
    let codes: Vec<(String, String)> = std::thread::scope(|s| {
        let chunks: Vec<_> = (0..8)
            .map(|t| {
                s.spawn(move || {
                    (t..count)
                        .step_by(8)
                        .map(|i| {
                            let name = format!("w{i:04}");
                            server.add_worker(&name).map(|code| (name, code))
                        })
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        chunks
            .into_iter()
            .map(|h| h.join().expect("enrol thread"))
            .collect::<Result<Vec<_>>>()
            .map(|v| v.into_iter().flatten().collect())
    })?;
    let base = server.url();
    rt.block_on(async move {
        let gate = Arc::new(Semaphore::new(32));
        let anonymous = Remote::new(&base, "")?;
        let mut logins = JoinSet::new();
        for (i, (user, code)) in codes.into_iter().enumerate() {
            let (gate, remote) = (gate.clone(), anonymous.clone());
            logins.spawn(async move {
                let _permit = gate.acquire().await;
                let request = LoginRequest {
                    user,
                    code,
                    device: "bench".into(),
                };
                remote.login(&request).await.map(|r| (i, r.token))
            });
        }
        let mut tokens = vec![String::new(); count];
        while let Some(done) = logins.join_next().await {
            let (i, token) = done??;
            tokens[i] = token;
        }
        Ok(tokens)
    })
}

fn load_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Raw SQLite beside the server's accepted answers per second, many clients at once.
pub fn throughput(report: &mut Report, titles: &[String]) -> Result<()> {
    let server = BenchServer::start(unlimited())?;
    let raw = raw_sqlite_inserts(server.dir.path())?;
    let per_s = answers_per_s(&server, &server.url(), titles)?;
    report.add("server_answers_per_s", per_s, "answers/s");
    report.add("raw_sqlite_inserts_per_s", raw, "inserts/s");
    println!("  server/raw {:.0}%", 100.0 * per_s / raw);
    Ok(())
}

/// The per-user limit (10 syncs/s) guards against runaway clients; the throughput
/// clients stand for many people and sync back to back, so it is lifted.
pub fn unlimited() -> ServerConfig {
    let mut config = ServerConfig::default();
    config.sync_limit.per_sec = 1e6;
    config.sync_limit.burst = 1_000_000;
    config
}

/// Answers accepted per second from `THROUGHPUT_CLIENTS` clients syncing back to back
/// through `base`; the project, tasks and workers are set up through `setup`.
pub fn answers_per_s(setup: &BenchServer, base: &str, titles: &[String]) -> Result<f64> {
    let project = common::products()?;
    setup.add_project(&project)?;
    setup.import(&project.name, titles, THROUGHPUT_TASKS)?;
    let rt = load_runtime()?;
    let tokens = enrol(setup, &rt, THROUGHPUT_CLIENTS)?;
    let (accepted, syncs, errors, elapsed) = rt.block_on(async {
        let mut clients = Vec::new();
        for token in &tokens {
            let mut client = SimClient::new(base, token, &project, true)?;
            // Warm-up: the first leases and the connection.
            client.sync(PER_SYNC).await;
            clients.push(client);
        }
        let start = Instant::now();
        let end = start + Duration::from_secs_f64(THROUGHPUT_SECS);
        let mut running = JoinSet::new();
        for mut client in clients {
            running.spawn(async move {
                let (mut accepted, mut syncs, mut errors) = (0, 0, 0);
                while Instant::now() < end {
                    let result = client.sync(PER_SYNC).await;
                    if Instant::now() > end {
                        break;
                    }
                    syncs += 1;
                    accepted += result.accepted;
                    errors += usize::from(result.error.is_some());
                }
                (accepted, syncs, errors)
            });
        }
        let (mut accepted, mut syncs, mut errors) = (0, 0, 0);
        while let Some(done) = running.join_next().await {
            let (a, s, e) = done?;
            accepted += a;
            syncs += s;
            errors += e;
        }
        anyhow::Ok((accepted, syncs, errors, start.elapsed().min(end - start)))
    })?;
    println!(
        "  {THROUGHPUT_CLIENTS} clients, {syncs} syncs of {PER_SYNC} answers in {:.1} s, {errors} failed syncs",
        elapsed.as_secs_f64()
    );
    Ok(accepted as f64 / elapsed.as_secs_f64())
}

/// 1,000 workers, each syncing once per `FLEET_PERIOD` at its own phase.
pub fn fleet(report: &mut Report, titles: &[String]) -> Result<()> {
    let server = BenchServer::start(ServerConfig::default())?;
    let steady = sync_latencies(&server, &server.url(), titles)?;
    report.add("sync_p50_ms", median(&steady), "ms");
    report.add("sync_p99_ms", quantile(&steady, 0.99), "ms");
    Ok(())
}

/// Steady-state sync latencies (ms) of `FLEET` workers syncing at worker pace through
/// `base`; the project, tasks and workers are set up through `setup`.
pub fn sync_latencies(setup: &BenchServer, base: &str, titles: &[String]) -> Result<Vec<f64>> {
    let project = common::products()?;
    setup.add_project(&project)?;
    setup.import(&project.name, titles, FLEET_TASKS)?;
    let rt = load_runtime()?;
    let started = Instant::now();
    let tokens = enrol(setup, &rt, FLEET)?;
    println!(
        "  {FLEET} workers created and logged in in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // A fresh device each: the first sync also brings the schema. Built before the clock
    // starts: setting up HTTP takes milliseconds per client.
    let clients = tokens
        .iter()
        .map(|token| SimClient::new(base, token, &project, false))
        .collect::<Result<Vec<_>>>()?;
    let (first, steady, errors) = rt.block_on(async {
        let start = tokio::time::Instant::now();
        let mut running = JoinSet::new();
        for (i, mut client) in clients.into_iter().enumerate() {
            let phase = FLEET_PERIOD.mul_f64(i as f64 / FLEET as f64);
            running.spawn(async move {
                let mut first = Vec::new();
                let mut steady = Vec::new();
                let mut errors = Vec::new();
                for round in 0..=FLEET_ROUNDS {
                    tokio::time::sleep_until(start + phase + FLEET_PERIOD * round).await;
                    let result = client.sync(PER_SYNC).await;
                    let ms = result.latency.as_secs_f64() * 1e3;
                    if round == 0 { &mut first } else { &mut steady }.push(ms);
                    errors.extend(result.error.map(|e| e.to_string()));
                }
                (first, steady, errors)
            });
        }
        let (mut first, mut steady, mut errors) = (Vec::new(), Vec::new(), Vec::new());
        while let Some(done) = running.join_next().await {
            let (f, s, e) = done.context("a simulated client failed")?;
            first.extend(f);
            steady.extend(s);
            errors.extend(e);
        }
        anyhow::Ok((first, steady, errors))
    })?;
    println!(
        "  {} steady syncs ({PER_SYNC} answers + {PER_SYNC} wanted, {:.0}/s), {} over 100 ms, max {:.1} ms; first syncs (schema + leases) p50 {:.1} ms p99 {:.1} ms; {} failed{}",
        steady.len(),
        FLEET as f64 / FLEET_PERIOD.as_secs_f64(),
        steady.iter().filter(|&&ms| ms > 100.0).count(),
        quantile(&steady, 1.0),
        median(&first),
        quantile(&first, 0.99),
        errors.len(),
        errors
            .first()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
    Ok(steady)
}

const ABUSE_WORKERS: usize = 50;
const ABUSE_CONNECTIONS: usize = 8;
const ABUSE_SECS: u64 = 10;
const ABUSE_PERIOD: Duration = Duration::from_secs(1);

/// The costliest sync one account can send within the limits: every list full, every
/// answer for a task that does not exist, unknown projects, all its leases resent.
fn worst_allowed_sync() -> SyncRequest {
    use kazi::protocol::{
        MAX_ANSWERS_PER_SYNC, MAX_KINDS_ENTRIES, MAX_KNOWN_ENTRIES, MAX_WANT_ENTRIES,
    };
    SyncRequest {
        // The progress summary too: a bounded read of the account's own weeks.
        progress: true,
        answers: (0..MAX_ANSWERS_PER_SYNC as u64)
            .map(|i| AnswerUpload {
                id: 1_000_000 + i,
                task: 9_000_000 + i as i64,
                value: AnswerValue::Labels(vec!["x".into()]),
                ago: 0,
                replaces: None,
            })
            .collect(),
        released: (0..MAX_ANSWERS_PER_SYNC as i64).collect(),
        want: (0..MAX_WANT_ENTRIES)
            .map(|i| Want {
                project: format!("nope-{i}"),
                count: 3,
            })
            .collect(),
        known: (0..MAX_KNOWN_ENTRIES)
            .map(|i| (format!("gone-{i}"), "0123456789abcdef".into()))
            .collect(),
        kinds: (0..MAX_KINDS_ENTRIES)
            .map(|i| format!("kind-{i}"))
            .collect(),
        seen: Some(0),
        feedback_seen: Some(0),
        counts: true,
        reports: (0..kazi::protocol::MAX_REPORTS_PER_SYNC as u64)
            .map(|i| kazi::protocol::Report {
                id: i,
                task: 9_000_000 + i as i64,
                kind: kazi::protocol::ReportKind::Flag(kazi::protocol::FlagReason::Other),
                note: "n".repeat(kazi::protocol::MAX_REPORT_NOTE_CHARS),
            })
            .collect(),
        lessons: Some(
            (0..kazi::protocol::MAX_EXAM_ENTRIES)
                .map(|i| (format!("gone-{i}"), "v".repeat(16)))
                .collect(),
        ),
        exams: (0..kazi::protocol::MAX_EXAM_ENTRIES)
            .map(|i| format!("nope-{i}"))
            .collect(),
        exam_answers: (0..kazi::protocol::MAX_EXAM_SUBMISSIONS as i64)
            .map(|i| kazi::protocol::ExamSubmission {
                attempt: 9_000_000 + i,
                answers: (0..kazi::protocol::MAX_EXAM_ANSWERS as i64)
                    .map(|item| kazi::protocol::ExamAnswer {
                        item,
                        value: kazi::model::AnswerValue::Labels(vec!["food".into()]),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The sync that once held the writer for 86 s: 200,000 distinct project names.
fn name_flood() -> SyncRequest {
    SyncRequest {
        want: (0..200_000)
            .map(|i| Want {
                project: format!("p{i}"),
                count: 0,
            })
            .collect(),
        ..SyncRequest::default()
    }
}

/// One account sending `bodies` in turn from `connections` connections at once until
/// `end`, on its own thread (as another machine would): the bodies are compressed once,
/// so the abuser's own CPU stays out of the way. Counts of replies by status class.
fn abuser(
    base: String,
    token: String,
    bodies: Vec<Vec<u8>>,
    connections: usize,
    end: Instant,
) -> std::thread::JoinHandle<Result<(usize, usize)>> {
    std::thread::spawn(move || {
        let rt = load_runtime()?;
        rt.block_on(async move {
            let http = reqwest::Client::new();
            let url = format!("{base}{}", kazi::protocol::SYNC_PATH);
            let mut running = JoinSet::new();
            for i in 0..connections {
                let (http, url, token) = (http.clone(), url.clone(), token.clone());
                let body = bodies[i % bodies.len()].clone();
                running.spawn(async move {
                    let (mut served, mut refused) = (0usize, 0usize);
                    while Instant::now() < end {
                        let sent = http
                            .post(&url)
                            .header("authorization", format!("Bearer {token}"))
                            .header("content-encoding", "zstd")
                            .header("accept-encoding", "zstd")
                            .header(
                                kazi::protocol::PROTOCOL_HEADER,
                                kazi::protocol::PROTOCOL_VERSION,
                            )
                            .body(body.clone())
                            .send()
                            .await;
                        match sent {
                            Ok(r) if r.status().is_success() => {
                                let _ = r.bytes().await;
                                served += 1;
                            }
                            Ok(r) => {
                                let _ = r.bytes().await;
                                refused += 1;
                            }
                            Err(_) => refused += 1,
                        }
                    }
                    (served, refused)
                });
            }
            let (mut served, mut refused) = (0, 0);
            while let Some(done) = running.join_next().await {
                let (s, r) = done?;
                served += s;
                refused += r;
            }
            Ok((served, refused))
        })
    })
}

/// Sync latency of ordinary workers while one account sends its worst, from several
/// connections at once, as fast as the server answers it.
pub fn abuse(report: &mut Report, titles: &[String]) -> Result<()> {
    use kazi::protocol::{Encoding, encode};
    let project = common::products()?;
    // The abuser's own rate limit would shed most of its syncs cheaply; lifted, every
    // one of them reaches the server's decoding and store: the harder case.
    let mut config = ServerConfig::default();
    config.sync_limit.per_sec = 1e6;
    config.sync_limit.burst = 1_000_000;
    let server = BenchServer::start(config)?;
    server.add_project(&project)?;
    server.import(&project.name, titles, 5_000)?;
    let rt = load_runtime()?;
    let tokens = enrol(&server, &rt, ABUSE_WORKERS + 1)?;
    let base = server.url();
    let (mallory, workers) = tokens.split_first().context("no tokens")?;
    // The abuser first takes all the leases its cap allows, so each worst sync resends
    // them.
    rt.block_on(async {
        let mut greedy = SimClient::new(&base, mallory, &project, false)?;
        for _ in 0..5 {
            greedy.sync(kazi::protocol::MAX_WANT_PER_SYNC).await;
        }
        anyhow::Ok(())
    })?;
    let bodies = vec![
        encode(&worst_allowed_sync(), Encoding::Zstd),
        encode(&name_flood(), Encoding::Zstd),
    ];
    let end = Instant::now() + Duration::from_secs(ABUSE_SECS + 1);
    let abusing = abuser(
        base.clone(),
        mallory.clone(),
        bodies,
        ABUSE_CONNECTIONS,
        end,
    );
    let (steady, errors) = rt.block_on(async {
        let mut clients = Vec::new();
        for token in workers {
            clients.push(SimClient::new(&base, token, &project, true)?);
        }
        let start = tokio::time::Instant::now();
        let mut running = JoinSet::new();
        for (i, mut client) in clients.into_iter().enumerate() {
            let phase = ABUSE_PERIOD.mul_f64(i as f64 / ABUSE_WORKERS as f64);
            running.spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                for round in 0..ABUSE_SECS as u32 {
                    tokio::time::sleep_until(start + phase + ABUSE_PERIOD * round).await;
                    let result = client.sync(PER_SYNC).await;
                    latencies.push(result.latency.as_secs_f64() * 1e3);
                    errors += usize::from(result.error.is_some());
                }
                (latencies, errors)
            });
        }
        let (mut steady, mut errors) = (Vec::new(), 0);
        while let Some(done) = running.join_next().await {
            let (l, e) = done?;
            steady.extend(l);
            errors += e;
        }
        anyhow::Ok((steady, errors))
    })?;
    let (abusive, refused) = abusing
        .join()
        .map_err(|_| anyhow::anyhow!("the abuser thread panicked"))??;
    report.add("sync_p99_ms_under_abuse", quantile(&steady, 0.99), "ms");
    println!(
        "  {} worker syncs (p50 {:.1} ms, max {:.1} ms, {errors} failed) beside {abusive} worst allowed syncs served and {refused} refused (worst allowed and 200,000-name floods), from {ABUSE_CONNECTIONS} connections of one account",
        steady.len(),
        median(&steady),
        quantile(&steady, 1.0),
    );
    Ok(())
}

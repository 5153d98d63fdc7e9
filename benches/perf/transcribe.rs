//! Transcription at the real worker screen: a scripted typist takes each of the fixture's
//! clips, clears the machine draft word by word and types the reference transcript key
//! by key, then submits, through `Session` with a real store and the real sync engine
//! at 80x24. Gives the terminal bytes per typed character and the time from submit to
//! the next frame; then the resident memory of the real `kazi work` process with 200
//! clips in its cache and a transcribe task open.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use kazi::client::{self, LocalStore};
use kazi::media;
use kazi::model::{ClipRef, Project};
use kazi::protocol::Lease;
use kazi::tui::{Event, Key};

use crate::common::{
    self, BenchServer, CountingScreen, Report, await_report, median, micros, open_session,
    start_engine, take_reports,
};

/// Keys one clip may take before the typist is deemed stuck.
const MAX_KEYS_PER_TASK: usize = 2_000;
/// Clips in the cache of the process whose memory is measured.
const CACHED_CLIPS: usize = 200;
/// Runs of the memory measurement (the median is the figure).
const RSS_RUNS: usize = 3;

pub fn run(report: &mut Report, _titles: &[String]) -> Result<()> {
    let toml = std::fs::read_to_string(common::fixture("sauti.toml"))?;
    let mut project = Project::from_toml("sauti.toml", &toml)?;
    // Every clip typed, in import order: the reference file has every transcript.
    project.gold_rate = 0.0;
    let rows: Vec<serde_json::Value> =
        std::fs::read_to_string(common::fixture("reference/sauti.jsonl"))?
            .lines()
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()?;
    let server = BenchServer::start(kazi::server::ServerConfig::default())?;
    server.add_project(&project)?;
    kazi::server::admin::import_tasks(
        &*server.store,
        "sauti",
        &common::fixture("reference/sauti.jsonl"),
        &mut |_, _| {},
    )?;
    let code = server.add_worker("amina")?;
    let home = tempfile::tempdir()?;
    let profile = client::login(home.path(), "default", &server.url(), "amina", &code)?;
    let mut store = LocalStore::open(&profile.db_path())?;
    let (engine, statuses) = start_engine(&profile)?;
    let mut session = open_session(&mut store, &engine, "sauti")?;
    let mut screen = CountingScreen::new()?;
    // Each fixture clip's draft is its own, so it finds the row and its reference.
    let gold_of = |draft: Option<&str>| -> Option<String> {
        rows.iter()
            .find(|r| r["draft"].as_str() == draft)
            .and_then(|r| r["gold"].as_str())
            .map(str::to_string)
    };
    let (ctrl_w, ctrl_end, ctrl_s) = (
        Key::parse("ctrl-w")?,
        Key::parse("ctrl-end")?,
        Key::parse("ctrl-s")?,
    );
    let (mut char_bytes, mut submit_us) = (Vec::new(), Vec::new());
    let mut done = 0;
    let waiting = Instant::now();
    while done < rows.len() {
        take_reports(&mut session, &statuses);
        screen.draw_if_needed(&mut session)?;
        let Some(current) = session.app().transcribe().and_then(|s| s.current()) else {
            if waiting.elapsed() > Duration::from_secs(30) {
                bail!("no clip on screen after {done} were typed");
            }
            await_report(&mut session, &statuses);
            continue;
        };
        let task = current.task.id;
        let gold = gold_of(current.task.draft()).context("a clip that is not in the fixture")?;
        session.feed(Event::Key(ctrl_end));
        screen.draw_if_needed(&mut session)?;
        for _ in 0..MAX_KEYS_PER_TASK {
            let current = session
                .app()
                .transcribe()
                .and_then(|s| s.current())
                .context("the clip went away mid-typing")?;
            let have = current.area.text().to_string();
            let (key, typed) = if !gold.starts_with(&have) {
                (ctrl_w, false)
            } else if let Some(c) = gold[have.len()..].chars().next() {
                (Key::char(c), true)
            } else {
                (ctrl_s, false)
            };
            let before = screen.bytes();
            let start = Instant::now();
            session.feed(Event::Key(key));
            screen.draw_if_needed(&mut session)?;
            let took = start.elapsed();
            if typed {
                char_bytes.push((screen.bytes() - before) as f64);
            }
            if key == ctrl_s {
                let now = session
                    .app()
                    .transcribe()
                    .and_then(|s| s.current())
                    .map(|c| c.task.id);
                if now == Some(task) {
                    bail!(
                        "clip {task} was not sent: {}",
                        session.app().message().unwrap_or("no reason shown")
                    );
                }
                submit_us.push(micros(took));
                done += 1;
                break;
            }
        }
    }
    drop(session);
    common::flush(engine, "transcripts")?;
    report.add(
        "typing_terminal_bytes_per_char_transcript",
        median(&char_bytes),
        "bytes",
    );
    report.add(
        "answer_to_next_frame_transcript_us",
        median(&submit_us),
        "us",
    );
    println!(
        "  {done} clips, {} characters typed; terminal bytes per character p90 {:.0}",
        char_bytes.len(),
        common::quantile(&char_bytes, 0.9)
    );
    client_rss(report, &project, &server, &rows)
}

/// `kazi work` on the transcribe project in a pseudo-terminal at 80x24, its profile
/// holding `CACHED_CLIPS` tasks each with its own clip in the cache (the fixture's clips,
/// each at a few loudnesses: distinct files), the first task on screen with its clip
/// loaded: resident memory once settled, from /proc.
fn client_rss(
    report: &mut Report,
    project: &Project,
    server: &BenchServer,
    rows: &[serde_json::Value],
) -> Result<()> {
    let binary = crate::process::kazi_binary()?;
    let code = server.add_worker("rehema")?;
    let home = tempfile::tempdir()?;
    let profile = client::login(home.path(), "bench", &server.url(), "rehema", &code)?;
    let mut sources = Vec::with_capacity(rows.len());
    for row in rows {
        let audio = row["audio"]
            .as_str()
            .context("a fixture row without audio")?;
        let clip = media::ingest(&common::fixture("reference").join(audio))?;
        sources.push(media::decode_wire(&clip.wire)?);
    }
    let mut store = LocalStore::open(&profile.db_path())?;
    let cache = store.clip_cache();
    std::fs::create_dir_all(cache.dir())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let mut leases = Vec::with_capacity(CACHED_CLIPS);
    for i in 0..CACHED_CLIPS {
        let source = &sources[i % sources.len()];
        let gain = 1.0 - 0.03 * (i / sources.len()) as f32;
        let pcm = media::Pcm {
            rate: source.rate,
            samples: source.samples.iter().map(|s| s * gain).collect(),
        };
        let wire = media::encode_wire(&pcm);
        let clip = ClipRef {
            hash: media::clip_hash(&wire),
            bytes: wire.len() as u64,
            ms: pcm.duration_ms(),
        };
        std::fs::write(cache.dir().join(&clip.hash), &wire)?;
        leases.push(Lease {
            // Ids far from the server's: these tasks are only shown, never answered here.
            task: 2_000_000 + i as i64,
            project: project.name.clone(),
            text: format!("Speaker: a trader at Gikomba market, clip {i}."),
            suggestion: rows[i % rows.len()]["draft"].as_str().map(str::to_string),
            expires: now + 3 * 86_400,
            clip: Some(clip),
        });
    }
    common::cache_leases(&mut store, project, leases, now)?;
    let wanted = store.clips_wanted()?;
    let held = wanted.iter().filter(|c| cache.has(c)).count();
    if held != CACHED_CLIPS {
        bail!("{held} of {CACHED_CLIPS} clips in the cache before the start");
    }
    drop(store);

    let mut memory = crate::pty::MemoryRuns::default();
    for _ in 0..RSS_RUNS {
        let mut child = crate::process::spawn(&binary, home.path(), &project.name)?;
        child
            .wait_for("Gikomba", Duration::from_secs(10))
            .with_context(|| {
                format!(
                    "kazi work showed no transcribe task within 10 s; it wrote: {}",
                    String::from_utf8_lossy(&child.seen)
                )
            })?;
        // Settle: the engine starts and syncs once; the clip is loaded as the task shows.
        child.collect_for(Duration::from_secs(1));
        memory.take(&child)?;
        crate::process::quit(child);
    }
    report.add("client_rss_kb", median(memory.rss_kb()), "KB");
    println!(
        "  {CACHED_CLIPS} clips cached ({} KB on disk); {memory}",
        cache.size() / 1024
    );
    Ok(())
}

//! Transcription at the real worker screen: a scripted typist takes each of the fixture's
//! clips, clears the machine draft word by word and types the reference transcript key
//! by key, then submits, through `Session` with a real store and the real sync engine
//! at 80x24. Gives the terminal bytes per typed character and the time from submit to
//! the next frame.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

use kazi::client::{self, LocalStore, SyncConfig, SyncEngine};
use kazi::model::Project;
use kazi::tui::local::LocalSession as Session;
use kazi::tui::{Event, Key, Keymap, Theme, render};

use crate::common::{self, BenchServer, CountingSink, Report, median, micros};

/// Keys one clip may take before the typist is deemed stuck.
const MAX_KEYS_PER_TASK: usize = 2_000;

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
    let (tx, statuses) = mpsc::channel();
    let engine = SyncEngine::start(&profile, SyncConfig::default(), move |s| {
        let _ = tx.send(s);
    })?;
    let projects = store.projects()?;
    let mut session = kazi::tui::local::session(
        &mut store,
        &engine,
        Keymap::default(),
        Theme {
            color: true,
            ascii: false,
        },
        Some("sauti".into()),
        projects,
    );
    session.feed(Event::Resize(80, 24));
    let sink = CountingSink::default();
    let mut terminal = Terminal::with_options(
        CrosstermBackend::new(sink.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, 80, 24)),
        },
    )?;
    let mut draw = |session: &mut Session<'_>| -> Result<()> {
        if session.app_mut().take_redraw() {
            terminal.draw(|f| render(session.app(), f))?;
        }
        Ok(())
    };
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
        while let Ok(status) = statuses.try_recv() {
            session.notice(status.into());
        }
        draw(&mut session)?;
        let Some(current) = session.app().transcribe().and_then(|s| s.current()) else {
            if waiting.elapsed() > Duration::from_secs(30) {
                bail!("no clip on screen after {done} were typed");
            }
            if let Ok(status) = statuses.recv_timeout(Duration::from_millis(200)) {
                session.notice(status.into());
            }
            continue;
        };
        let task = current.task.id;
        let gold = gold_of(current.task.draft()).context("a clip that is not in the fixture")?;
        session.feed(Event::Key(ctrl_end));
        draw(&mut session)?;
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
            let before = sink.bytes();
            let start = Instant::now();
            session.feed(Event::Key(key));
            draw(&mut session)?;
            let took = start.elapsed();
            if typed {
                char_bytes.push((sink.bytes() - before) as f64);
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
    let left = engine
        .shutdown(Duration::from_secs(10))
        .context("the sync engine did not stop")?;
    if left.unsent > 0 || left.refused > 0 {
        bail!(
            "{} transcripts unsent and {} refused",
            left.unsent,
            left.refused
        );
    }
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
    Ok(())
}

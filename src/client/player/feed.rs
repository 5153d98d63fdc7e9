//! One stretch of playback: a player process and the thread that feeds it PCM, kept at
//! most `LEAD_MS` ahead of real time so a pause or a jump is heard at once and a looped
//! passage does not pile up in the pipe. Pausing kills the process: what it had
//! buffered is dropped with it.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::media::{self, Pcm};

use super::PlayerProgram;

/// How far ahead of real time the feed may write.
const LEAD_MS: u64 = 300;
/// One write: 20 ms.
const CHUNK_MS: u64 = 20;

/// Called from the feeding thread; the local executor turns it into a screen event.
pub type Notify = Arc<dyn Fn(FeedNotice) + Send + Sync>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedNotice {
    pub segment: u64,
    pub kind: NoticeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeKind {
    /// Another second played: the position bar may move.
    Second,
    /// The clip played to its end and the player finished.
    Ended,
    /// The player could not be run or stopped by itself.
    Failed(String),
}

pub(super) struct Plan {
    pub pcm: Arc<Pcm>,
    pub from_ms: u64,
    pub speed_pct: u8,
    pub looping: Option<(u64, u64)>,
    pub segment: u64,
}

pub(super) struct Feed {
    pub started: Instant,
    pub from_ms: u64,
    stop: Arc<AtomicBool>,
    child: Arc<Mutex<Child>>,
}

impl Feed {
    pub fn start(
        program: &PlayerProgram,
        plan: Plan,
        now: Instant,
        notify: Notify,
    ) -> Result<Feed, String> {
        let line = program.command_line(plan.pcm.rate, 1);
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&line)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            // Never the terminal: the screen owns it. Kept to say why a player failed.
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the audio player ({line}): {e}"))?;
        let stdin = child.stdin.take().expect("stdin was piped");
        let stderr = child.stderr.take().expect("stderr was piped");
        let said = Arc::new(Mutex::new(String::new()));
        let said_w = said.clone();
        std::thread::Builder::new()
            .name("kazi-player-err".into())
            .spawn(move || keep_tail(stderr, &said_w))
            .map_err(|e| format!("cannot start the audio player: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let child = Arc::new(Mutex::new(child));
        let feed = Feed {
            started: now,
            from_ms: plan.from_ms,
            stop: stop.clone(),
            child: child.clone(),
        };
        std::thread::Builder::new()
            .name("kazi-player".into())
            .spawn(move || {
                let segment = plan.segment;
                let kind = run(plan, now, stdin, &stop, &child, &said, &line, &notify);
                if let Some(kind) = kind
                    && !stop.load(Ordering::SeqCst)
                {
                    notify(FeedNotice { segment, kind });
                }
            })
            .map_err(|e| format!("cannot start the audio player: {e}"))?;
        Ok(feed)
    }

    /// Stop at once: the process is killed (its buffer with it) and reaped.
    pub fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Ok(mut child) = self.child.lock() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Feed the player until the clip ends (or forever in a loop) or `stop` is set. The
/// notice to give, if any.
#[allow(clippy::too_many_arguments)]
fn run(
    plan: Plan,
    started: Instant,
    mut stdin: std::process::ChildStdin,
    stop: &AtomicBool,
    child: &Mutex<Child>,
    said: &Mutex<String>,
    line: &str,
    notify: &Notify,
) -> Option<NoticeKind> {
    let segment = plan.segment;
    let mut seconds = 0u64;
    // Once a second of real time: the bar moves without a timer in the screen.
    let mut tick = |stop: &AtomicBool| {
        let s = started.elapsed().as_secs();
        if s > seconds && !stop.load(Ordering::SeqCst) {
            seconds = s;
            notify(FeedNotice {
                segment,
                kind: NoticeKind::Second,
            });
        }
    };
    let rate = plan.pcm.rate as u64;
    let at = |ms: u64| ((ms * rate / 1000) as usize).min(plan.pcm.samples.len());
    let speed = plan.speed_pct as f32 / 100.0;
    let end_ms = plan.looping.map_or(plan.pcm.duration_ms(), |(_, e)| e);
    // What to play first (from the position to the end or the loop's end), then what
    // repeats (the loop).
    let first = media::stretch(
        &plan.pcm.samples[at(plan.from_ms)..at(end_ms.max(plan.from_ms))],
        plan.pcm.rate,
        speed,
    );
    let again = plan
        .looping
        .map(|(s, e)| media::stretch(&plan.pcm.samples[at(s)..at(e)], plan.pcm.rate, speed))
        .filter(|l| !l.is_empty());
    let chunk = (rate * CHUNK_MS / 1000) as usize;
    let mut written_ms = 0u64;
    let mut span = first;
    loop {
        for piece in span.chunks(chunk) {
            loop {
                if stop.load(Ordering::SeqCst) {
                    return None;
                }
                tick(stop);
                let elapsed = started.elapsed().as_millis() as u64;
                if written_ms <= elapsed + LEAD_MS {
                    break;
                }
                std::thread::sleep(Duration::from_millis(CHUNK_MS / 2));
            }
            if let Err(e) = stdin.write_all(&media::s16le(piece)) {
                return (!stop.load(Ordering::SeqCst)).then(|| failed(child, said, line, &e));
            }
            written_ms += piece.len() as u64 * 1000 / rate;
        }
        match &again {
            Some(l) => span = l.clone(),
            None => break,
        }
    }
    // End of the clip: let the player drain what it holds and finish.
    drop(stdin);
    loop {
        if stop.load(Ordering::SeqCst) {
            return None;
        }
        match child.lock().map(|mut c| c.try_wait()) {
            Ok(Ok(Some(_))) | Ok(Err(_)) | Err(_) => return Some(NoticeKind::Ended),
            Ok(Ok(None)) => {
                tick(stop);
                std::thread::sleep(Duration::from_millis(CHUNK_MS));
            }
        }
    }
}

fn failed(
    child: &Mutex<Child>,
    said: &Mutex<String>,
    line: &str,
    e: &std::io::Error,
) -> NoticeKind {
    if let Ok(mut c) = child.lock() {
        let _ = c.wait();
    }
    // Give the stderr reader a moment to take the player's last words.
    std::thread::sleep(Duration::from_millis(50));
    let why = said
        .lock()
        .map(|s| s.trim().lines().last().unwrap_or("").to_string())
        .unwrap_or_default();
    let why = if why.is_empty() { e.to_string() } else { why };
    NoticeKind::Failed(format!("the audio player stopped ({line}): {why}"))
}

/// Keep the last few hundred bytes a player writes to stderr.
fn keep_tail(mut from: impl Read, into: &Mutex<String>) {
    let mut buf = [0u8; 512];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            return;
        }
        if let Ok(mut s) = into.lock() {
            s.push_str(&String::from_utf8_lossy(&buf[..n]));
            if s.len() > 400 {
                let cut = s.len() - 400;
                let cut = (cut..s.len()).find(|&i| s.is_char_boundary(i)).unwrap_or(0);
                s.drain(..cut);
            }
        }
    }
}

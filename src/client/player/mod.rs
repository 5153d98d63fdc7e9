//! The transcriber's player: decoded PCM fed on stdin to the machine's own audio player
//! (found at run time, or `KAZI_PLAYER`), with play/pause, jumps, pitch-keeping
//! slow-down, a loop of the last seconds and a rewind on resume.
//!
//! Position is a model, not a clock: a status holds where playback was at an instant and
//! how fast it moves, so the screen computes the position when it draws and nothing
//! needs a ticking timer. The feeding thread only reports once a second while playing
//! (for the bar) and when a clip ends.

mod feed;
mod program;

use std::sync::Arc;
use std::time::Instant;

use crate::media::{self, Pcm};
use crate::protocol::ClipRef;

pub use crate::model::PlayerConfig;
pub use feed::{FeedNotice, Notify};
pub use program::{KNOWN_PLAYERS, PlayerProgram, find_player};

/// What the screen asks of the player. Names follow the keymap's actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlayerCommand {
    /// Make this clip the current one (paused at its start). The executor finds it in the
    /// clip cache; a clip not there yet is reported as missing.
    Load(ClipRef),
    PlayPause,
    Back,
    Forward,
    Slower,
    Faster,
    /// Loop the last `loop_ms` before the position; again to stop looping.
    Loop,
    /// Stop and forget the clip (the task is done or skipped).
    Stop,
}

/// Slowest and fastest speed in percent, and one `slower`/`faster` step.
pub const MIN_SPEED_PCT: u8 = 50;
pub const MAX_SPEED_PCT: u8 = 100;
pub const SPEED_STEP_PCT: u8 = 10;

/// What the player is doing, as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlayState {
    /// No clip loaded.
    Idle,
    /// The task's clip is not in the cache (not downloaded yet, or damaged).
    Missing,
    Paused,
    Playing,
}

/// Everything the screen needs to draw the player line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerStatus {
    pub state: PlayState,
    /// The clip's hash, when one is loaded or missing.
    pub clip: Option<String>,
    pub duration_ms: u64,
    /// The position at `at`; while playing it moves on at `speed_pct` percent of real
    /// time (see `position_at`).
    pub position_ms: u64,
    pub at: Instant,
    pub speed_pct: u8,
    /// The looped span, start and end in ms.
    pub looping: Option<(u64, u64)>,
    /// Why there is no sound, said once (no player found, the player failed).
    pub problem: Option<String>,
}

impl PlayerStatus {
    /// Where no sound can be played at all (a session over SSH): nothing loaded, and why.
    pub fn no_sound(why: &str, now: Instant) -> PlayerStatus {
        PlayerStatus {
            state: PlayState::Idle,
            clip: None,
            duration_ms: 0,
            position_ms: 0,
            at: now,
            speed_pct: MAX_SPEED_PCT,
            looping: None,
            problem: Some(why.to_string()),
        }
    }

    /// Where playback is at `now`: moves while playing, wraps inside a loop, stops at
    /// the clip's end.
    pub fn position_at(&self, now: Instant) -> u64 {
        if self.state != PlayState::Playing {
            return self.position_ms;
        }
        let elapsed = now.saturating_duration_since(self.at).as_millis() as u64;
        let moved = self.position_ms + elapsed * self.speed_pct as u64 / 100;
        match self.looping {
            Some((start, end)) if end > start && moved >= end => {
                start + (moved - start) % (end - start)
            }
            _ => moved.min(self.duration_ms),
        }
    }
}

/// The clip in the player, decoded once at the wire rate.
struct Loaded {
    hash: String,
    pcm: Arc<Pcm>,
}

/// The player engine. Effects (a process, a thread) start and stop here; everything the
/// screen sees is in `status`.
pub struct Player {
    config: PlayerConfig,
    program: Option<PlayerProgram>,
    notify: Notify,
    clip: Option<Loaded>,
    missing: Option<String>,
    position_ms: u64,
    speed_pct: u8,
    looping: Option<(u64, u64)>,
    playing: Option<feed::Feed>,
    /// Increments with each started feed, so a late notice from a stopped one is ignored.
    segment: u64,
    /// Paused by the worker (not freshly loaded): the next play rewinds.
    resumed_pause: bool,
    problem: Option<String>,
}

impl Player {
    /// `program` is the player found (`find_player`); `None` makes every play report
    /// that there is no player. `notify` is called from the feeding thread.
    pub fn new(config: PlayerConfig, program: Option<PlayerProgram>, notify: Notify) -> Player {
        let problem = program.is_none().then(program::none_found);
        Player {
            config,
            program,
            notify,
            clip: None,
            missing: None,
            position_ms: 0,
            speed_pct: MAX_SPEED_PCT,
            looping: None,
            playing: None,
            segment: 0,
            resumed_pause: false,
            problem,
        }
    }

    /// Take the timings of the project on screen (its `[transcribe.player]` table); they
    /// apply from the next command on.
    pub fn configure(&mut self, config: PlayerConfig) {
        self.config = config;
    }

    /// Load a clip from its wire bytes (`None`: not in the cache). Bytes that do not
    /// decode count as missing, with the reason as the problem.
    pub fn load(&mut self, clip: &ClipRef, wire: Option<&[u8]>, now: Instant) -> PlayerStatus {
        self.halt();
        self.clip = None;
        self.missing = None;
        self.position_ms = 0;
        self.looping = None;
        self.resumed_pause = false;
        match wire.map(media::decode_wire) {
            Some(Ok(pcm)) => {
                self.clip = Some(Loaded {
                    hash: clip.hash.clone(),
                    pcm: Arc::new(pcm),
                })
            }
            Some(Err(e)) => {
                self.missing = Some(clip.hash.clone());
                self.problem = Some(format!("the audio of this task is damaged: {e}"));
            }
            None => self.missing = Some(clip.hash.clone()),
        }
        self.status(now)
    }

    /// Carry out a command other than `Load` (which needs the cache: see `load`).
    pub fn apply(&mut self, command: &PlayerCommand, now: Instant) -> PlayerStatus {
        let Some(duration) = self.clip.as_ref().map(|c| c.pcm.duration_ms()) else {
            if *command == PlayerCommand::Stop {
                self.missing = None;
            }
            return self.status(now);
        };
        let was_playing = self.playing.is_some();
        match command {
            PlayerCommand::Load(_) => {}
            PlayerCommand::PlayPause if was_playing => {
                self.position_ms = self.status(now).position_at(now);
                self.halt();
                self.resumed_pause = true;
            }
            PlayerCommand::PlayPause => {
                if self.position_ms >= duration {
                    self.position_ms = 0;
                } else if self.resumed_pause {
                    self.position_ms = self.position_ms.saturating_sub(self.config.rewind_ms);
                }
                self.start(now);
            }
            PlayerCommand::Back | PlayerCommand::Forward => {
                let here = self.status(now).position_at(now);
                self.position_ms = if *command == PlayerCommand::Back {
                    here.saturating_sub(self.config.skip_ms)
                } else {
                    (here + self.config.skip_ms).min(duration)
                };
                // A jump out of the loop ends it: the worker moved on.
                if let Some((start, end)) = self.looping
                    && (self.position_ms < start || self.position_ms >= end)
                {
                    self.looping = None;
                }
                self.restart_if(was_playing, now);
            }
            PlayerCommand::Slower | PlayerCommand::Faster => {
                self.position_ms = self.status(now).position_at(now);
                self.speed_pct = if *command == PlayerCommand::Slower {
                    self.speed_pct
                        .saturating_sub(SPEED_STEP_PCT)
                        .max(MIN_SPEED_PCT)
                } else {
                    (self.speed_pct + SPEED_STEP_PCT).min(MAX_SPEED_PCT)
                };
                self.restart_if(was_playing, now);
            }
            PlayerCommand::Loop => {
                let here = self.status(now).position_at(now);
                self.position_ms = here;
                if self.looping.take().is_none() {
                    let end = here.max(self.config.loop_ms.min(duration));
                    let start = end.saturating_sub(self.config.loop_ms);
                    self.looping = Some((start, end));
                    self.position_ms = start;
                }
                self.restart_if(was_playing, now);
            }
            PlayerCommand::Stop => {
                self.halt();
                self.clip = None;
                self.missing = None;
                self.position_ms = 0;
                self.looping = None;
            }
        }
        self.status(now)
    }

    /// A notice from the feeding thread: the position bar moves, or the clip ended.
    pub fn notice(&mut self, notice: FeedNotice, now: Instant) -> Option<PlayerStatus> {
        if notice.segment != self.segment || self.playing.is_none() {
            return None;
        }
        match notice.kind {
            feed::NoticeKind::Second => {}
            feed::NoticeKind::Ended => {
                self.halt();
                self.position_ms = self.clip.as_ref().map_or(0, |c| c.pcm.duration_ms());
                self.resumed_pause = false;
            }
            feed::NoticeKind::Failed(why) => {
                self.position_ms = self.status(now).position_at(now);
                self.halt();
                self.problem = Some(why);
            }
        }
        Some(self.status(now))
    }

    pub fn status(&self, now: Instant) -> PlayerStatus {
        let state = if self.playing.is_some() {
            PlayState::Playing
        } else if self.clip.is_some() {
            PlayState::Paused
        } else if self.missing.is_some() {
            PlayState::Missing
        } else {
            PlayState::Idle
        };
        let (at, position_ms) = match &self.playing {
            Some(f) => (f.started, f.from_ms),
            None => (now, self.position_ms),
        };
        PlayerStatus {
            state,
            clip: self
                .clip
                .as_ref()
                .map(|c| c.hash.clone())
                .or_else(|| self.missing.clone()),
            duration_ms: self.clip.as_ref().map_or(0, |c| c.pcm.duration_ms()),
            position_ms,
            at,
            speed_pct: self.speed_pct,
            looping: self.looping,
            problem: self.problem.clone(),
        }
    }

    fn restart_if(&mut self, was_playing: bool, now: Instant) {
        if was_playing {
            self.halt();
            self.start(now);
        }
    }

    fn start(&mut self, now: Instant) {
        let (Some(clip), Some(program)) = (&self.clip, &self.program) else {
            return;
        };
        self.segment += 1;
        let plan = feed::Plan {
            pcm: clip.pcm.clone(),
            from_ms: self.position_ms,
            speed_pct: self.speed_pct,
            looping: self.looping,
            segment: self.segment,
        };
        match feed::Feed::start(program, plan, now, self.notify.clone()) {
            Ok(f) => {
                self.playing = Some(f);
                self.problem = None;
            }
            Err(e) => self.problem = Some(e),
        }
    }

    fn halt(&mut self) {
        if let Some(f) = self.playing.take() {
            f.stop();
        }
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.halt();
    }
}

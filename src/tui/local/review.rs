//! `kazi review` on this computer's terminal: the review executor (`tui::review_link`)
//! over HTTP with the profile's device token (`POST /v1/review`). The server decides
//! every rule; a refusal or a dropped link comes back as a line on the message line.
//! A transcript's clip is fetched (`GET /v1/clips/HASH`) into the profile's
//! `review-clips` and played by the transcribe screen's player.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use anyhow::{Context, Result};

use super::{read_keys, watch_signals};
use crate::client::player::{
    FeedNotice, Notify, Player, PlayerCommand, PlayerConfig, PlayerProgram, PlayerStatus,
    find_player,
};
use crate::client::{ClipCache, DEFAULT_CLIP_CACHE_BYTES, Profile, Remote, RemoteError};
use crate::protocol::{ReviewRequest, ReviewResponse};
use crate::tui::app::{App, Event};
use crate::tui::keymap::Keymap;
use crate::tui::review_link::{LinkFailure, ReviewExecutor, ReviewLink};
use crate::tui::runtime::{Input, InputSource, Runtime, Session};
use crate::tui::terminal;
use crate::tui::theme::Theme;

/// The server over HTTP with the profile's device token.
pub struct HttpLink {
    remote: Remote,
    runtime: tokio::runtime::Runtime,
    sound: Option<Sound>,
}

/// The review screen's audio on this computer. Its clips have a cache of their own: the
/// worker's is kept by the sync engine, which drops clips its tasks no longer need.
struct Sound {
    clips: ClipCache,
    player: Player,
}

/// Why a review session without sound cannot play (`HttpLink::new` alone).
const NO_SOUND_HERE: &str = "no sound in this review session";

impl HttpLink {
    pub fn new(server: &str, token: &str) -> Result<HttpLink> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the network runtime")?;
        Ok(HttpLink {
            remote: Remote::new(server, token)?,
            runtime,
            sound: None,
        })
    }

    /// With sound: clips cached in `clips`, played by `program` (`None`: no player was
    /// found, which the screen says), the player's feed reporting through `notify`.
    pub fn with_sound(
        mut self,
        clips: PathBuf,
        program: Option<PlayerProgram>,
        notify: Notify,
    ) -> HttpLink {
        self.sound = Some(Sound {
            clips: ClipCache::new(clips, DEFAULT_CLIP_CACHE_BYTES),
            player: Player::new(PlayerConfig::default(), program, notify),
        });
        self
    }
}

impl ReviewLink for HttpLink {
    fn ask(&mut self, request: ReviewRequest) -> Result<ReviewResponse, LinkFailure> {
        self.runtime
            .block_on(self.remote.review(&request))
            .map_err(|e| LinkFailure {
                offline: matches!(e, RemoteError::Offline(_)),
                message: e.to_string(),
            })
    }

    type Notice = FeedNotice;

    fn play(&mut self, command: PlayerCommand, config: PlayerConfig) -> Vec<Event> {
        let now = Instant::now();
        let Some(sound) = &mut self.sound else {
            return vec![Event::Player(PlayerStatus::no_sound(NO_SOUND_HERE, now))];
        };
        let mut events = Vec::new();
        let status = match &command {
            PlayerCommand::Load(clip) => {
                sound.player.configure(config);
                // Only the open item's clip is kept.
                let _ = sound.clips.retain(&HashSet::from([clip.hash.clone()]));
                if let Err(e) = self.runtime.block_on(sound.clips.fetch(&self.remote, clip)) {
                    events.push(Event::Message(format!("the clip cannot be played: {e}")));
                }
                let wire = sound.clips.get(clip);
                sound.player.load(clip, wire.as_deref(), Instant::now())
            }
            other => sound.player.apply(other, now),
        };
        events.insert(0, Event::Player(status));
        events
    }

    fn notice(&mut self, notice: FeedNotice) -> Vec<Event> {
        self.sound
            .as_mut()
            .and_then(|s| s.player.notice(notice, Instant::now()))
            .map(Event::Player)
            .into_iter()
            .collect()
    }
}

/// The review session without a terminal: tests and benchmarks drive it with keys.
pub type ReviewSession = Session<ReviewExecutor<HttpLink>>;

/// The review session for a profile, as `kazi review` opens it: the player found as
/// `kazi work` finds it (`KAZI_PLAYER`, else the usual players on `PATH`), reporting
/// through `notify`.
pub fn session(
    profile: &Profile,
    keymap: Keymap,
    theme: Theme,
    project: Option<String>,
    notify: Notify,
) -> Result<ReviewSession> {
    let program = find_player(
        std::env::var("KAZI_PLAYER").ok().as_deref(),
        std::env::var("PATH").ok().as_deref(),
    );
    let link = HttpLink::new(&profile.server, &profile.token)?.with_sound(
        profile.dir.join("review-clips"),
        program,
        notify,
    );
    let executor = ReviewExecutor::new(link, project.clone());
    Ok(Session::new(App::review(keymap, theme, project), executor))
}

struct Keys(mpsc::Receiver<Input<FeedNotice>>);

impl InputSource for Keys {
    type Notice = FeedNotice;

    fn next(&mut self) -> Input<FeedNotice> {
        self.0.recv().unwrap_or(Input::Closed)
    }

    fn try_next(&mut self) -> Option<Input<FeedNotice>> {
        self.0.try_recv().ok()
    }
}

/// Run the review screen until the reviewer quits.
pub fn review(profile: &Profile, project: Option<String>, keymap: Keymap) -> Result<()> {
    let (tx, rx) = mpsc::channel::<Input<FeedNotice>>();
    watch_signals(tx.clone()).context("cannot watch for SIGTERM and SIGHUP")?;
    let player_tx = Mutex::new(tx.clone());
    let notify: Notify = Arc::new(move |n| {
        if let Ok(tx) = player_tx.lock() {
            let _ = tx.send(Input::Notice(n));
        }
    });
    let mut session = session(profile, keymap, Theme::from_env(), project, notify)?;
    let mut guard = terminal::enter().context("cannot set up the terminal")?;
    std::thread::Builder::new()
        .name("kazi-keys".into())
        .spawn(move || read_keys(&tx))?;
    let size = guard.terminal().size()?;
    session.feed(Event::Resize(size.width, size.height));
    let mut runtime = Runtime {
        terminal: guard.terminal(),
        input: Keys(rx),
        session,
    };
    let result = runtime.run();
    drop(runtime);
    drop(guard);
    result.map(|_| ()).context("the terminal failed")
}

//! The player pipeline with a fake player command that records what it receives: the
//! PCM bytes and the {rate} and {channels} it was started with, segment by segment.
//! Positions come from the player's model at given instants, so nothing here asserts on
//! wall time; waits only wait for bytes to arrive.

use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use kazi::client::player::{
    FeedNotice, PlayState, Player, PlayerCommand, PlayerConfig, PlayerProgram, find_player,
};
use kazi::media;
use kazi::model::ClipRef;

struct Fake {
    dir: tempfile::TempDir,
}

impl Fake {
    fn new() -> Fake {
        Fake {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Each start appends its format to `args` and writes its stdin to a new numbered
    /// file.
    fn program(&self) -> PlayerProgram {
        let d = self.dir.path().display();
        PlayerProgram {
            template: format!(
                "echo {{rate}} {{channels}} >> {d}/args; n=$(($(ls {d} | grep -c pcm) + 1)); cat > {d}/pcm.$n"
            ),
        }
    }

    fn segment(&self, n: usize) -> PathBuf {
        self.dir.path().join(format!("pcm.{n}"))
    }

    /// Wait until segment `n` holds at least `bytes` (the feed runs in real time).
    fn received(&self, n: usize, bytes: usize) -> Vec<u8> {
        for _ in 0..1000 {
            if let Ok(b) = std::fs::read(self.segment(n))
                && b.len() >= bytes
            {
                return b;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("segment {n} never got {bytes} bytes");
    }

    fn args(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("args")).unwrap_or_default()
    }
}

fn clip(name: &str) -> (ClipRef, Vec<u8>, Vec<f32>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/audio/clips")
        .join(name);
    let c = media::ingest(&path).unwrap();
    let pcm = media::decode_wire(&c.wire).unwrap().samples;
    let r = ClipRef {
        hash: c.hash.clone(),
        bytes: c.wire.len() as u64,
        ms: c.duration_ms,
    };
    (r, c.wire, pcm)
}

/// The PCM bytes of `samples` from `ms` on.
fn from_ms(samples: &[f32], ms: u64) -> Vec<u8> {
    media::s16le(&samples[(ms * 16) as usize..])
}

fn quiet() -> kazi::client::player::Notify {
    Arc::new(|_| {})
}

fn at(t0: Instant, ms: u64) -> Instant {
    t0 + Duration::from_millis(ms)
}

#[test]
fn play_pause_jumps_and_rewind_on_resume_feed_the_right_pcm() {
    let fake = Fake::new();
    let (r, wire, pcm) = clip("sw-04.flac");
    let mut player = Player::new(PlayerConfig::default(), Some(fake.program()), quiet());
    let t0 = Instant::now();
    let s = player.load(&r, Some(&wire), t0);
    assert_eq!(
        (s.state, s.position_ms, s.duration_ms),
        (PlayState::Paused, 0, r.ms)
    );

    // Jumps while paused move the position only.
    assert!(r.ms > 3000, "a clip long enough for the jumps");
    player.apply(&PlayerCommand::Forward, t0);
    let s = player.apply(&PlayerCommand::Back, t0);
    assert_eq!(s.position_ms, 0);
    let s = player.apply(&PlayerCommand::Forward, t0);
    assert_eq!(s.position_ms, 2000);
    let s = player.apply(&PlayerCommand::PlayPause, t0);
    assert_eq!(s.state, PlayState::Playing);
    assert_eq!(s.position_at(at(t0, 250)), 2250);
    let got = fake.received(1, 3200);
    assert_eq!(got[..], from_ms(&pcm, 2000)[..got.len()]);
    assert_eq!(fake.args().trim(), "16000 1");

    // Pause 300 ms in: the model says 2300; playing again rewinds a second.
    let s = player.apply(&PlayerCommand::PlayPause, at(t0, 300));
    assert_eq!((s.state, s.position_ms), (PlayState::Paused, 2300));
    let s = player.apply(&PlayerCommand::PlayPause, at(t0, 5000));
    assert_eq!(s.position_ms, 1300);
    let got = fake.received(2, 3200);
    assert_eq!(got[..], from_ms(&pcm, 1300)[..got.len()]);

    // Back while playing restarts the feed 2 s earlier (not below 0).
    let s = player.apply(&PlayerCommand::Back, at(t0, 5400));
    assert_eq!(s.position_ms, 0);
    let got = fake.received(3, 3200);
    assert_eq!(got[..], from_ms(&pcm, 0)[..got.len()]);
    let s = player.apply(&PlayerCommand::Stop, at(t0, 5500));
    assert_eq!(s.state, PlayState::Idle);
}

#[test]
fn loop_repeats_the_last_seconds_and_the_position_wraps() {
    let fake = Fake::new();
    let (r, wire, pcm) = clip("sw-04.flac");
    let config = PlayerConfig {
        loop_ms: 400,
        ..PlayerConfig::default()
    };
    let mut player = Player::new(config, Some(fake.program()), quiet());
    let t0 = Instant::now();
    player.load(&r, Some(&wire), t0);
    player.apply(&PlayerCommand::Forward, t0);
    let s = player.apply(&PlayerCommand::Loop, t0);
    assert_eq!((s.looping, s.position_ms), (Some((1600, 2000)), 1600));
    let s = player.apply(&PlayerCommand::PlayPause, t0);
    assert_eq!(s.position_at(at(t0, 100)), 1700);
    assert_eq!(s.position_at(at(t0, 500)), 1700, "wrapped inside the loop");
    // The passage arrives twice over, back to back.
    let one = media::s16le(&pcm[1600 * 16..2000 * 16]);
    let got = fake.received(1, one.len() * 2);
    assert_eq!(got[..one.len()], one[..]);
    assert_eq!(got[one.len()..one.len() * 2], one[..]);
    // Loop again ends it; playing goes on from where it was.
    let s = player.apply(&PlayerCommand::Loop, at(t0, 500));
    assert_eq!((s.looping, s.position_ms), (None, 1700));
}

#[test]
fn slower_keeps_time_and_feeds_stretched_pcm() {
    let fake = Fake::new();
    let (r, wire, pcm) = clip("sw-04.flac");
    let mut player = Player::new(PlayerConfig::default(), Some(fake.program()), quiet());
    let t0 = Instant::now();
    player.load(&r, Some(&wire), t0);
    for _ in 0..7 {
        player.apply(&PlayerCommand::Slower, t0);
    }
    let s = player.apply(&PlayerCommand::PlayPause, t0);
    assert_eq!(s.speed_pct, 50, "never below half speed");
    assert_eq!(s.position_at(at(t0, 1000)), 500);
    let stretched = media::s16le(&media::stretch(&pcm, 16_000, 0.5));
    let got = fake.received(1, 6400);
    assert_eq!(got[..], stretched[..got.len()]);
    let s = player.apply(&PlayerCommand::Faster, at(t0, 1000));
    assert_eq!((s.speed_pct, s.position_ms), (60, 500));
}

#[test]
fn the_end_of_a_clip_is_reported_and_a_missing_player_said_once() {
    let fake = Fake::new();
    let (r, wire, _) = clip("tone-stereo.wav");
    let (tx, rx) = mpsc::channel::<FeedNotice>();
    let notify: kazi::client::player::Notify = Arc::new(move |n| {
        let _ = tx.send(n);
    });
    let mut player = Player::new(PlayerConfig::default(), Some(fake.program()), notify);
    let t0 = Instant::now();
    player.load(&r, Some(&wire), t0);
    player.apply(&PlayerCommand::PlayPause, t0);
    let ended = loop {
        let n = rx.recv_timeout(Duration::from_secs(10)).expect("a notice");
        if let Some(s) = player.notice(n, Instant::now())
            && s.state != PlayState::Playing
        {
            break s;
        }
    };
    assert_eq!((ended.state, ended.position_ms), (PlayState::Paused, r.ms));

    let mut none = Player::new(PlayerConfig::default(), None, quiet());
    none.load(&r, Some(&wire), t0);
    let s = none.apply(&PlayerCommand::PlayPause, t0);
    assert_eq!(s.state, PlayState::Paused);
    assert!(s.problem.unwrap().contains("KAZI_PLAYER"));

    // A clip not in the cache, or damaged, is missing.
    let s = none.load(&r, None, t0);
    assert_eq!(s.state, PlayState::Missing);
    let s = none.load(&r, Some(b"KZO1 damaged"), t0);
    assert_eq!(s.state, PlayState::Missing);
}

#[test]
fn a_failing_player_is_reported_with_its_words() {
    let (r, wire, _) = clip("en-01.ogg");
    let (tx, rx) = mpsc::channel::<FeedNotice>();
    let notify: kazi::client::player::Notify = Arc::new(move |n| {
        let _ = tx.send(n);
    });
    let program = PlayerProgram {
        template: "echo 'no sound card here' >&2; exit 3".into(),
    };
    let mut player = Player::new(PlayerConfig::default(), Some(program), notify);
    let t0 = Instant::now();
    player.load(&r, Some(&wire), t0);
    player.apply(&PlayerCommand::PlayPause, t0);
    let n = rx.recv_timeout(Duration::from_secs(10)).expect("a notice");
    let s = player.notice(n, Instant::now()).expect("current segment");
    assert_eq!(s.state, PlayState::Paused);
    assert!(s.problem.unwrap().contains("no sound card here"));
}

#[test]
fn kazi_player_wins_else_the_first_known_player_on_path() {
    let dir = tempfile::tempdir().unwrap();
    let custom = find_player(Some("aplay -r {rate}"), Some("/nowhere")).unwrap();
    assert_eq!(custom.command_line(16000, 1), "aplay -r 16000");
    assert_eq!(find_player(None, Some(dir.path().to_str().unwrap())), None);
    for name in ["ffplay", "paplay"] {
        let p = dir.path().join(name);
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let found = find_player(Some("  "), Some(dir.path().to_str().unwrap())).unwrap();
    assert!(found.template.starts_with("paplay "), "{}", found.template);
}

/// A transcribe project file whose `[transcribe.player]` table sets the timings.
fn project_with_player(table: &str) -> Result<kazi::model::Project, kazi::model::ProjectError> {
    let text = format!(
        "name = \"sauti\"\ntitle = \"Voices\"\nkind = \"transcribe\"\n\n[transcribe]\nmax_chars = 500\n\n[transcribe.player]\n{table}\n"
    );
    kazi::model::Project::from_toml("sauti.toml", &text)
}

#[test]
fn the_project_files_timings_drive_jumps_rewind_and_loop() {
    let project = project_with_player("jump_secs = 0.5\nrewind_secs = 0\nloop_secs = 1").unwrap();
    let config = project.transcribe.as_ref().unwrap().player;
    assert_eq!(
        config,
        PlayerConfig {
            skip_ms: 500,
            rewind_ms: 0,
            loop_ms: 1000
        }
    );
    let fake = Fake::new();
    let (r, wire, pcm) = clip("sw-04.flac");
    let mut player = Player::new(PlayerConfig::default(), Some(fake.program()), quiet());
    player.configure(config);
    let t0 = Instant::now();
    player.load(&r, Some(&wire), t0);
    for _ in 0..3 {
        player.apply(&PlayerCommand::Forward, t0);
    }
    let s = player.apply(&PlayerCommand::Back, t0);
    assert_eq!(
        s.position_ms, 1000,
        "three jumps of 0.5 s forward, one back"
    );

    // With rewind off, play after a pause goes on exactly where it stopped.
    player.apply(&PlayerCommand::PlayPause, t0);
    fake.received(1, 3200);
    let s = player.apply(&PlayerCommand::PlayPause, at(t0, 400));
    assert_eq!(s.position_ms, 1400);
    let s = player.apply(&PlayerCommand::PlayPause, at(t0, 2000));
    assert_eq!(s.position_ms, 1400, "no rewind when rewind_secs = 0");
    let got = fake.received(2, 3200);
    assert_eq!(got[..], from_ms(&pcm, 1400)[..got.len()]);

    // The loop repeats one second before the position.
    let s = player.apply(&PlayerCommand::Loop, at(t0, 2000));
    assert_eq!(s.looping, Some((400, 1400)));
    let one = media::s16le(&pcm[400 * 16..1400 * 16]);
    let got = fake.received(3, one.len() * 2);
    assert_eq!(got[one.len()..one.len() * 2], one[..]);

    // Another project's timings take over from the next command.
    player.configure(PlayerConfig::default());
    let s = player.apply(&PlayerCommand::Stop, at(t0, 2100));
    assert_eq!(s.state, PlayState::Idle);
    let s = player.load(&r, Some(&wire), at(t0, 2200));
    let s2 = player.apply(&PlayerCommand::Forward, s.at);
    assert_eq!(s2.position_ms, 2000);
}

#[test]
fn bad_timings_are_refused_at_their_line() {
    let e = project_with_player("jump_secs = 2\nrewind_secs = 12").unwrap_err();
    assert_eq!(e.line, 10, "{e}");
    assert!(
        e.to_string()
            .starts_with("sauti.toml:10: rewind_secs (how much play after a pause goes back; 0 turns it off) must be from 0 to 10 seconds"),
        "{e}"
    );
    let e = project_with_player("jump = 2").unwrap_err();
    assert_eq!(e.line, 9, "{e}");
    assert!(e.message.contains("jump"), "{e}");
    // Untouched timings stay out of the schema, so its version does not move.
    let plain = project_with_player("").unwrap();
    let json = serde_json::to_string(&plain).unwrap();
    assert!(!json.contains("skip_ms"), "{json}");
    let set = project_with_player("loop_secs = 5").unwrap();
    assert!(
        serde_json::to_string(&set)
            .unwrap()
            .contains("\"loop_ms\":5000")
    );
    assert_ne!(plain.version(), set.version());
}

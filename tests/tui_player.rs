//! The local executor's side of the player: `Effect::Player` commands are carried out
//! against the clip cache and the machine's player (a fake one that records its stdin),
//! and come back as `Event::Player`; while playing the feed reports once a second, and
//! nothing at all while paused.

use std::sync::{Arc, mpsc};
use std::time::Duration;

use kazi::client::player::{FeedNotice, PlayState, PlayerCommand};
use kazi::client::{DEFAULT_PREFETCH, LocalStore, Profile, SyncConfig, SyncEngine};
use kazi::media;
use kazi::model::{ClipRef, Role};
use kazi::tui::local::{LocalExecutor, LocalNotice};
use kazi::tui::runtime::Executor;
use kazi::tui::{Effect, Event};

fn offline_profile(dir: &std::path::Path) -> Profile {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    Profile {
        name: "t".into(),
        dir: dir.join("t"),
        server: format!("http://{closed}"),
        user: "amina".into(),
        role: Role::Worker,
        token: "unused".into(),
        prefetch: DEFAULT_PREFETCH,
    }
}

fn player_status(events: Vec<Event>) -> kazi::client::player::PlayerStatus {
    match events.as_slice() {
        [Event::Player(s)] => s.clone(),
        other => panic!("expected one player event, got {other:?}"),
    }
}

#[test]
fn player_effects_use_the_cache_and_report_while_playing_only() {
    let dir = tempfile::tempdir().unwrap();
    let heard = dir.path().join("heard.pcm");
    // SAFETY: the only test of this binary; nothing else reads the environment meanwhile.
    unsafe { std::env::set_var("KAZI_PLAYER", format!("cat >> {}", heard.display())) };
    let profile = offline_profile(dir.path());
    let mut store = LocalStore::open(&profile.db_path()).unwrap();
    let clip = media::ingest(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/audio/clips/sw-04.flac"),
    )
    .unwrap();
    let cached = ClipRef {
        hash: clip.hash.clone(),
        bytes: clip.wire.len() as u64,
        ms: clip.duration_ms,
    };
    let cache_dir = store.clip_cache().dir().to_path_buf();
    std::fs::create_dir_all(&cache_dir).unwrap();
    std::fs::write(cache_dir.join(&clip.hash), &clip.wire).unwrap();
    let absent = ClipRef {
        hash: media::clip_hash(b"not here"),
        bytes: 10,
        ms: 1000,
    };

    let engine = SyncEngine::start(&profile, SyncConfig::default(), |_| {}).unwrap();
    let mut executor = LocalExecutor::new(&mut store, &engine, None, Vec::new());
    let (tx, rx) = mpsc::channel::<FeedNotice>();
    let tx = std::sync::Mutex::new(tx);
    executor.set_player_notify(Arc::new(move |n| {
        let _ = tx.lock().unwrap().send(n);
    }));

    let s = player_status(executor.execute(Effect::Player(PlayerCommand::Load(absent))));
    assert_eq!(s.state, PlayState::Missing);
    let s = player_status(executor.execute(Effect::Player(PlayerCommand::Load(cached.clone()))));
    assert_eq!((s.state, s.duration_ms), (PlayState::Paused, cached.ms));
    let s = player_status(executor.execute(Effect::Player(PlayerCommand::PlayPause)));
    assert_eq!(s.state, PlayState::Playing);

    // A second later the feed says so, and the executor turns it into a redraw.
    let tick = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a notice while playing");
    let s = player_status(executor.notice(LocalNotice::Player(tick)));
    assert_eq!(s.state, PlayState::Playing);
    assert!(
        std::fs::metadata(&heard).unwrap().len() > 0,
        "PCM reached the player"
    );

    let s = player_status(executor.execute(Effect::Player(PlayerCommand::PlayPause)));
    assert_eq!(s.state, PlayState::Paused);
    // Paused: nothing reports (a notice from the stopped feed, if one raced, is dropped).
    while let Ok(late) = rx.recv_timeout(Duration::from_millis(1500)) {
        assert!(executor.notice(LocalNotice::Player(late)).is_empty());
    }
    drop(executor);

    // The project on screen brings its own timings ([transcribe.player]) with each load.
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/projects/sauti.toml"),
    )
    .unwrap();
    let text = format!("{text}\n[transcribe.player]\njump_secs = 0.5\nloop_secs = 1\n");
    let sauti = kazi::model::Project::from_toml("sauti.toml", &text).unwrap();
    let mut executor = LocalExecutor::new(&mut store, &engine, None, vec![sauti]);
    let play = |executor: &mut LocalExecutor<'_>, command| {
        player_status(executor.execute(Effect::Player(command)))
    };
    // Before a project is chosen: the defaults.
    play(&mut executor, PlayerCommand::Load(cached.clone()));
    assert_eq!(
        play(&mut executor, PlayerCommand::Forward).position_ms,
        2000
    );
    executor.execute(Effect::ChooseProject("sauti".into()));
    play(&mut executor, PlayerCommand::Load(cached.clone()));
    play(&mut executor, PlayerCommand::Forward);
    assert_eq!(
        play(&mut executor, PlayerCommand::Forward).position_ms,
        1000
    );
    let s = play(&mut executor, PlayerCommand::Loop);
    assert_eq!(s.looping, Some((0, 1000)), "a loop of the project's 1 s");
}

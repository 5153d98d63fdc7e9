//! Audio figures: wire bytes per second of speech over the fixtures' clips, and the time
//! from a play key to the first PCM byte reaching the player's stdin.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use kazi::client::player::{Player, PlayerCommand, PlayerConfig, PlayerProgram};
use kazi::media;
use kazi::model::ClipRef;

use crate::common::{Report, median};

pub fn run(report: &mut Report, _titles: &[String]) -> Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/audio/clips");
    let (mut wire, mut original, mut ms) = (0u64, 0u64, 0u64);
    let mut longest: Option<media::Clip> = None;
    for entry in std::fs::read_dir(&dir).context("fixtures/audio/clips")? {
        let path = entry?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("tone"))
        {
            continue;
        }
        let clip = media::ingest(&path)?;
        wire += clip.wire.len() as u64;
        original += clip.original.len() as u64;
        ms += clip.duration_ms;
        if longest
            .as_ref()
            .is_none_or(|l| l.duration_ms < clip.duration_ms)
        {
            longest = Some(clip);
        }
    }
    println!(
        "  {} s of speech: {} KB on the wire against {} KB as imported, {} KB as 16 kHz WAV",
        ms / 1000,
        wire / 1024,
        original / 1024,
        ms * 32 / 1024
    );
    report.add(
        "audio_wire_bytes_per_speech_second",
        (wire * 1000 / ms.max(1)) as f64,
        "B/s",
    );

    let clip = longest.context("no speech fixtures")?;
    let r = ClipRef {
        hash: clip.hash.clone(),
        bytes: clip.wire.len() as u64,
        ms: clip.duration_ms,
    };
    let out = tempfile::tempdir()?;
    let mut times = Vec::new();
    for i in 0..20 {
        let file = out.path().join(format!("pcm.{i}"));
        let program = PlayerProgram {
            template: format!("cat > {}", file.display()),
        };
        let mut player = Player::new(PlayerConfig::default(), Some(program), Arc::new(|_| {}));
        player.load(&r, Some(&clip.wire), Instant::now());
        let key = Instant::now();
        player.apply(&PlayerCommand::PlayPause, key);
        loop {
            if std::fs::metadata(&file).is_ok_and(|m| m.len() > 0) {
                break;
            }
            if key.elapsed() > Duration::from_secs(5) {
                anyhow::bail!("the player never got PCM");
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        times.push(key.elapsed().as_secs_f64() * 1000.0);
        player.apply(&PlayerCommand::Stop, Instant::now());
    }
    report.add("play_key_to_first_pcm_ms", median(&times), "ms");
    Ok(())
}

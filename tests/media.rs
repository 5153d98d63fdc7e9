//! The media part on the committed fixtures: every input format decodes, broken and
//! empty files are refused, the thin-link format keeps duration and pitch within its
//! bitrate, and the time-stretch keeps a tone's frequency.

use std::path::{Path, PathBuf};

use kazi::media::{self, MediaError, Pcm, WIRE_RATE};

fn clips() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/audio/clips")
}

/// The frequency near `expect` Hz: the autocorrelation's peak over the middle half
/// (edges fade), refined between lags. Averages over many periods, so the small pitch
/// wobble a speech codec gives a pure tone does not count.
fn frequency(samples: &[f32], rate: u32, expect: f64) -> f64 {
    let mid = &samples[samples.len() / 4..samples.len() * 3 / 4];
    let ac = |lag: usize| -> f64 {
        mid.iter()
            .zip(&mid[lag..])
            .map(|(a, b)| *a as f64 * *b as f64)
            .sum()
    };
    let lo = (rate as f64 / (expect * 1.25)) as usize;
    let hi = (rate as f64 / (expect * 0.8)) as usize;
    let best = (lo..=hi).max_by(|a, b| ac(*a).total_cmp(&ac(*b))).unwrap();
    let (y0, y1, y2) = (ac(best - 1), ac(best), ac(best + 1));
    let period = best as f64 + 0.5 * (y0 - y2) / (y0 - 2.0 * y1 + y2);
    rate as f64 / period
}

fn decoded(name: &str) -> Pcm {
    let path = clips().join(name);
    let bytes = std::fs::read(&path).unwrap();
    let ext = path.extension().unwrap().to_str().unwrap();
    media::decode(&bytes, ext, name).unwrap()
}

#[test]
fn each_format_decodes_a_known_tone() {
    for name in ["tone-440.flac", "tone-440.ogg", "tone-440.mp3"] {
        let pcm = decoded(name);
        let ms = pcm.duration_ms();
        // MP3 and Vorbis may pad a frame; the tone is 2 s.
        assert!((1990..=2100).contains(&ms), "{name}: {ms} ms");
        let f = frequency(&pcm.samples, pcm.rate, 440.0);
        assert!((f - 440.0).abs() < 2.0, "{name}: {f} Hz");
    }
    let stereo = decoded("tone-stereo.wav");
    assert_eq!(stereo.rate, 44_100);
    assert_eq!(stereo.duration_ms(), 500);
    let f = frequency(&stereo.samples, stereo.rate, 300.0);
    assert!((f - 300.0).abs() < 2.0, "stereo mixed down: {f} Hz");
}

#[test]
fn every_fixture_clip_ingests_within_the_thin_link_budget() {
    let mut wire = 0u64;
    let mut ms = 0u64;
    let mut formats = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(clips()).unwrap() {
        let path = entry.unwrap().path();
        let clip = media::ingest(&path).unwrap();
        assert_eq!(clip.hash, media::clip_hash(&clip.wire));
        assert!(media::is_clip_hash(&clip.hash));
        assert_eq!(clip.original, std::fs::read(&path).unwrap());
        let back = media::decode_wire(&clip.wire).unwrap();
        assert_eq!(back.rate, WIRE_RATE);
        assert_eq!(back.duration_ms(), clip.duration_ms, "{}", path.display());
        wire += clip.wire.len() as u64;
        ms += clip.duration_ms;
        formats.insert(clip.original_ext);
    }
    assert_eq!(
        formats.into_iter().collect::<Vec<_>>(),
        ["flac", "mp3", "ogg", "wav"]
    );
    let per_second = wire * 1000 / ms;
    assert!(per_second <= 2000, "{per_second} wire bytes per second");
}

#[test]
fn the_wire_format_keeps_length_pitch_and_timing_without_clicks() {
    let tone = media::resample(&decoded("tone-440.flac"), WIRE_RATE);
    let wire = media::encode_wire(&tone);
    let back = media::decode_wire(&wire).unwrap();
    assert_eq!(back.samples.len(), tone.samples.len());
    let f = frequency(&back.samples, back.rate, 440.0);
    assert!((f - 440.0).abs() < 4.4, "{f} Hz after the wire");
    // The codec's delay is taken off: the decoded tone lines up with the source
    // (the best lag is 0 within one period either way).
    let lag_score = |lag: i64| -> f64 {
        (4000..20000)
            .map(|i| tone.samples[i] as f64 * back.samples[(i as i64 + lag) as usize] as f64)
            .sum()
    };
    let best = (-18..=18).max_by(|a, b| lag_score(*a).total_cmp(&lag_score(*b)));
    assert!(
        matches!(best, Some(-1..=1)),
        "decoded lags by {best:?} samples"
    );
    // No clicks at packet edges: a 440 Hz tone at half scale never moves more than
    // about 0.09 between samples; a discontinuity would.
    let steps = back.samples[400..back.samples.len() - 400].windows(2);
    let jump = steps.map(|w| (w[1] - w[0]).abs()).fold(0.0f32, f32::max);
    assert!(jump < 0.2, "largest step {jump}");
    // And on speech: at no phase of the 20 ms packet grid is the signal jumpier than on
    // average (a click at packet edges would stand out at one phase).
    // Every speech clip of the fixtures, so each phase is measured thousands of times.
    let mut by_phase = vec![(0.0f64, 0u32); 320];
    let mut steps = 0usize;
    for entry in std::fs::read_dir(clips()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("tone")
        {
            continue;
        }
        let back = media::decode_wire(&media::ingest(&path).unwrap().wire)
            .unwrap()
            .samples;
        for i in 1..back.len() {
            let p = &mut by_phase[i % 320];
            p.0 += (back[i] - back[i - 1]).abs() as f64;
            p.1 += 1;
        }
        steps += back.len() - 1;
    }
    let mean = by_phase.iter().map(|p| p.0).sum::<f64>() / steps as f64;
    let worst = by_phase
        .iter()
        .map(|p| p.0 / p.1 as f64)
        .fold(0.0, f64::max);
    assert!(worst < mean * 1.25, "phase step {worst} against {mean}");
}

#[test]
fn slow_down_keeps_the_pitch() {
    let tone = media::resample(&decoded("tone-440.flac"), WIRE_RATE);
    for speed in [0.5f32, 0.7, 0.9] {
        let slow = media::stretch(&tone.samples, WIRE_RATE, speed);
        let want = (tone.samples.len() as f32 / speed) as usize;
        assert!(slow.len().abs_diff(want) <= 1, "{speed}: {}", slow.len());
        let f = frequency(&slow, WIRE_RATE, 440.0);
        assert!((f - 440.0).abs() < 4.4, "{f} Hz at {speed}x");
    }
    // Through the wire first, as the player does it.
    let wire = media::decode_wire(&media::encode_wire(&tone)).unwrap();
    let slow = media::stretch(&wire.samples, WIRE_RATE, 0.6);
    let f = frequency(&slow, WIRE_RATE, 440.0);
    assert!((f - 440.0).abs() < 4.4, "{f} Hz after the wire at 0.6x");
}

#[test]
fn broken_empty_and_foreign_files_are_refused_with_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let flac = std::fs::read(clips().join("en-04.flac")).unwrap();
    let cut = dir.path().join("cut.flac");
    std::fs::write(&cut, &flac[..flac.len() / 2]).unwrap();
    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.path().join("notes.mp3");
    std::fs::write(&text, b"this is not audio at all, just words\n".repeat(20)).unwrap();
    let silent = dir.path().join("silent.wav");
    std::fs::write(&silent, wav_of(&[0i16; 16000])).unwrap();

    let err = media::ingest(&cut).unwrap_err();
    assert!(matches!(err, MediaError::Broken { .. }), "{err:?}");
    for (path, empty_kind) in [(&empty, true), (&silent, true), (&text, false)] {
        let err = media::ingest(path).unwrap_err();
        let line = err.to_string();
        assert!(line.contains(&path.display().to_string()), "{line}");
        assert!(!line.contains('\n'));
        assert_eq!(matches!(err, MediaError::Empty(_)), empty_kind, "{line}");
    }
    let missing = media::ingest(&dir.path().join("gone.ogg")).unwrap_err();
    assert!(matches!(missing, MediaError::Read { .. }));
}

#[test]
fn damaged_wire_bytes_are_refused() {
    let tone = media::resample(&decoded("tone-440.flac"), WIRE_RATE);
    let wire = media::encode_wire(&tone);
    assert!(media::decode_wire(&wire[..wire.len() - 10]).is_err());
    assert!(media::decode_wire(b"RIFF1234").is_err());
}

fn wav_of(samples: &[i16]) -> Vec<u8> {
    let data = samples.len() as u32 * 2;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes());
    out.extend_from_slice(&32000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

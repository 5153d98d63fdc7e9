//! Any input format to mono PCM, through symphonia (pure Rust).

use std::io::Cursor;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::{MAX_CLIP_SECONDS, MediaError, Pcm};

/// Decode a whole file to mono (channels averaged) at its own rate. `ext` hints the
/// format; `shown` names the file in errors. A file whose packets fail to decode is
/// refused rather than played with holes.
pub fn decode(bytes: &[u8], ext: &str, shown: &str) -> Result<Pcm, MediaError> {
    let broken = |e: SymError| MediaError::Broken {
        path: shown.to_string(),
        detail: e.to_string(),
    };
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut hint = Hint::new();
    if !ext.is_empty() {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymError::Unsupported(_) => MediaError::NotAudio(shown.to_string()),
            SymError::IoError(_) if bytes.is_empty() => MediaError::Empty(shown.to_string()),
            other => broken(other),
        })?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| MediaError::NotAudio(shown.to_string()))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| MediaError::NotAudio(shown.to_string()))?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| match e {
            SymError::Unsupported(_) => MediaError::NotAudio(shown.to_string()),
            other => broken(other),
        })?;

    let mut rate = 0u32;
    let mut mono: Vec<f32> = Vec::new();
    let mut frame: Vec<f32> = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            // A truncated file ends in an unexpected EOF: refused, not cut short quietly.
            Err(e) => return Err(broken(e)),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buf = decoder.decode(&packet).map_err(broken)?;
        let spec = buf.spec();
        let channels = spec.channels().count().max(1);
        if rate == 0 {
            rate = spec.rate();
        }
        buf.copy_to_vec_interleaved(&mut frame);
        mono.extend(
            frame
                .chunks_exact(channels)
                .map(|c| c.iter().sum::<f32>() / channels as f32),
        );
        if rate > 0 && mono.len() as u64 > (MAX_CLIP_SECONDS as u64 + 1) * rate as u64 {
            return Err(MediaError::TooLong {
                path: shown.to_string(),
                max: MAX_CLIP_SECONDS,
            });
        }
    }
    if mono.is_empty() || rate == 0 {
        return Err(MediaError::Empty(shown.to_string()));
    }
    Ok(Pcm {
        rate,
        samples: mono,
    })
}

//! Media: audio as Kazi stores and plays it, pure code with no I/O beyond reading the
//! file an admin names. Decoding what centres are given (WAV, FLAC, MP3, Ogg Vorbis),
//! the thin-link wire format (Opus speech at low bitrate, content-addressed by hash),
//! and the pitch-keeping time-stretch the player uses for slow-down.
//!
//! It uses nothing else of ours, so the server (import, clip storage) and the client
//! (cache check, player) both build on it.

mod decode;
mod resample;
mod stretch;
mod thin;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use decode::decode;
pub use resample::resample;
pub use stretch::{MAX_SPEED, MIN_SPEED, stretch};
pub use thin::{WIRE_BITRATE, decode_wire, encode_wire};

/// Every clip on the wire and in the player: mono at this rate (speech-grade wideband).
pub const WIRE_RATE: u32 = 16_000;
/// The longest clip an import accepts: a transcription task is short by design, and a
/// bound keeps one file from filling a worker's cache.
pub const MAX_CLIP_SECONDS: u32 = 600;
/// The largest original file an import reads.
pub const MAX_ORIGINAL_BYTES: u64 = 64 * 1024 * 1024;

/// Decoded audio: mono samples in -1.0..=1.0 at `rate`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pcm {
    pub rate: u32,
    pub samples: Vec<f32>,
}

impl Pcm {
    pub fn duration_ms(&self) -> u64 {
        if self.rate == 0 {
            return 0;
        }
        self.samples.len() as u64 * 1000 / self.rate as u64
    }

    /// Signed 16-bit little-endian bytes, the form players read on stdin.
    pub fn to_s16le(&self) -> Vec<u8> {
        s16le(&self.samples)
    }
}

/// Samples as signed 16-bit little-endian bytes.
pub fn s16le(samples: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(samples.len() * 2);
    for s in samples {
        let v = (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// One imported clip: the thin-link encoding for the wire and the original for export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clip {
    /// Lowercase hex SHA-256 of `wire`: the clip's name everywhere.
    pub hash: String,
    pub wire: Vec<u8>,
    pub original: Vec<u8>,
    /// The original's file name extension (lowercase, e.g. `flac`), for export.
    pub original_ext: String,
    pub duration_ms: u64,
}

/// Why a file cannot become a clip. Messages are one line an admin can act on; the
/// importer puts `FILE:LINE:` in front.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("cannot read audio file {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("audio file {path} is larger than {max} MB")]
    TooLarge { path: String, max: u64 },
    #[error("{0} is not audio Kazi can read (WAV, FLAC, MP3 or Ogg Vorbis)")]
    NotAudio(String),
    #[error("audio file {path} is broken: {detail}")]
    Broken { path: String, detail: String },
    #[error("audio file {0} is empty (no sound in it)")]
    Empty(String),
    #[error("audio file {path} is longer than {max} seconds")]
    TooLong { path: String, max: u32 },
    #[error("clip data is damaged: {0}")]
    BadWire(&'static str),
}

/// Lowercase hex SHA-256 of bytes: how clips are named and downloads are checked.
pub fn clip_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Whether a string is a clip name (64 lowercase hex digits): checked before it becomes
/// a file name or a query.
pub fn is_clip_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Read one audio file as the importer does: decode it, check it has sound and a sane
/// length, and produce the stored clip. Nothing is written anywhere.
pub fn ingest(path: &Path) -> Result<Clip, MediaError> {
    let shown = path.display().to_string();
    let read_err = |source| MediaError::Read {
        path: shown.clone(),
        source,
    };
    let len = std::fs::metadata(path).map_err(read_err)?.len();
    if len > MAX_ORIGINAL_BYTES {
        return Err(MediaError::TooLarge {
            path: shown,
            max: MAX_ORIGINAL_BYTES / (1024 * 1024),
        });
    }
    let original = std::fs::read(path).map_err(read_err)?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    ingest_bytes(original, &ext, &shown)
}

/// `ingest` over bytes already read; `shown` names the file in messages.
pub fn ingest_bytes(original: Vec<u8>, ext: &str, shown: &str) -> Result<Clip, MediaError> {
    if original.is_empty() {
        return Err(MediaError::Empty(shown.to_string()));
    }
    let pcm = decode(&original, ext, shown)?;
    let seconds = pcm.samples.len() as u64 / pcm.rate.max(1) as u64;
    if seconds > MAX_CLIP_SECONDS as u64 {
        return Err(MediaError::TooLong {
            path: shown.to_string(),
            max: MAX_CLIP_SECONDS,
        });
    }
    // A file of only silence (or digital zero) is as useless to a transcriber as an
    // empty one, and usually an export gone wrong.
    let peak = pcm.samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    if pcm.samples.is_empty() || peak < 1.0e-3 {
        return Err(MediaError::Empty(shown.to_string()));
    }
    let speech = resample(&pcm, WIRE_RATE);
    let wire = encode_wire(&speech);
    Ok(Clip {
        hash: clip_hash(&wire),
        duration_ms: speech.duration_ms(),
        wire,
        original,
        original_ext: ext.to_string(),
    })
}

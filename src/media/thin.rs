//! The thin-link wire format: Opus (SILK speech mode, pure Rust `opus-rs`) in a small
//! framing of our own instead of Ogg. Ogg's page headers would cost more than the
//! length bytes here, and the format never leaves Kazi: the original is what exports.
//!
//! Layout: `KZO1`, rate (u32 LE), samples (u32 LE: the clip's length, so the decoded
//! clip is exactly as long as the source), then packets, each a length (one byte below
//! 128, else two: low 7 bits with the top bit set, then the rest) and the Opus packet.
//! Every packet holds `FRAME` samples.

use opus_rs::{Application, OpusDecoder, OpusEncoder};

use super::{MediaError, Pcm, WIRE_RATE};

/// Speech at 12 kbit/s of Opus payload (about 1,550 bytes a second with framing).
pub const WIRE_BITRATE: i32 = 12_000;
const MAGIC: &[u8; 4] = b"KZO1";
const HEADER: usize = 12;
/// 20 ms at the wire rate.
const FRAME: usize = 320;
/// The codec's delay in samples at 16 kHz: decoded audio lags the input by this much,
/// so it is cut from the front (and the input padded at the end to flush it).
const DELAY: usize = 104;
const MAX_PACKET: usize = 1275;

/// Encode mono PCM at the wire rate (callers resample first).
pub fn encode_wire(pcm: &Pcm) -> Vec<u8> {
    debug_assert_eq!(pcm.rate, WIRE_RATE);
    let mut enc = OpusEncoder::new(WIRE_RATE as i32, 1, Application::Voip)
        .expect("16 kHz mono is a valid Opus configuration");
    enc.bitrate_bps = WIRE_BITRATE;
    enc.use_cbr = true;
    let n = pcm.samples.len();
    let padded_len = (n + DELAY).div_ceil(FRAME) * FRAME;
    let mut input = pcm.samples.clone();
    input.resize(padded_len, 0.0);
    let mut out = Vec::with_capacity(HEADER + padded_len / FRAME * 40);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&WIRE_RATE.to_le_bytes());
    out.extend_from_slice(&(n as u32).to_le_bytes());
    let mut packet = vec![0u8; MAX_PACKET];
    for frame in input.chunks_exact(FRAME) {
        let len = enc
            .encode(frame, FRAME, &mut packet)
            .expect("a whole 20 ms frame with a large buffer always encodes");
        if len < 128 {
            out.push(len as u8);
        } else {
            out.push(0x80 | (len & 0x7f) as u8);
            out.push((len >> 7) as u8);
        }
        out.extend_from_slice(&packet[..len]);
    }
    out
}

/// Decode the wire format back to mono PCM at the wire rate, as long as the source.
pub fn decode_wire(bytes: &[u8]) -> Result<Pcm, MediaError> {
    if bytes.len() < HEADER || &bytes[..4] != MAGIC {
        return Err(MediaError::BadWire("not a Kazi clip"));
    }
    let rate = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    let n = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
    if rate != WIRE_RATE {
        return Err(MediaError::BadWire("unknown sample rate"));
    }
    if n > super::MAX_CLIP_SECONDS as usize * WIRE_RATE as usize {
        return Err(MediaError::BadWire("clip too long"));
    }
    let mut dec =
        OpusDecoder::new(WIRE_RATE as i32, 1).expect("16 kHz mono is a valid Opus configuration");
    let mut samples = Vec::with_capacity(n + DELAY + FRAME);
    let mut frame = vec![0.0f32; FRAME];
    let mut at = HEADER;
    while at < bytes.len() {
        let first = bytes[at] as usize;
        at += 1;
        let len = if first < 128 {
            first
        } else {
            let hi = *bytes.get(at).ok_or(MediaError::BadWire("cut short"))? as usize;
            at += 1;
            (first & 0x7f) | (hi << 7)
        };
        let packet = bytes
            .get(at..at + len)
            .ok_or(MediaError::BadWire("cut short"))?;
        at += len;
        let got = dec
            .decode(packet, FRAME, &mut frame)
            .map_err(|_| MediaError::BadWire("a packet does not decode"))?;
        samples.extend_from_slice(&frame[..got.min(FRAME)]);
        if samples.len() > n + DELAY + FRAME {
            return Err(MediaError::BadWire("more packets than its length"));
        }
    }
    if samples.len() < n + DELAY {
        return Err(MediaError::BadWire("cut short"));
    }
    samples.drain(..DELAY);
    samples.truncate(n);
    Ok(Pcm { rate, samples })
}

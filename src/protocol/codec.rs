//! Body encoding: JSON compressed with zstd (or gzip for peers without zstd), with
//! limits on both the compressed and the decoded size.

use std::io::Read;

use serde::{Serialize, de::DeserializeOwned};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Zstd,
    Gzip,
    Identity,
}

impl Encoding {
    /// From a `Content-Encoding` header value (absent means identity).
    pub fn from_header(value: Option<&str>) -> Result<Encoding, CodecError> {
        match value.map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(Encoding::Identity),
            Some(v) if v.is_empty() || v == "identity" => Ok(Encoding::Identity),
            Some(v) if v == "zstd" => Ok(Encoding::Zstd),
            Some(v) if v == "gzip" => Ok(Encoding::Gzip),
            Some(v) => Err(CodecError::UnknownEncoding(v)),
        }
    }

    /// The best encoding an `Accept-Encoding` header allows.
    pub fn negotiate(accept: Option<&str>) -> Encoding {
        let accept = accept.unwrap_or("").to_ascii_lowercase();
        let offers = |name: &str| {
            accept
                .split(',')
                .any(|part| part.split(';').next().map(str::trim) == Some(name))
        };
        if offers("zstd") {
            Encoding::Zstd
        } else if offers("gzip") {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    pub fn header(self) -> Option<&'static str> {
        match self {
            Encoding::Zstd => Some("zstd"),
            Encoding::Gzip => Some("gzip"),
            Encoding::Identity => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("content encoding '{0}' is not supported; use zstd or gzip")]
    UnknownEncoding(String),
    #[error("body is larger than {0} bytes once decompressed")]
    TooLarge(usize),
    #[error("body could not be decompressed: {0}")]
    Corrupt(String),
    #[error("body is not valid JSON for this request: {0}")]
    Json(String),
    #[error("body cannot be written as JSON: {0}")]
    Serialize(#[source] serde_json::Error),
    #[error("body cannot be compressed: {0}")]
    Compress(#[source] std::io::Error),
}

/// Serialise and compress, or say why not: for bodies that carry workers' answers.
pub fn try_encode<T: Serialize>(value: &T, encoding: Encoding) -> Result<Vec<u8>, CodecError> {
    let json = serde_json::to_vec(value).map_err(CodecError::Serialize)?;
    match encoding {
        Encoding::Identity => Ok(json),
        // Level 3 is zstd's default: the gain of higher levels is small on short bodies.
        Encoding::Zstd => zstd::bulk::compress(&json, 3).map_err(CodecError::Compress),
        Encoding::Gzip => {
            use std::io::Write;
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(&json)
                .and_then(|()| enc.finish())
                .map_err(CodecError::Compress)
        }
    }
}

/// Serialise and compress a value whose serialisation cannot fail (the protocol's own
/// types: no maps with non-text keys). Should compression fail all the same, the body is
/// empty and the peer refuses it as invalid JSON; it never carries a wrong label.
pub fn encode<T: Serialize>(value: &T, encoding: Encoding) -> Vec<u8> {
    try_encode(value, encoding).unwrap_or_default()
}

/// Decompress (at most `limit` bytes) and parse. A compressed body must be exactly one
/// stream: bytes after its end are refused, never ignored.
pub fn decode<T: DeserializeOwned>(
    body: &[u8],
    encoding: Encoding,
    limit: usize,
) -> Result<T, CodecError> {
    let json = match encoding {
        Encoding::Identity => {
            if body.len() > limit {
                return Err(CodecError::TooLarge(limit));
            }
            std::borrow::Cow::Borrowed(body)
        }
        Encoding::Zstd => {
            let mut dec = zstd::stream::read::Decoder::with_buffer(body)
                .map_err(|e| CodecError::Corrupt(e.to_string()))?
                .single_frame();
            let out = read_limited(&mut dec, limit)?;
            no_trailing_bytes(dec.finish())?;
            std::borrow::Cow::Owned(out)
        }
        Encoding::Gzip => {
            let mut dec = flate2::bufread::GzDecoder::new(body);
            let out = read_limited(&mut dec, limit)?;
            no_trailing_bytes(dec.into_inner())?;
            std::borrow::Cow::Owned(out)
        }
    };
    serde_json::from_slice(&json).map_err(|e| CodecError::Json(e.to_string()))
}

fn read_limited(reader: &mut impl Read, limit: usize) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| CodecError::Corrupt(e.to_string()))?;
    if out.len() > limit {
        return Err(CodecError::TooLarge(limit));
    }
    Ok(out)
}

/// What is left of the body once its compressed stream ended.
fn no_trailing_bytes(rest: &[u8]) -> Result<(), CodecError> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(CodecError::Corrupt(format!(
            "{} bytes follow the end of the compressed data",
            rest.len()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::SyncRequest;

    #[test]
    fn round_trip_every_encoding() {
        let mut req = SyncRequest::default();
        req.known.insert("products".into(), "abc".into());
        for enc in [Encoding::Zstd, Encoding::Gzip, Encoding::Identity] {
            let body = encode(&req, enc);
            let back: SyncRequest = decode(&body, enc, 1 << 20).unwrap();
            assert_eq!(back, req);
        }
    }

    #[test]
    fn a_body_that_cannot_be_written_is_an_error() {
        // JSON object keys must be text.
        let value: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        let err = try_encode(&value, Encoding::Zstd).unwrap_err();
        assert!(matches!(err, CodecError::Serialize(_)), "{err}");
    }

    #[test]
    fn compression_bomb_is_refused() {
        let big = vec![b' '; 10 << 20];
        let bomb = zstd::bulk::compress(&big, 3).unwrap();
        assert!(bomb.len() < 10_000);
        let err = decode::<SyncRequest>(&bomb, Encoding::Zstd, 1 << 20).unwrap_err();
        assert!(matches!(err, CodecError::TooLarge(_)), "{err}");
    }

    #[test]
    fn garbage_is_refused_not_panicking() {
        let err = decode::<SyncRequest>(b"not zstd", Encoding::Zstd, 1 << 20).unwrap_err();
        assert!(matches!(err, CodecError::Corrupt(_)), "{err}");
        let err = decode::<SyncRequest>(b"[1,2", Encoding::Identity, 1 << 20).unwrap_err();
        assert!(matches!(err, CodecError::Json(_)), "{err}");
    }

    #[test]
    fn trailing_garbage_after_the_stream_is_refused() {
        let req = SyncRequest::default();
        for enc in [Encoding::Zstd, Encoding::Gzip] {
            let mut body = encode(&req, enc);
            body.extend_from_slice(b"garbage");
            let err = decode::<SyncRequest>(&body, enc, 1 << 20).unwrap_err();
            assert!(matches!(err, CodecError::Corrupt(_)), "{enc:?}: {err}");
            // A second complete stream is refused as well: one body, one stream.
            let mut twice = encode(&req, enc);
            twice.extend_from_slice(&encode(&req, enc));
            assert!(
                decode::<SyncRequest>(&twice, enc, 1 << 20).is_err(),
                "{enc:?}"
            );
        }
    }

    #[test]
    fn negotiation_prefers_zstd() {
        assert_eq!(Encoding::negotiate(Some("gzip, zstd")), Encoding::Zstd);
        assert_eq!(Encoding::negotiate(Some("gzip;q=1")), Encoding::Gzip);
        assert_eq!(Encoding::negotiate(None), Encoding::Identity);
        assert!(Encoding::from_header(Some("br")).is_err());
    }
}

//! The HTTP round trip to the queue server: compressed JSON both ways, one keep-alive
//! connection, this build's protocol version on every request, and errors sorted into
//! "link down" (retry later), "refused" (show why) and "another protocol" (update a side).

use std::time::Duration;

use reqwest::header::{ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, RANGE};
use serde::{Serialize, de::DeserializeOwned};

use crate::protocol::{
    self, CLASS_PATH, ClassRequest, ClassResponse, Encoding, ErrorBody, LOGIN_PATH, LoginRequest,
    LoginResponse, PROTOCOL_HEADER, PROTOCOL_VERSION, REVIEW_PATH, ReviewRequest, ReviewResponse,
    SYNC_PATH, SyncRequest, SyncResponse,
};

#[derive(Debug, Clone, thiserror::Error)]
pub enum RemoteError {
    /// The server could not be reached or the link dropped: try again later.
    #[error("no connection to the server ({0})")]
    Offline(String),
    /// The token was refused (revoked by an admin, or never known): the device must log
    /// in again with a new code. Unsent answers stay in the outbox for that login.
    #[error("{}", protocol::SIGNED_OUT)]
    SignedOut,
    /// The user is disabled for now (HTTP 423): keep everything, ask again later; the
    /// text is the server's.
    #[error("{0}")]
    Paused(String),
    /// The server answered with an error.
    #[error("the server refused the request: {0}")]
    Refused(String),
    #[error("server URL '{0}' is not valid")]
    BadUrl(String),
    /// The server does not speak this build's protocol; the text says which side to
    /// update. Asking again soon would get the same answer.
    #[error("{0}")]
    Incompatible(String),
    /// The request could not be written (a fault of this build); nothing was sent.
    #[error("the request cannot be sent: {0}")]
    Encode(String),
}

/// A connection to one server as one device.
#[derive(Clone)]
pub struct Remote {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Remote {
    pub fn new(base: &str, token: &str) -> Result<Remote, RemoteError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // Thin links: a full sync of 200 tasks is a few KB, but 20 kbit/s with drops is slow.
            .timeout(Duration::from_secs(90))
            // Below the server's idle timeout (60 s), so a kept connection is dropped
            // here before the server closes it under a request.
            .pool_idle_timeout(Duration::from_secs(45));
        if !is_https(base) {
            // Reading the system's root certificates is a sixth of a client's start on an
            // old machine; a centre's plain-http server never needs them.
            builder = builder.tls_certs_only(std::iter::empty());
        }
        let http = builder
            .build()
            .map_err(|e| RemoteError::BadUrl(e.to_string()))?;
        Ok(Remote {
            http,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        })
    }

    pub async fn login(&self, request: &LoginRequest) -> Result<LoginResponse, RemoteError> {
        self.post(LOGIN_PATH, request, false).await
    }

    pub async fn sync(&self, request: &SyncRequest) -> Result<SyncResponse, RemoteError> {
        self.post(SYNC_PATH, request, true).await
    }

    /// Download clip `hash` from byte `from` on (a Range request), handing each piece to
    /// `write` as it arrives, so a cut keeps what came.
    pub async fn fetch_clip(
        &self,
        hash: &str,
        from: u64,
        write: &mut (dyn FnMut(&[u8]) -> std::io::Result<()> + Send),
    ) -> Result<(), RemoteError> {
        let url = format!("{}{}", self.base, protocol::clip_path(hash));
        let mut req = self
            .http
            .get(&url)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION)
            .header(AUTHORIZATION, format!("Bearer {}", self.token));
        if from > 0 {
            req = req.header(RANGE, format!("bytes={from}-"));
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| RemoteError::Offline(short_reason(&e)))?;
        let status = resp.status();
        if from > 0 && status.as_u16() != 206 || from == 0 && !status.is_success() {
            let bytes = resp.bytes().await.unwrap_or_default();
            let reason = protocol::decode::<ErrorBody>(&bytes, Encoding::Identity, 64 << 10)
                .map(|b| crate::model::sanitize_line(&b.error).into_owned())
                .unwrap_or_else(|_| format!("HTTP {status}"));
            return Err(match status.as_u16() {
                401 => RemoteError::SignedOut,
                423 => RemoteError::Paused(reason),
                502..=504 => RemoteError::Offline(reason),
                _ => RemoteError::Refused(reason),
            });
        }
        while let Some(piece) = resp
            .chunk()
            .await
            .map_err(|e| RemoteError::Offline(short_reason(&e)))?
        {
            write(&piece).map_err(|e| RemoteError::Encode(format!("cannot keep the clip: {e}")))?;
        }
        Ok(())
    }

    /// One reviewer action (`kazi review`): list, take, decide or put back an item.
    pub async fn review(&self, request: &ReviewRequest) -> Result<ReviewResponse, RemoteError> {
        self.post(REVIEW_PATH, request, true).await
    }

    /// One class request (a trainer's step, a student's presence, a long poll of the
    /// class view).
    pub async fn class(&self, request: &ClassRequest) -> Result<ClassResponse, RemoteError> {
        self.post(CLASS_PATH, request, true).await
    }

    async fn post<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        path: &str,
        body: &Req,
        auth: bool,
    ) -> Result<Resp, RemoteError> {
        let url = format!("{}{}", self.base, path);
        let body = protocol::try_encode(body, Encoding::Zstd)
            .map_err(|e| RemoteError::Encode(e.to_string()))?;
        let mut req = self
            .http
            .post(&url)
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_ENCODING, "zstd")
            .header(ACCEPT_ENCODING, "zstd")
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION)
            .body(body);
        if auth {
            req = req.header(AUTHORIZATION, format!("Bearer {}", self.token));
        }
        let resp = req.send().await.map_err(|e| {
            if e.is_builder() {
                RemoteError::BadUrl(url.clone())
            } else {
                RemoteError::Offline(short_reason(&e))
            }
        })?;
        let status = resp.status();
        let encoding = Encoding::from_header(
            resp.headers()
                .get(CONTENT_ENCODING)
                .and_then(|v| v.to_str().ok()),
        )
        .map_err(|e| RemoteError::Refused(e.to_string()))?;
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| RemoteError::Offline(short_reason(&e)))?;
        if status.is_success() {
            return protocol::decode(&bytes, encoding, protocol::MAX_DECODED_BYTES)
                .map_err(|e| RemoteError::Refused(format!("unreadable reply: {e}")));
        }
        let reason = protocol::decode::<ErrorBody>(&bytes, encoding, 64 << 10)
            .map(|b| crate::model::sanitize_line(&b.error).into_owned())
            .unwrap_or_else(|_| format!("HTTP {status}"));
        Err(match status.as_u16() {
            401 if auth => RemoteError::SignedOut,
            423 if auth => RemoteError::Paused(reason),
            426 => RemoteError::Incompatible(reason),
            // A proxy or an overloaded server: the link is as good as down.
            502..=504 => RemoteError::Offline(reason),
            _ => RemoteError::Refused(reason),
        })
    }
}

fn short_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        "connection lost".into()
    }
}

/// Whether `base` needs TLS (the profile accepts only `http://` and `https://`).
fn is_https(base: &str) -> bool {
    base.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_https_server_loads_the_root_certificates() {
        assert!(is_https("https://kazi.example.org"));
        assert!(!is_https("http://10.0.0.2:8080"));
        // Both kinds of client build; a plain-http one still talks to its server
        // (every end-to-end test uses one).
        assert!(Remote::new("https://kazi.example.org", "t").is_ok());
        assert!(Remote::new("http://10.0.0.2:8080", "t").is_ok());
    }
}

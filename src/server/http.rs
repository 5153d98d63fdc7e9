//! The HTTP API: routes, authentication and roles, rate limits, body size limits and
//! read timeouts, compression, and the request limits checked before any store work.
//! Every error is a JSON `ErrorBody`; response headers are kept to the few a client
//! needs, since every byte on a thin link counts.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;

use super::ServerConfig;
use super::limit::{OneAtATime, RateLimiter, Take};
use super::secret;
use super::store::{Principal, Store, StoreError, TokenStanding};
use super::watch::{ErrorKind, Watch};
use crate::protocol::{
    self, CodecError, Encoding, ErrorBody, LoginRequest, LoginResponse, SyncRequest,
};

mod class;
mod review;

#[derive(Clone)]
struct Api {
    store: Arc<dyn Store>,
    config: Arc<ServerConfig>,
    sync_limiter: Arc<RateLimiter<i64>>,
    sync_turns: Arc<OneAtATime>,
    login_limiter: Arc<RateLimiter<String>>,
    watch: Arc<Watch>,
    /// Woken by every change to a class: the trainers' long polls look again.
    class_changed: Arc<tokio::sync::Notify>,
}

/// The longest device name kept (it is only shown to admins).
const MAX_DEVICE_NAME: usize = 64;

pub(super) fn router(store: Arc<dyn Store>, config: ServerConfig, watch: Arc<Watch>) -> Router {
    let api = Api {
        store,
        watch,
        sync_limiter: Arc::new(RateLimiter::new(config.sync_limit)),
        sync_turns: Arc::new(OneAtATime::default()),
        login_limiter: Arc::new(RateLimiter::new(config.login_limit)),
        class_changed: Arc::new(tokio::sync::Notify::new()),
        config: Arc::new(config),
    };
    Router::new()
        .route(protocol::HEALTH_PATH, get(health))
        .route(protocol::LOGIN_PATH, post(login))
        .route(protocol::SYNC_PATH, post(sync))
        .route(METRICS_PATH, get(metrics))
        .route(&format!("{}{{hash}}", protocol::CLIPS_PATH), get(clip))
        .route(protocol::REVIEW_PATH, post(review::review))
        .route(protocol::CLASS_PATH, post(class::class))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(api.clone(), watched))
        .with_state(api)
}

/// Prometheus scrapes this instance's counters here (counts only: no names, no text).
pub const METRICS_PATH: &str = "/metrics";

/// Every response passes here: refusals and failures are counted by kind, and a sync's
/// time from arrival to reply goes into the latency histogram.
async fn watched(
    State(api): State<Api>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let is_sync = request.uri().path() == protocol::SYNC_PATH;
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        api.watch.failed(ErrorKind::of(status));
    }
    if is_sync {
        api.watch.sync_took(started.elapsed());
    }
    response
}

async fn metrics(State(api): State<Api>) -> Response {
    let mut response = Response::new(Body::from(api.watch.prometheus()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// An error as the client sees it: a status and one line it can show.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// A store failure: "try again" (busy) is a 503 the client retries after a second;
    /// anything else is ours, logged here with its causes and shown without detail (no
    /// SQL reaches the client).
    fn store(what: &str, e: StoreError) -> Self {
        if e.is_retryable() {
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is busy; try again in a moment",
            );
        }
        let mut detail = e.to_string();
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            detail.push_str(": ");
            detail.push_str(&c.to_string());
            cause = c.source();
        }
        ApiError::internal(what, detail)
    }

    /// A failure of ours: logged here, never shown in detail to the client.
    fn internal(what: &str, e: impl std::fmt::Display) -> Self {
        tracing::error!(during = what, error = %e, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server hit an internal error; try again later",
        )
    }
}

impl IntoResponse for ApiError {
    /// Every refusal is logged here with what the client is told (internal errors were
    /// logged with their detail where they happened).
    fn into_response(self) -> Response {
        if self.status.is_client_error() {
            tracing::warn!(
                status = self.status.as_u16(),
                kind = %ErrorKind::of(self.status).name(),
                told = %self.message,
                "refused"
            );
        }
        let body = protocol::encode(
            &ErrorBody {
                error: self.message,
            },
            Encoding::Identity,
        );
        let mut response = json_response(self.status, body, Encoding::Identity);
        if matches!(
            self.status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        ) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<CodecError> for ApiError {
    fn from(e: CodecError) -> Self {
        let status = match e {
            CodecError::UnknownEncoding(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            CodecError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            CodecError::Corrupt(_) | CodecError::Json(_) => StatusCode::BAD_REQUEST,
            // Only writing a reply fails this way: ours, not the client's.
            CodecError::Serialize(_) | CodecError::Compress(_) => {
                return ApiError::internal("encode reply", e);
            }
        };
        ApiError::new(status, e.to_string())
    }
}

fn json_response(status: StatusCode, body: Vec<u8>, encoding: Encoding) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(name) = encoding.header() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
    }
    response
}

async fn health() -> Response {
    json_response(
        StatusCode::OK,
        b"{\"ok\":true}".to_vec(),
        Encoding::Identity,
    )
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such endpoint; the API has /v1/login, /v1/sync, /v1/review, /v1/class, /v1/clips/HASH, /healthz and /metrics",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed: /v1/login, /v1/sync, /v1/review and /v1/class take POST; /v1/clips/HASH, /healthz and /metrics take GET",
    )
}

/// Read the raw body (at most `limit` bytes on the wire, within the body timeout) and
/// note its encoding. Decoding is `decode_request`'s, on a blocking thread.
async fn read_body(
    api: &Api,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<(Bytes, Encoding), ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than {limit} bytes; send fewer answers per sync"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let encoding = Encoding::from_header(
        headers
            .get(header::CONTENT_ENCODING)
            .map(|v| v.to_str().unwrap_or("(not text)")),
    )?;
    let read = tokio::time::timeout(api.config.body_timeout, axum::body::to_bytes(body, limit));
    let bytes = read
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "request body took longer than {} s to arrive; try again",
                    api.config.body_timeout.as_secs()
                ),
            )
        })?
        .map_err(|e| {
            if e.into_inner()
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                too_large()
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "request body could not be read")
            }
        })?;
    Ok((bytes, encoding))
}

/// Decompress and parse a body read by `read_body`: call it on a blocking thread, since
/// decompression takes real time on big bodies.
fn decode_request<T: DeserializeOwned>(
    bytes: &[u8],
    encoding: Encoding,
    decoded_limit: usize,
) -> Result<T, ApiError> {
    Ok(protocol::decode(bytes, encoding, decoded_limit)?)
}

/// The encoding the client accepts for the response.
fn response_encoding(headers: &HeaderMap) -> Encoding {
    Encoding::negotiate(
        headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    )
}

/// Refuse a client whose protocol version this server does not serve, with a line that
/// says which side to update. Checked first: nothing else of such a request is read.
fn check_protocol(headers: &HeaderMap) -> Result<(), ApiError> {
    let declared = headers.get(protocol::PROTOCOL_HEADER).map(|v| v.as_bytes());
    protocol::request_version(declared)
        .and_then(|client| protocol::served(client, protocol::PROTOCOL_VERSION))
        .map_err(|e| {
            let status = match e {
                protocol::VersionError::Unreadable(_) => StatusCode::BAD_REQUEST,
                _ => StatusCode::UPGRADE_REQUIRED,
            };
            ApiError::new(status, e.to_string())
        })
}

/// Run blocking store work off the async threads.
async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, ApiError> + Send + 'static,
) -> Result<R, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal("store task failed", e))?
}

async fn authenticate(api: &Api, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "no device token sent; log in first: kazi login --server URL --user NAME --code CODE",
            )
        })?;
    let hash = secret::hash_token(token);
    let store = api.store.clone();
    blocking(move || {
        if let Some(who) = store
            .authenticate(&hash)
            .map_err(|e| ApiError::store("authenticate", e))?
        {
            return Ok(who);
        }
        // Refused: say why, so a paused worker is not told to log in again.
        let standing = store
            .token_standing(&hash)
            .map_err(|e| ApiError::store("authenticate", e))?;
        Err(match standing {
            TokenStanding::Disabled => ApiError::new(StatusCode::LOCKED, protocol::ACCOUNT_PAUSED),
            TokenStanding::Removed => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "this user was removed by the centre's admin; ask your admin",
            ),
            TokenStanding::Unknown | TokenStanding::Revoked => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "device token is not known or was signed out; ask your admin for a new code",
            ),
        })
    })
    .await
}

async fn login(
    State(api): State<Api>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_protocol(&headers)?;
    // A login is tiny: the small limit keeps its decoding cheap before the user (and so
    // the user's limit) is known.
    let (bytes, encoding) = read_body(&api, &headers, body, protocol::MAX_LOGIN_BODY_BYTES).await?;
    let token = secret::new_token().map_err(|e| ApiError::internal("login", e))?;
    let token_hash = secret::hash_token(&token);
    let now = api.config.clock.now();
    let reply_encoding = response_encoding(&headers);
    blocking(move || {
        let request: LoginRequest =
            decode_request(&bytes, encoding, protocol::MAX_LOGIN_DECODED_BYTES)?;
        let user = request.user.trim().to_string();
        if user.is_empty() || user.len() > 64 {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                StoreError::BadEnrolment.to_string(),
            ));
        }
        let code_hash = secret::hash_enrolment_code(&request.code);
        let device: String = request.device.chars().take(MAX_DEVICE_NAME).collect();
        let role = match api
            .store
            .redeem_enrolment(&user, &code_hash, &device, &token_hash, now)
        {
            Ok(role) => role,
            Err(StoreError::BadEnrolment) => {
                tracing::warn!(user = %crate::model::sanitize_line(&user), "login refused: wrong, used or expired code");
                return Err(wrong_code(&api, &user));
            }
            Err(e @ StoreError::UserDisabled(_)) => {
                return Err(ApiError::new(StatusCode::FORBIDDEN, e.to_string()));
            }
            Err(other) => return Err(ApiError::store("login", other)),
        };
        api.watch.logged_in();
        tracing::info!(
            user = %user,
            role = %role,
            device = %crate::model::sanitize_line(&device),
            "login"
        );
        let response = LoginResponse {
            token,
            user,
            role,
            now,
        };
        Ok(json_response(
            StatusCode::OK,
            protocol::encode(&response, reply_encoding),
            reply_encoding,
        ))
    })
    .await
}

/// A wrong code spends one of the user's tries. Only wrong codes are counted and the
/// right code is always checked, so someone guessing at a user's name never locks that
/// user out; with 80-bit codes guessing is hopeless at any rate, and the limit makes a
/// guessing run visible (429 and one log line when it starts).
fn wrong_code(api: &Api, user: &str) -> ApiError {
    let Take::Refused { first } = api.login_limiter.take(user.to_string()) else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            StoreError::BadEnrolment.to_string(),
        );
    };
    if first {
        tracing::warn!(
            user = %crate::model::sanitize_line(user),
            "many wrong enrolment codes for this user; the right code still works"
        );
    }
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too many wrong codes for this user; check the code and try again in a minute",
    )
}

async fn sync(
    State(api): State<Api>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_protocol(&headers)?;
    let who = authenticate(&api, &headers).await?;
    if !who.role.takes_tasks() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "the {} role does not take tasks; ask your admin for a worker account",
                who.role
            ),
        ));
    }
    if !api.sync_limiter.allow(who.user_id) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many syncs from this user; wait a second and try again",
        ));
    }
    let (bytes, encoding) = read_body(&api, &headers, body, protocol::MAX_BODY_BYTES).await?;
    // Decoding and the store take this user's turn: many connections of one account
    // are served one after another, never in parallel against everyone else.
    let turn = api.sync_turns.turn(who.user_id).await;
    let now = api.config.clock.now();
    let store = api.store.clone();
    let watch = api.watch.clone();
    let reply_encoding = response_encoding(&headers);
    blocking(move || {
        let _turn = turn;
        // Parsing and every limit come before the store: a request that asks for the
        // impossible is refused here and never holds the writer others wait for.
        let request: SyncRequest = decode_request(&bytes, encoding, protocol::MAX_DECODED_BYTES)?;
        request
            .check_limits()
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        let answers = request.answers.len();
        let asks_progress = request.progress;
        let mut response = store
            .sync(&who, request, now)
            .map_err(|e| ApiError::store("sync", e))?;
        if asks_progress {
            response.progress =
                crate::server::impact::progress::for_reply(store.as_ref(), &who.user, now);
        }
        watch.synced(answers, response.leases.len());
        Ok(json_response(
            StatusCode::OK,
            protocol::encode(&response, reply_encoding),
            reply_encoding,
        ))
    })
    .await
}

/// `GET /v1/clips/HASH`: a clip's wire bytes for any signed-in device, whole or from a
/// `Range: bytes=N-` (a cut download resumes). Clips are named by hash and immutable,
/// so a resumed download always continues the same bytes.
async fn clip(
    State(api): State<Api>,
    Path(hash): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_protocol(&headers)?;
    authenticate(&api, &headers).await?;
    if !crate::media::is_clip_hash(&hash) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "no such clip"));
    }
    let store = api.store.clone();
    let wire = blocking(move || {
        store
            .clip_wire(&hash)
            .map_err(|e| ApiError::store("clip", e))
    })
    .await?
    .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such clip"))?;
    let len = wire.len() as u64;
    let range = headers
        .get(header::RANGE)
        .map(|v| parse_range(v.to_str().unwrap_or(""), len))
        .transpose()?;
    let (status, body, content_range) = match range {
        Some((start, end)) => (
            StatusCode::PARTIAL_CONTENT,
            wire[start as usize..=end as usize].to_vec(),
            Some(format!("bytes {start}-{end}/{len}")),
        ),
        None => (StatusCode::OK, wire, None),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(r) = content_range.and_then(|r| HeaderValue::from_str(&r).ok()) {
        h.insert(header::CONTENT_RANGE, r);
    }
    Ok(response)
}

/// One range of `bytes=START-[END]` within `len` bytes, inclusive. Several ranges and
/// suffix ranges are not needed by Kazi's client and are refused.
fn parse_range(value: &str, len: u64) -> Result<(u64, u64), ApiError> {
    let unsatisfiable = || {
        ApiError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            format!("range not satisfiable: the clip has {len} bytes"),
        )
    };
    let spec = value
        .trim()
        .strip_prefix("bytes=")
        .ok_or_else(unsatisfiable)?;
    let (start, end) = spec.split_once('-').ok_or_else(unsatisfiable)?;
    let start: u64 = start.trim().parse().map_err(|_| unsatisfiable())?;
    let end: u64 = match end.trim() {
        "" => len.saturating_sub(1),
        e => e.parse::<u64>().map_err(|_| unsatisfiable())?.min(len - 1),
    };
    if start >= len || end < start {
        return Err(unsatisfiable());
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_one_span_inside_the_clip() {
        assert_eq!(parse_range("bytes=0-", 10).unwrap(), (0, 9));
        assert_eq!(parse_range("bytes=4-", 10).unwrap(), (4, 9));
        assert_eq!(parse_range("bytes=2-5", 10).unwrap(), (2, 5));
        assert_eq!(parse_range("bytes=2-50", 10).unwrap(), (2, 9));
        for bad in [
            "bytes=10-",
            "bytes=5-2",
            "items=0-",
            "bytes=-3",
            "bytes=0-1,4-5",
        ] {
            let e = parse_range(bad, 10).unwrap_err();
            assert_eq!(e.status, StatusCode::RANGE_NOT_SATISFIABLE, "{bad}");
        }
    }

    #[test]
    fn a_busy_store_is_a_503_to_retry_after_a_second() {
        let e = StoreError::Busy("database is locked".into());
        let response = ApiError::store("sync", e).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }

    #[test]
    fn other_store_errors_are_a_500_that_shows_no_sql() {
        let e = StoreError::Backend("near \"SELECT secret FROM users\": syntax error".into());
        let error = ApiError::store("sync", e);
        assert_eq!(error.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!error.message.contains("SELECT"), "{}", error.message);
        let response = error.into_response();
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }
}

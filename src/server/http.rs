//! The HTTP API: routes, authentication and roles, rate limits, body size limits and
//! read timeouts, compression, and the request limits checked before any store work.
//! Every error is a JSON `ErrorBody`; response headers are kept to the few a client
//! needs, since every byte on a thin link counts.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;

use super::ServerConfig;
use super::limit::{OneAtATime, RateLimiter, Take};
use super::secret;
use super::store::{Principal, Store, StoreError};
use crate::protocol::{
    self, CodecError, Encoding, ErrorBody, LoginRequest, LoginResponse, SyncRequest,
};

mod review;

#[derive(Clone)]
struct Api {
    store: Arc<dyn Store>,
    config: Arc<ServerConfig>,
    sync_limiter: Arc<RateLimiter<i64>>,
    sync_turns: Arc<OneAtATime>,
    login_limiter: Arc<RateLimiter<String>>,
}

/// The longest device name kept (it is only shown to admins).
const MAX_DEVICE_NAME: usize = 64;

pub(super) fn router(store: Arc<dyn Store>, config: ServerConfig) -> Router {
    let api = Api {
        store,
        sync_limiter: Arc::new(RateLimiter::new(config.sync_limit)),
        sync_turns: Arc::new(OneAtATime::default()),
        login_limiter: Arc::new(RateLimiter::new(config.login_limit)),
        config: Arc::new(config),
    };
    Router::new()
        .route(protocol::HEALTH_PATH, get(health))
        .route(protocol::LOGIN_PATH, post(login))
        .route(protocol::SYNC_PATH, post(sync))
        .route(protocol::REVIEW_PATH, post(review::review))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(api)
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
        eprintln!("kazi serve: {what}: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server hit an internal error; try again later",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
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
        "no such endpoint; the API has /v1/login, /v1/sync, /v1/review and /healthz",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed: /v1/login, /v1/sync and /v1/review take POST, /healthz takes GET",
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
        store
            .authenticate(&hash)
            .map_err(|e| ApiError::store("authenticate", e))
    })
    .await?
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "device token is not known or was signed out; ask your admin for a new code",
        )
    })
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
            Err(StoreError::BadEnrolment) => return Err(wrong_code(&api, &user)),
            Err(other) => return Err(ApiError::store("login", other)),
        };
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
        eprintln!(
            "kazi serve: many wrong enrolment codes for user {}; the right code still works",
            crate::model::sanitize_line(user)
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
    let reply_encoding = response_encoding(&headers);
    blocking(move || {
        let _turn = turn;
        // Parsing and every limit come before the store: a request that asks for the
        // impossible is refused here and never holds the writer others wait for.
        let request: SyncRequest = decode_request(&bytes, encoding, protocol::MAX_DECODED_BYTES)?;
        request
            .check_limits()
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        let response = store
            .sync(&who, request, now)
            .map_err(|e| ApiError::store("sync", e))?;
        Ok(json_response(
            StatusCode::OK,
            protocol::encode(&response, reply_encoding),
            reply_encoding,
        ))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

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

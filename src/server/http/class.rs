//! `POST /v1/class`: class sessions over HTTP. Authentication, limits and the trainer's
//! long poll here; every rule (who may start, step and watch, who is a member) is
//! `scheduler::class`'s. A change to any class wakes the long polls, which look again.

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{
    Api, ApiError, authenticate, blocking, check_protocol, decode_request, json_response,
    read_body, response_encoding,
};
use crate::protocol::{self, ClassRequest, ClassResponse, MAX_VIEW_WAIT};
use crate::server::scheduler::class::ClassRefusal;
use crate::server::store::Principal;

/// A long poll looks again this often even without a change: "stuck" and "away" come
/// with time, not with a request.
const RECHECK: Duration = Duration::from_secs(2);

impl From<ClassRefusal> for ApiError {
    fn from(refusal: ClassRefusal) -> Self {
        let status = match refusal {
            ClassRefusal::Role | ClassRefusal::NotYours(_) => StatusCode::FORBIDDEN,
            ClassRefusal::NoProject(_) | ClassRefusal::NoClass(_) => StatusCode::NOT_FOUND,
            ClassRefusal::Ended(_) | ClassRefusal::NotJoined(_) | ClassRefusal::NoLessons(_) => {
                StatusCode::CONFLICT
            }
            ClassRefusal::NoStep { .. } => StatusCode::BAD_REQUEST,
            ClassRefusal::NoCode => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, refusal.to_string())
    }
}

pub(super) async fn class(
    State(api): State<Api>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_protocol(&headers)?;
    let who = authenticate(&api, &headers).await?;
    if !api.sync_limiter.allow(who.user_id) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests from this user; wait a second and try again",
        ));
    }
    let (bytes, encoding) = read_body(&api, &headers, body, protocol::MAX_BODY_BYTES).await?;
    let request: ClassRequest = blocking(move || {
        let request: ClassRequest = decode_request(&bytes, encoding, protocol::MAX_DECODED_BYTES)?;
        request
            .check_limits()
            .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, m))?;
        Ok(request)
    })
    .await?;
    let reply_encoding = response_encoding(&headers);
    let wait = match &request {
        ClassRequest::View { wait, .. } => wait.unwrap_or(0).min(MAX_VIEW_WAIT),
        _ => 0,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(u64::from(wait));
    loop {
        // Registered before the look, so a change made during it still wakes this poll.
        let changed = api.class_changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let response = ask(&api, &who, &request).await?;
        let unchanged = matches!(response, ClassResponse::View { view: None });
        if !unchanged || tokio::time::Instant::now() >= deadline {
            if !matches!(
                response,
                ClassResponse::View { .. }
                    | ClassResponse::Open { .. }
                    | ClassResponse::Report { .. }
            ) {
                api.class_changed.notify_waiters();
            }
            return Ok(json_response(
                StatusCode::OK,
                protocol::encode(&response, reply_encoding),
                reply_encoding,
            ));
        }
        let recheck = (tokio::time::Instant::now() + RECHECK).min(deadline);
        tokio::select! {
            () = &mut changed => {}
            () = tokio::time::sleep_until(recheck) => {}
        }
    }
}

async fn ask(
    api: &Api,
    who: &Principal,
    request: &ClassRequest,
) -> Result<ClassResponse, ApiError> {
    let now = api.config.clock.now();
    let (store, who, request) = (api.store.clone(), who.clone(), request.clone());
    blocking(move || {
        store
            .class(&who, &request, now)
            .map_err(|e| ApiError::store("class", e))?
            .map_err(ApiError::from)
    })
    .await
}

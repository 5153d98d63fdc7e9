//! `POST /v1/review`: the reviewer's actions over HTTP. Authentication, role and limits
//! here; every rule (assignment, leases, verdicts) is `scheduler::review`'s, which the
//! SSH server calls the same way.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{
    Api, ApiError, authenticate, blocking, check_protocol, decode_request, json_response,
    read_body, response_encoding,
};
use crate::model::Role;
use crate::protocol::{self, ReviewRequest};
use crate::server::scheduler::review::{self, ReviewRefusal};

impl From<ReviewRefusal> for ApiError {
    fn from(refusal: ReviewRefusal) -> Self {
        let status = match refusal {
            ReviewRefusal::Role | ReviewRefusal::NotAssigned(_) => StatusCode::FORBIDDEN,
            ReviewRefusal::NoItem(_) => StatusCode::NOT_FOUND,
            ReviewRefusal::Decided(_)
            | ReviewRefusal::HeldByOther(_)
            | ReviewRefusal::NotHeld(_) => StatusCode::CONFLICT,
            ReviewRefusal::NeedsValue(_)
            | ReviewRefusal::RejectHasValue
            | ReviewRefusal::Invalid(_)
            | ReviewRefusal::NotAClaim
            | ReviewRefusal::CannotCorrect(_)
            | ReviewRefusal::Limit(_)
            | ReviewRefusal::UnknownReason(_)
            | ReviewRefusal::UnknownVerdict(_) => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, refusal.to_string())
    }
}

pub(super) async fn review(
    State(api): State<Api>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_protocol(&headers)?;
    let who = authenticate(&api, &headers).await?;
    if !matches!(who.role, Role::Reviewer | Role::Admin) {
        return Err(ReviewRefusal::Role.into());
    }
    if !api.sync_limiter.allow(who.user_id) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests from this user; wait a second and try again",
        ));
    }
    let (bytes, encoding) = read_body(&api, &headers, body, protocol::MAX_BODY_BYTES).await?;
    let now = api.config.clock.now();
    let store = api.store.clone();
    let reply_encoding = response_encoding(&headers);
    blocking(move || {
        let request: ReviewRequest = decode_request(&bytes, encoding, protocol::MAX_DECODED_BYTES)?;
        let response = review::answer(store.as_ref(), &who, request, now)
            .map_err(|e| ApiError::store("review", e))??;
        Ok(json_response(
            StatusCode::OK,
            protocol::encode(&response, reply_encoding),
            reply_encoding,
        ))
    })
    .await
}

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
use crate::protocol::{self, ReviewRequest, ReviewResponse};
use crate::server::scheduler::review::{self, ReviewDecision, ReviewRefusal, ReviewTake};
use crate::server::store::review::{ReviewFilter, ReviewReason, VerdictKind};

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
            | ReviewRefusal::CannotCorrect => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, refusal.to_string())
    }
}

fn bad(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, message)
}

fn reason_of(text: Option<String>) -> Result<Option<ReviewReason>, ApiError> {
    text.map(|t| {
        ReviewReason::parse(&t).ok_or_else(|| {
            bad(format!(
                "unknown review reason '{}'",
                crate::model::sanitize_line(&t)
            ))
        })
    })
    .transpose()
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
        request.check_limits().map_err(bad)?;
        let failed = |e| ApiError::store("review", e);
        let response = match request {
            ReviewRequest::Queue { project, reason } => {
                let filter = ReviewFilter {
                    project,
                    reason: reason_of(reason)?,
                    ..ReviewFilter::default()
                };
                let items = review::queue(store.as_ref(), &who, filter, now).map_err(failed)??;
                ReviewResponse::Queue { items }
            }
            ReviewRequest::Take {
                item,
                project,
                reason,
            } => {
                let which = match item {
                    Some(id) => ReviewTake::Item(id),
                    None => ReviewTake::Next(ReviewFilter {
                        project,
                        reason: reason_of(reason)?,
                        ..ReviewFilter::default()
                    }),
                };
                let taken = store.review_take(&who, &which, now).map_err(failed)??;
                ReviewResponse::Take {
                    case: taken.map(|t| Box::new(t.case)),
                }
            }
            ReviewRequest::Decide {
                item,
                verdict,
                value,
                note,
            } => {
                let kind = VerdictKind::parse(&verdict).ok_or_else(|| {
                    bad("verdict must be pick, edit, uphold or reject".to_string())
                })?;
                let decision = ReviewDecision {
                    item,
                    kind,
                    value,
                    note,
                };
                let decided = store
                    .review_decide(&who, &decision, now)
                    .map_err(failed)??;
                ReviewResponse::Decide {
                    item,
                    feedback_given: decided.feedback_given,
                }
            }
            ReviewRequest::Release { item } => {
                store.review_release(&who, item, now).map_err(failed)??;
                ReviewResponse::Release { item }
            }
        };
        Ok(json_response(
            StatusCode::OK,
            protocol::encode(&response, reply_encoding),
            reply_encoding,
        ))
    })
    .await
}

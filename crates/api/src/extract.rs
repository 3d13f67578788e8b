//! Extractors whose every rejection is an `ApiError` in the shared shape.

use crate::MAX_BODY_BYTES;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::json;
use stratus_protocol::auth::{Claims, TokenType};
use stratus_protocol::error::ErrorCode;

/// The client's address, as the entry point saw it (the HTTP API's `sourceIp` in Lambda, the
/// socket's peer in the local stack), put in the request's extensions by that entry point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceIp(pub std::net::IpAddr);

/// A JSON body. Rejections:
/// - declared or actual size over [`MAX_BODY_BYTES`] → 413 `PAYLOAD_TOO_LARGE`;
/// - a `Content-Type` that is present and not JSON → 415 `UNSUPPORTED_MEDIA_TYPE`
///   (an absent one is accepted: JSON is the only body this API takes);
/// - not JSON at all → 400 `INVALID_REQUEST`;
/// - JSON of the wrong shape (missing field, wrong type, unknown field) → 400
///   `VALIDATION_ERROR` with the reason and position in `details`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let too_large = || {
            ApiError::new(ErrorCode::PayloadTooLarge, format!("request body exceeds {MAX_BODY_BYTES} bytes"))
                .details(json!({ "max_bytes": MAX_BODY_BYTES }))
        };
        let headers = req.headers();
        if let Some(ct) = headers.get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or("").trim();
            if !(essence == "application/json" || essence.ends_with("+json")) {
                return Err(ApiError::new(ErrorCode::UnsupportedMediaType, "expected Content-Type: application/json"));
            }
        }
        let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(too_large());
        }
        let body = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES).await.map_err(|_| too_large())?;
        parse(&body).map(ApiJson)
    }
}

/// Parses a JSON body with the error classification described on [`ApiJson`].
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // Syntax first (without building anything): a typed parse stops at the first wrong
    // type, so `[1,2` would otherwise be reported as a shape error, not as broken JSON.
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        let at = json!({ "line": e.line(), "column": e.column() });
        return Err(ApiError::new(ErrorCode::InvalidRequest, "request body is not valid JSON")
            .details(json!({ "position": at })));
    }
    serde_json::from_slice(body).map_err(|e| {
        let at = json!({ "line": e.line(), "column": e.column() });
        match e.classify() {
            serde_json::error::Category::Data => {
                let reason = e.to_string();
                let reason = reason.split(" at line ").next().unwrap_or(&reason).to_owned();
                ApiError::new(ErrorCode::ValidationError, format!("invalid request body: {reason}"))
                    .details(json!({ "reason": reason, "position": at }))
            }
            _ => ApiError::new(ErrorCode::InvalidRequest, "request body is not valid JSON")
                .details(json!({ "position": at })),
        }
    })
}

/// The caller, from a valid `Authorization: Bearer <access token>`.
#[derive(Debug, Clone)]
pub struct AuthUser(pub Claims);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        let claims = state.auth.verify(token, TokenType::Access, state.clock.now_secs())?;
        Ok(AuthUser(claims))
    }
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let missing = || ApiError::new(ErrorCode::AuthTokenMissing, "missing bearer token");
    let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(missing)?;
    let value =
        value.to_str().map_err(|_| ApiError::new(ErrorCode::AuthTokenInvalid, "malformed Authorization header"))?;
    let (scheme, token) = value.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::new(ErrorCode::AuthTokenMissing, "expected Authorization: Bearer <token>"));
    }
    Ok(token.trim())
}

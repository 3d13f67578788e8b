//! `ApiError`: every failure a handler, an extractor or the middleware produces becomes one
//! of these, and leaves as the one JSON error shape. Domain errors map here, in one place.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use stratus_core::auth::AuthError;
use stratus_core::clock::{SystemClock, rfc3339_ms};
use stratus_core::error::Rejection;
use stratus_core::store::StoreError;
use stratus_protocol::error::{ErrorBody, ErrorCode, ErrorDetail};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<serde_json::Value>,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), details: None, retry_after: None }
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn internal() -> Self {
        Self::new(ErrorCode::InternalError, "internal error")
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        // The store's message may name tables or endpoints: log it, don't return it.
        tracing::error!(error = %e, "store error");
        match e {
            StoreError::Unavailable(_) | StoreError::TransactionConflict => {
                let mut err = ApiError::new(ErrorCode::ServiceUnavailable, "storage temporarily unavailable");
                err.retry_after = Some(1);
                err
            }
            StoreError::Invalid(m) if m == "invalid cursor" => ApiError::new(ErrorCode::ValidationError, m),
            _ => ApiError::internal(),
        }
    }
}

/// The one mapping of the core's rejections to the HTTP error shape.
impl From<Rejection> for ApiError {
    fn from(e: Rejection) -> Self {
        match e {
            Rejection::Rejected(code, msg) => ApiError::new(code, msg),
            Rejection::Limited { retry_after_secs } => {
                let mut err = ApiError::new(ErrorCode::RateLimited, "too many requests; retry later")
                    .details(serde_json::json!({ "retry_after_seconds": retry_after_secs }));
                err.retry_after = Some(retry_after_secs);
                err
            }
            Rejection::Store(s) => s.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        Rejection::from(e).into()
    }
}

tokio::task_local! {
    /// The request being served: its id and when it started. Set by the request middleware
    /// so an error built anywhere below can carry the id.
    pub static REQUEST: RequestCtx;
}

#[derive(Debug, Clone)]
pub struct RequestCtx {
    pub id: String,
    pub now_ms: i64,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ctx = REQUEST.try_with(|c| c.clone()).unwrap_or_else(|_| RequestCtx {
            id: "unknown".into(),
            now_ms: stratus_core::clock::Clock::now_ms(&SystemClock),
        });
        let status = StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: ErrorDetail { code: self.code, message: self.message, details: self.details },
            timestamp: rfc3339_ms(ctx.now_ms),
            request_id: ctx.id,
        };
        let mut res = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

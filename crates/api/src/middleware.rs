//! The layers around every route, outermost first:
//! 1. `request_scope` — picks the request id (a valid `x-request-id`, else a new UUID),
//!    opens a tracing span carrying it, logs one line per request, echoes the id back.
//! 2. `CatchPanicLayer` — a panicking handler answers 500 in the error shape; the process
//!    and other requests carry on.
//! 3. `shape_errors` — error responses produced outside our handlers (a body limit, a
//!    rejection we did not write) are rewritten into the error shape.

use crate::error::{ApiError, REQUEST, RequestCtx};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use std::any::Any;
use std::time::Instant;
use stratus_protocol::error::ErrorCode;
use tower_http::catch_panic::CatchPanicLayer;
use tracing::Instrument;

pub const REQUEST_ID: &str = "x-request-id";

pub fn wrap(router: Router, state: AppState) -> Router {
    router
        .layer(from_fn(shape_errors))
        .layer(CatchPanicLayer::custom(on_panic))
        .layer(from_fn_with_state(state, request_scope))
}

fn valid_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (!s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic())).then(|| s.to_owned())
}

async fn request_scope(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let id =
        req.headers().get(REQUEST_ID).and_then(valid_request_id).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let ctx = RequestCtx { id: id.clone(), now_ms: state.clock.now_ms() };
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %id, method = %method, path = %path);
    let started = Instant::now();
    let mut res = REQUEST.scope(ctx, next.run(req)).instrument(span.clone()).await;
    let status = res.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, latency_ms, "request failed");
        } else {
            tracing::info!(status, latency_ms, "request completed");
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    res
}

fn on_panic(err: Box<dyn Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = what, "handler panicked");
    ApiError::internal().into_response()
}

async fn shape_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return res;
    }
    let code = ErrorCode::for_status(status.as_u16());
    let message = status.canonical_reason().unwrap_or("error").to_owned();
    let mut shaped = ApiError::new(code, message).into_response();
    *shaped.status_mut() = status;
    for keep in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = res.headers().get(&keep) {
            shaped.headers_mut().insert(keep, v.clone());
        }
    }
    shaped
}

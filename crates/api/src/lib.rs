//! # stratus-api
//!
//! The REST API as one `axum::Router`. The Lambda entry point (`functions`, through
//! `lambda_http::run`) and the local stack serve this same router, so local behaviour is
//! production behaviour.
//!
//! Layout:
//! - [`state`]     — `AppState`: the store, the token authority, the clock, service info.
//! - [`graph`]     — the service graph (REST state, WebSocket front door, group rooms) built
//!   in one place for the Lambda mains, the local stack and the test harness.
//! - [`error`]     — `ApiError` and the one JSON error shape; every failure goes through it.
//! - [`extract`]   — `ApiJson` (JSON bodies with size/type/shape errors in our shape) and
//!   `AuthUser` (a valid bearer access token).
//! - [`middleware`] — request ids, structured request logs, panics and foreign errors
//!   turned into the error shape.
//! - [`objects`]   — the embedded object store's presigned PUT/GET over HTTP (local stack
//!   and tests; S3 serves them on AWS).
//! - [`routes`]    — handlers: health, version, auth.
//! - [`telemetry`] — JSON logs with `tracing`.

pub mod error;
pub mod extract;
pub mod graph;
pub mod middleware;
pub mod objects;
pub mod routes;
pub mod state;
pub mod telemetry;

pub use error::ApiError;
pub use state::{AppState, ServiceInfo};

use axum::Router;

/// Largest request body accepted, in bytes; larger bodies get 413 `PAYLOAD_TOO_LARGE`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The whole REST API with its middleware.
pub fn router(state: AppState) -> Router {
    let routes = routes::routes()
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .with_state(state.clone());
    middleware::wrap(routes, state)
}

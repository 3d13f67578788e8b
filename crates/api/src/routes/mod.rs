//! Route table. Each module holds its handlers; this file says which path goes where.

pub mod auth;
pub mod calls;
pub mod health;
pub mod ice;
pub mod presence;
pub mod rooms;

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::http::{Method, Uri};
use axum::routing::{get, post, put};
use stratus_protocol::error::ErrorCode;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health::health))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/health/detailed", get(health::detailed))
        .route("/api/version", get(health::version))
        .route("/auth/token", post(auth::token))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/validate", get(auth::validate))
        .route("/api/v1/calls/initiate", post(calls::initiate))
        .route("/api/v1/calls/{id}/answer", put(calls::answer))
        .route("/api/v1/calls/{id}", axum::routing::delete(calls::end))
        .route("/api/v1/calls/{id}/status", get(calls::status))
        .route("/api/v1/calls/user/{user_id}/active", get(calls::active))
        .route("/api/v1/calls/user/{user_id}/history", get(calls::history))
        .route("/api/v1/presence/status", put(presence::update))
        .route("/api/v1/presence/status/{user_id}", get(presence::status))
        .route("/api/v1/presence/check/{user_id}", get(presence::check))
        .route("/api/v1/ice-servers", get(ice::get))
        .route("/api/v1/rooms", post(rooms::create).get(rooms::list))
        .route("/api/v1/rooms/join", post(rooms::join))
        .route("/api/v1/rooms/{id}", get(rooms::get))
        .route("/api/v1/rooms/{id}/leave", post(rooms::leave))
}

pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route for {method} {}", uri.path()))
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, format!("{method} is not allowed on {}", uri.path()))
}

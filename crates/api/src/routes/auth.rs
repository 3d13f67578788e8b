//! `POST /auth/token`, `POST /auth/refresh`, `GET /auth/validate`.

use crate::error::ApiError;
use crate::extract::{ApiJson, AuthUser};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use stratus_protocol::auth::{RefreshRequest, TokenRequest, TokenResponse, ValidateResponse};

pub async fn token(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let res = state.auth.issue(&state.refresh_tokens, &req, state.clock.now_secs()).await?;
    tracing::info!(user_id = %req.user_id, app = %req.app_key, "token issued");
    Ok(Json(res))
}

pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let res = state.auth.refresh(&state.refresh_tokens, &req.refresh_token, state.clock.now_secs()).await?;
    Ok(Json(res))
}

pub async fn validate(AuthUser(claims): AuthUser) -> Json<ValidateResponse> {
    Json(ValidateResponse { valid: true, claims })
}

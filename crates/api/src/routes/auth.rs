//! `POST /auth/token`, `POST /auth/refresh`, `GET /auth/validate`.

use crate::error::ApiError;
use crate::extract::SourceIp;
use crate::extract::{ApiJson, AuthUser};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use stratus_core::auth::AuthError;
use stratus_core::ratelimit::{self, CREDENTIAL_FAILURES};
use stratus_protocol::auth::{RefreshRequest, TokenRequest, TokenResponse, ValidateResponse};

pub async fn token(
    State(state): State<AppState>,
    source: Option<Extension<SourceIp>>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let now = state.clock.now_ms();
    let who = ratelimit::credential_subject(&req.app_key, source.map(|Extension(s)| s.0));
    ratelimit::check(state.root.as_ref(), &who, CREDENTIAL_FAILURES, now).await?;
    let res = match state.auth.issue(&state.refresh_tokens, &req, now.div_euclid(1000)).await {
        Err(AuthError::BadCredentials) => {
            tracing::info!(app = %req.app_key, "wrong app credentials");
            // Counted; the one that reaches the limit is still told its credentials are wrong.
            match ratelimit::hit(state.root.as_ref(), &who, CREDENTIAL_FAILURES, now).await {
                Ok(()) | Err(stratus_core::error::Rejection::Limited { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            return Err(AuthError::BadCredentials.into());
        }
        other => other?,
    };
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

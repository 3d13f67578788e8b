//! Presence under `/api/v1/presence`. Any signed-in user may read anyone's presence (that is
//! what presence is for); only the user sets their own.

use crate::error::ApiError;
use crate::extract::{ApiJson, AuthUser};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use stratus_core::presence;
use stratus_core::ratelimit::{self, PRESENCE_UPDATES};
use stratus_protocol::calls::{Availability, PresenceUpdate, PresenceView};
use stratus_protocol::error::ErrorCode;
use stratus_protocol::ids::UserId;
use stratus_protocol::ids::is_valid_id;

fn check_id(user: &str) -> Result<(), ApiError> {
    if is_valid_id(user) { Ok(()) } else { Err(ApiError::new(ErrorCode::ValidationError, "invalid user id")) }
}

pub async fn status(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(user): Path<UserId>,
) -> Result<Json<PresenceView>, ApiError> {
    check_id(&user)?;
    Ok(Json(presence::view(st.app(&me).table.as_ref(), &user).await?))
}

pub async fn check(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(user): Path<UserId>,
) -> Result<Json<Availability>, ApiError> {
    check_id(&user)?;
    Ok(Json(presence::availability(presence::view(st.app(&me).table.as_ref(), &user).await?)))
}

pub async fn update(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    ApiJson(req): ApiJson<PresenceUpdate>,
) -> Result<Json<PresenceView>, ApiError> {
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(PRESENCE_UPDATES), now).await?;
    let view = presence::set(t.table.as_ref(), &me.user_id, &req.status, req.message.as_deref(), now).await?;
    Ok(Json(view))
}

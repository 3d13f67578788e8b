//! Calls under `/api/v1/calls`. Every route needs a bearer token; a call is visible only to
//! its two participants (anyone else gets 404 `CALL_NOT_FOUND`), a user's active calls and
//! history only to that user (403).

use crate::error::ApiError;
use crate::extract::{ApiJson, AuthUser, parse};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use std::collections::HashMap;
use stratus_core::ratelimit::{self, CALL_INITIATIONS, HISTORY_QUERIES};
use stratus_protocol::calls::{
    ActiveCalls, CallType, CallView, EndCall, EndReason, HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT, History,
    InitiateCall, Outcome, Pagination,
};
use stratus_protocol::error::ErrorCode;
use stratus_protocol::ids::{CallId, UserId};

fn only_self(me: &UserId, user: &UserId) -> Result<(), ApiError> {
    if me == user { Ok(()) } else { Err(ApiError::new(ErrorCode::Forbidden, "you can only see your own calls")) }
}

pub async fn initiate(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    ApiJson(req): ApiJson<InitiateCall>,
) -> Result<(StatusCode, Json<CallView>), ApiError> {
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(CALL_INITIATIONS), now).await?;
    let call = t.calls.initiate(&me.user_id, &req, now).await?;
    tracing::info!(call_id = %call.id, call_type = call.call_type.as_str(), "call initiated");
    Ok((StatusCode::CREATED, Json(t.calls.view(&call).await?)))
}

pub async fn answer(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(id): Path<CallId>,
) -> Result<Json<CallView>, ApiError> {
    let t = st.app(&me);
    let call = t.calls.answer(&me.user_id, &id, st.clock.now_ms()).await?;
    Ok(Json(t.calls.view(&call).await?))
}

/// The reason comes as `?reason=` or in a JSON body `{"reason": ...}`; default `user_hangup`.
pub async fn end(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(id): Path<CallId>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<CallView>, ApiError> {
    let from_body =
        if body.iter().all(u8::is_ascii_whitespace) { EndCall::default() } else { parse::<EndCall>(&body)? };
    let raw = q.get("reason").cloned().or(from_body.reason).unwrap_or_else(|| "user_hangup".to_owned());
    let reason = EndReason::parse(&raw).ok_or_else(|| {
        ApiError::new(ErrorCode::ValidationError, "reason must be user_hangup, connection_failed or timeout")
    })?;
    let t = st.app(&me);
    let call = t.calls.end(&me.user_id, &id, reason, st.clock.now_ms()).await?;
    Ok(Json(t.calls.view(&call).await?))
}

pub async fn status(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(id): Path<CallId>,
) -> Result<Json<CallView>, ApiError> {
    let t = st.app(&me);
    let call = t.calls.get_for(&me.user_id, &id, st.clock.now_ms()).await?;
    Ok(Json(t.calls.view(&call).await?))
}

pub async fn active(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(user): Path<UserId>,
) -> Result<Json<ActiveCalls>, ApiError> {
    only_self(&me.user_id, &user)?;
    let t = st.app(&me);
    let mut calls = Vec::new();
    for c in t.calls.active(&user, st.clock.now_ms()).await? {
        calls.push(t.calls.view(&c).await?);
    }
    Ok(Json(ActiveCalls { user_id: user.into(), calls }))
}

fn number(q: &HashMap<String, String>, name: &str, default: u32, max: u32, min: u32) -> Result<u32, ApiError> {
    match q.get(name) {
        None => Ok(default),
        Some(v) => v.parse::<u32>().ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| {
            ApiError::new(ErrorCode::ValidationError, format!("{name} must be an integer from {min} to {max}"))
        }),
    }
}

pub async fn history(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(user): Path<UserId>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<History>, ApiError> {
    only_self(&me.user_id, &user)?;
    if let Some(unknown) = q.keys().find(|k| !["limit", "offset", "call_type", "status"].contains(&k.as_str())) {
        return Err(ApiError::new(ErrorCode::ValidationError, format!("unknown query parameter `{unknown}`")));
    }
    let limit = number(&q, "limit", HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT, 1)?;
    let offset = number(&q, "offset", 0, u32::MAX, 0)?;
    let call_type = match q.get("call_type") {
        None => None,
        Some(t) => Some(
            CallType::parse(t)
                .ok_or_else(|| ApiError::new(ErrorCode::InvalidCallType, "call_type must be `voice` or `video`"))?,
        ),
    };
    let outcome =
        match q.get("status") {
            None => None,
            Some(s) => Some(Outcome::parse(s).ok_or_else(|| {
                ApiError::new(ErrorCode::ValidationError, "status must be completed, failed or missed")
            })?),
        };
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(HISTORY_QUERIES), now).await?;
    let (calls, total) = t.calls.history(&user, call_type, outcome, limit, offset, now).await?;
    let has_more = u64::from(offset) + (calls.len() as u64) < total;
    Ok(Json(History { user_id: user.into(), calls, pagination: Pagination { total, limit, offset, has_more } }))
}

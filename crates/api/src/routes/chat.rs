//! Chat under `/api/v1/chat` (bodies in `stratus_protocol::chat`). Every route needs a bearer
//! token; a session is visible to its participants only (anyone else: 404
//! `CHAT_SESSION_NOT_FOUND`). Sends, reads and upload tickets are rate limited per user.

use crate::error::ApiError;
use crate::extract::{ApiJson, AuthUser};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use std::collections::HashMap;
use stratus_core::chat::Start;
use stratus_core::ratelimit::{self, CHAT_READS, CHAT_SENDS, CHAT_UPLOADS};
use stratus_protocol::chat::*;
use stratus_protocol::error::ErrorCode;
use stratus_protocol::ids::{AttachmentId, ChatSessionId, MessageId, UserId};

pub(crate) fn only(q: &HashMap<String, String>, allowed: &[&str]) -> Result<(), ApiError> {
    match q.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ApiError::new(ErrorCode::ValidationError, format!("unknown query parameter `{k}`"))),
        None => Ok(()),
    }
}

pub(crate) fn limit(q: &HashMap<String, String>) -> Result<u32, ApiError> {
    match q.get("limit") {
        None => Ok(PAGE_DEFAULT_LIMIT),
        Some(v) => v.parse::<u32>().ok().filter(|n| (1..=PAGE_MAX_LIMIT).contains(n)).ok_or_else(|| {
            ApiError::new(ErrorCode::ValidationError, format!("limit must be an integer from 1 to {PAGE_MAX_LIMIT}"))
        }),
    }
}

/// Where a page starts: `?before=` (newest first), `?after=` (oldest first), or the newest.
pub(crate) fn start_of(q: &HashMap<String, String>) -> Result<Start, ApiError> {
    Ok(match (q.get("before"), q.get("after")) {
        (Some(_), Some(_)) => return Err(ApiError::new(ErrorCode::ValidationError, "give before or after, not both")),
        (Some(b), None) => Start::Before(MessageId::from(b.as_str())),
        (None, Some(a)) => Start::After(MessageId::from(a.as_str())),
        (None, None) => Start::Newest,
    })
}

pub async fn create(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    ApiJson(req): ApiJson<CreateSession>,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(CHAT_SENDS), now).await?;
    let view = t.chat.create(&me.user_id, &req, now).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

pub async fn list(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<SessionList>, ApiError> {
    only(&q, &["limit", "cursor"])?;
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(CHAT_READS), now).await?;
    Ok(Json(t.chat.list(&me.user_id, limit(&q)?.min(50), q.get("cursor").cloned(), now).await?))
}

pub async fn get(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(id): Path<ChatSessionId>,
) -> Result<Json<SessionView>, ApiError> {
    let t = st.app(&me);
    Ok(Json(t.chat.get(&me.user_id, &id, st.clock.now_ms()).await?))
}

pub async fn add_participant(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(id): Path<ChatSessionId>,
    ApiJson(req): ApiJson<AddParticipant>,
) -> Result<(StatusCode, Json<SessionView>), ApiError> {
    let t = st.app(&me);
    Ok((StatusCode::CREATED, Json(t.chat.add_participant(&me.user_id, &id, &req, st.clock.now_ms()).await?)))
}

pub async fn set_role(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path((id, user)): Path<(ChatSessionId, UserId)>,
    ApiJson(req): ApiJson<SetRole>,
) -> Result<Json<SessionView>, ApiError> {
    let t = st.app(&me);
    Ok(Json(t.chat.set_role(&me.user_id, &id, &user, req.role, st.clock.now_ms()).await?))
}

pub async fn remove_participant(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path((id, user)): Path<(ChatSessionId, UserId)>,
) -> Result<StatusCode, ApiError> {
    let t = st.app(&me);
    t.chat.remove_participant(&me.user_id, &id, &user, st.clock.now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn send(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(id): Path<ChatSessionId>,
    ApiJson(req): ApiJson<SendMessage>,
) -> Result<(StatusCode, Json<MessageView>), ApiError> {
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(CHAT_SENDS), now).await?;
    let (view, created) = t.chat.send(&me.user_id, &id, &req, now).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(view)))
}

pub async fn messages(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(id): Path<ChatSessionId>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<MessagePage>, ApiError> {
    only(&q, &["limit", "before", "after"])?;
    let start = start_of(&q)?;
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(CHAT_READS), now).await?;
    Ok(Json(t.chat.messages(&me.user_id, &id, start, limit(&q)?).await?))
}

pub async fn edit(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path((id, m)): Path<(ChatSessionId, MessageId)>,
    ApiJson(req): ApiJson<EditMessage>,
) -> Result<Json<MessageView>, ApiError> {
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(CHAT_SENDS), now).await?;
    Ok(Json(t.chat.edit(&me.user_id, &id, &m, &req, now).await?))
}

pub async fn delete(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path((id, m)): Path<(ChatSessionId, MessageId)>,
) -> Result<Json<MessageView>, ApiError> {
    let t = st.app(&me);
    Ok(Json(t.chat.delete(&me.user_id, &id, &m, st.clock.now_ms()).await?))
}

async fn react(
    st: AppState,
    me: stratus_protocol::auth::Claims,
    path: (ChatSessionId, MessageId, String),
    add: bool,
) -> Result<Json<MessageView>, ApiError> {
    let (id, m, emoji) = path;
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(CHAT_SENDS), now).await?;
    Ok(Json(t.chat.react(&me.user_id, &id, &m, &emoji, add, now).await?))
}

pub async fn add_reaction(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(path): Path<(ChatSessionId, MessageId, String)>,
) -> Result<Json<MessageView>, ApiError> {
    react(st, me, path, true).await
}

pub async fn remove_reaction(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(path): Path<(ChatSessionId, MessageId, String)>,
) -> Result<Json<MessageView>, ApiError> {
    react(st, me, path, false).await
}

pub async fn read(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(id): Path<ChatSessionId>,
    ApiJson(req): ApiJson<MarkRead>,
) -> Result<Json<ReadState>, ApiError> {
    let t = st.app(&me);
    let m = MessageId::from(req.message_id.as_str());
    Ok(Json(t.chat.mark_read(&me.user_id, &id, &m, st.clock.now_ms()).await?))
}

pub async fn usage(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(id): Path<ChatSessionId>,
) -> Result<Json<Usage>, ApiError> {
    let t = st.app(&me);
    Ok(Json(t.chat.usage(&me.user_id, &id).await?))
}

pub async fn request_upload(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(id): Path<ChatSessionId>,
    ApiJson(req): ApiJson<RequestUpload>,
) -> Result<(StatusCode, Json<UploadTicket>), ApiError> {
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(CHAT_UPLOADS), now).await?;
    Ok((StatusCode::CREATED, Json(t.chat.request_upload(&me.user_id, &id, &req, now).await?)))
}

pub async fn attachment(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path((id, a)): Path<(ChatSessionId, AttachmentId)>,
) -> Result<Json<AttachmentView>, ApiError> {
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(CHAT_READS), now).await?;
    Ok(Json(t.chat.attachment(&me.user_id, &id, &a, now).await?))
}

//! Seed 003's chat routes (`/chat/…`, bodies in `stratus_protocol::chat::seed`), served by the
//! same rules as `/api/v1/chat`, in the seed's `{status, message, data}` envelope, errors
//! included. The acting user a body names must be the token's: a body naming someone else is
//! refused (403), never obeyed. Bearer token as everywhere.

use crate::error::ApiError;
use crate::extract::{ApiJson, AuthUser};
use crate::routes::chat::{limit, only, start_of};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::HashMap;
use stratus_core::chat::Declared;
use stratus_core::ratelimit::{self, CHAT_READS, CHAT_SENDS};
use stratus_protocol::chat::seed::*;
use stratus_protocol::chat::{CreateSession, MessagePage, MessageType, MessageView, SendMessage, SessionView, Usage};
use stratus_protocol::error::ErrorCode;
use stratus_protocol::ids::{ChatSessionId, MessageId};

/// An error in the seed's shape: `{status, message, data: null}` (with `Retry-After` where
/// the API sends one).
pub struct SeedError(pub ApiError);

impl<E: Into<ApiError>> From<E> for SeedError {
    fn from(e: E) -> Self {
        SeedError(e.into())
    }
}

impl IntoResponse for SeedError {
    fn into_response(self) -> Response {
        let status = self.0.code.http_status();
        let body = SeedEnvelope::<()> { status, message: self.0.message.clone(), data: None };
        let mut res =
            (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), Json(body)).into_response();
        if let Some(secs) = self.0.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

pub(crate) type Seed<T> = Result<(StatusCode, Json<SeedEnvelope<T>>), SeedError>;

pub(crate) fn ok<T: Serialize>(status: StatusCode, message: &str, data: T) -> Seed<T> {
    Ok((status, Json(SeedEnvelope { status: status.as_u16(), message: message.to_owned(), data: Some(data) })))
}

fn refused(what: &str) -> SeedError {
    SeedError(ApiError::new(ErrorCode::Forbidden, format!("{what} must be the authenticated user")))
}

pub async fn create(
    State(st): State<AppState>,
    me: Result<AuthUser, ApiError>,
    body: Result<ApiJson<SeedCreateSession>, ApiError>,
) -> Seed<SessionView> {
    let AuthUser(me) = me?;
    let ApiJson(req) = body?;
    if req.creator_id != me.user_id.as_str() {
        return Err(refused("creatorId"));
    }
    let req = CreateSession {
        participants: req.participants,
        is_group: req.is_group.unwrap_or(false),
        title: None,
        // Nanoseconds to whole seconds, rounded up (a positive duration never becomes none).
        duration_seconds: req.duration.filter(|ns| *ns > 0).map(|ns| ns.div_ceil(1_000_000_000)),
    };
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(CHAT_SENDS), now).await?;
    ok(StatusCode::CREATED, "session created", t.chat.create(&me.user_id, &req, now).await?)
}

pub async fn message(
    State(st): State<AppState>,
    me: Result<AuthUser, ApiError>,
    body: Result<ApiJson<SeedSendMessage>, ApiError>,
) -> Seed<MessageView> {
    let AuthUser(me) = me?;
    let ApiJson(req) = body?;
    if req.sender_id != me.user_id.as_str() {
        return Err(refused("senderID"));
    }
    let message_type = match req.message_type.as_deref() {
        None | Some("text") => MessageType::Text,
        Some("image") => MessageType::Image,
        Some("file") => MessageType::File,
        Some(_) => return Err(ApiError::new(ErrorCode::ValidationError, "type is text, image or file").into()),
    };
    let id = ChatSessionId::from(req.session_id.as_str());
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(CHAT_SENDS), now).await?;
    if let Some(to) = &req.receiver_id {
        let session = t.chat.get(&me.user_id, &id, now).await?;
        if to == me.user_id.as_str() || !session.participants.iter().any(|p| &p.user_id == to) {
            let msg = "receiverID is not another participant of the session";
            return Err(ApiError::new(ErrorCode::ValidationError, msg).into());
        }
    }
    let send = SendMessage {
        message_type: Some(message_type),
        text: Some(req.message),
        client_message_id: None,
        attachment_id: None,
    };
    // The seed sends an image or file message first and its attachment after
    // (`/chat/attachment`).
    let (view, _) = t.chat.send_awaiting_attachment(&me.user_id, &id, &send, now).await?;
    ok(StatusCode::CREATED, "message sent", view)
}

pub async fn attachment(
    State(st): State<AppState>,
    me: Result<AuthUser, ApiError>,
    body: Result<ApiJson<SeedAttachment>, ApiError>,
) -> Seed<MessageView> {
    let AuthUser(me) = me?;
    let ApiJson(req) = body?;
    let kind = match req.attachment.kind.as_str() {
        "image" => MessageType::Image,
        "file" => MessageType::File,
        _ => return Err(ApiError::new(ErrorCode::ValidationError, "attachment.type is image or file").into()),
    };
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(CHAT_SENDS), now).await?;
    let (id, m) = (ChatSessionId::from(req.session_id.as_str()), MessageId::from(req.message_id.as_str()));
    let a = &req.attachment;
    let declared = Declared { url: &a.url, file_name: &a.name, size: a.size, content_type: &a.mime_type };
    ok(StatusCode::OK, "attachment added", t.chat.attach(&me.user_id, &id, &m, kind, &declared, now).await?)
}

pub async fn reaction(
    State(st): State<AppState>,
    me: Result<AuthUser, ApiError>,
    body: Result<ApiJson<SeedReaction>, ApiError>,
) -> Seed<MessageView> {
    let AuthUser(me) = me?;
    let ApiJson(req) = body?;
    if req.reaction.user_id != me.user_id.as_str() {
        return Err(refused("reaction.userId"));
    }
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(CHAT_SENDS), now).await?;
    let (id, m) = (ChatSessionId::from(req.session_id.as_str()), MessageId::from(req.message_id.as_str()));
    ok(StatusCode::OK, "reaction added", t.chat.react(&me.user_id, &id, &m, &req.reaction.kind, true, now).await?)
}

pub async fn messages(
    State(st): State<AppState>,
    me: Result<AuthUser, ApiError>,
    Path(id): Path<ChatSessionId>,
    Query(q): Query<HashMap<String, String>>,
) -> Seed<MessagePage> {
    let AuthUser(me) = me?;
    only(&q, &["limit", "before", "after"])?;
    let start = start_of(&q)?;
    let now = st.clock.now_ms();
    let t = st.app(&me);
    ratelimit::hit(t.table.as_ref(), &me.user_id, t.rate(CHAT_READS), now).await?;
    ok(StatusCode::OK, "messages", t.chat.messages(&me.user_id, &id, start, limit(&q)?).await?)
}

pub async fn usage(
    State(st): State<AppState>,
    me: Result<AuthUser, ApiError>,
    Path(id): Path<ChatSessionId>,
) -> Seed<Usage> {
    let AuthUser(me) = me?;
    let t = st.app(&me);
    ok(StatusCode::OK, "usage", t.chat.usage(&me.user_id, &id).await?)
}

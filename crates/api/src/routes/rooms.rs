//! SFU rooms under `/api/v1/rooms`. Every route needs a bearer token. A room is visible to
//! its owner, its members, admins and tokens granted that room; anyone else gets 404
//! `ROOM_NOT_FOUND`. Media itself is negotiated over the WebSocket (`joinRoom`); `join` here
//! makes sure the room exists and is placed on a media node, and says where to connect.

use crate::error::ApiError;
use crate::extract::{ApiJson, AuthUser};
use crate::routes::seed_chat::{Seed, SeedError, ok};
use crate::state::{AppState, InApp};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use stratus_core::rooms::{self, RoomError, RoomRecord};
use stratus_core::sfu::{AppRooms, Caller, summary};
use stratus_protocol::auth::Claims;
use stratus_protocol::error::ErrorCode;
use stratus_protocol::ids::RoomId;
use stratus_protocol::media::{QualityInfo, QualityRequest};
use stratus_protocol::sfu::seed::SeedQuality;
use stratus_protocol::sfu::{CreateRoom, JoinResult, RoomDetail, RoomList, RoomMember};

fn caller(c: &Claims) -> Caller {
    Caller {
        user_id: c.user_id.clone(),
        connection_id: None,
        grant_room: c.grants.room.clone(),
        can_publish: c.grants.can_publish,
        can_subscribe: c.grants.can_subscribe,
        admin: c.grants.admin,
    }
}

/// The caller's app's rooms.
fn sfu<'a>(t: &'a InApp<'_>) -> Result<&'a AppRooms<'a>, ApiError> {
    t.sfu
        .as_ref()
        .ok_or_else(|| ApiError::new(ErrorCode::ServiceUnavailable, "rooms need a media fleet; none is configured"))
}

async fn detail(t: &InApp<'_>, r: &RoomRecord) -> Result<RoomDetail, ApiError> {
    let members = rooms::members(t.table.as_ref(), &r.id).await?;
    Ok(RoomDetail {
        room: summary(r),
        members: members
            .into_iter()
            .map(|m| RoomMember {
                participant_id: m.participant_id.into(),
                user_id: m.user_id.into(),
                joined_at: stratus_core::clock::rfc3339_ms(m.joined_at),
                connected: m.connection_id.is_some(),
            })
            .collect(),
    })
}

/// The room if the caller may see it; `ROOM_NOT_FOUND` otherwise (no hint it exists).
async fn visible_room(t: &InApp<'_>, c: &Caller, id: &RoomId) -> Result<RoomRecord, ApiError> {
    let sfu = sfu(t)?;
    let r = rooms::get(t.table.as_ref(), id).await?;
    if !sfu.visible(c, &r).await? {
        return Err(ApiError::new(ErrorCode::RoomNotFound, format!("no room {id}")));
    }
    Ok(r)
}

pub async fn create(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    ApiJson(req): ApiJson<CreateRoom>,
) -> Result<(StatusCode, Json<RoomDetail>), ApiError> {
    let t = st.app(&me);
    let r = sfu(&t)?.create(&caller(&me), &req, st.clock.now_ms()).await?;
    Ok((StatusCode::CREATED, Json(detail(&t, &r).await?)))
}

pub async fn get(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(id): Path<RoomId>,
) -> Result<Json<RoomDetail>, ApiError> {
    let t = st.app(&me);
    let r = visible_room(&t, &caller(&me), &id).await?;
    Ok(Json(detail(&t, &r).await?))
}

/// The caller's rooms (all of its app's rooms for an admin) with their members, and totals.
pub async fn list(State(st): State<AppState>, AuthUser(me): AuthUser) -> Result<Json<RoomList>, ApiError> {
    let t = st.app(&me);
    let sfu = sfu(&t)?;
    let c = caller(&me);
    let mut out = Vec::new();
    for r in rooms::list(t.table.as_ref()).await? {
        if sfu.visible(&c, &r).await? {
            out.push(detail(&t, &r).await?);
        }
    }
    let total_participants = out.iter().map(|d| d.room.participants).sum();
    Ok(Json(RoomList { total_rooms: out.len(), total_participants, rooms: out }))
}

pub async fn join(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    ApiJson(req): ApiJson<CreateRoom>,
) -> Result<(StatusCode, Json<JoinResult>), ApiError> {
    let t = st.app(&me);
    let sfu = sfu(&t)?;
    let c = caller(&me);
    let now = st.clock.now_ms();
    let existing = match &req.room_id {
        Some(id) => match rooms::get(t.table.as_ref(), &RoomId::from(id.as_str())).await {
            Ok(r) => Some(r),
            Err(RoomError::Rejected(ErrorCode::RoomNotFound, _)) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let (room, created) = match existing {
        Some(r) => (r, false),
        None => {
            match sfu.create(&c, &req, now).await {
                Ok(r) => (r, true),
                // Created by someone else meanwhile: join that one.
                Err(RoomError::Rejected(ErrorCode::Conflict, _)) if req.room_id.is_some() => {
                    (rooms::get(t.table.as_ref(), &RoomId::from(req.room_id.clone().unwrap_or_default())).await?, false)
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    if let Some(g) = &c.grant_room
        && g != &room.id
    {
        return Err(ApiError::new(ErrorCode::Forbidden, format!("this token is limited to room `{g}`")));
    }
    if room.participants >= room.max_participants {
        return Err(ApiError::new(ErrorCode::RoomFull, format!("room {} is full", room.id)));
    }
    let placed = sfu.placement(&room.id, now).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((
        status,
        Json(JoinResult {
            room_id: room.id.to_string(),
            created,
            node_id: placed.node.id.into(),
            participants: room.participants,
            max_participants: room.max_participants,
            signaling_url: st.signaling_url.clone(),
        }),
    ))
}

/// Takes every connection of the caller out of the room (the others hear `participantLeft`);
/// `PARTICIPANT_NOT_FOUND` when the caller is not in it. (Room ids are not secret: anyone
/// may join by id; what a room holds is shown only to those in it.)
pub async fn leave(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(id): Path<RoomId>,
) -> Result<StatusCode, ApiError> {
    let t = st.app(&me);
    sfu(&t)?.leave_user(&caller(&me), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Receive quality 0–100 for every connection of the caller in the room: the simulcast layer
/// and bitrate cap of every video they receive there (docs/api.md, "Quality").
pub async fn quality(
    State(st): State<AppState>,
    AuthUser(me): AuthUser,
    Path(id): Path<RoomId>,
    ApiJson(req): ApiJson<QualityRequest>,
) -> Result<Json<QualityInfo>, ApiError> {
    let t = st.app(&me);
    Ok(Json(sfu(&t)?.set_quality_user(&caller(&me), &id, req.quality, st.clock.now_ms()).await?))
}

/// Seed 003's `POST /call/quality` `{sessionId, participantId, quality}`, in its envelope:
/// the caller's own quality (`participantId` must be the caller) in room `sessionId`.
pub async fn seed_quality(
    State(st): State<AppState>,
    me: Result<AuthUser, ApiError>,
    body: Result<ApiJson<SeedQuality>, ApiError>,
) -> Seed<QualityInfo> {
    let AuthUser(me) = me?;
    let ApiJson(req) = body?;
    if req.participant_id != me.user_id.as_str() {
        return Err(SeedError(ApiError::new(ErrorCode::Forbidden, "participantId must be the authenticated user")));
    }
    let t = st.app(&me);
    let room = RoomId::from(req.session_id.as_str());
    let info = sfu(&t)?.set_quality_user(&caller(&me), &room, req.quality, st.clock.now_ms()).await?;
    ok(StatusCode::OK, "quality updated", info)
}

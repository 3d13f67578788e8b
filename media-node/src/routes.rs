//! The signed control API (`/v1/*`): thin handlers that validate ids and bodies, then run
//! the operation on the worker that owns the room. Every error is the shared JSON shape.

use crate::sfu::{Command, SfuError};
use crate::state::NodeState;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::handler::Handler;
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use stratus_core::clock::{Clock, SystemClock, rfc3339_ms};
use stratus_protocol::control::Route;
use stratus_protocol::error::{ErrorBody, ErrorCode, ErrorDetail};
use stratus_protocol::ids::is_valid_id;
use stratus_protocol::media::*;

type St = State<Arc<NodeState>>;

pub struct ApiError(SfuError);

impl From<SfuError> for ApiError {
    fn from(e: SfuError) -> Self {
        ApiError(e)
    }
}

/// The shared error shape, for the control handlers and the signature check alike.
pub fn error_response(now_ms: i64, status: StatusCode, code: ErrorCode, message: String) -> Response {
    let body = ErrorBody {
        error: ErrorDetail { code, message, details: None },
        timestamp: rfc3339_ms(now_ms),
        request_id: uuid::Uuid::new_v4().to_string(),
    };
    (status, Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        error_response(SystemClock.now_ms(), status, self.0.code, self.0.message)
    }
}

type Res<T> = Result<Json<T>, ApiError>;

fn bad(message: impl Into<String>) -> ApiError {
    ApiError(SfuError::new(ErrorCode::ValidationError, message))
}

/// A JSON body; an empty body reads as `{}` for requests whose fields are all optional.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let raw: &[u8] = if bytes.is_empty() { b"{}" } else { bytes };
    serde_json::from_slice(raw).map_err(|e| bad(format!("body: {e}")))
}

fn ids<const N: usize>(values: [&str; N]) -> Result<(), ApiError> {
    match values.iter().find(|v| !is_valid_id(v)) {
        Some(v) => Err(bad(format!("invalid id {v:?}: 1-128 of A-Z a-z 0-9 . _ @ : -"))),
        None => Ok(()),
    }
}

fn ok<T: Serialize>(v: T) -> Res<T> {
    Ok(Json(v))
}

async fn capabilities() -> Json<RtpCapabilities> {
    Json(crate::sfu::codec::capabilities())
}

async fn stats(State(st): St) -> Json<NodeStats> {
    Json(st.stats())
}

async fn create_room(
    State(st): St,
    Path(room): Path<String>,
    b: Bytes,
) -> Result<(StatusCode, Json<RoomInfo>), ApiError> {
    ids([&room])?;
    let req: CreateRoomRequest = body(&b)?;
    if req.max_participants == Some(0) {
        return Err(bad("maxParticipants must be at least 1"));
    }
    if let Some(name) = &req.name {
        ids([name])?;
    }
    if st.is_draining() && !st.sfu.has_room(&room) {
        return Err(ApiError(SfuError::new(ErrorCode::NodeDraining, "this node is draining and takes no new rooms")));
    }
    let (created, info) = st.sfu.create_room(&room, req.max_participants, req.name.as_deref()).await?;
    if created {
        // Scale-in protection should not wait for the next heartbeat.
        st.load_changed.notify_one();
    }
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(info)))
}

async fn get_room(State(st): St, Path(room): Path<String>) -> Res<RoomInfo> {
    ids([&room])?;
    ok(st.sfu.command(&room, Command::RoomInfo).await?.room()?)
}

async fn close_room(State(st): St, Path(room): Path<String>) -> Result<StatusCode, ApiError> {
    ids([&room])?;
    st.sfu.close_room(&room).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn join(
    State(st): St,
    Path((room, pid)): Path<(String, String)>,
    b: Bytes,
) -> Result<(StatusCode, Json<RoomInfo>), ApiError> {
    ids([&room, &pid])?;
    let req: CreateParticipantRequest = body(&b)?;
    ids([&req.user_id])?;
    // API Gateway connection ids are URL-safe base64 and may end in `=`.
    let connection_ok =
        |c: &str| (1..=128).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=".contains(&b));
    if let Some(c) = &req.connection_id
        && !connection_ok(c)
    {
        return Err(bad("connectionId must be 1-128 of A-Z a-z 0-9 - _ ="));
    }
    let (created, info) = st.sfu.command(&room, Command::Join { participant: pid, req }).await?.joined()?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(info)))
}

async fn leave(State(st): St, Path((room, pid)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    ids([&room, &pid])?;
    st.sfu.command(&room, Command::Leave { participant: pid }).await?.done()?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_transport(
    State(st): St,
    Path((room, pid)): Path<(String, String)>,
    b: Bytes,
) -> Result<(StatusCode, Json<TransportInfo>), ApiError> {
    ids([&room, &pid])?;
    let req: CreateTransportRequest = body(&b)?;
    let cmd = Command::CreateTransport { participant: pid, direction: req.direction };
    let info = st.sfu.command(&room, cmd).await?.transport()?;
    Ok((StatusCode::CREATED, Json(info)))
}

async fn answer(
    State(st): St,
    Path((room, pid, tid)): Path<(String, String, String)>,
    b: Bytes,
) -> Res<NegotiationResponse> {
    ids([&room, &pid, &tid])?;
    let req: AnswerRequest = body(&b)?;
    let cmd = Command::Answer { participant: pid, transport: tid, sdp: req.sdp };
    ok(st.sfu.command(&room, cmd).await?.negotiation()?)
}

async fn restart_ice(
    State(st): St,
    Path((room, pid, tid)): Path<(String, String, String)>,
) -> Res<NegotiationResponse> {
    ids([&room, &pid, &tid])?;
    let cmd = Command::RestartIce { participant: pid, transport: tid };
    ok(st.sfu.command(&room, cmd).await?.negotiation()?)
}

async fn publish(
    State(st): St,
    Path((room, pid)): Path<(String, String)>,
    b: Bytes,
) -> Result<(StatusCode, Json<PublishResponse>), ApiError> {
    ids([&room, &pid])?;
    let req: PublishRequest = body(&b)?;
    ids([&req.transport_id])?;
    let res = st.sfu.command(&room, Command::Publish { participant: pid, req }).await?.published()?;
    Ok((StatusCode::CREATED, Json(res)))
}

async fn unpublish(
    State(st): St,
    Path((room, pid, prid)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    ids([&room, &pid, &prid])?;
    st.sfu.command(&room, Command::Unpublish { participant: pid, producer: prid }).await?.done()?;
    Ok(StatusCode::NO_CONTENT)
}

async fn pause_producer(State(st): St, Path((room, pid, prid)): Path<(String, String, String)>) -> Res<ProducerInfo> {
    ids([&room, &pid, &prid])?;
    let cmd = Command::PauseProducer { participant: pid, producer: prid, paused: true };
    ok(st.sfu.command(&room, cmd).await?.producer()?)
}

async fn resume_producer(State(st): St, Path((room, pid, prid)): Path<(String, String, String)>) -> Res<ProducerInfo> {
    ids([&room, &pid, &prid])?;
    let cmd = Command::PauseProducer { participant: pid, producer: prid, paused: false };
    ok(st.sfu.command(&room, cmd).await?.producer()?)
}

async fn subscribe(
    State(st): St,
    Path((room, pid)): Path<(String, String)>,
    b: Bytes,
) -> Result<(StatusCode, Json<SubscribeResponse>), ApiError> {
    ids([&room, &pid])?;
    let req: SubscribeRequest = body(&b)?;
    ids([&req.transport_id, &req.producer_id])?;
    let res = st.sfu.command(&room, Command::Subscribe { participant: pid, req }).await?.subscribed()?;
    Ok((StatusCode::CREATED, Json(res)))
}

async fn unsubscribe(
    State(st): St,
    Path((room, pid, cid)): Path<(String, String, String)>,
) -> Res<NegotiationResponse> {
    ids([&room, &pid, &cid])?;
    let cmd = Command::Unsubscribe { participant: pid, consumer: cid };
    ok(st.sfu.command(&room, cmd).await?.negotiation()?)
}

async fn pause(State(st): St, Path((room, pid, cid)): Path<(String, String, String)>) -> Res<ConsumerInfo> {
    ids([&room, &pid, &cid])?;
    let cmd = Command::PauseConsumer { participant: pid, consumer: cid, paused: true };
    ok(st.sfu.command(&room, cmd).await?.consumer()?)
}

async fn resume(State(st): St, Path((room, pid, cid)): Path<(String, String, String)>) -> Res<ConsumerInfo> {
    ids([&room, &pid, &cid])?;
    let cmd = Command::PauseConsumer { participant: pid, consumer: cid, paused: false };
    ok(st.sfu.command(&room, cmd).await?.consumer()?)
}

async fn layers(State(st): St, Path((room, pid, cid)): Path<(String, String, String)>, b: Bytes) -> Res<ConsumerInfo> {
    ids([&room, &pid, &cid])?;
    let req: Layers = body(&b)?;
    let cmd = Command::SetLayers { participant: pid, consumer: cid, layers: req };
    ok(st.sfu.command(&room, cmd).await?.consumer()?)
}

async fn quality(State(st): St, Path((room, pid)): Path<(String, String)>, b: Bytes) -> Res<QualityInfo> {
    ids([&room, &pid])?;
    let req: QualityRequest = body(&b)?;
    let cmd = Command::SetQuality { participant: pid, quality: req.quality };
    ok(st.sfu.command(&room, cmd).await?.quality()?)
}

/// The control routes (declared in `stratus_protocol::control`); the caller adds the
/// signature check in front of them.
pub fn control() -> Router<Arc<NodeState>> {
    use stratus_protocol::control as c;
    Router::new()
        .serve(c::CAPABILITIES, capabilities)
        .serve(c::STATS, stats)
        .serve(c::ROOM_CREATE, create_room)
        .serve(c::ROOM_GET, get_room)
        .serve(c::ROOM_CLOSE, close_room)
        .serve(c::PARTICIPANT_JOIN, join)
        .serve(c::PARTICIPANT_LEAVE, leave)
        .serve(c::PARTICIPANT_QUALITY, quality)
        .serve(c::TRANSPORT_CREATE, create_transport)
        .serve(c::TRANSPORT_ANSWER, answer)
        .serve(c::TRANSPORT_RESTART_ICE, restart_ice)
        .serve(c::PRODUCER_CREATE, publish)
        .serve(c::PRODUCER_CLOSE, unpublish)
        .serve(c::PRODUCER_PAUSE, pause_producer)
        .serve(c::PRODUCER_RESUME, resume_producer)
        .serve(c::CONSUMER_CREATE, subscribe)
        .serve(c::CONSUMER_CLOSE, unsubscribe)
        .serve(c::CONSUMER_PAUSE, pause)
        .serve(c::CONSUMER_RESUME, resume)
        .serve(c::CONSUMER_LAYERS, layers)
}

/// Serving a declared route: its handler on its method at its pattern (axum merges the
/// methods of one pattern).
pub(crate) trait Serve {
    fn serve<H: Handler<T, Arc<NodeState>>, T: 'static>(self, route: Route, handler: H) -> Self;
}

impl Serve for Router<Arc<NodeState>> {
    fn serve<H: Handler<T, Arc<NodeState>>, T: 'static>(self, route: Route, handler: H) -> Self {
        let method = Method::from_bytes(route.method.as_bytes()).expect("control routes use standard methods");
        self.route(route.pattern, on(MethodFilter::try_from(method).expect("a filterable method"), handler))
    }
}

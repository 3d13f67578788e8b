//! Group rooms on the media fleet: what the WebSocket SFU dialect and the REST room routes
//! do, over the table, the node registry and a [`MediaControl`] (signed HTTP to a node in
//! production: `stratus_control::client::NodeControl`).
//!
//! A connection is in at most one SFU room, as participant [`participant_id`] of its
//! connection id; `CONN#<c>` / `SFU` holds that room so every later request finds it with one
//! read, and a disconnect finds it with the connection's other items. The member
//! (`rooms::Member`) and that item are written in one transaction with the capacity guard.
//!
//! A room whose node stops heartbeating is moved (once: `rooms::place`) by whoever notices
//! first: a join, any request of one of its participants, or [`SfuRooms::sweep`]. The mover
//! evicts the members who joined on the old node and sends them `roomMoved`; they join again.
//! A node that does not answer (`ControlFailure::unreachable`) counts as lost for its room at
//! once, heartbeat or not: the caller moves the room rather than wait for the
//! registry entry to expire.

use crate::clock::{Millis, rfc3339_ms};
use crate::nodes::{self, NodeRecord};
use crate::records::connection;
use crate::rooms::{self, Member, Placement, RoomError, RoomRecord};
use crate::sink::ConnectionSink;
use crate::store::{Cond, Key, StoreError, Table, Write};
use crate::tenant;
use async_trait::async_trait;
use futures_util::future::join_all;
use serde::Serialize;
use serde_json::{Value as Json, json};
use std::sync::Arc;
use stratus_protocol::control::{self, Route};
use stratus_protocol::error::ErrorCode;
use stratus_protocol::ids::{AppId, ConnectionId, NodeId, ParticipantId, RoomId, UserId, is_valid_id};
use stratus_protocol::media::{AnswerRequest, Layers, MAX_QUALITY, QualityInfo, QualityRequest, RoomInfo};
use stratus_protocol::sfu::{CreateRoom, JoinRoomResponse, RoomMoved, RoomRef, RoomSummary, SfuRequest};
use stratus_protocol::ws::{envelope, event};

/// A node's refusal or a failed call: `status` 0 when no reply came.
#[derive(Debug, Clone, PartialEq)]
pub struct ControlFailure {
    pub status: u16,
    /// The node did not answer (no connection, or no reply in time): it is gone, hung, or
    /// someone else answers at its address, and its rooms are moved.
    pub unreachable: bool,
    pub code: Option<ErrorCode>,
    pub message: String,
}

/// How the functions reach a media node's control API.
#[async_trait]
pub trait MediaControl: Send + Sync + 'static {
    /// `route` (with `args` in its path) on `node` with a JSON body; the node's JSON reply
    /// (`null` when empty).
    async fn call(
        &self,
        node: &NodeRecord,
        route: Route,
        args: &[&str],
        body: Option<Json>,
    ) -> Result<Json, ControlFailure>;
}

#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// A room's capacity when its creator does not say.
    pub default_max_participants: u32,
    /// The most a creator may ask for.
    pub max_participants_limit: u32,
}

impl Default for SfuConfig {
    fn default() -> Self {
        SfuConfig { default_max_participants: 16, max_participants_limit: 100 }
    }
}

/// Who is asking: from the connection's record (WebSocket) or the token (REST).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    /// The WebSocket connection, for the SFU dialect.
    pub connection_id: Option<ConnectionId>,
    /// The token's room grant: the only room this caller may create, join or see.
    pub grant_room: Option<RoomId>,
    pub can_publish: bool,
    pub can_subscribe: bool,
    pub admin: bool,
}

/// A connection's participant id: opaque (`records::connection::pseudonym`), so the others
/// in a room, who see it in every event, learn nothing of the connection id itself.
pub fn participant_id(connection: &ConnectionId) -> ParticipantId {
    ParticipantId::from(connection::pseudonym("participant", connection))
}

fn sfu_key(conn: &ConnectionId) -> Key {
    connection::group_room(conn)
}

/// Drops connection `conn`'s group-room record without telling a node (a deployment without
/// a fleet cleaning up after one that had it).
pub async fn forget_connection(table: &dyn Table, conn: &ConnectionId) -> Result<(), StoreError> {
    table.delete(&sfu_key(conn), None).await.map(|_| ())
}

fn rejected(code: ErrorCode, msg: impl Into<String>) -> RoomError {
    RoomError::Rejected(code, msg.into())
}

fn control_err(e: ControlFailure) -> RoomError {
    match (e.status, e.code) {
        (0, _) => rejected(ErrorCode::ServiceUnavailable, "the room's media node cannot be reached; try again"),
        (_, Some(code)) if code != ErrorCode::InternalError => rejected(code, e.message),
        _ => {
            tracing::error!(status = e.status, message = %e.message, "media node call failed");
            rejected(ErrorCode::InternalError, "the media node failed this request")
        }
    }
}

fn id(v: &str, what: &str) -> Result<(), RoomError> {
    if is_valid_id(v) {
        Ok(())
    } else {
        Err(rejected(ErrorCode::ValidationError, format!("`{what}` must be an id of 1-128 of A-Z a-z 0-9 . _ @ : -")))
    }
}

fn quality_in_range(q: u8) -> Result<(), RoomError> {
    if q > MAX_QUALITY {
        return Err(rejected(ErrorCode::ValidationError, format!("quality is 0 to {MAX_QUALITY}")));
    }
    Ok(())
}

fn to_json<T: Serialize>(v: &T) -> Json {
    serde_json::to_value(v).expect("wire types serialize")
}

pub fn summary(r: &RoomRecord) -> RoomSummary {
    RoomSummary {
        room_id: r.id.to_string(),
        owner: r.owner.to_string(),
        max_participants: r.max_participants,
        participants: r.participants,
        node_id: r.node_id.as_ref().map(NodeId::to_string),
        created_at: rfc3339_ms(r.created_at),
    }
}

/// Group rooms of the deployment: the fleet and how to reach it. Rooms themselves are an
/// app's ([`AppRooms`], from [`SfuRooms::app`]).
pub struct SfuRooms {
    /// The whole table: the node registry; each app's namespace is made from it.
    root: Arc<dyn Table>,
    sink: Arc<dyn ConnectionSink>,
    media: Arc<dyn MediaControl>,
    cfg: SfuConfig,
}

/// One app's group rooms: its namespace of the table, over the deployment's fleet. Two apps'
/// rooms of one name are two rooms, on a node too ([`tenant::node_room`]).
pub struct AppRooms<'a> {
    fleet: &'a SfuRooms,
    table: Arc<dyn Table>,
    app: AppId,
    /// The largest room this app's users may create.
    max_participants: u32,
}

impl std::ops::Deref for AppRooms<'_> {
    type Target = SfuRooms;

    fn deref(&self) -> &SfuRooms {
        self.fleet
    }
}

impl SfuRooms {
    pub fn new(
        table: Arc<dyn Table>,
        sink: Arc<dyn ConnectionSink>,
        media: Arc<dyn MediaControl>,
        cfg: SfuConfig,
    ) -> Self {
        SfuRooms { root: table, sink, media, cfg }
    }

    /// The rooms of namespace `ns`'s app.
    pub fn app(&self, ns: &tenant::Namespace) -> AppRooms<'_> {
        let max_participants = self.cfg.max_participants_limit;
        AppRooms { fleet: self, table: ns.table.clone(), app: ns.app.clone(), max_participants }
    }

    /// Probes every registered node, then moves every occupied room of these apps whose node
    /// is gone or did not answer. Returns how many moved.
    pub async fn sweep(&self, apps: &[AppId], now: Millis) -> Result<usize, RoomError> {
        self.probe(now).await?;
        let mut moved = 0;
        for app in apps {
            moved += self.app(&tenant::Namespace::new(&self.root, app)).sweep(now).await?;
        }
        Ok(moved)
    }
}

impl SfuRooms {
    /// Asks each registered node for its stats: one that cannot be reached (a node that hangs
    /// but still heartbeats) is marked unreachable and so leaves placement; a marked one that
    /// answers again is cleared. Probing first means a single failed request elsewhere (which
    /// marks the node too) moves only its own room, not all the node's rooms, unless the node
    /// stays silent.
    async fn probe(&self, now: Millis) -> Result<(), StoreError> {
        let fleet = nodes::fleet(self.root.as_ref()).await?;
        let replies = join_all(fleet.nodes.iter().map(|n| self.media.call(n, control::STATS, &[], None))).await;
        for (n, reply) in fleet.nodes.iter().zip(replies) {
            let marked = fleet.marked(&n.id, nodes::Mark::Unreachable).is_some();
            match reply {
                Err(e) if e.unreachable => {
                    if !marked {
                        tracing::warn!(node = %n.id, error = %e.message, "media node does not answer control; out of placement");
                    }
                    nodes::mark_unreachable(self.root.as_ref(), &n.id, now, &e.message).await?;
                }
                _ if marked => {
                    tracing::info!(node = %n.id, "media node answers control again; back in placement");
                    nodes::unmark(self.root.as_ref(), &n.id, nodes::Mark::Unreachable).await?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl AppRooms<'_> {
    /// With the app's own limits (`auth::AppLimits`): its rooms no larger than it allows,
    /// and never larger than the deployment's largest.
    pub fn limited(mut self, limits: &crate::auth::AppLimits) -> Self {
        if let Some(m) = limits.max_participants {
            self.max_participants = m.min(self.cfg.max_participants_limit);
        }
        self
    }
    /// The id the room's node knows it by.
    fn on_node(&self, room: &RoomId) -> RoomId {
        tenant::node_room(&self.app, room)
    }

    fn allowed(caller: &Caller, room: &RoomId) -> Result<(), RoomError> {
        match &caller.grant_room {
            Some(g) if g != room => Err(rejected(ErrorCode::Forbidden, format!("this token is limited to room `{g}`"))),
            _ => Ok(()),
        }
    }

    /// Creates a room owned by the caller (`roomId` made when absent).
    pub async fn create(&self, caller: &Caller, req: &CreateRoom, now: Millis) -> Result<RoomRecord, RoomError> {
        let room = match &req.room_id {
            Some(r) => {
                id(r, "roomId")?;
                RoomId::from(r.as_str())
            }
            None => caller.grant_room.clone().unwrap_or_else(|| RoomId::from(uuid::Uuid::new_v4().to_string())),
        };
        Self::allowed(caller, &room)?;
        let max = req.max_participants.unwrap_or(self.cfg.default_max_participants.min(self.max_participants));
        if max == 0 || max > self.max_participants {
            return Err(rejected(
                ErrorCode::ValidationError,
                format!("`maxParticipants` must be 1-{}", self.max_participants),
            ));
        }
        rooms::create(self.table.as_ref(), &room, &caller.user_id, i64::from(max), now).await
    }

    /// The room's placement, moving it off a dead node (and telling its members) if needed.
    pub async fn placement(&self, room: &RoomId, now: Millis) -> Result<Placement, RoomError> {
        self.placement_without(room, None, now).await
    }

    /// [`Self::placement`] treating node `lost` as dead whatever the registry says.
    async fn placement_without(
        &self,
        room: &RoomId,
        lost: Option<&NodeId>,
        now: Millis,
    ) -> Result<Placement, RoomError> {
        let mut live = nodes::live(self.root.as_ref()).await?;
        live.retain(|n| Some(&n.id) != lost);
        let p = rooms::place(self.table.as_ref(), room, &live, now).await?;
        if let Some(old) = &p.moved_from {
            self.moved(room, old, &p).await?;
        }
        Ok(p)
    }

    /// The room left `from`: evict who joined there and tell them to join again.
    async fn moved(&self, room: &RoomId, from: &NodeId, to: &Placement) -> Result<(), RoomError> {
        tracing::warn!(%room, %from, to = %to.node.id, epoch = to.epoch, "room moved off a lost media node");
        let evicted = rooms::evict_before(self.table.as_ref(), room, to.epoch).await?;
        let msg = envelope(
            event::ROOM_MOVED,
            None,
            RoomMoved {
                room_id: room.to_string(),
                from_node_id: from.to_string(),
                node_id: to.node.id.to_string(),
                epoch: to.epoch,
            },
        );
        let conns: Vec<ConnectionId> = evicted.into_iter().filter_map(|m| m.connection_id).collect();
        for c in &conns {
            let _ = self.table.delete(&sfu_key(c), Some(connection::in_group_room(room))).await;
        }
        crate::sink::post_all(self.sink.as_ref(), &conns, &msg).await;
        Ok(())
    }

    /// Moves every occupied room of this app whose node is gone. Returns how many moved.
    pub async fn sweep(&self, now: Millis) -> Result<usize, RoomError> {
        let live = nodes::live(self.root.as_ref()).await?;
        let mut moved = 0;
        for r in rooms::list(self.table.as_ref()).await? {
            let lost = r.node_id.as_ref().is_some_and(|n| !live.iter().any(|l| &l.id == n));
            if lost && r.participants > 0 {
                match rooms::place(self.table.as_ref(), &r.id, &live, now).await {
                    Ok(p) => {
                        if let Some(old) = &p.moved_from {
                            self.moved(&r.id, old, &p).await?;
                            moved += 1;
                        }
                    }
                    Err(RoomError::Rejected(code, msg)) => {
                        tracing::warn!(room = %r.id, code = code.as_str(), %msg, "room not moved")
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(moved)
    }

    /// `joinRoom`: places the room, makes it on the node, records the member, then the
    /// participant on the node; a failure on the node takes the member back out.
    async fn join(
        &self,
        caller: &Caller,
        conn: &ConnectionId,
        room: &RoomId,
        now: Millis,
    ) -> Result<JoinRoomResponse, RoomError> {
        id(room, "roomId")?;
        Self::allowed(caller, room)?;
        let record = rooms::get(self.table.as_ref(), room).await?;
        let mut p = self.placement(room, now).await?;
        let make = json!({ "maxParticipants": record.max_participants, "name": room });
        let node_room = self.on_node(room);
        if let Err(e) = self.media.call(&p.node, control::ROOM_CREATE, &[&node_room], Some(make.clone())).await {
            if !e.unreachable {
                return Err(control_err(e));
            }
            // Its node is gone: move the room (its members hear `roomMoved`) and join there.
            p = self.moved_off_unreachable(room, &p.node, &e, now).await?;
            self.media.call(&p.node, control::ROOM_CREATE, &[&node_room], Some(make)).await.map_err(control_err)?;
        }
        let pid = participant_id(conn);
        let member = Member {
            participant_id: pid.clone(),
            user_id: caller.user_id.clone(),
            connection_id: Some(conn.to_owned()),
            joined_at: now,
            epoch: p.epoch,
        };
        let mine = connection::encode_group_room(conn, room);
        let extra = vec![Write::Put { item: mine, cond: Some(Cond::NotExists) }];
        rooms::join(self.table.as_ref(), room, &member, Some(p.epoch), extra).await?;
        let body = json!({
            "userId": caller.user_id,
            "connectionId": conn,
            "canPublish": caller.can_publish,
            "canSubscribe": caller.can_subscribe,
        });
        let res = self.media.call(&p.node, control::PARTICIPANT_JOIN, &[&node_room, &pid], Some(body)).await;
        let info: RoomInfo = match res.map_err(control_err).and_then(|v| {
            serde_json::from_value(v).map_err(|e| {
                control_err(ControlFailure { status: 200, unreachable: false, code: None, message: e.to_string() })
            })
        }) {
            Ok(i) => i,
            Err(e) => {
                let _ = rooms::leave(self.table.as_ref(), room, &pid).await;
                let _ = self.table.delete(&sfu_key(conn), None).await;
                return Err(e);
            }
        };
        Ok(JoinRoomResponse {
            room_id: room.to_string(),
            participant_id: pid.into(),
            node_id: p.node.id.to_string(),
            epoch: p.epoch,
            participants: info.participants,
        })
    }

    /// The SFU room the connection is in, if any.
    async fn room_of(&self, conn: &ConnectionId) -> Result<Option<RoomId>, RoomError> {
        let it = self.table.get(&sfu_key(conn)).await?;
        Ok(it.as_ref().and_then(connection::decode_group_room).map(|g| g.room))
    }

    /// The node `room` is pinned to, if that node is live.
    async fn live_node(&self, room: &RoomId) -> Result<Option<NodeRecord>, RoomError> {
        let record = rooms::get(self.table.as_ref(), room).await?;
        let live = nodes::live(self.root.as_ref()).await?;
        Ok(record.node_id.and_then(|n| live.into_iter().find(|l| l.id == n)))
    }

    /// Moves `room` off `node`, which could not be connected to.
    async fn moved_off_unreachable(
        &self,
        room: &RoomId,
        node: &NodeRecord,
        e: &ControlFailure,
        now: Millis,
    ) -> Result<Placement, RoomError> {
        tracing::warn!(%room, node = %node.id, error = %e.message, "media node unreachable; moving its room");
        // Out of placement for every app's new rooms too, until it answers a probe again.
        nodes::mark_unreachable(self.root.as_ref(), &node.id, now, &e.message).await?;
        self.placement_without(room, Some(&node.id), now).await
    }

    /// A control call for `room` on its node; an unreachable node loses the room at once.
    async fn call_room_node(
        &self,
        room: &RoomId,
        node: &NodeRecord,
        route: Route,
        args: &[&str],
        body: Option<Json>,
        now: Millis,
    ) -> Result<Json, RoomError> {
        match self.media.call(node, route, args, body).await {
            Ok(v) => Ok(v),
            Err(e) if e.unreachable => {
                self.moved_off_unreachable(room, node, &e, now).await?;
                Err(rejected(ErrorCode::ServiceUnavailable, "the room's media node was lost; join the room again"))
            }
            Err(e) => Err(control_err(e)),
        }
    }

    /// The connection's room and that room's live node.
    async fn context(&self, conn: &ConnectionId, now: Millis) -> Result<(RoomId, NodeRecord), RoomError> {
        let room = self
            .room_of(conn)
            .await?
            .ok_or_else(|| rejected(ErrorCode::ParticipantNotFound, "not in a room: send joinRoom first"))?;
        if let Some(node) = self.live_node(&room).await? {
            return Ok((room, node));
        }
        // The node is gone: move the room now (this connection gets `roomMoved` too).
        self.placement(&room, now).await?;
        Err(rejected(ErrorCode::ServiceUnavailable, "the room's media node was lost; join the room again"))
    }

    /// Takes the connection out of its SFU room: off the node (others hear
    /// `participantLeft`), out of the member list. Returns the room it was in.
    pub async fn leave_connection(&self, conn: &ConnectionId) -> Result<RoomId, RoomError> {
        let Some(room) = self.room_of(conn).await? else {
            return Err(rejected(ErrorCode::ParticipantNotFound, "not in a room"));
        };
        let pid = participant_id(conn);
        self.leave_node(&room, &pid).await;
        match rooms::leave(self.table.as_ref(), &room, &pid).await {
            Ok(()) | Err(RoomError::Rejected(ErrorCode::ParticipantNotFound, _)) => {}
            Err(e) => return Err(e),
        }
        self.table.delete(&sfu_key(conn), None).await?;
        Ok(room)
    }

    /// Best effort: the node may be gone, or may have lost the participant already.
    async fn leave_node(&self, room: &RoomId, pid: &ParticipantId) {
        if let Ok(Some(node)) = self.live_node(room).await
            && let Err(e) = self.media.call(&node, control::PARTICIPANT_LEAVE, &[&self.on_node(room), pid], None).await
            && e.code != Some(ErrorCode::ParticipantNotFound)
        {
            tracing::warn!(%room, participant = %pid, status = e.status, "participant not removed from its node");
        }
    }

    /// Takes every connection of `user` out of `room` (REST leave). `PARTICIPANT_NOT_FOUND`
    /// when the user has none there.
    pub async fn leave_user(&self, caller: &Caller, room: &RoomId) -> Result<usize, RoomError> {
        Self::allowed(caller, room)?;
        rooms::get(self.table.as_ref(), room).await?;
        let mut left = 0;
        for m in rooms::members(self.table.as_ref(), room).await? {
            if m.user_id != caller.user_id {
                continue;
            }
            match &m.connection_id {
                Some(c) => {
                    if self.leave_connection(c).await.is_ok() {
                        left += 1;
                    }
                }
                None => {
                    rooms::leave(self.table.as_ref(), room, &m.participant_id).await?;
                    left += 1;
                }
            }
        }
        if left == 0 {
            return Err(rejected(ErrorCode::ParticipantNotFound, format!("you are not in room {room}")));
        }
        Ok(left)
    }

    /// Receive quality `q` for every connection of `user` in `room` (REST); their video
    /// consumers after it. `PARTICIPANT_NOT_FOUND` when the user has none there.
    pub async fn set_quality_user(
        &self,
        caller: &Caller,
        room: &RoomId,
        q: u8,
        now: Millis,
    ) -> Result<QualityInfo, RoomError> {
        quality_in_range(q)?;
        Self::allowed(caller, room)?;
        rooms::get(self.table.as_ref(), room).await?;
        let mine: Vec<Member> = rooms::members(self.table.as_ref(), room)
            .await?
            .into_iter()
            .filter(|m| m.user_id == caller.user_id && m.connection_id.is_some())
            .collect();
        if mine.is_empty() {
            return Err(rejected(ErrorCode::ParticipantNotFound, format!("you are not in room {room}")));
        }
        let node = match self.live_node(room).await? {
            Some(n) => n,
            None => {
                self.placement(room, now).await?;
                return Err(rejected(
                    ErrorCode::ServiceUnavailable,
                    "the room's media node was lost; join the room again",
                ));
            }
        };
        let body = to_json(&QualityRequest { quality: q });
        let mut out: Option<QualityInfo> = None;
        for m in &mine {
            let args = [self.on_node(room).to_string(), m.participant_id.to_string()];
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let v =
                self.call_room_node(room, &node, control::PARTICIPANT_QUALITY, &args, Some(body.clone()), now).await?;
            let info: QualityInfo = serde_json::from_value(v).map_err(|e| {
                control_err(ControlFailure { status: 200, unreachable: false, code: None, message: e.to_string() })
            })?;
            match &mut out {
                Some(o) => o.consumers.extend(info.consumers),
                None => out = Some(info),
            }
        }
        Ok(out.expect("at least one participant"))
    }

    /// May the caller see this room: its owner, a member, an admin, or a token granted it.
    pub async fn visible(&self, caller: &Caller, r: &RoomRecord) -> Result<bool, RoomError> {
        if caller.admin || r.owner == caller.user_id || caller.grant_room.as_ref() == Some(&r.id) {
            return Ok(true);
        }
        Ok(rooms::members(self.table.as_ref(), &r.id).await?.iter().any(|m| m.user_id == caller.user_id))
    }

    /// One request of the SFU dialect from connection `conn`; the response's `data`.
    pub async fn handle(
        &self,
        caller: &Caller,
        conn: &ConnectionId,
        req: SfuRequest,
        now: Millis,
    ) -> Result<Json, RoomError> {
        // A participant route: the room and participant come from the connection, `ids` follow.
        let node_call = |route: Route, ids: Vec<String>, body: Option<Json>| async move {
            let (room, node) = self.context(conn, now).await?;
            let pid = participant_id(conn);
            let node_room = self.on_node(&room);
            let mut args: Vec<&str> = vec![&node_room, &pid];
            args.extend(ids.iter().map(String::as_str));
            self.call_room_node(&room, &node, route, &args, body, now).await
        };
        match req {
            SfuRequest::CreateRoom(r) => Ok(to_json(&summary(&self.create(caller, &r, now).await?))),
            SfuRequest::JoinRoom(r) => Ok(to_json(&self.join(caller, conn, &RoomId::from(r.room_id), now).await?)),
            SfuRequest::LeaveRoom(_) => Ok(to_json(&RoomRef { room_id: self.leave_connection(conn).await?.into() })),
            SfuRequest::GetRouterRtpCapabilities(r) => {
                let node = match &r.room_id {
                    Some(room) => {
                        id(room, "roomId")?;
                        let room = RoomId::from(room.as_str());
                        Self::allowed(caller, &room)?;
                        self.placement(&room, now).await?.node
                    }
                    None => match self.context(conn, now).await {
                        Ok((_, node)) => node,
                        Err(RoomError::Rejected(ErrorCode::ParticipantNotFound, _)) => {
                            let live = nodes::live(self.root.as_ref()).await?;
                            rooms::least_loaded(&live)
                                .cloned()
                                .ok_or_else(|| rejected(ErrorCode::ServiceUnavailable, "no media node is available"))?
                        }
                        Err(e) => return Err(e),
                    },
                };
                self.media.call(&node, control::CAPABILITIES, &[], None).await.map_err(control_err)
            }
            SfuRequest::CreateWebRtcTransport(r) => {
                node_call(control::TRANSPORT_CREATE, vec![], Some(to_json(&r))).await
            }
            SfuRequest::ConnectWebRtcTransport(r) => {
                id(&r.transport_id, "transportId")?;
                node_call(control::TRANSPORT_ANSWER, vec![r.transport_id], Some(to_json(&AnswerRequest { sdp: r.sdp })))
                    .await
            }
            SfuRequest::RestartIce(r) => {
                id(&r.transport_id, "transportId")?;
                node_call(control::TRANSPORT_RESTART_ICE, vec![r.transport_id], None).await
            }
            SfuRequest::Publish(r) => {
                id(&r.transport_id, "transportId")?;
                node_call(control::PRODUCER_CREATE, vec![], Some(to_json(&r))).await
            }
            SfuRequest::Unpublish(r) => {
                id(&r.producer_id, "producerId")?;
                node_call(control::PRODUCER_CLOSE, vec![r.producer_id.clone()], None).await?;
                Ok(to_json(&r))
            }
            SfuRequest::PauseProducer(r) => {
                id(&r.producer_id, "producerId")?;
                node_call(control::PRODUCER_PAUSE, vec![r.producer_id], None).await
            }
            SfuRequest::ResumeProducer(r) => {
                id(&r.producer_id, "producerId")?;
                node_call(control::PRODUCER_RESUME, vec![r.producer_id], None).await
            }
            SfuRequest::Subscribe(r) => {
                id(&r.transport_id, "transportId")?;
                id(&r.producer_id, "producerId")?;
                node_call(control::CONSUMER_CREATE, vec![], Some(to_json(&r))).await
            }
            SfuRequest::Unsubscribe(r) => {
                id(&r.consumer_id, "consumerId")?;
                node_call(control::CONSUMER_CLOSE, vec![r.consumer_id], None).await
            }
            SfuRequest::Pause(r) => {
                id(&r.consumer_id, "consumerId")?;
                node_call(control::CONSUMER_PAUSE, vec![r.consumer_id], None).await
            }
            SfuRequest::Resume(r) => {
                id(&r.consumer_id, "consumerId")?;
                node_call(control::CONSUMER_RESUME, vec![r.consumer_id], None).await
            }
            SfuRequest::SetPreferredLayers(r) => {
                id(&r.consumer_id, "consumerId")?;
                let layers: Layers = r.layers();
                node_call(control::CONSUMER_LAYERS, vec![r.consumer_id], Some(to_json(&layers))).await
            }
            SfuRequest::SetQuality(r) => {
                quality_in_range(r.quality)?;
                node_call(control::PARTICIPANT_QUALITY, vec![], Some(to_json(&r))).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::sink::SinkError;
    use crate::store::memory::MemoryTable;
    use crate::store::schema::MAIN;

    /// No connections and no fleet: what creating a room needs of neither.
    struct Nowhere;

    #[async_trait]
    impl ConnectionSink for Nowhere {
        async fn post(&self, _: &ConnectionId, _: &str) -> Result<(), SinkError> {
            Err(SinkError::Gone)
        }
        async fn alive(&self, _: &ConnectionId) -> Result<bool, SinkError> {
            Ok(false)
        }
        async fn close(&self, _: &ConnectionId) -> Result<(), SinkError> {
            Ok(())
        }
    }

    #[async_trait]
    impl MediaControl for Nowhere {
        async fn call(&self, _: &NodeRecord, _: Route, _: &[&str], _: Option<Json>) -> Result<Json, ControlFailure> {
            Err(ControlFailure { status: 0, unreachable: true, code: None, message: "no fleet".into() })
        }
    }

    #[tokio::test]
    async fn an_apps_rooms_are_no_larger_than_it_allows_nor_than_the_deployment_does() {
        let table: Arc<dyn Table> = Arc::new(MemoryTable::new(&MAIN, Arc::new(ManualClock::new(0))));
        let fleet = SfuRooms::new(table.clone(), Arc::new(Nowhere), Arc::new(Nowhere), SfuConfig::default());
        let ns = |app: &str| tenant::Namespace::new(&table, &app.into());
        let caller = Caller {
            user_id: "alice".into(),
            connection_id: None,
            grant_room: None,
            can_publish: true,
            can_subscribe: true,
            admin: false,
        };
        let make = |room: &str, max: Option<u32>| CreateRoom { room_id: Some(room.into()), max_participants: max };
        let small = crate::auth::AppLimits { max_participants: Some(4), ..Default::default() };
        let a = fleet.app(&ns("small")).limited(&small);
        let r = a.create(&caller, &make("r1", None), 1).await.unwrap();
        assert_eq!(r.max_participants, 4, "the default shrinks to the app's largest");
        let e = a.create(&caller, &make("r2", Some(5)), 1).await.unwrap_err();
        assert!(matches!(e, RoomError::Rejected(ErrorCode::ValidationError, ref m) if m.contains("1-4")), "{e:?}");
        // Another app on the same fleet has the deployment's sizes; no app can go past them.
        let b = fleet
            .app(&ns("big"))
            .limited(&crate::auth::AppLimits { max_participants: Some(1000), ..Default::default() });
        assert_eq!(b.create(&caller, &make("r1", Some(100)), 1).await.unwrap().max_participants, 100);
        assert!(b.create(&caller, &make("r3", Some(101)), 1).await.is_err());
    }

    #[test]
    fn participant_ids_are_opaque_valid_ids_distinct_per_connection() {
        let pid = |c: &str| participant_id(&ConnectionId::from(c));
        let (a, b, c) = (pid("Iu3QWeqGoAMCJ1w="), pid("Iu3QWeqGoAMCJ1w"), pid("a/b+c=="));
        for p in [&a, &b, &c] {
            assert!(is_valid_id(p) && p.len() == 25, "{p}");
        }
        assert!(a != b && b != c && a != c);
        assert!(!a.contains("Iu3QWeqGoAMCJ1w"), "{a}");
        assert_eq!(a, pid("Iu3QWeqGoAMCJ1w="), "stable");
        // Not the peer id of the same connection either.
        assert_ne!(a.as_str(), crate::p2p::peer_id(&ConnectionId::from("Iu3QWeqGoAMCJ1w=")).as_str());
    }
}

//! WebSocket signaling: connections, rooms, and relaying offers, answers, candidates and
//! custom messages between peers. Pure rules over the [`Table`] and a [`ConnectionSink`]
//! (how messages reach a connection: API Gateway's PostToConnection in production, the
//! local stack's emulator locally); time is passed in.
//!
//! Items (one table, see `store::schema`):
//!
//! | pk | sk | what |
//! |---|---|---|
//! | `CONN#<c>` | `META` | a connection: user, grants, slot, room count; `gsi1` = `CONNS#<hour>#<shard>` / `<c>` for the sweeper |
//! | `CONN#<c>` | `ROOM#<r>` | a room the connection is in (so a disconnect finds its rooms with one strongly consistent query) |
//! | `ROOM#<r>` | `MEMBER#<c>` | a room's member (so a broadcast finds the room's peers) |
//! | `USER#<u>` | `SLOT#<n>` | one of a user's `max_connections` connection slots |
//!
//! Races are settled in the store: a connection takes a free slot with a conditional put
//! (a user's sixth concurrent connect finds none); joins and leaves are transactions that
//! keep both membership items and the room count together. Every item carries the
//! connection's TTL (its maximum lifetime), because `$disconnect` is best-effort; a gone
//! connection is also cleaned up as soon as a post to it answers 410, and by [`Signaling::sweep`].

use crate::auth::{AuthError, Authority};
use crate::clock::Millis;
use crate::store::{CmpOp, Cond, Item, Key, Query, SortKey, StoreError, Table, Update, Value, Write, value::item};
use async_trait::async_trait;
use futures_util::future::{join, join_all};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use stratus_protocol::auth::{Claims, TokenType};
use stratus_protocol::error::ErrorCode;
use stratus_protocol::ws::{
    ClientMessage, Joined, LeaveReason, Peer, PeerJoined, PeerLeft, RelayKind, RoomName, WsError, envelope,
    error_message, event, parse_client,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The connection no longer exists (API Gateway's 410 Gone).
    #[error("connection gone")]
    Gone,
    #[error("post failed: {0}")]
    Failed(String),
}

/// Where messages to connections go.
#[async_trait]
pub trait ConnectionSink: Send + Sync + 'static {
    async fn post(&self, connection: &str, message: &str) -> Result<(), SinkError>;
    /// Whether the connection still exists (`GET @connections/{id}`).
    async fn alive(&self, connection: &str) -> Result<bool, SinkError>;
    /// Closes the connection (`DELETE @connections/{id}`).
    async fn close(&self, connection: &str) -> Result<(), SinkError>;
}

#[derive(Debug, Clone)]
pub struct SignalingConfig {
    pub max_connections_per_user: u32,
    pub max_rooms_per_connection: i64,
    /// API Gateway closes every connection after 2 hours.
    pub max_lifetime_ms: Millis,
    /// Shards of the sweeper's hourly connection index.
    pub sweep_shards: u32,
}

impl Default for SignalingConfig {
    fn default() -> Self {
        Self {
            max_connections_per_user: 5,
            max_rooms_per_connection: 10,
            max_lifetime_ms: 2 * 3600 * 1000,
            sweep_shards: 4,
        }
    }
}

/// Why a `$connect` is refused; `status` is the HTTP status the handshake gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub checked: usize,
    pub removed: usize,
}

pub struct Signaling {
    table: Arc<dyn Table>,
    sink: Arc<dyn ConnectionSink>,
    auth: Arc<Authority>,
    cfg: SignalingConfig,
    /// Group rooms on the media fleet; without it the SFU dialect answers `SERVICE_UNAVAILABLE`.
    sfu: Option<Arc<crate::sfu::SfuRooms>>,
}

fn conn_key(c: &str) -> Key {
    Key::new(format!("CONN#{c}"), "META")
}

fn croom_key(c: &str, room: &str) -> Key {
    Key::new(format!("CONN#{c}"), format!("ROOM#{room}"))
}

fn member_key(room: &str, c: &str) -> Key {
    Key::new(format!("ROOM#{room}"), format!("MEMBER#{c}"))
}

fn slot_key(user: &str, n: u32) -> Key {
    Key::new(format!("USER#{user}"), format!("SLOT#{n}"))
}

fn keyed(key: Key, rest: impl IntoIterator<Item = (&'static str, Value)>) -> Item {
    let mut it = item([("pk", Value::S(key.pk)), ("sk", Value::S(key.sk))]);
    for (k, v) in rest {
        it.insert(k.to_owned(), v);
    }
    it
}

fn s(it: &Item, attr: &str) -> String {
    it.get(attr).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn shard_of(c: &str, shards: u32) -> u32 {
    // FNV-1a: stable across processes and versions, unlike std's hasher.
    let h = c.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    h % shards.max(1)
}

fn sweep_partition(hour: i64, shard: u32) -> String {
    format!("CONNS#{hour}#{shard}")
}

fn ws_err(code: ErrorCode, msg: impl Into<String>, rid: &Option<String>) -> WsError {
    WsError::new(code, msg, rid.clone())
}

fn store_err(e: StoreError, rid: &Option<String>) -> WsError {
    tracing::error!(error = %e, "signaling store error");
    let code =
        if matches!(e, StoreError::Unavailable(_)) { ErrorCode::ServiceUnavailable } else { ErrorCode::InternalError };
    WsError::new(code, "try again", rid.clone())
}

/// A room's members (peer and user ids), all pages. Calls read their room with it too.
pub async fn room_members(table: &dyn Table, room: &str) -> Result<Vec<Peer>, StoreError> {
    let mut q = Query::table(format!("ROOM#{room}")).sk(SortKey::BeginsWith("MEMBER#".into())).limit(500);
    let mut out = Vec::new();
    loop {
        let page = table.query(&q).await?;
        out.extend(
            page.items.iter().map(|i| Peer {
                peer_id: s(i, "sk").trim_start_matches("MEMBER#").to_owned(),
                user_id: s(i, "user_id"),
            }),
        );
        match page.next {
            Some(c) => q.cursor = Some(c),
            None => return Ok(out),
        }
    }
}

impl Signaling {
    pub fn new(
        table: Arc<dyn Table>,
        sink: Arc<dyn ConnectionSink>,
        auth: Arc<Authority>,
        cfg: SignalingConfig,
    ) -> Self {
        Self { table, sink, auth, cfg, sfu: None }
    }

    /// Serves the SFU dialect with these rooms.
    pub fn with_sfu(mut self, sfu: Arc<crate::sfu::SfuRooms>) -> Self {
        self.sfu = Some(sfu);
        self
    }

    pub fn config(&self) -> &SignalingConfig {
        &self.cfg
    }

    /// `$connect`: authenticates the token and takes one of the user's connection slots.
    pub async fn connect(&self, conn: &str, token: Option<&str>, now: Millis) -> Result<Claims, Refusal> {
        let refuse = |status, code, message: &str| Refusal { status, code, message: message.to_owned() };
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| refuse(401, ErrorCode::AuthTokenMissing, "connect with ?token=<access token>"))?;
        let claims = self.auth.verify(token, TokenType::Access, now.div_euclid(1000)).map_err(Refusal::from)?;
        let user = &claims.user_id;
        let ttl = (now + self.cfg.max_lifetime_ms).div_euclid(1000) + 300;
        let internal = |e: StoreError| {
            tracing::error!(error = %e, "connect: store error");
            refuse(503, ErrorCode::ServiceUnavailable, "try again")
        };
        let taken: BTreeSet<String> = self
            .table
            .query(&Query::table(format!("USER#{user}")).sk(SortKey::BeginsWith("SLOT#".into())).limit(100))
            .await
            .map_err(internal)?
            .items
            .iter()
            .map(|i| s(i, "sk"))
            .collect();
        let meta = |slot: u32| {
            keyed(
                conn_key(conn),
                [
                    ("user_id", Value::S(user.clone())),
                    ("app", Value::S(claims.app.clone())),
                    ("grant_room", claims.grants.room.clone().map(Value::S).unwrap_or(Value::Null)),
                    ("can_publish", Value::Bool(claims.grants.can_publish)),
                    ("can_subscribe", Value::Bool(claims.grants.can_subscribe)),
                    ("admin", Value::Bool(claims.grants.admin)),
                    ("connected_at", Value::N(now)),
                    ("slot", Value::N(i64::from(slot))),
                    ("rooms", Value::N(0)),
                    ("ttl", Value::N(ttl)),
                    (
                        "gsi1pk",
                        Value::S(sweep_partition(now.div_euclid(3_600_000), shard_of(conn, self.cfg.sweep_shards))),
                    ),
                    ("gsi1sk", Value::S(conn.to_owned())),
                ],
            )
        };
        for n in 0..self.cfg.max_connections_per_user {
            if taken.contains(&format!("SLOT#{n}")) {
                continue;
            }
            let slot = keyed(slot_key(user, n), [("conn", Value::S(conn.to_owned())), ("ttl", Value::N(ttl))]);
            let res = self
                .table
                .transact(vec![
                    Write::Put { item: slot, cond: Some(Cond::NotExists) },
                    Write::Put { item: meta(n), cond: Some(Cond::NotExists) },
                ])
                .await;
            match res {
                Ok(()) => {
                    if let Err(e) = crate::presence::touch(self.table.as_ref(), user, now).await {
                        tracing::warn!(error = %e, "presence not updated on connect");
                    }
                    return Ok(claims);
                }
                Err(StoreError::ConditionFailed) => {
                    // A repeated $connect for the same connection succeeds once.
                    if self.table.get(&conn_key(conn)).await.map_err(internal)?.is_some() {
                        return Ok(claims);
                    }
                }
                Err(e) => return Err(internal(e)),
            }
        }
        Err(refuse(
            429,
            ErrorCode::TooManyConnections,
            &format!("at most {} concurrent connections per user", self.cfg.max_connections_per_user),
        ))
    }

    /// `$disconnect`: leaves every room (telling the others) and frees the slot.
    pub async fn disconnect(&self, conn: &str, now: Millis) {
        self.cleanup(vec![conn.to_owned()], LeaveReason::Disconnected, now).await;
    }

    /// A message from `conn`. Replies and relays go out through the sink; a rejected
    /// message gets an `error` and changes nothing.
    pub async fn message(&self, conn: &str, body: &str, now: Millis) {
        let res = match parse_client(body) {
            Ok((rid, msg)) => self.dispatch(conn, rid, msg, now).await,
            Err(e) => Err(e),
        };
        if let Err(e) = res {
            self.deliver(conn, &error_message(&e), now).await;
        }
    }

    async fn dispatch(&self, conn: &str, rid: Option<String>, msg: ClientMessage, now: Millis) -> Result<(), WsError> {
        match msg {
            ClientMessage::Ping => {
                self.deliver(conn, &envelope(event::PONG, rid.as_deref(), Map::new()), now).await;
                Ok(())
            }
            ClientMessage::Join { room } => self.join(conn, &room, rid, now).await,
            ClientMessage::Leave { room } => self.leave(conn, &room, rid, now).await,
            ClientMessage::Relay { kind, to, room, data } => self.relay(conn, kind, to, room, data, rid, now).await,
            ClientMessage::Sfu(req) => self.sfu(conn, rid, req, now).await,
        }
    }

    async fn sfu(
        &self,
        conn: &str,
        rid: Option<String>,
        req: stratus_protocol::sfu::SfuRequest,
        now: Millis,
    ) -> Result<(), WsError> {
        let Some(sfu) = &self.sfu else {
            return Err(ws_err(
                ErrorCode::ServiceUnavailable,
                "group rooms need a media fleet; none is configured",
                &rid,
            ));
        };
        let meta = self.table.get(&conn_key(conn)).await.map_err(|e| store_err(e, &rid))?;
        let meta = meta.ok_or_else(|| ws_err(ErrorCode::Unauthorized, "unknown connection; reconnect", &rid))?;
        let flag = |a: &str| meta.get(a).and_then(Value::as_bool).unwrap_or(false);
        let caller = crate::sfu::Caller {
            user_id: s(&meta, "user_id"),
            connection_id: Some(conn.to_owned()),
            grant_room: meta.get("grant_room").and_then(Value::as_str).map(str::to_owned),
            can_publish: flag("can_publish"),
            can_subscribe: flag("can_subscribe"),
            admin: flag("admin"),
        };
        let kind = format!("{}Response", req.name());
        match sfu.handle(&caller, conn, req, now).await {
            Ok(data) => {
                self.deliver(conn, &envelope(&kind, rid.as_deref(), data), now).await;
                Ok(())
            }
            Err(crate::rooms::RoomError::Rejected(code, msg)) => Err(ws_err(code, msg, &rid)),
            Err(crate::rooms::RoomError::Store(e)) => Err(store_err(e, &rid)),
        }
    }

    async fn join(&self, conn: &str, room: &str, rid: Option<String>, now: Millis) -> Result<(), WsError> {
        let meta = self.table.get(&conn_key(conn)).await.map_err(|e| store_err(e, &rid))?;
        let meta = meta.ok_or_else(|| ws_err(ErrorCode::Unauthorized, "unknown connection; reconnect", &rid))?;
        if let Some(grant) = meta.get("grant_room").and_then(Value::as_str)
            && grant != room
        {
            return Err(ws_err(ErrorCode::Forbidden, format!("this token is limited to room `{grant}`"), &rid));
        }
        let user = s(&meta, "user_id");
        if let Some(call_id) = crate::calls::call_id_of_room(room)
            && !crate::calls::may_join_call_room(self.table.as_ref(), &user, call_id)
                .await
                .map_err(|e| store_err(e, &rid))?
        {
            return Err(ws_err(
                ErrorCode::Forbidden,
                "only the call's participants may join its room while it lasts",
                &rid,
            ));
        }
        let ttl = meta.get("ttl").cloned().unwrap_or(Value::Null);
        let under_limit = Cond::cmp("rooms", CmpOp::Lt, self.cfg.max_rooms_per_connection);
        let fields =
            |key| keyed(key, [("user_id", Value::S(user.clone())), ("joined_at", Value::N(now)), ("ttl", ttl.clone())]);
        let res = self
            .table
            .transact(vec![
                Write::Update {
                    key: conn_key(conn),
                    update: Update::default().add("rooms", 1),
                    cond: Some(Cond::Exists.and(under_limit)),
                },
                Write::Put { item: fields(member_key(room, conn)), cond: Some(Cond::NotExists) },
                Write::Put { item: fields(croom_key(conn, room)), cond: Some(Cond::NotExists) },
            ])
            .await;
        match res {
            Ok(()) => {}
            Err(StoreError::ConditionFailed) => {
                let already = self.table.get(&croom_key(conn, room)).await.map_err(|e| store_err(e, &rid))?;
                if already.is_none() {
                    return Err(ws_err(
                        ErrorCode::TooManyRooms,
                        format!("a connection can be in at most {} rooms", self.cfg.max_rooms_per_connection),
                        &rid,
                    ));
                }
                // Joining a room twice is harmless: answer `joined` again, tell no one.
                let peers = self.members(room).await.map_err(|e| store_err(e, &rid))?;
                let joined = self.joined(conn, room, &user, &peers);
                self.deliver(conn, &envelope(event::JOINED, rid.as_deref(), joined), now).await;
                return Ok(());
            }
            Err(e) => return Err(store_err(e, &rid)),
        }
        let peers = self.members(room).await.map_err(|e| store_err(e, &rid))?;
        let joined = self.joined(conn, room, &user, &peers);
        self.deliver(conn, &envelope(event::JOINED, rid.as_deref(), joined), now).await;
        let event = envelope(
            event::USER_JOINED,
            None,
            PeerJoined { room: room.to_owned(), peer_id: conn.to_owned(), user_id: user },
        );
        let others: Vec<String> = peers.into_iter().map(|p| p.peer_id).filter(|p| p != conn).collect();
        self.fan_out(&others, &event, now).await;
        Ok(())
    }

    fn joined(&self, conn: &str, room: &str, user: &str, peers: &[Peer]) -> Joined {
        Joined {
            room: room.to_owned(),
            peer_id: conn.to_owned(),
            user_id: user.to_owned(),
            peers: peers.iter().filter(|p| p.peer_id != conn).cloned().collect(),
        }
    }

    async fn leave(&self, conn: &str, room: &str, rid: Option<String>, now: Millis) -> Result<(), WsError> {
        let res = self
            .table
            .transact(vec![
                Write::Delete { key: croom_key(conn, room), cond: Some(Cond::Exists) },
                Write::Delete { key: member_key(room, conn), cond: None },
                Write::Update {
                    key: conn_key(conn),
                    update: Update::default().add("rooms", -1),
                    cond: Some(Cond::Exists),
                },
            ])
            .await;
        match res {
            Ok(()) => {}
            Err(StoreError::ConditionFailed) => {
                return Err(ws_err(ErrorCode::NotInRoom, format!("not in room `{room}`"), &rid));
            }
            Err(e) => return Err(store_err(e, &rid)),
        }
        self.deliver(conn, &envelope(event::LEFT, rid.as_deref(), RoomName { room: room.to_owned() }), now).await;
        let user = self.table.get(&conn_key(conn)).await.ok().flatten().map(|m| s(&m, "user_id")).unwrap_or_default();
        self.announce_left(room, conn, &user, LeaveReason::Left).await;
        Ok(())
    }

    /// Tells a room's remaining members that `conn` left; cleans up members found gone.
    async fn announce_left(&self, room: &str, conn: &str, user: &str, reason: LeaveReason) -> Vec<String> {
        let event = envelope(
            event::USER_LEFT,
            None,
            PeerLeft { room: room.to_owned(), peer_id: conn.to_owned(), user_id: user.to_owned(), reason },
        );
        let peers = match self.members(room).await {
            Ok(p) => p,
            Err(e) => {
                // The leave itself is done; only the telling is lost.
                tracing::warn!(error = %e, room, "could not list the room to announce a departure");
                return Vec::new();
            }
        };
        let others: Vec<String> = peers.into_iter().map(|p| p.peer_id).filter(|p| p != conn).collect();
        self.post_all(&others, &event).await
    }

    async fn members(&self, room: &str) -> Result<Vec<Peer>, StoreError> {
        room_members(self.table.as_ref(), room).await
    }

    /// The rooms `conn` is in, with its user id as recorded on them.
    async fn rooms_of(&self, conn: &str) -> Result<Vec<(String, String)>, StoreError> {
        let q = Query::table(format!("CONN#{conn}")).sk(SortKey::BeginsWith("ROOM#".into())).limit(100);
        let page = self.table.query(&q).await?;
        Ok(page.items.iter().map(|i| (s(i, "sk").trim_start_matches("ROOM#").to_owned(), s(i, "user_id"))).collect())
    }

    async fn relay(
        &self,
        conn: &str,
        kind: RelayKind,
        to: Option<String>,
        room: Option<String>,
        mut data: Map<String, Json>,
        rid: Option<String>,
        now: Millis,
    ) -> Result<(), WsError> {
        let not_in = |r: &str| ws_err(ErrorCode::NotInRoom, format!("not in room `{r}`"), &rid);
        let no_peer = |p: &str| ws_err(ErrorCode::PeerNotFound, format!("no peer `{p}` in a room with you"), &rid);
        // Where the sender is, and which room this message is for.
        let (room, user) = match (&room, &to) {
            (Some(r), Some(target)) => {
                let (mine, theirs) =
                    join(self.table.get(&croom_key(conn, r)), self.table.get(&member_key(r, target))).await;
                let mine = mine.map_err(|e| store_err(e, &rid))?.ok_or_else(|| not_in(r))?;
                if theirs.map_err(|e| store_err(e, &rid))?.is_none() {
                    return Err(no_peer(target));
                }
                (r.clone(), s(&mine, "user_id"))
            }
            (Some(r), None) => {
                let mine = self.table.get(&croom_key(conn, r)).await.map_err(|e| store_err(e, &rid))?;
                (r.clone(), s(&mine.ok_or_else(|| not_in(r))?, "user_id"))
            }
            (None, Some(target)) => {
                let (mine, theirs) = join(self.rooms_of(conn), self.rooms_of(target)).await;
                let mine = mine.map_err(|e| store_err(e, &rid))?;
                if mine.is_empty() {
                    return Err(ws_err(ErrorCode::NotInRoom, "join a room first", &rid));
                }
                let theirs: BTreeSet<String> =
                    theirs.map_err(|e| store_err(e, &rid))?.into_iter().map(|(r, _)| r).collect();
                let shared = mine.into_iter().find(|(r, _)| theirs.contains(r)).ok_or_else(|| no_peer(target))?;
                shared
            }
            (None, None) => {
                let mine = self.rooms_of(conn).await.map_err(|e| store_err(e, &rid))?;
                match mine.len() {
                    0 => return Err(ws_err(ErrorCode::NotInRoom, "join a room first", &rid)),
                    1 => mine.into_iter().next().expect("one room"),
                    _ => return Err(ws_err(ErrorCode::ValidationError, "in several rooms: say which `room`", &rid)),
                }
            }
        };
        data.insert("from".into(), Json::String(conn.to_owned()));
        data.insert("fromUser".into(), Json::String(user));
        data.insert("room".into(), Json::String(room.clone()));
        let out = envelope(kind.as_str(), None, &data);
        match to {
            Some(target) => match self.sink.post(&target, &out).await {
                Ok(()) => Ok(()),
                Err(SinkError::Gone) => {
                    self.cleanup(vec![target.clone()], LeaveReason::Gone, now).await;
                    Err(no_peer(&target))
                }
                Err(SinkError::Failed(_)) => {
                    Err(ws_err(ErrorCode::ServiceUnavailable, "delivery failed; try again", &rid))
                }
            },
            None => {
                let peers = self.members(&room).await.map_err(|e| store_err(e, &rid))?;
                let others: Vec<String> = peers.into_iter().map(|p| p.peer_id).filter(|p| p != conn).collect();
                self.fan_out(&others, &out, now).await;
                Ok(())
            }
        }
    }

    /// Posts to one connection; a gone connection is cleaned up.
    async fn deliver(&self, conn: &str, message: &str, now: Millis) {
        if let Err(SinkError::Gone) = self.sink.post(conn, message).await {
            self.cleanup(vec![conn.to_owned()], LeaveReason::Gone, now).await;
        }
    }

    /// Posts to many connections at once; cleans up those found gone.
    async fn fan_out(&self, conns: &[String], message: &str, now: Millis) {
        let gone = self.post_all(conns, message).await;
        if !gone.is_empty() {
            self.cleanup(gone, LeaveReason::Gone, now).await;
        }
    }

    /// Posts to many connections at once; returns those that are gone.
    async fn post_all(&self, conns: &[String], message: &str) -> Vec<String> {
        let results = join_all(conns.iter().map(|c| self.sink.post(c, message))).await;
        conns.iter().zip(results).filter(|(_, r)| matches!(r, Err(SinkError::Gone))).map(|(c, _)| c.clone()).collect()
    }

    /// Removes connections and everything they hold, telling their rooms. Connections found
    /// gone while telling are cleaned up in turn (iteratively, each once).
    async fn cleanup(&self, initial: Vec<String>, reason: LeaveReason, now: Millis) {
        let mut queue: VecDeque<String> = initial.into();
        let mut done = BTreeSet::new();
        while let Some(conn) = queue.pop_front() {
            if !done.insert(conn.clone()) {
                continue;
            }
            let q = Query::table(format!("CONN#{conn}")).limit(200);
            let page = match self.table.query(&q).await {
                Ok(p) => p,
                Err(e) => {
                    // Left for the sweeper and the TTL.
                    tracing::warn!(error = %e, connection_id = %conn, "cleanup could not read the connection");
                    continue;
                }
            };
            let meta = page.items.iter().find(|i| s(i, "sk") == "META").cloned();
            let user = meta.as_ref().map(|m| s(m, "user_id")).unwrap_or_default();
            for it in &page.items {
                let sk = s(it, "sk");
                if sk == "SFU" {
                    let res = match &self.sfu {
                        Some(sfu) => sfu.leave_connection(&conn).await.map(|_| ()),
                        None => self
                            .table
                            .delete(&Key::new(format!("CONN#{conn}"), "SFU"), None)
                            .await
                            .map(|_| ())
                            .map_err(Into::into),
                    };
                    if let Err(e) = res {
                        tracing::warn!(error = %e, connection_id = %conn, "cleanup could not leave the SFU room");
                    }
                    continue;
                }
                let Some(room) = sk.strip_prefix("ROOM#") else { continue };
                let _ = self.table.delete(&member_key(room, &conn), None).await;
                let _ = self.table.delete(&croom_key(&conn, room), None).await;
                for g in self.announce_left(room, &conn, &user, reason).await {
                    queue.push_back(g);
                }
            }
            if let Some(m) = meta {
                if let Some(slot) = m.get("slot").and_then(Value::as_n) {
                    let mine = Cond::eq("conn", conn.as_str());
                    let _ = self.table.delete(&slot_key(&user, slot as u32), Some(mine)).await;
                }
                let _ = self.table.delete(&conn_key(&conn), None).await;
                // Presence derives "online" from the slots; this records when they were last seen.
                let _ = crate::presence::touch(self.table.as_ref(), &user, now).await;
            }
        }
    }

    /// The scheduled sweeper: removes connections API Gateway no longer has (their
    /// `$disconnect` was lost) and those past the maximum lifetime.
    pub async fn sweep(&self, now: Millis) -> Result<SweepReport, StoreError> {
        let mut report = SweepReport::default();
        let hour = now.div_euclid(3_600_000);
        let hours = self.cfg.max_lifetime_ms.div_euclid(3_600_000) + 1;
        let mut stale = Vec::new();
        for h in (hour - hours)..=hour {
            for shard in 0..self.cfg.sweep_shards {
                let mut q = Query::index(crate::store::schema::GSI1, sweep_partition(h, shard)).limit(500);
                loop {
                    let page = self.table.query(&q).await?;
                    for m in &page.items {
                        report.checked += 1;
                        let conn = s(m, "gsi1sk");
                        let expired = m
                            .get("connected_at")
                            .and_then(Value::as_n)
                            .is_some_and(|t| t + self.cfg.max_lifetime_ms <= now);
                        if expired || matches!(self.sink.alive(&conn).await, Ok(false)) {
                            stale.push(conn);
                        }
                    }
                    match page.next {
                        Some(c) => q.cursor = Some(c),
                        None => break,
                    }
                }
            }
        }
        report.removed = stale.len();
        for conn in &stale {
            if self.sink.alive(conn).await == Ok(true) {
                // Past its lifetime but still open: close it; its $disconnect follows.
                let _ = self.sink.close(conn).await;
            }
        }
        self.cleanup(stale, LeaveReason::Gone, now).await;
        Ok(report)
    }
}

impl From<AuthError> for Refusal {
    fn from(e: AuthError) -> Self {
        let code = e.code();
        Refusal { status: code.http_status(), code, message: e.to_string() }
    }
}

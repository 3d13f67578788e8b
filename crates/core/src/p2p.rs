//! Connections and peer-to-peer rooms: a connection's record and slot, joining and leaving
//! rooms, relaying offers, answers, candidates and custom messages between peers. Pure rules
//! over the [`Table`]; nothing here posts: operations return the [`Post`]s they want sent and
//! the front door ([`crate::signaling`]) sends them and cleans up whoever is gone.
//!
//! Stored as the connection's record and its side of each P2P room membership
//! ([`crate::records::connection`]), the room's side ([`crate::records::p2p_room`]) and the
//! user's connection slots ([`crate::records::user::Slot`]).
//!
//! Races are settled in the store: a connection takes a free slot with a conditional put
//! (a user's sixth concurrent connect finds none); joins and leaves are transactions that
//! keep both membership items and the room count together. Every item carries the
//! connection's TTL (its maximum lifetime), because `$disconnect` is best-effort.

use crate::clock::Millis;
use crate::error::Rejection;
use crate::sink::{ConnectionSink, Post};
use crate::store::{Cond, Item, StoreError, Table, Write};
use futures_util::future::join;
use serde_json::{Map, Value as Json};
use std::collections::BTreeSet;
use std::sync::Arc;
use stratus_protocol::auth::Claims;
use stratus_protocol::error::ErrorCode;
use stratus_protocol::ids::{ConnectionId, PeerId, RequestId, RoomId, UserId};
use stratus_protocol::ws::{Joined, LeaveReason, Peer, PeerJoined, PeerLeft, RelayKind, RoomName, envelope, event};

#[derive(Debug, Clone)]
pub struct SignalingConfig {
    pub max_connections_per_user: u32,
    pub max_rooms_per_connection: i64,
    /// API Gateway closes every connection after 2 hours.
    pub max_lifetime_ms: Millis,
    /// Shards of the sweeper's hourly connection index.
    pub sweep_shards: u32,
    /// Every message of a connection, and its SFU requests on top (per instance: see
    /// `Signaling`).
    pub messages: crate::ratelimit::BucketLimit,
    pub sfu_requests: crate::ratelimit::BucketLimit,
}

impl Default for SignalingConfig {
    fn default() -> Self {
        Self {
            max_connections_per_user: 5,
            max_rooms_per_connection: 10,
            max_lifetime_ms: 2 * 3600 * 1000,
            sweep_shards: 4,
            messages: crate::ratelimit::WS_MESSAGES,
            sfu_requests: crate::ratelimit::SFU_REQUESTS,
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

/// What a connection's record says about who holds it.
pub use crate::records::connection::Connection as ConnectionMeta;

/// What [`P2p::teardown`] took away.
#[derive(Debug, Default)]
pub struct Teardown {
    /// The `user-left` announcements to the rooms it was in.
    pub posts: Vec<Post>,
    /// The connection's partition also holds a group-room membership (`SFU`, kept by
    /// `crate::sfu`), which the front door has that module remove.
    pub in_group_room: bool,
}

pub struct P2p {
    table: Arc<dyn Table>,
    cfg: SignalingConfig,
}

use crate::records::connection::{self, Kind, Membership, meta as conn_key, room as croom_key};
use crate::records::p2p_room::{self, member as member_key};
use crate::records::user::{self as users, slot as slot_key};

/// The user id a membership item records ("" when it does not decode).
fn user_of(it: &Item) -> UserId {
    connection::decode_membership(it).map(|m| m.user_id).unwrap_or_default()
}

/// The TTL (epoch seconds) of everything a connection opened at `now` stores: past its
/// maximum lifetime, because `$disconnect` is best-effort.
pub(crate) fn lifetime_ttl(cfg: &SignalingConfig, now: Millis) -> i64 {
    (now + cfg.max_lifetime_ms).div_euclid(1000) + 300
}

pub(crate) fn shard_of(c: &str, shards: u32) -> u32 {
    // FNV-1a: stable across processes and versions, unlike std's hasher.
    let h = c.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    h % shards.max(1)
}

/// How the members of connection `conn`'s P2P rooms name it (in `joined`, `user-joined`,
/// `user-left`, a relay's `from`, and a relay's `to`): opaque, so knowing a peer gives no
/// handle on its socket.
pub fn peer_id(conn: &ConnectionId) -> PeerId {
    PeerId::from(connection::pseudonym("peer", conn))
}

/// One member of a P2P room: its connection, its peer id and its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMember {
    pub conn: ConnectionId,
    pub peer: PeerId,
    pub user: UserId,
}

impl RoomMember {
    fn peer(&self) -> Peer {
        Peer { peer_id: self.peer.to_string(), user_id: self.user.to_string() }
    }
}

/// The connections of `members` other than `conn`.
fn others(members: Vec<RoomMember>, conn: &ConnectionId) -> Vec<ConnectionId> {
    members.into_iter().map(|m| m.conn).filter(|c| c != conn).collect()
}

/// A room's members, all pages. Calls read their room with it too.
pub async fn room_members(table: &dyn Table, room: &RoomId) -> Result<Vec<RoomMember>, StoreError> {
    let mut q = p2p_room::members(room).limit(500);
    let mut out = Vec::new();
    loop {
        let page = table.query(&q).await?;
        out.extend(page.items.iter().filter_map(|i| {
            let (peer, conn) = p2p_room::member_of(i)?;
            Some(RoomMember { conn, peer, user: user_of(i) })
        }));
        match page.next {
            Some(c) => q.cursor = Some(c),
            None => return Ok(out),
        }
    }
}

impl P2p {
    pub fn new(table: Arc<dyn Table>, cfg: SignalingConfig) -> Self {
        Self { table, cfg }
    }

    pub fn config(&self) -> &SignalingConfig {
        &self.cfg
    }

    /// Records connection `conn` of an authenticated user in one of the user's free slots.
    pub async fn connect(&self, conn: &ConnectionId, claims: &Claims, now: Millis) -> Result<(), Refusal> {
        let refuse = |status, code, message: &str| Refusal { status, code, message: message.to_owned() };
        let user = &claims.user_id;
        let ttl = lifetime_ttl(&self.cfg, now);
        let internal = |e: StoreError| {
            tracing::error!(error = %e, "connect: store error");
            refuse(503, ErrorCode::ServiceUnavailable, "try again")
        };
        let taken: BTreeSet<u32> = self
            .table
            .query(&users::slots(user).limit(100))
            .await
            .map_err(internal)?
            .items
            .iter()
            .filter_map(users::decode_slot)
            .map(|(n, _)| n)
            .collect();
        let meta = |slot: u32| {
            let record = ConnectionMeta {
                user_id: user.clone(),
                app: claims.app.clone(),
                grant_room: claims.grants.room.clone(),
                can_publish: claims.grants.can_publish,
                can_subscribe: claims.grants.can_subscribe,
                admin: claims.grants.admin,
                connected_at: now,
                slot: Some(slot),
                rooms: 0,
                ttl,
            };
            connection::encode(conn, &record)
        };
        for n in 0..self.cfg.max_connections_per_user {
            if taken.contains(&n) {
                continue;
            }
            let slot = users::encode_slot(user, n, &users::Slot { conn: conn.to_owned(), ttl });
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
                    return Ok(());
                }
                Err(StoreError::ConditionFailed) => {
                    // A repeated $connect for the same connection succeeds once.
                    if self.table.get(&conn_key(conn)).await.map_err(internal)?.is_some() {
                        return Ok(());
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

    /// The record of connection `conn`; `UNAUTHORIZED` when it has none (it never connected,
    /// or was cleaned up).
    pub async fn meta(&self, conn: &ConnectionId) -> Result<ConnectionMeta, Rejection> {
        let meta = self.table.get(&conn_key(conn)).await?;
        meta.as_ref()
            .and_then(connection::decode)
            .ok_or_else(|| Rejection::new(ErrorCode::Unauthorized, "unknown connection; reconnect"))
    }

    /// `join`: `joined` to the joiner, `user-joined` to the others.
    pub async fn join(
        &self,
        conn: &ConnectionId,
        meta: &ConnectionMeta,
        room: &RoomId,
        rid: Option<RequestId>,
        now: Millis,
    ) -> Result<Vec<Post>, Rejection> {
        if let Some(grant) = &meta.grant_room
            && grant != room
        {
            return Err(Rejection::new(ErrorCode::Forbidden, format!("this token is limited to room `{grant}`")));
        }
        let user = meta.user_id.clone();
        let under_limit = connection::rooms_below(self.cfg.max_rooms_per_connection);
        let mine = Membership { user_id: user.clone(), conn: None, joined_at: now, ttl: meta.ttl };
        let theirs = Membership { conn: Some(conn.clone()), ..mine.clone() };
        let peer = peer_id(conn);
        let res = self
            .table
            .transact(vec![
                Write::Update {
                    key: conn_key(conn),
                    update: connection::rooms_counted(1),
                    cond: Some(Cond::Exists.and(under_limit)),
                },
                Write::Put {
                    item: connection::encode_membership(member_key(room, &peer), &theirs),
                    cond: Some(Cond::NotExists),
                },
                Write::Put {
                    item: connection::encode_membership(croom_key(conn, room), &mine),
                    cond: Some(Cond::NotExists),
                },
            ])
            .await;
        let peers = match res {
            Ok(()) => self.members(room).await?,
            Err(StoreError::ConditionFailed) => {
                let already = self.table.get(&croom_key(conn, room)).await?;
                if already.is_none() {
                    return Err(Rejection::new(
                        ErrorCode::TooManyRooms,
                        format!("a connection can be in at most {} rooms", self.cfg.max_rooms_per_connection),
                    ));
                }
                // Joining a room twice is harmless: answer `joined` again, tell no one.
                let peers = self.members(room).await?;
                let joined = joined(conn, room, &user, &peers);
                return Ok(vec![Post::to(vec![conn.clone()], envelope(event::JOINED, rid.as_deref(), joined))]);
            }
            Err(e) => return Err(e.into()),
        };
        let answer = envelope(event::JOINED, rid.as_deref(), joined(conn, room, &user, &peers));
        let news = envelope(
            event::USER_JOINED,
            None,
            PeerJoined { room: room.to_string(), peer_id: peer.to_string(), user_id: user.into() },
        );
        Ok(vec![Post::to(vec![conn.clone()], answer), Post::to(others(peers, conn), news)])
    }

    /// `leave`: `left` to the leaver, `user-left` to the others.
    pub async fn leave(
        &self,
        conn: &ConnectionId,
        room: &RoomId,
        rid: Option<RequestId>,
    ) -> Result<Vec<Post>, Rejection> {
        let res = self
            .table
            .transact(vec![
                Write::Delete { key: croom_key(conn, room), cond: Some(Cond::Exists) },
                Write::Delete { key: member_key(room, &peer_id(conn)), cond: None },
                Write::Update { key: conn_key(conn), update: connection::rooms_counted(-1), cond: Some(Cond::Exists) },
            ])
            .await;
        match res {
            Ok(()) => {}
            Err(StoreError::ConditionFailed) => {
                return Err(Rejection::new(ErrorCode::NotInRoom, format!("not in room `{room}`")));
            }
            Err(e) => return Err(e.into()),
        }
        let answer =
            Post::to(vec![conn.clone()], envelope(event::LEFT, rid.as_deref(), RoomName { room: room.to_string() }));
        let record = self.table.get(&conn_key(conn)).await.ok().flatten();
        let user = record.as_ref().and_then(connection::decode).map(|m| m.user_id).unwrap_or_default();
        let mut posts = vec![answer];
        posts.extend(self.announce_left(room, conn, &user, LeaveReason::Left).await);
        Ok(posts)
    }

    /// `user-left` for a room's remaining members.
    async fn announce_left(
        &self,
        room: &RoomId,
        conn: &ConnectionId,
        user: &UserId,
        reason: LeaveReason,
    ) -> Option<Post> {
        let event = envelope(
            event::USER_LEFT,
            None,
            PeerLeft { room: room.to_string(), peer_id: peer_id(conn).to_string(), user_id: user.to_string(), reason },
        );
        match self.members(room).await {
            Ok(peers) => Some(Post::to(others(peers, conn), event)),
            Err(e) => {
                // The leave itself is done; only the telling is lost.
                tracing::warn!(error = %e, %room, "could not list the room to announce a departure");
                None
            }
        }
    }

    async fn members(&self, room: &RoomId) -> Result<Vec<RoomMember>, StoreError> {
        room_members(self.table.as_ref(), room).await
    }

    /// The rooms `conn` is in, with its user id as recorded on them.
    async fn rooms_of(&self, conn: &ConnectionId) -> Result<Vec<(RoomId, UserId)>, StoreError> {
        let page = self.table.query(&connection::rooms(conn).limit(100)).await?;
        let room_of = |it: &Item| match connection::kind(it) {
            Kind::Room(r) => Some((r, user_of(it))),
            _ => None,
        };
        Ok(page.items.iter().filter_map(room_of).collect())
    }

    /// A relayed message: to peer `to` (a direct post) or to the sender's room.
    pub async fn relay(
        &self,
        conn: &ConnectionId,
        kind: RelayKind,
        to: Option<PeerId>,
        room: Option<RoomId>,
        mut data: Map<String, Json>,
    ) -> Result<Post, Rejection> {
        let not_in = |r: &str| Rejection::new(ErrorCode::NotInRoom, format!("not in room `{r}`"));
        let no_peer = |p: &str| Rejection::new(ErrorCode::PeerNotFound, format!("no peer `{p}` in a room with you"));
        // Where the sender is, which room this message is for, and the target's connection.
        let member_conn = |it: Option<Item>| it.as_ref().and_then(p2p_room::conn_of);
        let (room, user, target) = match (&room, &to) {
            (Some(r), Some(target)) => {
                let (mine, theirs) =
                    join(self.table.get(&croom_key(conn, r)), self.table.get(&member_key(r, target))).await;
                let mine = mine?.ok_or_else(|| not_in(r))?;
                let theirs = member_conn(theirs?).ok_or_else(|| no_peer(target))?;
                (r.clone(), user_of(&mine), Some(theirs))
            }
            (Some(r), None) => {
                let mine = self.table.get(&croom_key(conn, r)).await?;
                (r.clone(), user_of(&mine.ok_or_else(|| not_in(r))?), None)
            }
            (None, Some(target)) => {
                // The first of the sender's rooms that has the target (at most
                // `max_rooms_per_connection` reads, at once).
                let mine = self.rooms_of(conn).await?;
                if mine.is_empty() {
                    return Err(Rejection::new(ErrorCode::NotInRoom, "join a room first"));
                }
                let keys: Vec<_> = mine.iter().map(|(r, _)| member_key(r, target)).collect();
                let found = futures_util::future::join_all(keys.iter().map(|k| self.table.get(k))).await;
                let mut hit = None;
                for ((r, u), it) in mine.into_iter().zip(found) {
                    if let Some(c) = member_conn(it?) {
                        hit = Some((r, u, Some(c)));
                        break;
                    }
                }
                hit.ok_or_else(|| no_peer(target))?
            }
            (None, None) => {
                let mine = self.rooms_of(conn).await?;
                match mine.len() {
                    0 => return Err(Rejection::new(ErrorCode::NotInRoom, "join a room first")),
                    1 => {
                        let (r, u) = mine.into_iter().next().expect("one room");
                        (r, u, None)
                    }
                    _ => return Err(Rejection::new(ErrorCode::ValidationError, "in several rooms: say which `room`")),
                }
            }
        };
        data.insert("from".into(), Json::String(peer_id(conn).to_string()));
        data.insert("fromUser".into(), Json::String(user.into()));
        data.insert("room".into(), Json::String(room.to_string()));
        let out = envelope(kind.as_str(), None, &data);
        match target {
            Some(target) => Ok(Post::direct(target, out)),
            None => {
                let peers = self.members(&room).await?;
                Ok(Post::to(others(peers, conn), out))
            }
        }
    }

    /// Removes connection `conn`'s record, slot and room memberships; returns the
    /// announcements to its rooms. Items it cannot read are left to the sweeper and the TTL.
    pub async fn teardown(
        &self,
        conn: &ConnectionId,
        reason: LeaveReason,
        now: Millis,
    ) -> Result<Teardown, StoreError> {
        let page = self.table.query(&connection::all(conn).limit(200)).await?;
        let meta = page.items.iter().find(|i| connection::kind(i) == Kind::Meta).and_then(connection::decode);
        let user = meta.as_ref().map(|m| m.user_id.clone()).unwrap_or_default();
        let mut out = Teardown::default();
        for it in &page.items {
            let room = match connection::kind(it) {
                Kind::Room(room) => room,
                Kind::GroupRoom => {
                    out.in_group_room = true;
                    continue;
                }
                _ => continue,
            };
            let _ = self.table.delete(&member_key(&room, &peer_id(conn)), None).await;
            let _ = self.table.delete(&croom_key(conn, &room), None).await;
            out.posts.extend(self.announce_left(&room, conn, &user, reason).await);
        }
        if let Some(m) = meta {
            if let Some(slot) = m.slot {
                let _ = self.table.delete(&slot_key(&user, slot), Some(users::slot_held_by(conn))).await;
            }
            let _ = self.table.delete(&conn_key(conn), None).await;
            // Presence derives "online" from the slots; this records when they were last seen.
            let _ = crate::presence::touch(self.table.as_ref(), &user, now).await;
        }
        Ok(out)
    }
}

/// The sweeper's list, over the whole table (connections' owner records are deployment-wide):
/// connections API Gateway no longer has (their `$disconnect` was lost) and those past the
/// maximum lifetime. Returns (connections checked, stale ones).
pub async fn stale(
    root: &dyn Table,
    sink: &dyn ConnectionSink,
    cfg: &SignalingConfig,
    now: Millis,
) -> Result<(usize, Vec<ConnectionId>), StoreError> {
    let mut checked = 0;
    let hour = now.div_euclid(3_600_000);
    let hours = cfg.max_lifetime_ms.div_euclid(3_600_000) + 1;
    let mut stale = Vec::new();
    for h in (hour - hours)..=hour {
        for shard in 0..cfg.sweep_shards {
            let mut q = connection::opened_in(h, shard).limit(500);
            loop {
                let page = root.query(&q).await?;
                for c in page.items.iter().filter_map(connection::decode_opened) {
                    checked += 1;
                    let expired = c.connected_at + cfg.max_lifetime_ms <= now;
                    if expired || matches!(sink.alive(&c.id).await, Ok(false)) {
                        stale.push(c.id);
                    }
                }
                match page.next {
                    Some(c) => q.cursor = Some(c),
                    None => break,
                }
            }
        }
    }
    Ok((checked, stale))
}

fn joined(conn: &ConnectionId, room: &RoomId, user: &UserId, peers: &[RoomMember]) -> Joined {
    Joined {
        room: room.to_string(),
        peer_id: peer_id(conn).to_string(),
        user_id: user.to_string(),
        peers: peers.iter().filter(|p| &p.conn != conn).map(RoomMember::peer).collect(),
    }
}

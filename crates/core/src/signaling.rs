//! The WebSocket front door: `$connect`, `$disconnect` and every message, dispatched to the
//! modules below it — peer-to-peer rooms ([`crate::p2p`]), calls' room access
//! ([`crate::calls`]) and group rooms ([`crate::sfu`]). It is the only place that posts what
//! they return and the only place that cleans up a connection: when a post finds one gone
//! (API Gateway's 410), on `$disconnect`, and for the sweeper's finds.
//!
//! Every connection belongs to the app of the token it connected with: `$connect` records
//! that owner deployment-wide, and every later message or cleanup reads it first and works in
//! that app's namespace only ([`crate::tenant`]). A connection whose app has been removed
//! from the credentials gets `UNAUTHORIZED` for every message.

use crate::auth::{AuthError, Authority};
use crate::clock::Millis;
use crate::error::Rejection;
use crate::p2p::P2p;
use crate::ratelimit::Bucket;
use crate::records::connection::{self, Owner};
use crate::sink::{ConnectionSink, Post, SinkError, post_all};
use crate::store::{StoreError, Table};
use crate::tenant;
use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use stratus_protocol::auth::{Claims, TokenType};
use stratus_protocol::error::ErrorCode;
use stratus_protocol::ids::{AppId, ChatSessionId, ConnectionId, PeerId, RequestId, RoomId};
use stratus_protocol::sfu::SfuRequest;
use stratus_protocol::ws::{ClientMessage, LeaveReason, WsError, envelope, error_message, event, parse_client};

pub use crate::p2p::{Refusal, SignalingConfig};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub checked: usize,
    pub removed: usize,
}

pub struct Signaling {
    /// The whole table: connections' owners; each app's namespace is made from it.
    root: Arc<dyn Table>,
    sink: Arc<dyn ConnectionSink>,
    auth: Arc<Authority>,
    cfg: SignalingConfig,
    /// Group rooms on the media fleet; without it the SFU dialect answers `SERVICE_UNAVAILABLE`.
    sfu: Option<Arc<crate::sfu::SfuRooms>>,
    /// What this instance knows of the connections it has read the owners of (one lock per
    /// message). An owner never changes app (`$connect` writes it on condition), so a known
    /// connection's next message needs no read; an entry goes when this instance cleans the
    /// connection up, and one left by another instance's cleanup can only name a connection
    /// that sends nothing more (API Gateway never reuses ids). The app's configuration is
    /// still checked every message.
    known: std::sync::Mutex<std::collections::HashMap<ConnectionId, Known>>,
    /// Chat, for `chat-typing`.
    chat: crate::chat::Chats,
}

/// A connection this instance has seen: its app, and its message budget
/// ([`SignalingConfig::messages`], and `sfu_requests` for the SFU dialect). Budgets are kept in
/// memory, per instance: a connection's messages reach few instances at a time, so a flood is
/// held to a small multiple of the rate at no store cost (counting every message in DynamoDB
/// would double its price).
#[derive(Debug, Clone)]
struct Known {
    app: AppId,
    messages: Bucket,
    sfu: Bucket,
}

/// Entries in [`Signaling::known`] before it is emptied (a bound, not a working set: a
/// Lambda instance serves far fewer live connections).
const OWNER_CACHE_MAX: usize = 100_000;

/// What one app's connection is served with: everything in that app's namespace.
struct InApp<'a> {
    table: Arc<dyn Table>,
    p2p: P2p,
    sfu: Option<crate::sfu::AppRooms<'a>>,
}

impl Signaling {
    pub fn new(
        table: Arc<dyn Table>,
        sink: Arc<dyn ConnectionSink>,
        auth: Arc<Authority>,
        cfg: SignalingConfig,
    ) -> Self {
        let chat = crate::chat::Chats::new(sink.clone(), crate::chat::ChatConfig::default());
        Self { root: table, sink, auth, cfg, sfu: None, known: Default::default(), chat }
    }

    fn in_app(&self, app: &AppId) -> InApp<'_> {
        let ns = tenant::Namespace::new(&self.root, app);
        let limits = self.auth.limits(app);
        let mut cfg = self.cfg.clone();
        cfg.max_connections_per_user = limits.max_connections_per_user.unwrap_or(cfg.max_connections_per_user);
        cfg.max_rooms_per_connection = limits.max_rooms_per_connection.unwrap_or(cfg.max_rooms_per_connection);
        let sfu = self.sfu.as_ref().map(|s| s.app(&ns).limited(&limits));
        InApp { p2p: P2p::new(ns.table.clone(), cfg), sfu, table: ns.table }
    }

    /// The app connection `conn` belongs to, once its message is taken from its budget;
    /// `UNAUTHORIZED` when it has none (it never connected, or was cleaned up) or its app is
    /// no longer configured, `RATE_LIMITED` when its budget is spent (the message does
    /// nothing).
    async fn admit(&self, conn: &ConnectionId, sfu: bool, now: Millis) -> Result<AppId, Rejection> {
        let (m, s) = (self.cfg.messages, self.cfg.sfu_requests);
        let spend = |k: &mut Known| -> Result<AppId, Rejection> {
            if !self.auth.config().apps.contains_key(k.app.as_str()) {
                return Err(Rejection::new(ErrorCode::Unauthorized, "this connection's app is no longer configured"));
            }
            let limited = |secs| Rejection::Limited { retry_after_secs: secs };
            k.messages.take(m, now).map_err(limited)?;
            if sfu {
                k.sfu.take(s, now).map_err(limited)?;
            }
            Ok(k.app.clone())
        };
        if let Some(k) = self.known.lock().unwrap_or_else(|e| e.into_inner()).get_mut(conn) {
            return spend(k);
        }
        let owner = self
            .read_owner(conn)
            .await?
            .ok_or_else(|| Rejection::new(ErrorCode::Unauthorized, "unknown connection; reconnect"))?;
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= OWNER_CACHE_MAX {
            known.clear();
        }
        let k = known.entry(conn.clone()).or_insert(Known {
            app: owner.app,
            messages: Bucket::full(m, now),
            sfu: Bucket::full(s, now),
        });
        spend(k)
    }

    /// Drops what this instance remembers of a connection that is gone.
    fn forget(&self, conn: &ConnectionId) {
        self.known.lock().unwrap_or_else(|e| e.into_inner()).remove(conn);
    }

    /// Connection `conn`'s owner record, whatever its app.
    async fn read_owner(&self, conn: &ConnectionId) -> Result<Option<Owner>, StoreError> {
        Ok(self.root.get(&connection::owner(conn)).await?.as_ref().and_then(connection::decode_owner))
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
    pub async fn connect(&self, conn: &ConnectionId, token: Option<&str>, now: Millis) -> Result<Claims, Refusal> {
        let token = token.filter(|t| !t.is_empty()).ok_or_else(|| Refusal {
            status: 401,
            code: ErrorCode::AuthTokenMissing,
            message: "connect with ?token=<access token>".into(),
        })?;
        let claims = self.auth.verify(token, TokenType::Access, now.div_euclid(1000)).map_err(Refusal::from)?;
        // A sign-in revoked for a reused refresh token opens no more connections (one read per
        // connect; REST requests take an access token at its word until it expires).
        if let Some(fam) = &claims.fam {
            use crate::auth::RefreshTokens;
            match crate::auth::TableRefreshTokens(self.root.clone()).family_revoked(&claims.app, fam).await {
                Ok(false) => {}
                Ok(true) => {
                    return Err(Refusal {
                        status: 401,
                        code: ErrorCode::AuthTokenInvalid,
                        message: "this sign-in was revoked (a refresh token of it was reused)".into(),
                    });
                }
                Err(e) => {
                    tracing::error!(error = %e, "connect: store error");
                    return Err(Refusal {
                        status: 503,
                        code: ErrorCode::ServiceUnavailable,
                        message: "try again".into(),
                    });
                }
            }
        }
        let owner = Owner { app: claims.app.clone(), connected_at: now, ttl: crate::p2p::lifetime_ttl(&self.cfg, now) };
        let shard = crate::p2p::shard_of(conn, self.cfg.sweep_shards);
        // Owned by this app, or (a repeated `$connect`) already by it.
        let mine = crate::store::Cond::Or(vec![crate::store::Cond::NotExists, connection::owned_by(&claims.app)]);
        match self.root.put(connection::encode_owner(conn, &owner, shard), Some(mine)).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed) => {
                return Err(Refusal { status: 409, code: ErrorCode::Conflict, message: "connection id in use".into() });
            }
            Err(e) => {
                tracing::error!(error = %e, "connect: store error");
                return Err(Refusal { status: 503, code: ErrorCode::ServiceUnavailable, message: "try again".into() });
            }
        }
        if let Err(r) = self.in_app(&claims.app).p2p.connect(conn, &claims, now).await {
            let _ = self.root.delete(&connection::owner(conn), None).await;
            return Err(r);
        }
        Ok(claims)
    }

    /// `$disconnect`: leaves every room (telling the others) and frees the slot.
    pub async fn disconnect(&self, conn: &ConnectionId, now: Millis) {
        self.cleanup(vec![conn.clone()], LeaveReason::Disconnected, now).await;
    }

    /// A message from `conn`. Replies and relays go out through the sink; a rejected
    /// message gets an `error` and changes nothing.
    pub async fn message(&self, conn: &ConnectionId, body: &str, now: Millis) {
        let (rid, res) = match parse_client(body) {
            Ok((rid, msg)) => {
                let typed = rid.clone().map(RequestId::from);
                (rid.clone(), self.dispatch(conn, typed, msg, now).await.map_err(|e| ws_error(e, &rid)))
            }
            Err(e) => (e.request_id.clone(), Err(e)),
        };
        let (posts, mut error) = match res {
            Ok(posts) => (posts, None),
            Err(e) => (vec![], Some(e)),
        };
        let mut gone = Vec::new();
        for post in posts {
            if !post.direct {
                gone.extend(post_all(self.sink.as_ref(), &post.to, &post.message).await);
                continue;
            }
            // The sender learns whether the peer it chose got the message.
            let target = &post.to[0];
            match self.sink.post(target, &post.message).await {
                Ok(()) => {}
                Err(SinkError::Gone) => {
                    gone.push(target.clone());
                    // Not named: `target` is its connection id, which only the back end sees.
                    let msg = "that peer is no longer connected";
                    error = Some(WsError::new(ErrorCode::PeerNotFound, msg, rid.clone()));
                }
                Err(SinkError::Failed(_)) => {
                    error =
                        Some(WsError::new(ErrorCode::ServiceUnavailable, "delivery failed; try again", rid.clone()));
                }
            }
        }
        if let Some(e) = error
            && let Err(SinkError::Gone) = self.sink.post(conn, &error_message(&e)).await
        {
            gone.push(conn.clone());
        }
        if !gone.is_empty() {
            self.cleanup(gone, LeaveReason::Gone, now).await;
        }
    }

    async fn dispatch(
        &self,
        conn: &ConnectionId,
        rid: Option<RequestId>,
        msg: ClientMessage,
        now: Millis,
    ) -> Result<Vec<Post>, Rejection> {
        let app = self.admit(conn, matches!(msg, ClientMessage::Sfu(_)), now).await?;
        let t = self.in_app(&app);
        match msg {
            ClientMessage::Ping => {
                let pong = envelope(event::PONG, rid.as_deref(), serde_json::Map::new());
                Ok(vec![Post::to(vec![conn.clone()], pong)])
            }
            ClientMessage::Join { room } => Self::join(&t, conn, &RoomId::from(room), rid, now).await,
            ClientMessage::Leave { room } => t.p2p.leave(conn, &RoomId::from(room), rid).await,
            ClientMessage::Relay { kind, to, room, data } => {
                let (to, room) = (to.map(PeerId::from), room.map(RoomId::from));
                Ok(vec![t.p2p.relay(conn, kind, to, room, data).await?])
            }
            ClientMessage::Sfu(req) => Self::sfu(&t, conn, rid, req, now).await,
            ClientMessage::ChatTyping { session_id } => {
                let meta = t.p2p.meta(conn).await?;
                let ns = tenant::Namespace { app, table: t.table.clone() };
                self.chat.app(&ns).typing(&meta.user_id, &ChatSessionId::from(session_id), now).await?;
                Ok(vec![])
            }
        }
    }

    /// `join`, after the call-room rule: while a call lasts only its two users may enter
    /// its signaling room.
    async fn join(
        t: &InApp<'_>,
        conn: &ConnectionId,
        room: &RoomId,
        rid: Option<RequestId>,
        now: Millis,
    ) -> Result<Vec<Post>, Rejection> {
        let meta = t.p2p.meta(conn).await?;
        if let Some(call_id) = crate::calls::call_id_of_room(room)
            && !crate::calls::may_join_call_room(t.table.as_ref(), &meta.user_id, &call_id).await?
        {
            return Err(Rejection::new(
                ErrorCode::Forbidden,
                "only the call's participants may join its room while it lasts",
            ));
        }
        t.p2p.join(conn, &meta, room, rid, now).await
    }

    async fn sfu(
        t: &InApp<'_>,
        conn: &ConnectionId,
        rid: Option<RequestId>,
        req: SfuRequest,
        now: Millis,
    ) -> Result<Vec<Post>, Rejection> {
        let Some(sfu) = &t.sfu else {
            return Err(Rejection::new(
                ErrorCode::ServiceUnavailable,
                "group rooms need a media fleet; none is configured",
            ));
        };
        let meta = t.p2p.meta(conn).await?;
        let caller = crate::sfu::Caller {
            user_id: meta.user_id,
            connection_id: Some(conn.clone()),
            grant_room: meta.grant_room,
            can_publish: meta.can_publish,
            can_subscribe: meta.can_subscribe,
            admin: meta.admin,
        };
        let kind = format!("{}Response", req.name());
        let data = sfu.handle(&caller, conn, req, now).await?;
        Ok(vec![Post::to(vec![conn.clone()], envelope(&kind, rid.as_deref(), data))])
    }

    /// Removes connections and everything they hold, telling their rooms. Connections found
    /// gone while telling are cleaned up in turn (iteratively, each once).
    async fn cleanup(&self, initial: Vec<ConnectionId>, reason: LeaveReason, now: Millis) {
        let mut queue: VecDeque<ConnectionId> = initial.into();
        let mut done = BTreeSet::new();
        while let Some(conn) = queue.pop_front() {
            if !done.insert(conn.clone()) {
                continue;
            }
            // Its owner names the namespace everything else of it is in (whether or not the
            // app is still configured: what it left behind goes too).
            let owner = match self.read_owner(&conn).await {
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!(error = %e, connection_id = %conn, "cleanup could not read the connection");
                    continue;
                }
            };
            let Some(owner) = owner else {
                self.forget(&conn);
                continue;
            };
            let t = self.in_app(&owner.app);
            let torn = match t.p2p.teardown(&conn, reason, now).await {
                Ok(t) => t,
                Err(e) => {
                    // Left for the sweeper and the TTL.
                    tracing::warn!(error = %e, connection_id = %conn, "cleanup could not read the connection");
                    continue;
                }
            };
            if torn.in_group_room {
                let res = match &t.sfu {
                    Some(sfu) => sfu.leave_connection(&conn).await.map(|_| ()),
                    None => crate::sfu::forget_connection(t.table.as_ref(), &conn).await.map_err(Into::into),
                };
                if let Err(e) = res {
                    tracing::warn!(error = %e, connection_id = %conn, "cleanup could not leave the SFU room");
                }
            }
            let _ = self.root.delete(&connection::owner(&conn), None).await;
            self.forget(&conn);
            for post in torn.posts {
                queue.extend(post_all(self.sink.as_ref(), &post.to, &post.message).await);
            }
        }
    }

    /// The scheduled sweeper: removes connections API Gateway no longer has (their
    /// `$disconnect` was lost) and those past the maximum lifetime.
    pub async fn sweep(&self, now: Millis) -> Result<SweepReport, StoreError> {
        let (checked, stale) = crate::p2p::stale(self.root.as_ref(), self.sink.as_ref(), &self.cfg, now).await?;
        for conn in &stale {
            if self.sink.alive(conn).await == Ok(true) {
                // Past its lifetime but still open: close it; its $disconnect follows.
                let _ = self.sink.close(conn).await;
            }
        }
        let report = SweepReport { checked, removed: stale.len() };
        self.cleanup(stale, LeaveReason::Gone, now).await;
        Ok(report)
    }
}

/// The one mapping of a rejection to the WebSocket `error` a client gets.
fn ws_error(e: Rejection, rid: &Option<String>) -> WsError {
    let message = match &e {
        Rejection::Rejected(_, m) => m.clone(),
        Rejection::Limited { retry_after_secs } => format!("too many requests; retry in {retry_after_secs} s"),
        Rejection::Store(s) => {
            // The store's message may name tables or endpoints: log it, don't send it.
            tracing::error!(error = %s, "signaling store error");
            "try again".to_owned()
        }
    };
    WsError::new(e.code(), message, rid.clone())
}

impl From<AuthError> for Refusal {
    fn from(e: AuthError) -> Self {
        let code = e.code();
        Refusal { status: code.http_status(), code, message: e.to_string() }
    }
}

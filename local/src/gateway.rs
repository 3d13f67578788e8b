//! The API Gateway WebSocket API emulator.
//!
//! Real WebSocket clients connect to `ws://HOST/ws?token=…`. Each connect, message and
//! disconnect becomes the API Gateway event the Lambda gets (request context, route key
//! chosen by `$request.body.type`, connection id, identity) and runs through the same
//! dispatcher (`stratus_functions::ws::handle`). The Management API is served at
//! `http://HOST/ws/@connections/{id}` (POST to send, GET to describe, DELETE to close; 410 Gone
//! for unknown ids), so the handlers' PostToConnection works unchanged against it. Like API
//! Gateway's, it answers only requests signed (SigV4) with the stack's credentials
//! ([`crate::sigv4`]); a client of the WebSocket has no way in.
//!
//! API Gateway's limits are enforced (configurable): messages over 128 KB close the
//! connection with 1009, 10 minutes without a frame close it as idle, and no connection
//! lives past 2 hours; each of these closes sends `$disconnect` like API Gateway does.
//!
//! A post never waits on its recipient: it is queued, and a connection whose queue would pass
//! `max_queue_bytes` (a client that stopped reading) is dropped at once and the post answers
//! 410 Gone, so the handler cleans it up and its room hears `user-left` (`gone`). One stalled
//! reader thus costs its senders nothing and never holds up the rest of a room.

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayWebsocketProxyRequest, ApiGatewayWebsocketProxyRequestContext};
use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stratus_core::clock::{Clock, Millis, rfc3339_ms};
use stratus_core::signaling::Signaling;
use stratus_core::sink::{ConnectionSink, SinkError};
use stratus_functions::ws::handle;
use stratus_protocol::ids::ConnectionId;
use stratus_protocol::ws::MESSAGE_ROUTES;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use crate::sigv4::{self, Credential, Denied};

/// API Gateway's WebSocket limits.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_message_bytes: usize,
    pub idle: Duration,
    pub max_lifetime: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_message_bytes: 128 * 1024, idle: Duration::from_secs(600), max_lifetime: Duration::from_secs(7200) }
    }
}

/// What may wait for one connection's writer before the connection counts as gone.
pub const DEFAULT_MAX_QUEUE_BYTES: usize = 1024 * 1024;

enum Out {
    Text(String),
    Close(u16, &'static str),
}

impl Out {
    /// What it counts against the queue.
    fn bytes(&self) -> usize {
        match self {
            Out::Text(t) => t.len(),
            Out::Close(..) => 0,
        }
    }
}

struct Conn {
    tx: mpsc::UnboundedSender<Out>,
    /// Bytes queued for the writer and not yet handed to the socket (the writer holds this,
    /// not the connection, so its channel still closes when the connection is dropped).
    queued: Arc<AtomicUsize>,
    /// Set when the connection was dropped for not keeping up.
    overflowed: AtomicBool,
    connected_at: Millis,
    last_active: AtomicI64,
    source_ip: String,
    user_agent: String,
    /// Wakes the reader when the connection is closed from our side.
    closed: Arc<Notify>,
}

/// The open connections. This is also the in-process `ConnectionSink` (`--ws-sink direct`).
pub struct Registry {
    // A std Mutex: lookups and inserts only, never held across an await.
    conns: Mutex<HashMap<String, Arc<Conn>>>,
    max_queue_bytes: usize,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_QUEUE_BYTES)
    }
}

impl Registry {
    pub fn new(max_queue_bytes: usize) -> Self {
        Self { conns: Mutex::default(), max_queue_bytes }
    }

    fn get(&self, id: &str) -> Option<Arc<Conn>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }

    pub fn len(&self) -> usize {
        self.conns.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues `out` for connection `id` without waiting; a connection that cannot take it
    /// within its byte budget is dropped and answers `Gone`.
    fn send(&self, id: &str, out: Out) -> Result<(), SinkError> {
        let conn = self.get(id).ok_or(SinkError::Gone)?;
        let n = out.bytes();
        if conn.queued.fetch_add(n, Ordering::AcqRel) + n > self.max_queue_bytes {
            conn.queued.fetch_sub(n, Ordering::AcqRel);
            if !conn.overflowed.swap(true, Ordering::AcqRel) {
                tracing::warn!(connection_id = id, "dropping a connection that is not reading");
            }
            self.conns.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
            conn.closed.notify_one();
            return Err(SinkError::Gone);
        }
        conn.tx.send(out).map_err(|_| SinkError::Gone)
    }
}

#[async_trait]
impl ConnectionSink for Registry {
    async fn post(&self, connection: &ConnectionId, message: &str) -> Result<(), SinkError> {
        self.send(connection, Out::Text(message.to_owned()))
    }

    async fn alive(&self, connection: &ConnectionId) -> Result<bool, SinkError> {
        Ok(self.get(connection).is_some())
    }

    async fn close(&self, connection: &ConnectionId) -> Result<(), SinkError> {
        self.send(connection, Out::Close(1000, ""))
    }
}

pub struct Gateway {
    pub registry: Arc<Registry>,
    sig: Arc<Signaling>,
    clock: Arc<dyn Clock>,
    limits: Limits,
    domain: String,
    /// Who may call `@connections`.
    management: Credential,
}

/// An API Gateway-style connection id (`Iu3QWeqGoAMCJ1w=`): URL-safe, unique.
fn new_connection_id() -> String {
    let bytes: [u8; 10] = rand::random();
    format!("{}=", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

impl Gateway {
    pub fn new(
        registry: Arc<Registry>,
        sig: Arc<Signaling>,
        clock: Arc<dyn Clock>,
        limits: Limits,
        domain: String,
        management: Credential,
    ) -> Arc<Self> {
        Arc::new(Self { registry, sig, clock, limits, domain, management })
    }

    pub fn routes(self: &Arc<Self>) -> Router {
        let management = Router::new()
            .route("/ws/@connections/{id}", get(mgmt_get).post(mgmt_post).delete(mgmt_delete))
            .route_layer(axum::middleware::from_fn_with_state(self.clone(), signed));
        // Seed 003's chat notifications socket is this one: chat events come on every connection.
        Router::new()
            .route("/ws", get(upgrade))
            .route("/chat/notifications", get(upgrade))
            .merge(management)
            .with_state(self.clone())
    }

    /// The event API Gateway would hand the Lambda.
    fn event(
        &self,
        event_type: &str,
        route_key: &str,
        conn: &str,
        connected_at: Millis,
        identity: (&str, &str),
    ) -> ApiGatewayWebsocketProxyRequest {
        let now = self.clock.now_ms();
        let mut ctx = ApiGatewayWebsocketProxyRequestContext::default();
        ctx.event_type = Some(event_type.to_owned());
        ctx.route_key = Some(route_key.to_owned());
        ctx.connection_id = Some(conn.to_owned());
        ctx.connected_at = connected_at;
        ctx.request_time_epoch = now;
        ctx.request_time = Some(rfc3339_ms(now));
        ctx.request_id = Some(uuid::Uuid::new_v4().to_string());
        ctx.message_direction = Some("IN".to_owned());
        ctx.stage = Some("local".to_owned());
        ctx.domain_name = Some(self.domain.clone());
        ctx.apiid = Some("local".to_owned());
        ctx.identity.source_ip = Some(identity.0.to_owned());
        ctx.identity.user_agent = Some(identity.1.to_owned());
        let mut ev = ApiGatewayWebsocketProxyRequest::default();
        ev.request_context = ctx;
        ev
    }

    async fn run(self: Arc<Self>, socket: WebSocket, id: String, connected_at: Millis, ip: String, ua: String) {
        let (mut ws_tx, mut ws_rx) = socket.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
        let conn = Arc::new(Conn {
            tx,
            queued: Arc::new(AtomicUsize::new(0)),
            overflowed: AtomicBool::new(false),
            connected_at,
            last_active: AtomicI64::new(connected_at),
            source_ip: ip.clone(),
            user_agent: ua.clone(),
            closed: Arc::new(Notify::new()),
        });
        self.registry.conns.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), conn.clone());
        // The writer holds only the notifier: once the registry and this task drop the
        // connection, its channel closes and the writer ends after sending what is queued.
        let closed = conn.closed.clone();
        let budget = conn.queued.clone();
        let mut writer = tokio::spawn(async move {
            // Queue everything already waiting, then flush once: under load one write
            // syscall carries many messages.
            while let Some(first) = rx.recv().await {
                let mut next = Some(first);
                let mut close = false;
                while let Some(out) = next.take() {
                    let n = out.bytes();
                    let frame = match out {
                        Out::Text(t) => Message::Text(t.into()),
                        Out::Close(code, reason) => {
                            close = true;
                            Message::Close(Some(CloseFrame { code, reason: reason.into() }))
                        }
                    };
                    if ws_tx.feed(frame).await.is_err() {
                        return;
                    }
                    budget.fetch_sub(n, Ordering::AcqRel);
                    if close {
                        break;
                    }
                    next = rx.try_recv().ok();
                }
                if ws_tx.flush().await.is_err() {
                    return;
                }
                if close {
                    closed.notify_one();
                    return;
                }
            }
        });
        let started = Instant::now();
        let lifetime_end = started + self.limits.max_lifetime;
        let mut idle_end = started + self.limits.idle;
        let (status, reason): (i64, &str) = loop {
            tokio::select! {
                frame = ws_rx.next() => {
                    idle_end = Instant::now() + self.limits.idle;
                    conn.last_active.store(self.clock.now_ms(), Ordering::Relaxed);
                    // Binary frames reach the Lambda base64-encoded, as API Gateway sends them.
                    let (body, binary) = match frame {
                        Some(Ok(Message::Text(t))) => (t.to_string(), false),
                        Some(Ok(Message::Binary(b))) => (base64::engine::general_purpose::STANDARD.encode(&b), true),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Close(frame))) => {
                            // Complete the closing handshake.
                            let _ = conn.tx.send(Out::Close(1000, ""));
                            break (frame.map(|f| i64::from(f.code)).unwrap_or(1005), "client closed");
                        }
                        Some(Err(_)) | None => break (1006, "connection lost"),
                    };
                    let size = if binary { body.len() / 4 * 3 } else { body.len() };
                    if size > self.limits.max_message_bytes {
                        let _ = conn.tx.send(Out::Close(1009, "Message too big"));
                        break (1009, "message too big");
                    }
                    let route = if binary { "$default" } else { route_key(&body) };
                    let mut ev = self.event("MESSAGE", route, &id, connected_at, (&ip, &ua));
                    ev.is_base64_encoded = binary;
                    ev.body = Some(body);
                    handle(&self.sig, &ev, self.clock.now_ms()).await;
                }
                _ = tokio::time::sleep_until(idle_end) => {
                    let _ = conn.tx.send(Out::Close(1001, "Going away"));
                    break (1001, "idle timeout");
                }
                _ = tokio::time::sleep_until(lifetime_end) => {
                    let _ = conn.tx.send(Out::Close(1001, "Going away"));
                    break (1001, "maximum connection duration");
                }
                _ = conn.closed.notified() => {
                    if conn.overflowed.load(Ordering::Acquire) {
                        break (1006, "not reading");
                    }
                    break (1000, "closed by the management API");
                }
            }
        };
        self.registry.conns.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
        let overflowed = conn.overflowed.load(Ordering::Acquire);
        drop(conn);
        // Let a queued close frame go out, then stop writing (at once for a client that is not
        // reading: its socket is dropped with what is queued for it).
        if !overflowed {
            let _ = tokio::time::timeout(Duration::from_secs(1), &mut writer).await;
        }
        writer.abort();
        let mut ev = self.event("DISCONNECT", "$disconnect", &id, connected_at, (&ip, &ua));
        ev.request_context.disconnect_status_code = Some(status);
        ev.request_context.disconnect_reason = Some(reason.to_owned());
        handle(&self.sig, &ev, self.clock.now_ms()).await;
    }
}

/// `$request.body.type`: a message route if the body is a JSON object whose `type` names
/// one, else `$default` (as API Gateway routes).
fn route_key(body: &str) -> &'static str {
    #[derive(serde::Deserialize)]
    struct Typed<'a> {
        #[serde(borrow, rename = "type")]
        kind: Option<std::borrow::Cow<'a, str>>,
    }
    match serde_json::from_str::<Typed>(body) {
        Ok(Typed { kind: Some(k) }) => MESSAGE_ROUTES.iter().find(|r| **r == k).copied().unwrap_or("$default"),
        _ => "$default",
    }
}

async fn upgrade(
    State(gw): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let id = new_connection_id();
    let connected_at = gw.clock.now_ms();
    let ip = peer.ip().to_string();
    let ua = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let mut ev = gw.event("CONNECT", "$connect", &id, connected_at, (&ip, &ua));
    for (k, v) in &headers {
        if let Ok(v) = v.to_str() {
            ev.headers.insert(k.clone(), HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")));
        }
    }
    ev.query_string_parameters = params.into_iter().collect::<HashMap<String, String>>().into();
    let res = handle(&gw.sig, &ev, gw.clock.now_ms()).await;
    if res.status_code != 200 {
        let status = StatusCode::from_u16(res.status_code as u16).unwrap_or(StatusCode::FORBIDDEN);
        let body = match res.body {
            Some(aws_lambda_events::encodings::Body::Text(t)) => t,
            _ => String::new(),
        };
        return (status, [("content-type", "application/json")], body).into_response();
    }
    // Accept somewhat more than the limit so an oversized message can be answered with API
    // Gateway's 1009 close instead of a protocol error.
    // A small read buffer: tungstenite zero-fills it on every read (128 KiB by default).
    ws.max_message_size(gw.limits.max_message_bytes * 2 + 1024)
        .read_buffer_size(8 * 1024)
        .on_upgrade(move |socket| gw.run(socket, id, connected_at, ip, ua))
}

/// Refuses a Management API request that is not signed with the stack's credentials, with
/// API Gateway's 403, before anything is sent or looked up.
async fn signed(State(gw): State<Arc<Gateway>>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (parts, body) = req.into_parts();
    // API Gateway's payload limit bounds what is read before the check.
    let Ok(bytes) = axum::body::to_bytes(body, gw.limits.max_message_bytes + 1).await else {
        return refused_payload();
    };
    let uri = parts.uri.path_and_query().map_or(parts.uri.path(), |p| p.as_str());
    let now = std::time::UNIX_EPOCH + Duration::from_millis(gw.clock.now_ms().max(0) as u64);
    if let Err(denied) = sigv4::verify(&gw.management, parts.method.as_str(), uri, &parts.headers, &bytes, now) {
        return forbidden(denied);
    }
    next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

fn forbidden(denied: Denied) -> Response {
    let body = serde_json::json!({ "message": denied.message() }).to_string();
    let mut res = (StatusCode::FORBIDDEN, [("content-type", "application/json")], body).into_response();
    res.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static(denied.error_type()));
    res
}

fn refused_payload() -> Response {
    let mut res = (StatusCode::PAYLOAD_TOO_LARGE, r#"{"message":"Payload too large"}"#).into_response();
    res.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static("PayloadTooLargeException"));
    res
}

fn gone() -> Response {
    let mut res = (StatusCode::GONE, [("content-type", "application/json")], r#"{"message":"Gone"}"#).into_response();
    res.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static("GoneException"));
    res
}

async fn mgmt_post(State(gw): State<Arc<Gateway>>, Path(id): Path<String>, body: Bytes) -> Response {
    if body.len() > gw.limits.max_message_bytes {
        return refused_payload();
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    match gw.registry.send(&id, Out::Text(text)) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(SinkError::Gone) => gone(),
        Err(SinkError::Failed(_)) => StatusCode::TOO_MANY_REQUESTS.into_response(),
    }
}

async fn mgmt_get(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> Response {
    match gw.registry.get(&id) {
        Some(c) => axum::Json(serde_json::json!({
            "connectedAt": rfc3339_ms(c.connected_at),
            "lastActiveAt": rfc3339_ms(c.last_active.load(Ordering::Relaxed)),
            "identity": { "sourceIp": c.source_ip, "userAgent": c.user_agent },
        }))
        .into_response(),
        None => gone(),
    }
}

async fn mgmt_delete(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> Response {
    match gw.registry.send(&id, Out::Close(1000, "")) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(_) => gone(),
    }
}

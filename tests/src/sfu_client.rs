//! A client of the WebSocket SFU dialect: requests matched to their `…Response` by
//! `requestId`, everything else kept as events to wait for. It implements
//! [`Signal`](crate::peer::Signal), so the test peers publish and subscribe through the
//! platform exactly as an app would.

use crate::peer::Signal;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stratus_protocol::media::*;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>>;

pub struct SfuClient {
    out: mpsc::UnboundedSender<Message>,
    pending: Pending,
    events: Arc<Mutex<Vec<Value>>>,
    arrived: Arc<Notify>,
    next: AtomicU64,
}

impl SfuClient {
    /// Connects; `Err` carries the HTTP status and body of a refused handshake.
    pub async fn connect(url: &str) -> Result<SfuClient, (u16, Value)> {
        let ws = match connect_async(url).await {
            Ok((ws, _)) => ws,
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
                let body = res.body().as_ref().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or(Value::Null);
                return Err((res.status().as_u16(), body));
            }
            Err(e) => panic!("websocket connect to {url}: {e}"),
        };
        let (mut sink, mut stream) = ws.split();
        let (out, mut rx) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                if sink.send(m).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let events: Arc<Mutex<Vec<Value>>> = Arc::default();
        let arrived = Arc::new(Notify::new());
        {
            let (pending, events, arrived) = (pending.clone(), events.clone(), arrived.clone());
            tokio::spawn(async move {
                let mut close = Value::Null;
                while let Some(Ok(m)) = stream.next().await {
                    let t = match m {
                        Message::Text(t) => t,
                        Message::Close(f) => {
                            close = f.map_or(
                                Value::Null,
                                |f| json!({"code": u16::from(f.code), "reason": f.reason.as_str()}),
                            );
                            continue;
                        }
                        _ => continue,
                    };
                    let v: Value = serde_json::from_str(&t).expect("server sends JSON");
                    let waiter = v["requestId"].as_str().and_then(|id| pending.lock().unwrap().remove(id));
                    match waiter {
                        Some(w) => {
                            let _ = w.send(v);
                        }
                        None => {
                            events.lock().unwrap().push(v);
                            arrived.notify_waiters();
                        }
                    }
                }
                // Whoever still waits for an answer hears the connection closed.
                pending.lock().unwrap().clear();
                events.lock().unwrap().push(json!({"type": "closed", "data": close}));
                arrived.notify_waiters();
            });
        }
        Ok(SfuClient { out, pending, events, arrived, next: AtomicU64::new(1) })
    }

    /// Sends `{type, requestId, data}`; `Ok(data)` of the `<type>Response`, or `Err(data)` of
    /// the `error` answering it.
    pub async fn request(&self, kind: &str, data: Value) -> Result<Value, Value> {
        let id = format!("r{}", self.next.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id.clone(), tx);
        let msg = json!({"type": kind, "requestId": id, "data": data});
        // A closed connection or no answer is an error of this client's own (codes the server
        // never sends), so a load tool can count it; `ok` still panics on it.
        let closed =
            || json!({"code": "CLIENT_CONNECTION_CLOSED", "message": format!("{kind}: the connection is closed")});
        if self.out.send(Message::Text(msg.to_string().into())).is_err() {
            self.pending.lock().unwrap().remove(&id);
            return Err(closed());
        }
        let v = match tokio::time::timeout(Duration::from_secs(15), rx).await {
            Ok(Ok(v)) => v,
            Ok(Err(_)) => return Err(closed()),
            Err(_) => {
                self.pending.lock().unwrap().remove(&id);
                return Err(json!({"code": "CLIENT_TIMEOUT", "message": format!("no answer to {kind} within 15 s")}));
            }
        };
        if v["type"] == "error" {
            return Err(v["data"].clone());
        }
        assert_eq!(v["type"], format!("{kind}Response"), "{v}");
        // Every answer has the shape crates/protocol declares for it (and the SDK's types say).
        if stratus_protocol::sfu::SFU_TYPES.contains(&kind)
            && let Err(e) = stratus_protocol::sfu::check_response(kind, &v["data"])
        {
            panic!("the answer to {kind} is not its declared response type: {e}: {v}");
        }
        Ok(v["data"].clone())
    }

    /// Like [`request`](Self::request), panicking on an error.
    pub async fn ok(&self, kind: &str, data: Value) -> Value {
        self.request(kind, data).await.unwrap_or_else(|e| panic!("{kind} failed: {e}"))
    }

    /// Sends raw text (for malformed-input tests).
    pub fn send_text(&self, text: &str) {
        assert!(self.try_send_text(text), "connection open");
    }

    /// Sends raw text; false when the connection is closed.
    pub fn try_send_text(&self, text: &str) -> bool {
        self.out.send(Message::Text(text.to_owned().into())).is_ok()
    }

    /// The first event of type `kind` matching `pred` (taken out of the list), within `within`.
    pub async fn event(&self, kind: &str, pred: impl Fn(&Value) -> bool, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.arrived.notified();
            {
                let mut ev = self.events.lock().unwrap();
                if let Some(i) = ev.iter().position(|v| v["type"] == kind && pred(&v["data"])) {
                    return Some(ev.remove(i));
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    /// Every event so far, left in place.
    pub fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    /// Whether the connection has ended; with the server's close frame (`{code, reason}`), or
    /// `null` when it ended without one.
    pub fn closed(&self) -> Option<Value> {
        self.events.lock().unwrap().iter().find(|v| v["type"] == "closed").map(|v| v["data"].clone())
    }

    pub fn close(&self) {
        let _ = self.out.send(Message::Close(None));
    }
}

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("response shape")
}

#[async_trait::async_trait]
impl Signal for SfuClient {
    async fn transport(&self, direction: Direction) -> TransportInfo {
        parse(self.ok("createWebRtcTransport", json!({ "direction": direction })).await)
    }

    async fn publish(&self, req: PublishRequest) -> PublishResponse {
        parse(self.ok("publish", serde_json::to_value(req).unwrap()).await)
    }

    async fn consume(&self, transport_id: &str, producer_id: &str, layers: Option<Layers>) -> SubscribeResponse {
        let mut data = json!({ "transportId": transport_id, "producerId": producer_id });
        if let Some(l) = layers {
            data["preferredLayers"] = serde_json::to_value(l).unwrap();
        }
        parse(self.ok("subscribe", data).await)
    }

    async fn answer(&self, transport_id: &str, sdp: String) -> Option<String> {
        let v = self.ok("connectWebRtcTransport", json!({ "transportId": transport_id, "sdp": sdp })).await;
        v["offer"].as_str().map(str::to_owned)
    }
}

/// What a Rust peer on `client` (in the room already) receives from `user`'s audio and video:
/// it waits (up to `within`) for both producers, subscribes to them, and collects until each
/// has `min` packets or the time is up. Returns (audio, video) payloads.
pub async fn receive_from_user(
    client: &SfuClient,
    user: &str,
    min: usize,
    within: Duration,
) -> (Vec<bytes::Bytes>, Vec<bytes::Bytes>) {
    let mut producers = vec![];
    for kind in ["audio", "video"] {
        let ev = client
            .event("producerCreated", |d| d["producer"]["userId"] == user && d["producer"]["kind"] == kind, within)
            .await
            .unwrap_or_else(|| panic!("{user}'s {kind} producer within {within:?}"));
        producers.push(ev["data"]["producer"]["producerId"].as_str().unwrap().to_owned());
    }
    let sub = crate::peer::Subscriber::start_with(client).await;
    let mut consumers = vec![];
    for p in &producers {
        consumers.push(sub.subscribe_with(client, p, None).await);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while consumers.iter().any(|c| sub.got(c.ssrc).len() < min) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (sub.got(consumers[0].ssrc), sub.got(consumers[1].ssrc))
}

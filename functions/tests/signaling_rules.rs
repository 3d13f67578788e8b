//! Signaling rules that need no transport: the handlers on the embedded store, pushing
//! through the Management API client to a recording `@connections` stand-in.

use serde_json::{Value, json};
use std::sync::Arc;
use stratus_core::auth::{AuthConfig, Authority, Secret, TableRefreshTokens};
use stratus_core::clock::{Clock, ManualClock};
use stratus_core::signaling::{Signaling, SignalingConfig};
use stratus_core::store::memory::MemoryTable;
use stratus_core::store::schema::MAIN;
use stratus_dynamo::management::ManagementApiSink;
use stratus_protocol::auth::{Grants, TokenRequest};
use stratus_tests::apigw::ManagementApiRecorder;

struct World {
    sig: Signaling,
    auth: Arc<Authority>,
    tokens: TableRefreshTokens,
    apigw: ManagementApiRecorder,
    clock: ManualClock,
}

async fn world() -> World {
    let clock = ManualClock::at_system_time();
    let table = Arc::new(MemoryTable::new(&MAIN, Arc::new(clock.clone())));
    let auth = Arc::new(Authority::new(
        AuthConfig::new("t", Secret::random_hex()).with_app("app", Secret::new("s".repeat(16))),
    ));
    let apigw = ManagementApiRecorder::start().await;
    let sink = Arc::new(ManagementApiSink::local(&apigw.url, "test", "test"));
    let sig = Signaling::new(table.clone(), sink, auth.clone(), SignalingConfig::default());
    World { sig, auth, tokens: TableRefreshTokens(table), apigw, clock }
}

impl World {
    async fn connect(&self, conn: &str, user: &str, room_grant: Option<&str>) {
        let req = TokenRequest {
            app_key: "app".into(),
            app_secret: "s".repeat(16),
            user_id: user.into(),
            email: None,
            full_name: None,
            role: None,
            grants: Grants { room: room_grant.map(Into::into), ..Grants::default() },
            ttl_seconds: None,
        };
        let t = self.auth.issue(&self.tokens, &req, self.clock.now_secs()).await.unwrap().access_token;
        self.sig.connect(&conn.into(), Some(&t), self.clock.now_ms()).await.expect("connect");
        self.apigw.set_live(conn, true);
    }

    async fn send(&self, conn: &str, msg: Value) -> Vec<Value> {
        self.sig.message(&conn.into(), &msg.to_string(), self.clock.now_ms()).await;
        self.apigw.take(conn)
    }
}

fn code(replies: &[Value]) -> &str {
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["type"], "error", "{replies:?}");
    replies[0]["data"]["code"].as_str().unwrap()
}

/// The peer id the room sees for connection `c`.
fn peer(c: &str) -> String {
    stratus_core::p2p::peer_id(&c.into()).to_string()
}

#[tokio::test]
async fn a_room_limited_token_can_join_only_its_room() {
    let w = world().await;
    w.connect("c1=", "ann", Some("standup")).await;
    assert_eq!(code(&w.send("c1=", json!({"type": "join", "room": "other"})).await), "FORBIDDEN");
    let ok = w.send("c1=", json!({"type": "join", "room": "standup"})).await;
    assert_eq!(ok[0]["type"], "joined");
}

#[tokio::test]
async fn an_eleventh_room_is_refused_and_leaving_frees_a_place() {
    let w = world().await;
    w.connect("c1=", "ann", None).await;
    for i in 0..10 {
        assert_eq!(w.send("c1=", json!({"type": "join", "room": format!("r{i}")})).await[0]["type"], "joined");
    }
    assert_eq!(code(&w.send("c1=", json!({"type": "join", "room": "r10"})).await), "TOO_MANY_ROOMS");
    assert_eq!(w.send("c1=", json!({"type": "leave", "room": "r3"})).await[0]["type"], "left");
    assert_eq!(w.send("c1=", json!({"type": "join", "room": "r10"})).await[0]["type"], "joined");
}

#[tokio::test]
async fn joining_twice_answers_joined_and_tells_no_one() {
    let w = world().await;
    w.connect("a=", "ann", None).await;
    w.connect("b=", "ben", None).await;
    w.send("a=", json!({"type": "join", "room": "r"})).await;
    w.send("b=", json!({"type": "join", "room": "r"})).await;
    w.apigw.take("a=");
    let again = w.send("b=", json!({"type": "join", "room": "r", "requestId": "again"})).await;
    assert_eq!((again[0]["type"].as_str(), again[0]["requestId"].as_str()), (Some("joined"), Some("again")));
    assert_eq!(again[0]["data"]["peers"], json!([{"peerId": peer("a="), "userId": "ann"}]));
    assert!(w.apigw.take("a=").is_empty(), "no second user-joined");
}

#[tokio::test]
async fn a_broadcast_from_several_rooms_must_name_its_room() {
    let w = world().await;
    for (c, u) in [("a=", "ann"), ("b=", "ben"), ("x=", "xia")] {
        w.connect(c, u, None).await;
    }
    w.send("a=", json!({"type": "join", "room": "r1"})).await;
    w.send("a=", json!({"type": "join", "room": "r2"})).await;
    w.send("b=", json!({"type": "join", "room": "r1"})).await;
    w.send("x=", json!({"type": "join", "room": "r2"})).await;
    w.apigw.take("a=");
    assert_eq!(code(&w.send("a=", json!({"type": "custom", "n": 1})).await), "VALIDATION_ERROR");
    w.send("a=", json!({"type": "custom", "room": "r2", "n": 2, "from": "forged="})).await;
    assert!(w.apigw.take("b=").iter().all(|m| m["type"] != "custom"), "r1 heard nothing");
    let got = w.apigw.take("x=");
    let custom: Vec<&Value> = got.iter().filter(|m| m["type"] == "custom").collect();
    assert_eq!(custom.len(), 1);
    assert_eq!(
        (custom[0]["data"]["from"].as_str(), custom[0]["data"]["n"].as_i64()),
        (Some(peer("a=").as_str()), Some(2))
    );
    // With `to`, the shared room is found without naming it; a peer in no shared room is not.
    w.send("b=", json!({"type": "offer", "to": peer("a="), "sdp": "s"})).await;
    assert_eq!(w.apigw.take("a=")[0]["data"]["room"], "r1");
    assert_eq!(code(&w.send("b=", json!({"type": "offer", "to": peer("x="), "sdp": "s"})).await), "PEER_NOT_FOUND");
}

#[tokio::test]
async fn connections_expire_with_api_gateways_maximum_lifetime() {
    let w = world().await;
    w.connect("old=", "ann", None).await;
    w.connect("new=", "ben", None).await;
    w.send("old=", json!({"type": "join", "room": "r"})).await;
    w.send("new=", json!({"type": "join", "room": "r"})).await;
    w.apigw.take("old=");
    // Past 2 hours the sweeper drops the connection (and closes it if still open).
    w.clock.advance_secs(2 * 3600 + 1);
    let report = w.sig.sweep(w.clock.now_ms()).await.unwrap();
    assert_eq!(report.removed, 2, "both are past the lifetime");
    use stratus_core::sink::ConnectionSink;
    let probe = ManagementApiSink::local(&w.apigw.url, "test", "test");
    assert_eq!(probe.alive(&"new=".into()).await, Ok(false), "the sweeper closed the open connection");
    // Its state is gone too: were it still open, its messages would find no connection.
    w.apigw.set_live("new=", true);
    assert_eq!(code(&w.send("new=", json!({"type": "join", "room": "r"})).await), "UNAUTHORIZED");
}

//! Receive quality 0–100 through the local stack's three entry points: the WebSocket
//! dialect's `setQuality`, REST `PUT /api/v1/rooms/{id}/quality` and seed 003's
//! `POST /call/quality`, each reaching the media node, which forwards the simulcast layer the
//! quality maps to (real `webrtc` peers publish and receive).

use serde_json::{Value, json};
use std::time::Duration;
use stratus_protocol::media::MediaKind;
use stratus_tests::local::LocalStack;
use stratus_tests::peer::{PublishOptions, Publisher, Subscriber};

const BIN: &str = env!("CARGO_BIN_EXE_stratus-local");

async fn until(what: &str, f: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn send(local: &LocalStack, method: reqwest::Method, path: &str, token: &str, body: Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .request(method, format!("{}{path}", local.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quality_set_over_the_websocket_rest_or_the_seed_route_picks_the_layer_received() {
    let local = LocalStack::start(BIN, &[], &[]).await;
    let grants = json!({"canPublish": true, "canSubscribe": true});
    let (alice, bob) = (local.sfu_client("alice", grants.clone()).await, local.sfu_client("bob", grants).await);
    let room = format!("quality-{}", rand::random::<u32>());
    alice.ok("createRoom", json!({"roomId": room})).await;
    alice.ok("joinRoom", json!({"roomId": room})).await;
    bob.ok("joinRoom", json!({"roomId": room})).await;
    let opts = PublishOptions { audio: false, rids: vec!["q", "h", "f"], keyframe_every: 20, ..Default::default() };
    let publisher = Publisher::start_with(&alice, opts).await;
    let video = publisher.producer(MediaKind::Video).clone();

    // The WebSocket: quality 10 before subscribing; the consumer starts on the lowest layer.
    let q = bob.ok("setQuality", json!({"quality": 10})).await;
    assert_eq!((q["spatialLayer"].as_u64(), q["maxBitrate"].as_u64()), (Some(0), Some(400_000)), "{q}");
    let sub = Subscriber::start_with(&bob).await;
    let cv = sub.subscribe_with(&bob, &video.producer_id, None).await;
    let lately = |want: u8| {
        let got = sub.got(cv.ssrc);
        got.len() > 60 && got[got.len() - 40..].iter().all(|p| p[11] == want)
    };
    until("layer q at quality 10", || lately(b'q')).await;

    // REST: the caller's own quality in a room they are in.
    let tb = local.token("bob").await;
    let path = format!("/api/v1/rooms/{room}/quality");
    let (s, v) = send(&local, reqwest::Method::PUT, &path, &tb, json!({"quality": 90})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["consumers"][0]["preferredLayers"]["spatialLayer"], 2, "{v}");
    until("layer f at quality 90", || lately(b'f')).await;

    // Seed 003's body as written, in its envelope.
    let body = json!({"sessionId": room, "participantId": "bob", "quality": 50});
    let (s, v) = send(&local, reqwest::Method::POST, "/call/quality", &tb, body).await;
    assert_eq!((s, v["status"].as_u64(), v["data"]["spatialLayer"].as_u64()), (200, Some(200), Some(1)), "{v}");
    until("layer h at quality 50", || lately(b'h')).await;

    // Refusals: out of range, another participant, a room the caller is not in, no such room.
    let (s, v) = send(&local, reqwest::Method::PUT, &path, &tb, json!({"quality": 101})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("VALIDATION_ERROR")), "{v}");
    let e = bob.request("setQuality", json!({"quality": 300})).await.unwrap_err();
    assert_eq!(e["code"], "VALIDATION_ERROR", "{e}");
    let someone_else = json!({"sessionId": room, "participantId": "alice", "quality": 0});
    let (s, v) = send(&local, reqwest::Method::POST, "/call/quality", &tb, someone_else).await;
    assert_eq!((s, v["status"].as_u64(), &v["data"]), (403, Some(403), &Value::Null), "{v}");
    let tc = local.token("carol").await;
    let (s, v) = send(&local, reqwest::Method::PUT, &path, &tc, json!({"quality": 0})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("PARTICIPANT_NOT_FOUND")), "{v}");
    let (s, v) =
        send(&local, reqwest::Method::PUT, "/api/v1/rooms/no-such-room/quality", &tb, json!({"quality": 0})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("ROOM_NOT_FOUND")), "{v}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(lately(b'h'), "no refusal changed what bob receives");
    publisher.stop().await;
}

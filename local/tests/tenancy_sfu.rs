//! Two apps of one local stack (one table, one media node) both have a group room called
//! `standup`: they are two rooms. Real WebSocket clients and WebRTC peers: app B's member
//! sees none of app A's participants or producers, cannot subscribe to them, receives none of
//! their media, and hears its room by its own name.

use serde_json::{Value, json};
use std::time::Duration;
use stratus_tests::local::LocalStack;
use stratus_tests::peer::{PublishOptions, Publisher, Subscriber};
use stratus_tests::sfu_client::SfuClient;

const BIN: &str = env!("CARGO_BIN_EXE_stratus-local");
const OTHER: &str = "other-app";
const OTHER_SECRET: &str = "other-app-secret-0123456789";

fn grants() -> Value {
    json!({"canPublish": true, "canSubscribe": true})
}

async fn in_other_app(local: &LocalStack, user: &str) -> SfuClient {
    let token = local.token_in(OTHER, OTHER_SECRET, user, grants()).await;
    SfuClient::connect(&local.ws_url(&token)).await.expect("connect accepted")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_room_name_in_two_apps_is_two_rooms_and_media_never_crosses() {
    let local = LocalStack::start(BIN, &["--app", &format!("{OTHER}={OTHER_SECRET}")], &[]).await;
    // App A: alice and bob in `standup`, alice publishing, bob receiving.
    let alice = local.sfu_client("alice", grants()).await;
    let bob = local.sfu_client("bob", grants()).await;
    alice.ok("createRoom", json!({"roomId": "standup"})).await;
    alice.ok("joinRoom", json!({"roomId": "standup"})).await;
    bob.ok("joinRoom", json!({"roomId": "standup"})).await;
    let publisher = Publisher::start_with(&alice, PublishOptions { audio: false, ..Default::default() }).await;
    let video = publisher.producers[0].producer_id.clone();
    let bob_sub = Subscriber::start_with(&bob).await;
    let bob_ssrc = bob_sub.subscribe_with(&bob, &video, None).await.ssrc;

    // App B: carol makes and joins her app's `standup`; she is alone in it.
    let carol = in_other_app(&local, "carol").await;
    let made = carol.ok("createRoom", json!({"roomId": "standup"})).await;
    assert_eq!(made["owner"], "carol", "a room of her own app, not app A's: {made}");
    let joined = carol.ok("joinRoom", json!({"roomId": "standup"})).await;
    let others: Vec<&Value> = joined["participants"].as_array().unwrap().iter().collect();
    assert_eq!(others.len(), 1, "only carol: {joined}");
    assert_eq!(others[0]["userId"], "carol");
    // App B's `bob` is not app A's bob either.
    let b_bob = in_other_app(&local, "bob").await;
    let j = b_bob.ok("joinRoom", json!({"roomId": "standup"})).await;
    assert_eq!(j["participants"].as_array().unwrap().len(), 2, "{j}");
    let heard = carol.event("participantJoined", |d| d["userId"] == "bob", Duration::from_secs(5)).await;
    assert_eq!(heard.expect("carol hears B's bob")["data"]["roomId"], "standup", "by its name");

    // A's media reaches A's bob...
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while bob_sub.got(bob_ssrc).len() < 20 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(bob_sub.got(bob_ssrc).len() >= 20, "app A's bob receives alice");
    // ...and app B's carol cannot even name it.
    let carol_sub = Subscriber::start_with(&carol).await;
    let err = carol
        .request("subscribe", json!({"transportId": carol_sub.transport_id, "producerId": video}))
        .await
        .unwrap_err();
    assert_eq!(err["code"], "PRODUCER_NOT_FOUND", "{err}");
    // Nor act on any of app A's transports, producers or consumers by id.
    let bob_consumer = bob_sub.subscribe_with(&bob, &video, None).await;
    let (pt, st, consumer) = (&publisher.transport_id, &bob_sub.transport_id, &bob_consumer.consumer_id);
    for (kind, data, code) in [
        ("connectWebRtcTransport", json!({"transportId": st, "sdp": "v=0"}), "TRANSPORT_NOT_FOUND"),
        ("restartIce", json!({"transportId": pt}), "TRANSPORT_NOT_FOUND"),
        ("unpublish", json!({"producerId": video}), "PRODUCER_NOT_FOUND"),
        ("pauseProducer", json!({"producerId": video}), "PRODUCER_NOT_FOUND"),
        ("resumeProducer", json!({"producerId": video}), "PRODUCER_NOT_FOUND"),
        ("unsubscribe", json!({"consumerId": consumer}), "CONSUMER_NOT_FOUND"),
        ("pause", json!({"consumerId": consumer}), "CONSUMER_NOT_FOUND"),
        ("resume", json!({"consumerId": consumer}), "CONSUMER_NOT_FOUND"),
        ("setPreferredLayers", json!({"consumerId": consumer, "spatialLayer": 0}), "CONSUMER_NOT_FOUND"),
    ] {
        let err = carol.request(kind, data).await.unwrap_err();
        assert_eq!(err["code"], code, "{kind}: {err}");
    }
    // A's media still reaches A's bob on both consumers, nothing paused or closed.
    let counts = (bob_sub.got(bob_ssrc).len(), bob_sub.got(bob_consumer.ssrc).len());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while (bob_sub.got(bob_ssrc).len() < counts.0 + 20 || bob_sub.got(bob_consumer.ssrc).len() < counts.1 + 20)
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(bob_sub.got(bob_consumer.ssrc).len() >= counts.1 + 20, "A's second consumer still receives");
    assert!(bob_sub.got(bob_ssrc).len() >= counts.0 + 20, "A's first consumer still receives");
    assert!(
        carol.events().iter().all(|e| e["type"] != "producerCreated"),
        "no producer of app A was announced in app B: {:?}",
        carol.events()
    );
    // REST: each app's admin lists its own `standup` only.
    let rooms = |token: String| {
        let url = format!("{}/api/v1/rooms", local.base);
        async move {
            let res = reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap();
            res.json::<Value>().await.unwrap()
        }
    };
    let admin = json!({"canPublish": true, "canSubscribe": true, "admin": true});
    let a = rooms(local.token_with("ops", admin.clone()).await).await;
    let b = rooms(local.token_in(OTHER, OTHER_SECRET, "ops", admin).await).await;
    let owners = |v: &Value| -> Vec<(String, i64)> {
        v["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["owner"].as_str().unwrap().to_owned(), r["participants"].as_i64().unwrap()))
            .collect()
    };
    assert_eq!(owners(&a), [("alice".to_owned(), 2)], "{a}");
    assert_eq!(owners(&b), [("carol".to_owned(), 2)], "{b}");
    // App B's token for `alice` is not A's alice: A's `standup` is not hers to see or leave,
    // and her join lands in B's `standup`, beside carol and B's bob.
    let b_alice = local.token_in(OTHER, OTHER_SECRET, "alice", grants()).await;
    let send = |method: reqwest::Method, path: &str, token: &str, body: Option<Value>| {
        let mut req = reqwest::Client::new().request(method, format!("{}{path}", local.base)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, e) = send(reqwest::Method::GET, "/api/v1/rooms/standup", &b_alice, None).await;
    assert_eq!((s, e["error"]["code"].as_str()), (404, Some("ROOM_NOT_FOUND")), "{e}");
    let (s, e) = send(reqwest::Method::POST, "/api/v1/rooms/standup/leave", &b_alice, Some(json!({}))).await;
    assert_eq!(s, 404, "{e}");
    let (s, j) = send(reqwest::Method::POST, "/api/v1/rooms/join", &b_alice, Some(json!({"roomId": "standup"}))).await;
    assert_eq!((s, j["created"].as_bool(), j["roomId"].as_str()), (200, Some(false), Some("standup")), "{j}");
    let (s, r) = send(reqwest::Method::GET, "/api/v1/rooms/standup", &local.token("alice").await, None).await;
    assert_eq!((s, r["owner"].as_str(), r["participants"].as_i64()), (200, Some("alice"), Some(2)), "{r}");
    assert!(
        bob.events().iter().all(|e| e["type"] != "participantLeft"),
        "A's alice is still in A's standup: {:?}",
        bob.events()
    );
    let carol_token = local.token_in(OTHER, OTHER_SECRET, "carol", grants()).await;
    let (_, r) = send(reqwest::Method::GET, "/api/v1/rooms/standup", &carol_token, None).await;
    assert_eq!((r["owner"].as_str(), r["participants"].as_i64()), (Some("carol"), Some(2)), "{r}");
    publisher.stop().await;
    for c in [&alice, &bob, &carol, &b_bob] {
        c.close();
    }
}

//! `/api/v1/rooms` through the local stack: create, get, list with stats, join (with or
//! without a room id) and leave, with each caller seeing only their rooms.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use stratus_tests::local::LocalStack;
use stratus_tests::sfu_client::SfuClient;

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn new(local: &LocalStack, user: &str) -> Api {
        Api { http: reqwest::Client::new(), base: local.base.clone(), token: local.token(user).await }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_are_created_joined_listed_and_left_and_each_caller_sees_their_own() {
    let local = LocalStack::start(env!("CARGO_BIN_EXE_stratus-local"), &[], &[]).await;
    let (alice, bob) = (Api::new(&local, "alice").await, Api::new(&local, "bob").await);

    let (s, r) = alice.post("/api/v1/rooms", json!({"room_id": "weekly", "max_participants": 4})).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert_eq!(
        (r["roomId"].as_str(), r["owner"].as_str(), r["maxParticipants"].as_i64()),
        (Some("weekly"), Some("alice"), Some(4))
    );
    let (s, e) = bob.post("/api/v1/rooms", json!({"roomId": "weekly"})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("CONFLICT")));
    let (s, e) = alice.post("/api/v1/rooms", json!({"maxParticipants": 100000})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("VALIDATION_ERROR")));
    let (s, e) = alice.post("/api/v1/rooms", json!({"room": "typo"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");

    // Join without a room id: the server makes one, places it, and says where to connect.
    let (s, j) = bob.post("/api/v1/rooms/join", json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    assert_eq!(j["created"], true);
    let bobs_room = j["roomId"].as_str().unwrap().to_owned();
    assert!(j["nodeId"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(j["signalingUrl"].as_str().unwrap().starts_with("ws://"));
    let (s, j) = bob.post("/api/v1/rooms/join", json!({"roomId": "weekly"})).await;
    assert_eq!((s, j["created"].as_bool()), (StatusCode::OK, Some(false)), "{j}");

    // Bob sees his room, not Alice's until he is in it; Alice sees hers.
    let (s, e) = bob.get("/api/v1/rooms/weekly").await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("ROOM_NOT_FOUND")));
    let (_, l) = bob.get("/api/v1/rooms").await;
    let ids: Vec<&str> = l["rooms"].as_array().unwrap().iter().map(|r| r["roomId"].as_str().unwrap()).collect();
    assert_eq!(ids, [bobs_room.as_str()]);

    // Bob enters over the WebSocket: the room's stats count him and he can see it now.
    let token = local.token_with("bob", json!({"canSubscribe": true})).await;
    let ws = SfuClient::connect(&local.ws_url(&token)).await.unwrap();
    ws.ok("joinRoom", json!({"roomId": "weekly"})).await;
    let alice_ws = SfuClient::connect(&local.ws_url(&local.token("alice").await)).await.unwrap();
    alice_ws.ok("joinRoom", json!({"roomId": "weekly"})).await;
    let (s, r) = bob.get("/api/v1/rooms/weekly").await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let (_, l) = alice.get("/api/v1/rooms").await;
    assert_eq!((l["totalRooms"].as_u64(), l["totalParticipants"].as_i64()), (Some(1), Some(2)), "{l}");
    let users: Vec<&str> =
        l["rooms"][0]["members"].as_array().unwrap().iter().map(|m| m["userId"].as_str().unwrap()).collect();
    assert_eq!(users.len(), 2);
    assert!(users.contains(&"alice") && users.contains(&"bob"));

    // Bob leaves over REST: his connection leaves the room and Alice hears it.
    let (s, _) = bob.post("/api/v1/rooms/weekly/leave", json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let left = alice_ws.event("participantLeft", |d| d["userId"] == "bob", Duration::from_secs(5)).await;
    assert!(left.is_some(), "events: {:?}", alice_ws.events());
    let (s, e) = bob.post("/api/v1/rooms/weekly/leave", json!({})).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("PARTICIPANT_NOT_FOUND")));
    let (_, r) = alice.get("/api/v1/rooms/weekly").await;
    assert_eq!(r["participants"], 1, "{r}");
    // Bob's connection may join again.
    ws.ok("joinRoom", json!({"roomId": "weekly"})).await;

    let anon = reqwest::Client::new().get(format!("{}/api/v1/rooms", local.base)).send().await.unwrap();
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
}

//! A 1:1 call end to end through the local stack: REST for the call, the WebSocket for its
//! events and for signaling between the two sides.

use serde_json::{Value, json};
use std::time::Duration;
use stratus_tests::local::LocalStack;
use stratus_tests::wsclient::WsClient;

async fn rest(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn caller_and_callee_ring_answer_signal_hang_up_and_see_history() {
    let local = LocalStack::start(env!("CARGO_BIN_EXE_stratus-local"), &[], &[]).await;
    let http = reqwest::Client::new();
    let (ta, tb, tc) = (local.token("alice").await, local.token("bob").await, local.token("carol").await);
    let mut a = WsClient::connect(&local.ws_url(&ta)).await.unwrap();
    let mut b = WsClient::connect(&local.ws_url(&tb)).await.unwrap();
    let mut c = WsClient::connect(&local.ws_url(&tc)).await.unwrap();
    let api = |p: &str| format!("{}/api/v1{p}", local.base);

    let (status, call) = rest(
        &http,
        reqwest::Method::POST,
        api("/calls/initiate"),
        &ta,
        Some(json!({"caller_id": "alice", "callee_id": "bob", "call_type": "video"})),
    )
    .await;
    assert_eq!(status, 201, "{call}");
    let id = call["call_id"].as_str().unwrap().to_owned();
    let room = call["room"].as_str().unwrap().to_owned();
    assert_eq!(call["signaling_url"], local.base.replacen("http://", "ws://", 1) + "/ws");

    let incoming = b.expect("incoming-call").await;
    assert_eq!(
        (incoming["data"]["callId"].as_str(), incoming["data"]["callerId"].as_str()),
        (Some(id.as_str()), Some("alice"))
    );
    assert_eq!(a.expect("call-status").await["data"]["status"], "connecting");

    let (status, answered) = rest(&http, reqwest::Method::PUT, api(&format!("/calls/{id}/answer")), &tb, None).await;
    assert_eq!(status, 200, "{answered}");
    for ws in [&mut a, &mut b] {
        assert_eq!(ws.expect("call-status").await["data"]["status"], "active");
    }

    // Both join the call's room and exchange an offer and an answer; a stranger may not join.
    a.send(json!({"type": "join-room", "roomId": room})).await;
    a.expect("joined").await;
    b.send(json!({"type": "join-room", "roomId": room})).await;
    let jb = b.expect("joined").await;
    a.expect("user-joined").await;
    c.send(json!({"type": "join-room", "roomId": room, "requestId": "sneak"})).await;
    assert_eq!(c.expect("error").await["data"]["code"], "FORBIDDEN");
    let peer_a = jb["data"]["peers"][0]["peerId"].as_str().unwrap().to_owned();
    a.send(json!({"type": "offer", "sdp": {"type": "offer", "sdp": "v=0 alice"}})).await;
    let offer = b.expect("offer").await;
    assert_eq!(
        (offer["data"]["fromUser"].as_str(), offer["data"]["room"].as_str()),
        (Some("alice"), Some(room.as_str()))
    );
    b.send(json!({"type": "answer", "to": peer_a, "sdp": {"type": "answer", "sdp": "v=0 bob"}})).await;
    assert_eq!(a.expect("answer").await["data"]["sdp"]["sdp"], "v=0 bob");
    let (_, status_view) = rest(&http, reqwest::Method::GET, api(&format!("/calls/{id}/status")), &ta, None).await;
    assert!(status_view["participants"].as_array().unwrap().iter().all(|p| p["connection_status"] == "connected"));

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, ended) =
        rest(&http, reqwest::Method::DELETE, api(&format!("/calls/{id}?reason=user_hangup")), &ta, None).await;
    assert_eq!(status, 200, "{ended}");
    let duration = ended["duration_seconds"].as_u64().unwrap();
    assert!(duration >= 1);
    for ws in [&mut a, &mut b] {
        let e = ws.expect("call-status").await;
        assert_eq!(
            (e["data"]["status"].as_str(), e["data"]["durationSeconds"].as_u64()),
            (Some("ended"), Some(duration))
        );
    }
    // Once the call is over its room stays shut to the stranger (and to no one is it reopened).
    c.send(json!({"type": "join-room", "roomId": room, "requestId": "after"})).await;
    let refused = c.expect("error").await;
    assert_eq!((refused["data"]["code"].as_str(), refused["requestId"].as_str()), (Some("FORBIDDEN"), Some("after")));
    for (user, token) in [("alice", &ta), ("bob", &tb)] {
        let (_, h) = rest(&http, reqwest::Method::GET, api(&format!("/calls/user/{user}/history")), token, None).await;
        let e = &h["calls"][0];
        assert_eq!((e["call_id"].as_str(), e["status"].as_str()), (Some(id.as_str()), Some("completed")));
        assert_eq!(e["duration_seconds"].as_u64(), Some(duration));
    }
}

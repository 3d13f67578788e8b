//! Every error the SFU dialect names, each produced by sending the offending request through
//! the local stack, and each leaving nothing behind (the room's count, the connection).

use serde_json::{Value, json};
use std::time::Duration;
use stratus_tests::local::LocalStack;
use stratus_tests::sfu_client::SfuClient;

const BIN: &str = env!("CARGO_BIN_EXE_stratus-local");
const JWT_SECRET: &str = "sfu-errors-test-jwt-secret-0123456789abcdef";

async fn member(local: &LocalStack, user: &str, grants: Value) -> SfuClient {
    local.sfu_client(user, grants).await
}

fn all() -> Value {
    json!({"canPublish": true, "canSubscribe": true})
}

async fn code(c: &SfuClient, kind: &str, data: Value) -> String {
    let e = c.request(kind, data.clone()).await.expect_err(&format!("{kind} {data} should fail"));
    e["code"].as_str().unwrap().to_owned()
}

/// The same token, re-signed with its validity window an hour in the past.
fn expired(token: &str) -> String {
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_exp = false;
    v.validate_aud = false;
    let mut claims = decode::<Value>(token, &DecodingKey::from_secret(JWT_SECRET.as_bytes()), &v).unwrap().claims;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    claims["iat"] = json!(now - 7200);
    claims["nbf"] = json!(now - 7200);
    claims["exp"] = json!(now - 3600);
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(JWT_SECRET.as_bytes())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_sfu_error_code_comes_from_the_request_that_causes_it() {
    let local = LocalStack::start(BIN, &["--jwt-secret", JWT_SECRET], &[]).await;
    let ws = local.ws_url("");
    let bare = ws.trim_end_matches("?token=");

    // The handshake: no token, a forged one, an expired one.
    let refused = |r: Result<SfuClient, (u16, Value)>| match r {
        Err((status, body)) => (status, body["error"]["code"].as_str().unwrap_or_default().to_owned()),
        Ok(_) => panic!("connect accepted"),
    };
    assert_eq!(refused(SfuClient::connect(bare).await), (401, "AUTH_TOKEN_MISSING".into()));
    assert_eq!(refused(SfuClient::connect(&local.ws_url("not.a.jwt")).await), (401, "AUTH_TOKEN_INVALID".into()));
    let old = expired(&local.token_with("alice", all()).await);
    assert_eq!(refused(SfuClient::connect(&local.ws_url(&old)).await), (401, "AUTH_TOKEN_EXPIRED".into()));

    let alice = member(&local, "alice", all()).await;
    let bob = member(&local, "bob", all()).await;
    // Malformed fields are VALIDATION_ERROR, and the connection stays usable.
    assert_eq!(code(&alice, "joinRoom", json!({})).await, "VALIDATION_ERROR");
    assert_eq!(code(&alice, "joinRoom", json!({"roomId": "a/../b"})).await, "VALIDATION_ERROR");
    assert_eq!(code(&alice, "createRoom", json!({"maxParticipants": 0})).await, "VALIDATION_ERROR");
    assert_eq!(code(&alice, "joinRoom", json!({"roomId": "nowhere"})).await, "ROOM_NOT_FOUND");
    // Not in a room yet: nothing to act on.
    assert_eq!(code(&alice, "createWebRtcTransport", json!({"direction": "send"})).await, "PARTICIPANT_NOT_FOUND");
    assert_eq!(code(&alice, "leaveRoom", json!({})).await, "PARTICIPANT_NOT_FOUND");

    alice.ok("createRoom", json!({"roomId": "solo", "maxParticipants": 1})).await;
    assert_eq!(code(&bob, "createRoom", json!({"roomId": "solo"})).await, "CONFLICT");
    alice.ok("joinRoom", json!({"roomId": "solo"})).await;
    assert_eq!(code(&alice, "joinRoom", json!({"roomId": "solo"})).await, "CONFLICT", "one room per connection");
    assert_eq!(code(&bob, "joinRoom", json!({"roomId": "solo"})).await, "ROOM_FULL");
    assert_eq!(code(&alice, "createWebRtcTransport", json!({"direction": "sideways"})).await, "VALIDATION_ERROR");
    let bad_answer = json!({"transportId": "no-such-transport", "sdp": "v=0\r\n"});
    assert_eq!(code(&alice, "connectWebRtcTransport", bad_answer).await, "TRANSPORT_NOT_FOUND");
    assert_eq!(code(&alice, "restartIce", json!({"transportId": "no-such-transport"})).await, "TRANSPORT_NOT_FOUND");
    assert_eq!(code(&alice, "unpublish", json!({"producerId": "no-such-producer"})).await, "PRODUCER_NOT_FOUND");
    let recv = alice.ok("createWebRtcTransport", json!({"direction": "recv"})).await;
    let sub = json!({"transportId": recv["transportId"], "producerId": "no-such-producer"});
    assert_eq!(code(&alice, "subscribe", sub).await, "PRODUCER_NOT_FOUND");
    // A participant holds at most four transports (a flood of them was ~18 KB each on the node).
    for _ in 0..3 {
        alice.ok("createWebRtcTransport", json!({"direction": "recv"})).await;
    }
    assert_eq!(code(&alice, "createWebRtcTransport", json!({"direction": "recv"})).await, "TOO_MANY_TRANSPORTS");
    for kind in ["pause", "resume", "unsubscribe"] {
        assert_eq!(code(&alice, kind, json!({"consumerId": "no-such-consumer"})).await, "CONSUMER_NOT_FOUND");
    }
    let layers = json!({"consumerId": "no-such-consumer", "spatialLayer": 1});
    assert_eq!(code(&alice, "setPreferredLayers", layers).await, "CONSUMER_NOT_FOUND");
    // Malformed JSON gets INVALID_MESSAGE without a request id; the connection carries on.
    alice.send_text("{not json");
    let e = alice.event("error", |d| d["code"] == "INVALID_MESSAGE", Duration::from_secs(5)).await;
    assert!(e.is_some(), "events: {:?}", alice.events());
    alice.ok("getRouterRtpCapabilities", json!({})).await;

    // Nothing partial: the refused joins left the room with its one member.
    let r = local.get_as("alice", "/api/v1/rooms/solo").await;
    assert_eq!((r["participants"].as_i64(), r["members"].as_array().map(Vec::len)), (Some(1), Some(1)), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_decide_who_may_publish_subscribe_and_which_room() {
    let local = LocalStack::start(BIN, &[], &[]).await;
    let owner = member(&local, "owner", all()).await;
    owner.ok("createRoom", json!({"roomId": "stage"})).await;
    owner.ok("createRoom", json!({"roomId": "backstage"})).await;
    let viewer = member(&local, "viewer", json!({"canSubscribe": true})).await;
    viewer.ok("joinRoom", json!({"roomId": "stage"})).await;
    assert_eq!(code(&viewer, "createWebRtcTransport", json!({"direction": "send"})).await, "FORBIDDEN");
    viewer.ok("createWebRtcTransport", json!({"direction": "recv"})).await;
    let speaker = member(&local, "speaker", json!({"canPublish": true, "room": "stage"})).await;
    assert_eq!(code(&speaker, "joinRoom", json!({"roomId": "backstage"})).await, "FORBIDDEN");
    speaker.ok("joinRoom", json!({"roomId": "stage"})).await;
    speaker.ok("createWebRtcTransport", json!({"direction": "send"})).await;
    assert_eq!(code(&speaker, "createWebRtcTransport", json!({"direction": "recv"})).await, "FORBIDDEN");
}

/// A node that makes the room but fails to add the participant with a bare 500: the client
/// gets INTERNAL_ERROR (the node's text is logged, not returned) and the member recorded
/// before the node call is taken back out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_media_node_failing_a_request_is_an_internal_error_and_records_nothing() {
    use stratus_core::nodes::{Load, NodeRecord};
    let broken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = broken.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let Ok((mut s, _)) = broken.accept().await else { return };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let room = br#"{"roomId":"doomed","maxParticipants":16,"participants":[]}"#;
                let reply = if buf[..n].starts_with(b"PUT /v1/rooms/doomed HTTP") {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        room.len()
                    );
                    [head.as_bytes(), room].concat()
                } else {
                    b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\nconnection: close\r\n\r\noops".to_vec()
                };
                let _ = s.write_all(&reply).await;
            });
        }
    });
    let ep = stratus_tests::aws::endpoint();
    let table_name = stratus_tests::aws::unique_name("sfu-internal");
    let env = stratus_tests::aws::sdk_env();
    let envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let args = ["--dynamodb-endpoint", &ep.url, "--table", &table_name, "--media-nodes", "0"];
    let local = LocalStack::start(BIN, &args, &envs).await;
    let clock: std::sync::Arc<dyn stratus_core::clock::Clock> = std::sync::Arc::new(stratus_core::clock::SystemClock);
    let table = stratus_dynamo::DynamoTable::new(
        stratus_tests::aws::dynamodb().await,
        table_name,
        &stratus_core::store::schema::MAIN,
        clock.clone(),
    );
    let record = NodeRecord {
        id: "broken".into(),
        control_url: format!("http://{addr}"),
        control_cert_sha256: None,
        public_ip: "127.0.0.1".into(),
        region: "local".into(),
        max_participants: 100,
        load: Load { rooms: 0, participants: 0, producers: 0, consumers: 0, bitrate_bps: 0 },
        draining: false,
        heartbeat_at: 0,
    };
    stratus_core::nodes::heartbeat(&table, &record, clock.now_ms(), 600).await.unwrap();
    let alice = member(&local, "alice", all()).await;
    alice.ok("createRoom", json!({"roomId": "doomed"})).await;
    let e = alice.request("joinRoom", json!({"roomId": "doomed"})).await.unwrap_err();
    assert_eq!(e["code"], "INTERNAL_ERROR", "{e}");
    assert!(!e["message"].as_str().unwrap().contains("oops"), "the node's text stays in the logs");
    // The room is in the dev app's namespace of the table.
    let root: std::sync::Arc<dyn stratus_core::store::Table> = std::sync::Arc::new(table);
    let app = stratus_core::tenant::table(&root, &local.app_key.as_str().into());
    let r = stratus_core::rooms::get(app.as_ref(), &"doomed".into()).await.unwrap();
    assert_eq!(r.participants, 0);
    assert!(stratus_core::rooms::members(app.as_ref(), &"doomed".into()).await.unwrap().is_empty());
}

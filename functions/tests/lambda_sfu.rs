//! Group rooms through the WebSocket function binary as deployed: the control key comes
//! from its own Secrets Manager secret (`STRATUS_CONTROL_SECRET`, the JSON the template
//! generates), the media node is the real `stratus-media-node` process serving its control
//! port over TLS with a self-signed certificate, registered in DynamoDB (moto); the function
//! finds it there and drives it pinned to that certificate.

use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use stratus_core::auth::{AuthConfig, Authority, Secret, TableRefreshTokens};
use stratus_core::clock::{Clock, ManualClock, SystemClock};
use stratus_core::store::memory::MemoryTable;
use stratus_core::store::schema::MAIN;
use stratus_protocol::auth::{Grants, TokenRequest};
use stratus_tests::apigw::ManagementApiRecorder;
use stratus_tests::aws;
use stratus_tests::lambda::{RuntimeApi, fixture};
use stratus_tests::rest::random_hex;

async fn posted(apigw: &ManagementApiRecorder, conn: &str, kind: &str) -> Value {
    for _ in 0..100 {
        if let Some(m) = apigw.take(conn).into_iter().find(|m| m["type"] == kind || m["type"] == "error") {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing of type {kind} posted to {conn}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ws_function_drives_a_tls_media_node_with_the_key_from_its_own_secret() {
    let client = aws::dynamodb().await;
    let table = aws::unique_name("fn-sfu");
    stratus_dynamo::create_table(&client, &MAIN, &table).await.unwrap();
    let jwt = random_hex();
    let app_secret = random_hex();
    let credentials = aws::create_secret(&json!({"jwt_secret": jwt, "apps": {"app": app_secret}})).await;
    let control_doc = json!({"id": "k1", "secret": random_hex()});
    let control = aws::create_secret(&control_doc).await;
    let apigw = ManagementApiRecorder::start().await;

    let bin = stratus_tests::node::workspace_bin("stratus-media-node");
    let _node = stratus_tests::node::media_node(&bin, "tls-node", &control_doc.to_string())
        .env("STRATUS_TABLE", &table)
        .env("STRATUS_CONTROL_TLS", "self-signed")
        .env("STRATUS_WS_MANAGEMENT_ENDPOINT", &apigw.url)
        // The recorder takes any signature.
        .env("STRATUS_WS_MANAGEMENT_CREDENTIALS", "test:test")
        .spawn()
        .unwrap();
    let rt = RuntimeApi::start().await;
    let _ws = tokio::process::Command::new(env!("CARGO_BIN_EXE_stratus-ws"))
        .envs(rt.env("stratus-ws"))
        .envs(aws::sdk_env())
        .env(MAIN.name_env, &table)
        .env("STRATUS_CREDENTIALS_SECRET", &credentials)
        .env("STRATUS_CONTROL_SECRET", &control)
        .env("STRATUS_WS_MANAGEMENT_ENDPOINT", &apigw.url)
        .env("STRATUS_SIGNALING_URL", "wss://abc123ws.execute-api.us-east-1.amazonaws.com/prod")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let t = stratus_dynamo::DynamoTable::new(client, &table, &MAIN, Arc::new(SystemClock));
    for _ in 0..100 {
        if stratus_core::nodes::live(&t).await.unwrap().iter().any(|n| n.id == "tls-node") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let node = stratus_core::nodes::live(&t).await.unwrap().into_iter().find(|n| n.id == "tls-node").unwrap();
    assert!(node.control_url.starts_with("https://") && node.control_cert_sha256.is_some(), "{node:?}");

    let auth =
        Authority::new(AuthConfig::new("stratus", Secret::new(jwt)).with_app("app", Secret::new(app_secret.clone())));
    let mem = TableRefreshTokens(Arc::new(MemoryTable::new(&MAIN, Arc::new(ManualClock::at_system_time()))));
    let req = TokenRequest {
        app_key: "app".into(),
        app_secret,
        user_id: "alice".into(),
        email: None,
        full_name: None,
        role: None,
        grants: Grants { can_publish: true, can_subscribe: true, ..Grants::default() },
        ttl_seconds: None,
    };
    let token = auth.issue(&mem, &req, SystemClock.now_secs()).await.unwrap().access_token;
    let mut ev = fixture("apigw-ws/connect.json");
    ev["queryStringParameters"]["token"] = json!(token);
    ev["multiValueQueryStringParameters"]["token"] = json!([token]);
    ev["requestContext"]["connectionId"] = json!("connA=");
    assert_eq!(rt.invoke(ev).await.unwrap()["statusCode"], 200);
    apigw.set_live("connA=", true);

    let send = |msg: Value| {
        let mut ev = fixture("apigw-ws/message.json");
        ev["requestContext"]["connectionId"] = json!("connA=");
        ev["requestContext"]["routeKey"] = json!("$default");
        ev["body"] = json!(msg.to_string());
        ev
    };
    assert_eq!(
        rt.invoke(send(json!({"type": "createRoom", "requestId": "1", "data": {"roomId": "standup"}}))).await.unwrap()
            ["statusCode"],
        200
    );
    let created = posted(&apigw, "connA=", "createRoomResponse").await;
    assert_eq!(created["data"]["roomId"], "standup", "{created}");
    rt.invoke(send(json!({"type": "joinRoom", "requestId": "2", "data": {"roomId": "standup"}}))).await.unwrap();
    let joined = posted(&apigw, "connA=", "joinRoomResponse").await;
    assert_eq!(joined["data"]["nodeId"], "tls-node", "{joined}");
    rt.invoke(send(json!({"type": "createWebRtcTransport", "requestId": "3", "data": {"direction": "send"}})))
        .await
        .unwrap();
    let transport = posted(&apigw, "connA=", "createWebRtcTransportResponse").await;
    assert!(transport["data"]["transportId"].as_str().is_some(), "{transport}");
    assert_eq!(transport["data"]["iceCandidates"][0]["ip"], "127.0.0.1", "the node's address: {transport}");
}

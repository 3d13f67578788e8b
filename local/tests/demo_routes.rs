//! The demo app's routes in the local stack: the pages and the SDK modules are served, the
//! development token route refuses bad names in the shared error shape and is refused beyond
//! loopback unless asked for, `--no-demo` removes both; the in-process media node announces
//! the address it is given.

use serde_json::{Value, json};
use stratus_tests::local::LocalStack;

const BIN: &str = env!("CARGO_BIN_EXE_stratus-local");

#[tokio::test]
async fn the_demo_pages_sdk_and_token_route_are_served_and_refuse_bad_input() {
    let local = LocalStack::start(BIN, &[], &[]).await;
    let http = reqwest::Client::new();
    for (path, ty) in [("/", "text/html"), ("/demo/call.html", "text/html"), ("/sdk/index.js", "text/javascript")] {
        let res = http.get(format!("{}{path}", local.base)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with(ty), "{path}");
    }
    // Every module of the SDK's build is served byte for byte (a module left out of the
    // stack's list breaks every page that imports it).
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../clients/js/dist");
    for entry in std::fs::read_dir(&dist).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "js") {
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let res = http.get(format!("{}/sdk/{name}", local.base)).send().await.unwrap();
            assert_eq!(res.status(), 200, "/sdk/{name}");
            assert_eq!(res.text().await.unwrap(), std::fs::read_to_string(&path).unwrap(), "/sdk/{name}");
        }
    }
    let res = http.get(format!("{}/sdk/nope.js", local.base)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], "NOT_FOUND");

    let token = |body: Value| http.post(format!("{}/demo/token", local.base)).json(&body).send();
    let ok: Value = token(json!({"name": "alice"})).await.unwrap().json().await.unwrap();
    // A real access token for that name, allowed to publish and subscribe.
    let res = http
        .get(format!("{}/auth/validate", local.base))
        .bearer_auth(ok["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let claims: Value = res.json().await.unwrap();
    assert_eq!(claims["claims"]["user_id"], "alice", "{claims}");
    assert_eq!(claims["claims"]["grants"]["canPublish"], true, "{claims}");
    for bad in [json!({"name": "al ice"}), json!({"name": ""}), json!({"who": "x"}), json!([1])] {
        let res = token(bad.clone()).await.unwrap();
        assert_eq!(res.status(), 400, "{bad}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], "VALIDATION_ERROR", "{bad}");
    }
}

#[tokio::test]
async fn no_demo_serves_neither_the_pages_nor_the_token_route() {
    let local = LocalStack::start(BIN, &["--no-demo"], &[]).await;
    let http = reqwest::Client::new();
    assert_eq!(http.get(format!("{}/", local.base)).send().await.unwrap().status(), 404);
    let res = http.post(format!("{}/demo/token", local.base)).json(&json!({"name": "a"})).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn beyond_loopback_the_token_route_is_refused_unless_asked_for_and_the_pages_stay() {
    let local = LocalStack::start_on(BIN, "0.0.0.0:0", &[], &[]).await;
    let http = reqwest::Client::new();
    assert_eq!(http.get(format!("{}/", local.base)).send().await.unwrap().status(), 200);
    let res = http.post(format!("{}/demo/token", local.base)).json(&json!({"name": "mallory"})).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "FORBIDDEN", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("--public-demo-token"), "{body}");

    let open = LocalStack::start_on(BIN, "0.0.0.0:0", &["--public-demo-token"], &[]).await;
    let res = http.post(format!("{}/demo/token", open.base)).json(&json!({"name": "alice"})).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn the_in_process_media_node_announces_the_address_it_is_given() {
    // 127.0.0.2 stands for a LAN address: any 127/8 address is this host's.
    let local = LocalStack::start(BIN, &["--media-public-ip", "127.0.0.2"], &[]).await;
    let alice = local.sfu_client("alice", json!({"canPublish": true, "canSubscribe": true})).await;
    alice.ok("createRoom", json!({"roomId": "lan"})).await;
    alice.ok("joinRoom", json!({"roomId": "lan"})).await;
    let t = alice.ok("createWebRtcTransport", json!({"direction": "send"})).await;
    let candidates = t["iceCandidates"].as_array().unwrap();
    assert!(!candidates.is_empty() && candidates.iter().all(|c| c["ip"] == "127.0.0.2"), "{t}");
}

//! The node's control API refuses every kind of badly signed request with 401 and a code,
//! before any work, and takes a correctly signed one once (a replay is refused), under either
//! of two active keys.

use serde_json::Value;
use std::sync::Arc;
use stratus_control::client::ControlClient;
use stratus_control::{Key, Verifier, sign};
use stratus_core::clock::{Clock, ManualClock};
use stratus_media_node::sfu::{Sfu, SfuConfig};
use stratus_media_node::{NodeState, app};

fn key(id: &str) -> Key {
    Key::new(id, format!("{id}-0123456789abcdef0123456789abcdef").into_bytes()).unwrap()
}

async fn node(clock: ManualClock) -> String {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let config = SfuConfig {
        public_ip: "127.0.0.1".parse().unwrap(),
        bind_ip: "127.0.0.1".parse().unwrap(),
        udp_port: 0,
        workers: 1,
        max_participants_per_room: 10,
    };
    let sfu = Arc::new(Sfu::start(config, tx).unwrap());
    let verifier = Verifier::new(vec![key("old"), key("new")]);
    let state = Arc::new(NodeState::new("node-test".into(), "local".into(), verifier, Arc::new(clock), sfu));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app(state)).await });
    format!("127.0.0.1:{}", addr.port())
}

async fn raw(authority: &str, headers: &[(&'static str, String)], path: &str) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(format!("http://{authority}{path}"));
    for (h, v) in headers {
        req = req.header(*h, v);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn signed_requests_pass_once_and_every_bad_one_is_refused() {
    let clock = ManualClock::at_system_time();
    let authority = node(clock.clone()).await;
    let now = clock.now_secs();
    for k in ["old", "new"] {
        let info: Value = ControlClient::new(key(k))
            .send::<(), _>(reqwest::Method::GET, &format!("http://{authority}/v1/node"), None, now)
            .await
            .expect("signed request accepted");
        assert_eq!(info["node_id"], "node-test");
    }

    let good = sign("GET", &authority, "/v1/node", b"", &key("new"), now);
    let forged = sign("GET", &authority, "/v1/node", b"", &Key::new("new", vec![9u8; 32]).unwrap(), now);
    let unknown = sign("GET", &authority, "/v1/node", b"", &key("gone"), now);
    let other_path = sign("GET", &authority, "/v1/other", b"", &key("new"), now);
    let other_host = sign("GET", "10.0.0.9:7880", "/v1/node", b"", &key("new"), now);
    let body_digest = sign("GET", &authority, "/v1/node", b"{}", &key("new"), now);
    let old = sign("GET", &authority, "/v1/node", b"", &key("new"), now - 120);
    let future = sign("GET", &authority, "/v1/node", b"", &key("new"), now + 120);
    let cases: Vec<(&str, Vec<(&'static str, String)>, &str)> = vec![
        ("missing", vec![], "SIGNATURE_MISSING"),
        ("forged", forged, "SIGNATURE_INVALID"),
        ("unknown key", unknown, "SIGNATURE_UNKNOWN_KEY"),
        ("signed for another path", other_path, "SIGNATURE_INVALID"),
        ("signed for another node", other_host, "SIGNATURE_INVALID"),
        ("digest of another body", body_digest, "SIGNATURE_INVALID"),
        ("expired", old, "SIGNATURE_EXPIRED"),
        ("clock skew", future, "SIGNATURE_CLOCK_SKEW"),
    ];
    for (what, headers, code) in cases {
        let (status, body) = raw(&authority, &headers, "/v1/node").await;
        assert_eq!((status, body["error"]["code"].as_str()), (401, Some(code)), "{what}: {body}");
        assert!(body["request_id"].as_str().is_some() && body["timestamp"].as_str().is_some());
    }
    assert_eq!(raw(&authority, &good, "/v1/node").await.0, 200, "the genuine request, first time");
    let (status, body) = raw(&authority, &good, "/v1/node").await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("SIGNATURE_REPLAYED")));
    // Operations endpoints need no signature.
    assert_eq!(raw(&authority, &[], "/healthz").await.0, 200);
}

//! A media node started in-process for the SFU tests: real UDP sockets on loopback, the
//! signed control API on a free port, room events through the Management API client to a
//! recording endpoint.
#![allow(dead_code)]

use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use stratus_control::{Key, Verifier};
use stratus_core::clock::SystemClock;
use stratus_dynamo::management::ManagementApiSink;
use stratus_media_node::sfu::{Sfu, SfuConfig};
use stratus_media_node::{NodeState, app};
use stratus_protocol::media::*;
use stratus_tests::apigw::ManagementApiRecorder;
use stratus_tests::peer::Node;

pub fn key() -> Key {
    Key::new("k1", b"k1-0123456789abcdef0123456789abcdef".to_vec()).unwrap()
}

pub struct TestNode {
    pub node: Node,
    pub state: Arc<NodeState>,
    pub events: ManagementApiRecorder,
    pub http: String,
}

pub async fn start_node(workers: usize) -> TestNode {
    let events = ManagementApiRecorder::start().await;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let config = SfuConfig {
        public_ip: "127.0.0.1".parse().unwrap(),
        bind_ip: "127.0.0.1".parse().unwrap(),
        udp_port: 0,
        workers,
        max_participants_per_room: 10,
    };
    let sfu = Arc::new(Sfu::start(config, tx).unwrap());
    tokio::spawn(stratus_media_node::events::push(
        rx,
        Some(Arc::new(ManagementApiSink::local(&events.url, "test", "test"))),
    ));
    let state = Arc::new(NodeState::new(
        "node-1".into(),
        "local".into(),
        Verifier::new(vec![key()]),
        Arc::new(SystemClock),
        sfu,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(state.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let http = format!("http://{addr}");
    TestNode { node: Node::new(&http, key()), state, events, http }
}

pub async fn eventually(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < end {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

pub async fn join(t: &TestNode, room: &str, pid: &str, connection: &str) {
    let n = &t.node;
    t.events.set_live(connection, true);
    let body = serde_json::json!({ "userId": format!("user-{pid}"), "connectionId": connection });
    let _: RoomInfo = n.put(&format!("/v1/rooms/{room}/participants/{pid}"), &body).await.expect("join");
}

/// The events `connection` got, once `done` says they are all there.
pub async fn events_until(
    rec: &ManagementApiRecorder,
    connection: &str,
    done: impl Fn(&[String]) -> bool,
) -> Vec<Value> {
    let mut got = vec![];
    let end = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        got.extend(rec.take(connection));
        if done(&types(&got)) {
            return got;
        }
        assert!(tokio::time::Instant::now() < end, "events on {connection}: {got:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn count(types: &[String], t: &str) -> usize {
    types.iter().filter(|x| *x == t).count()
}

pub fn types(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["type"].as_str().unwrap_or("").to_owned()).collect()
}
pub mod process;

//! The `stratus-media-node` binary as a process, the way ECS runs it: configured by its
//! environment, registered in a table on moto, driven over its signed control API.
#![allow(dead_code)]

use serde_json::Value;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use stratus_control::Key;
use stratus_control::client::{ControlClient, ControlError};
use stratus_core::nodes::{self, NodeRecord};
use stratus_core::store::Table;
use stratus_core::store::schema::MAIN;
use stratus_tests::aws;
use tokio::process::Child;

pub const KEYS: &str = "k1:process-test-control-key-0123456789abcdef";

pub fn key() -> Key {
    stratus_control::parse_keys(KEYS).unwrap().remove(0)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A fresh table on moto, and its name.
pub async fn table() -> (Arc<dyn Table>, String) {
    let client = aws::dynamodb().await;
    let name = aws::unique_name("nodes");
    stratus_dynamo::create_table(&client, &MAIN, &name).await.unwrap();
    let t = stratus_dynamo::DynamoTable::new(client, &name, &MAIN, Arc::new(stratus_core::clock::SystemClock));
    (Arc::new(t), name)
}

pub struct NodeProcess {
    pub child: Child,
    pub id: String,
    pub port: u16,
}

/// Starts the node (`stratus_tests::node::media_node`) on a control port chosen here, its
/// stderr readable, plus `envs`.
pub fn spawn(id: &str, envs: &[(&str, String)]) -> NodeProcess {
    let port = free_port();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_stratus-media-node"));
    let mut cmd = stratus_tests::node::media_node(bin, id, KEYS);
    cmd.env("STRATUS_MEDIA_ADDR", format!("127.0.0.1:{port}")).stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    NodeProcess { child: cmd.spawn().expect("spawn stratus-media-node"), id: id.into(), port }
}

/// The node's registry entry, once it has written one (within 10 s).
pub async fn registered(table: &dyn Table, id: &str) -> NodeRecord {
    for _ in 0..100 {
        if let Some(n) = nodes::live(table).await.unwrap().into_iter().find(|n| n.id == id) {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("node {id} did not register within 10 s");
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A signed control call to `base` (e.g. `https://127.0.0.1:7880`), pinned to `pin`.
pub async fn control(
    client: &ControlClient,
    method: reqwest::Method,
    base: &str,
    path: &str,
    pin: Option<&str>,
    body: Option<Value>,
) -> Result<Value, ControlError> {
    client.send_pinned(method, &format!("{base}{path}"), pin, body.as_ref(), now()).await
}

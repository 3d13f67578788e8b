//! The node binary in the registry on moto: it appears with its control URL and load,
//! heartbeats, and on SIGTERM drains (not ready), leaves the registry and exits.

use std::time::Duration;
use stratus_core::nodes;
use stratus_core::store::schema::MAIN;
use stratus_tests::aws;

#[tokio::test]
async fn a_node_registers_heartbeats_and_drains_on_sigterm() {
    let client = aws::dynamodb().await;
    let table_name = aws::unique_name("nodes");
    stratus_dynamo::create_table(&client, &MAIN, &table_name).await.unwrap();
    let table = stratus_dynamo::DynamoTable::new(
        client,
        &table_name,
        &MAIN,
        std::sync::Arc::new(stratus_core::clock::SystemClock),
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_stratus-media-node"))
        .env("STRATUS_MEDIA_ADDR", format!("127.0.0.1:{port}"))
        .env("STRATUS_CONTROL_KEYS", format!("k1:{}", "s".repeat(32)))
        .env("STRATUS_NODE_ID", "node-reg-1")
        .env(MAIN.name_env, &table_name)
        .env("STRATUS_DYNAMODB_ENDPOINT", &aws::endpoint().url)
        .env("STRATUS_HEARTBEAT_SECS", "1")
        .env("STRATUS_DRAIN_SECS", "5")
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let mut first = None;
    for _ in 0..50 {
        if let Some(n) = nodes::live(&table).await.unwrap().into_iter().find(|n| n.id == "node-reg-1") {
            first = Some(n);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first = first.expect("the node registered within 5 s");
    assert_eq!(first.control_url, format!("http://127.0.0.1:{port}"));
    assert!(!first.draining);
    assert_eq!(first.load.rooms, 0);
    // It heartbeats: the entry is rewritten with a later time.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let later = nodes::live(&table).await.unwrap().into_iter().find(|n| n.id == "node-reg-1").unwrap();
    assert!(later.heartbeat_at > first.heartbeat_at);
    let ready = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);

    // SIGTERM: drained (carrying no room) it leaves the registry and exits cleanly.
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status =
        tokio::time::timeout(Duration::from_secs(10), child.wait()).await.expect("exits after draining").unwrap();
    assert!(status.success(), "{status}");
    assert!(nodes::live(&table).await.unwrap().iter().all(|n| n.id != "node-reg-1"), "left the registry");
}

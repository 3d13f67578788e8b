//! Clocks that disagree: processes of one deployment on moto, their wall clocks moved with
//! libfaketime (monotonic time untouched). Two stack processes ("function instances") 5 s
//! apart accept each other's tokens; media nodes 5 s ahead and 5 s behind the functions stay
//! live in the registry, take signed control requests, get rooms, forward media, and their
//! room events (SigV4-signed `@connections` posts) reach the members.

use serde_json::json;
use std::time::{Duration, Instant};
use stratus_tests::local::LocalStack;
use stratus_tests::node::skewed_clock;
use stratus_tests::peer::{PublishOptions, Publisher, Subscriber};
use stratus_tests::sfu_client::SfuClient;

const KEYS: &str = "k1:skew-test-control-key-0123456789abcdef";
const MANAGEMENT: &str = "skew-node:skew-management-secret-0123456789";
const JWT: &str = "skew-test-jwt-secret-0123456789abcdef0123456789";
const APP_SECRET: &str = "skew-test-app-secret-0123456789";

async fn stack(table: &str, offset: Option<&str>) -> LocalStack {
    let ep = stratus_tests::aws::endpoint();
    let mut env = stratus_tests::aws::sdk_env();
    env.extend(offset.map(skewed_clock).unwrap_or_default());
    let mut envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    envs.push(("STRATUS_CONTROL_KEYS", KEYS));
    envs.push(("STRATUS_WS_MANAGEMENT_CREDENTIALS", MANAGEMENT));
    let args = [
        "--dynamodb-endpoint",
        &ep.url,
        "--table",
        table,
        "--media-nodes",
        "0",
        "--room-sweep-secs",
        "1",
        "--jwt-secret",
        JWT,
        "--app-secret",
        APP_SECRET,
        "--no-demo",
    ];
    LocalStack::start(env!("CARGO_BIN_EXE_stratus-local"), &args, &envs).await
}

fn node(id: &str, table: &str, events: &str, offset: &str) -> tokio::process::Child {
    let bin = stratus_tests::node::workspace_bin("stratus-media-node");
    let mut cmd = stratus_tests::node::media_node(&bin, id, KEYS);
    cmd.env("STRATUS_TABLE", table)
        .env("STRATUS_WS_MANAGEMENT_ENDPOINT", events)
        .env("STRATUS_WS_MANAGEMENT_CREDENTIALS", MANAGEMENT)
        .envs(skewed_clock(offset));
    cmd.spawn().expect("spawn stratus-media-node")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn functions_and_nodes_five_seconds_apart_work_together() {
    let table = stratus_tests::aws::unique_name("skew");
    let (a, b) = (stack(&table, None).await, stack(&table, Some("-5s")).await);

    // A token minted by one function instance is good at another 5 s behind, and back.
    for (mint, connect) in [(&a, &b), (&b, &a)] {
        let token = mint.token("alice").await;
        SfuClient::connect(&connect.ws_url(&token)).await.expect("a token from an instance 5 s apart is accepted");
        let res =
            reqwest::Client::new().get(format!("{}/auth/validate", connect.base)).bearer_auth(&token).send().await;
        assert_eq!(res.unwrap().status(), 200);
    }

    // Nodes 5 s behind and 5 s ahead of the functions: both live to the functions.
    let events = format!("{}/ws", a.base);
    let (_behind, _ahead) = (node("node-behind", &table, &events, "-5s"), node("node-ahead", &table, &events, "+5s"));
    let t = stratus_tests::aws::main_table(&table).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // Several reads over a few heartbeats: the entry of the node behind never lapses.
        let live = stratus_core::nodes::live(&t).await.unwrap();
        if live.len() == 2 {
            let mut steady = true;
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_millis(300)).await;
                steady &= stratus_core::nodes::live(&t).await.unwrap().len() == 2;
            }
            assert!(steady, "a skewed node dropped out of the live list between its heartbeats");
            break;
        }
        assert!(Instant::now() < deadline, "both skewed nodes never live at once: {live:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A room on each (the second placed once the first node's heartbeat shows its load): signed
    // control requests accepted, events delivered, media forwarded.
    let grants = json!({"canPublish": true, "canSubscribe": true});
    let mut nodes_used = Vec::new();
    for room in ["r1", "r2"] {
        let (p, v) = (
            a.sfu_client(&format!("{room}-pub"), grants.clone()).await,
            a.sfu_client(&format!("{room}-sub"), grants.clone()).await,
        );
        p.ok("createRoom", json!({"roomId": room})).await;
        let joined = p.ok("joinRoom", json!({"roomId": room})).await;
        v.ok("joinRoom", json!({"roomId": room})).await;
        assert!(
            p.event("participantJoined", |d| d["userId"] == format!("{room}-sub").as_str(), Duration::from_secs(10))
                .await
                .is_some(),
            "{room}: the node's event reached the publisher: {:?}",
            p.events()
        );
        let publisher = Publisher::start_with(&p, PublishOptions { audio: false, ..Default::default() }).await;
        let sub = Subscriber::start_with(&v).await;
        let consumer = sub.subscribe_with(&v, &publisher.producers[0].producer_id, None).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while sub.got(consumer.ssrc).len() < 10 {
            assert!(Instant::now() < deadline, "{room}: no media through {}", joined["nodeId"]);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        nodes_used.push(joined["nodeId"].as_str().unwrap().to_owned());
        publisher.stop().await;
        // The next room goes to the other node once this one's load is in the registry.
        tokio::time::sleep(Duration::from_millis(2500)).await;
    }
    nodes_used.sort();
    assert_eq!(nodes_used, ["node-ahead", "node-behind"], "a room on each skewed node");
}

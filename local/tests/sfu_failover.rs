//! Two media nodes as separate `stratus-media-node` processes registered in one DynamoDB
//! table (moto), with the local stack's signaling and no node of its own: rooms spread over
//! the nodes by load, and killing a room's node mid-call moves the room to the other node;
//! its members get `roomMoved`, join again, and media flows again. A node that hangs (stopped,
//! its registry entry still live) loses its room at the first control request that cannot
//! connect to it, without waiting for the entry to expire.

use serde_json::json;
use std::time::{Duration, Instant};
use stratus_tests::local::LocalStack;
use stratus_tests::peer::{PublishOptions, Publisher, Subscriber};
use stratus_tests::sfu_client::SfuClient;
use tokio::process::Child;

const KEYS: &str = "k1:failover-test-control-key-0123456789";
/// What the stack's `@connections` requires and the nodes sign their room events with.
const MANAGEMENT: &str = "failover-node:failover-management-secret";
/// How long the test gives a call to recover after its node is killed: the registry entry
/// expires after three 1 s heartbeats, the room sweep runs every second, then the clients
/// join, publish and subscribe again.
const RECOVERY_BOUND: Duration = Duration::from_secs(20);

fn node(id: &str, table: &str, events: &str) -> Child {
    node_with(id, table, events, &[])
}

/// A `stratus-media-node` process (built with the workspace: `cargo test --workspace`
/// builds it for the media node's own tests; `cargo build -p stratus-media-node` otherwise).
fn node_with(id: &str, table: &str, events: &str, envs: &[(&str, &str)]) -> Child {
    let bin = stratus_tests::node::workspace_bin("stratus-media-node");
    let mut cmd = stratus_tests::node::media_node(&bin, id, KEYS);
    cmd.env("STRATUS_TABLE", table)
        .env("STRATUS_WS_MANAGEMENT_ENDPOINT", events)
        .env("STRATUS_WS_MANAGEMENT_CREDENTIALS", MANAGEMENT)
        .envs(envs.iter().copied());
    cmd.spawn().expect("spawn stratus-media-node")
}

/// The local stack's signaling on a fresh moto table, with no media node of its own, its
/// room sweep every `sweep_secs`: the stack, the table and the events endpoint nodes post to.
async fn signaling_only(name: &str, sweep_secs: &str) -> (LocalStack, String, String) {
    let ep = stratus_tests::aws::endpoint();
    let table = stratus_tests::aws::unique_name(name);
    let env = stratus_tests::aws::sdk_env();
    let mut envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    envs.push(("STRATUS_CONTROL_KEYS", KEYS));
    envs.push(("STRATUS_WS_MANAGEMENT_CREDENTIALS", MANAGEMENT));
    let args =
        ["--dynamodb-endpoint", &ep.url, "--table", &table, "--media-nodes", "0", "--room-sweep-secs", sweep_secs];
    let local = LocalStack::start(env!("CARGO_BIN_EXE_stratus-local"), &args, &envs).await;
    let events = format!("{}/ws", local.base);
    (local, table, events)
}

async fn member(local: &LocalStack, user: &str) -> SfuClient {
    local.sfu_client(user, json!({"canPublish": true, "canSubscribe": true})).await
}

async fn join(c: &SfuClient, room: &str) -> String {
    // A node that just started may not be in the registry yet: retry while none is.
    for _ in 0..50 {
        match c.request("joinRoom", json!({ "roomId": room })).await {
            Ok(j) => return j["nodeId"].as_str().unwrap().to_owned(),
            Err(e) if e["code"] == "SERVICE_UNAVAILABLE" => tokio::time::sleep(Duration::from_millis(200)).await,
            Err(e) => panic!("joinRoom: {e}"),
        }
    }
    panic!("no media node took room {room}");
}

/// Publishes, subscribes to the publisher's video, and returns the subscriber and the SSRC.
async fn call(publisher: &SfuClient, viewer: &SfuClient) -> (Publisher, Subscriber, u32) {
    let p = Publisher::start_with(publisher, PublishOptions { audio: false, ..Default::default() }).await;
    let sub = Subscriber::start_with(viewer).await;
    let c = sub.subscribe_with(viewer, &p.producers[0].producer_id, None).await;
    (p, sub, c.ssrc)
}

async fn receives(sub: &Subscriber, ssrc: u32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if sub.got(ssrc).len() >= 10 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rooms_spread_over_two_nodes_and_a_killed_nodes_room_moves_and_media_resumes() {
    let (local, table, events) = signaling_only("failover", "1").await;
    let mut nodes = [node("node-a", &table, &events), node("node-b", &table, &events)];

    // Room one gets a caller and a viewer; once the nodes have reported that load, room
    // two goes to the other node.
    let (alice, bob) = (member(&local, "alice").await, member(&local, "bob").await);
    alice.ok("createRoom", json!({ "roomId": "one" })).await;
    let first = join(&alice, "one").await;
    assert_eq!(join(&bob, "one").await, first, "later joins go to the room's node");
    let (p, sub, ssrc) = call(&alice, &bob).await;
    assert!(receives(&sub, ssrc, Duration::from_secs(10)).await, "media before the failure");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let carol = member(&local, "carol").await;
    carol.ok("createRoom", json!({ "roomId": "two" })).await;
    let second = join(&carol, "two").await;
    assert_ne!(second, first, "the second room goes to the emptier node");

    // Kill room one's node mid-call.
    let killed = Instant::now();
    let victim = if first == "node-a" { 0 } else { 1 };
    nodes[victim].kill().await.unwrap();
    for c in [&alice, &bob] {
        let moved = c.event("roomMoved", |d| d["roomId"] == "one", RECOVERY_BOUND).await;
        let moved = moved.unwrap_or_else(|| panic!("no roomMoved; events: {:?}", c.events()));
        assert_eq!(
            (moved["data"]["fromNodeId"].as_str(), moved["data"]["nodeId"].as_str()),
            (Some(first.as_str()), Some(second.as_str()))
        );
    }
    let told = killed.elapsed();
    p.stop().await;
    // They join again (on the surviving node) and the call resumes.
    assert_eq!(join(&alice, "one").await, second);
    assert_eq!(join(&bob, "one").await, second);
    let (p2, sub2, ssrc2) = call(&alice, &bob).await;
    assert!(receives(&sub2, ssrc2, RECOVERY_BOUND).await, "no media after the move");
    let recovered = killed.elapsed();
    eprintln!("failover: roomMoved after {told:?}, media again after {recovered:?}");
    assert!(recovered < RECOVERY_BOUND, "media resumed {recovered:?} after the kill");
    // Room two, on the surviving node, never moved.
    assert!(carol.event("roomMoved", |_| true, Duration::from_millis(100)).await.is_none());
    p2.stop().await;
}

fn signal(child: &Child, sig: &str) {
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args([sig, &pid]).status().unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hung_nodes_room_moves_at_the_first_request_that_cannot_reach_it() {
    // No sweep within the test (its probe would find the hung node too): only the request
    // may move the room.
    let (local, table, events) = signaling_only("hung", "3600").await;
    // Control over TLS pinned to each node's certificate, as deployed; 5 s heartbeats keep a
    // stopped node's entry live for 15 s.
    let tls = [("STRATUS_CONTROL_TLS", "self-signed"), ("STRATUS_HEARTBEAT_SECS", "5")];
    let nodes = [node_with("node-x", &table, &events, &tls), node_with("node-y", &table, &events, &tls)];
    let (alice, bob) = (member(&local, "alice").await, member(&local, "bob").await);
    alice.ok("createRoom", json!({ "roomId": "standup" })).await;
    let first = join(&alice, "standup").await;
    assert_eq!(join(&bob, "standup").await, first);
    let (p, sub, ssrc) = call(&alice, &bob).await;
    assert!(receives(&sub, ssrc, Duration::from_secs(10)).await, "media over TLS-controlled nodes");

    let t = stratus_tests::aws::main_table(&table).await;
    // Freeze the room's node: it holds its port and its registry entry, and answers nothing.
    let hung = &nodes[if first == "node-x" { 0 } else { 1 }];
    signal(hung, "-STOP");
    let asked = Instant::now();
    let err = bob.request("createWebRtcTransport", json!({ "direction": "send" })).await.unwrap_err();
    assert_eq!(err["code"], "SERVICE_UNAVAILABLE", "{err}");
    let answered = asked.elapsed();
    let other = if first == "node-x" { "node-y" } else { "node-x" };
    for c in [&alice, &bob] {
        let moved = c.event("roomMoved", |d| d["roomId"] == "standup", Duration::from_secs(5)).await;
        let moved = moved.unwrap_or_else(|| panic!("no roomMoved; events: {:?}", c.events()));
        assert_eq!(moved["data"]["nodeId"], other);
    }
    // Still registered (its entry has not expired), now marked out of placement.
    let fleet = stratus_core::nodes::fleet(&t).await.unwrap();
    assert!(fleet.nodes.iter().any(|n| n.id == first), "moved while the hung node was still registered: {fleet:?}");
    let first_id = stratus_protocol::ids::NodeId::from(first.as_str());
    assert!(fleet.marked(&first_id, stratus_core::nodes::Mark::Unreachable).is_some(), "{fleet:?}");
    eprintln!("hung node: the request failed after {answered:?}");
    assert_eq!(join(&alice, "standup").await, other);
    assert_eq!(join(&bob, "standup").await, other);
    signal(hung, "-CONT");
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_placed_on_a_registered_but_dead_node_moves_the_room_and_joins_on_a_live_one() {
    let ep = stratus_tests::aws::endpoint();
    let table = stratus_tests::aws::unique_name("dead-join");
    let env = stratus_tests::aws::sdk_env();
    let envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The stack's own in-process node, plus a registry entry for a node that is gone: its
    // port is closed, and it sorts first among equally loaded nodes, so placement picks it.
    let args = ["--dynamodb-endpoint", &ep.url, "--table", &table, "--room-sweep-secs", "3600"];
    let local = LocalStack::start(env!("CARGO_BIN_EXE_stratus-local"), &args, &envs).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let t = stratus_tests::aws::main_table(&table).await;
    let dead = stratus_core::nodes::NodeRecord {
        id: "aaa-dead".into(),
        control_url: format!("https://{closed}"),
        control_cert_sha256: Some("ab".repeat(32)),
        public_ip: "127.0.0.1".into(),
        region: "local".into(),
        max_participants: 500,
        load: stratus_core::nodes::Load { rooms: 0, participants: 0, producers: 0, consumers: 0, bitrate_bps: 0 },
        draining: false,
        heartbeat_at: 0,
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    stratus_core::nodes::heartbeat(&t, &dead, now, 600).await.unwrap();
    let alice = member(&local, "alice").await;
    alice.ok("createRoom", json!({ "roomId": "retro" })).await;
    let joined = alice.ok("joinRoom", json!({ "roomId": "retro" })).await;
    let node = joined["nodeId"].as_str().unwrap();
    assert!(node.starts_with("local-"), "joined on the live node, not {node}");
    assert_eq!(joined["epoch"], 2, "placed on the dead node, then moved once");
    let root: std::sync::Arc<dyn stratus_core::store::Table> = std::sync::Arc::new(t);
    let app = stratus_core::tenant::table(&root, &local.app_key.as_str().into());
    let room = stratus_core::rooms::get(app.as_ref(), &"retro".into()).await.unwrap();
    assert_eq!((room.node_id.as_deref(), room.participants), (Some(node), 1));
}

/// Accepts control connections and never answers: a node whose control plane hangs while
/// its heartbeat task still runs.
async fn black_hole() -> std::net::SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_that_heartbeats_but_does_not_answer_control_is_taken_out_of_placement() {
    let (local, table, events) = signaling_only("silent", "1").await;
    // node-a sorts first among equally loaded nodes, so placement would pick it; its
    // advertised control URL leads into the black hole.
    let silent = format!("http://{}", black_hole().await);
    let heartbeat = [("STRATUS_HEARTBEAT_SECS", "1")];
    let _a = node_with("node-a", &table, &events, &[heartbeat[0], ("STRATUS_CONTROL_URL", &silent)]);
    let _b = node_with("node-b", &table, &events, &heartbeat);
    let t = stratus_tests::aws::main_table(&table).await;
    // The room sweep probes both nodes and marks the silent one, which keeps heartbeating.
    let deadline = Instant::now() + Duration::from_secs(20);
    let fleet = loop {
        let f = stratus_core::nodes::fleet(&t).await.unwrap();
        if f.nodes.len() == 2 && f.marked(&"node-a".into(), stratus_core::nodes::Mark::Unreachable).is_some() {
            break f;
        }
        assert!(Instant::now() < deadline, "node-a never marked unreachable: {f:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(fleet.marked(&"node-b".into(), stratus_core::nodes::Mark::Unreachable).is_none(), "{fleet:?}");
    let alice = member(&local, "alice").await;
    for room in ["r1", "r2", "r3"] {
        alice.ok("createRoom", json!({ "roomId": room })).await;
        let joined = alice.ok("joinRoom", json!({ "roomId": room })).await;
        assert_eq!(joined["nodeId"], "node-b", "{room}: {joined}");
        assert_eq!(joined["epoch"], 1, "{room} was placed on node-b at once, never on the silent node");
        alice.ok("leaveRoom", json!({})).await;
    }
    let f = stratus_core::nodes::fleet(&t).await.unwrap();
    assert!(f.nodes.iter().any(|n| n.id == "node-a"), "node-a still heartbeats: it is registered, just not placed");
}

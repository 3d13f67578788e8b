//! The `stratus` binary against the local stack binary (`cargo run`'s stack), as a user runs
//! both: tokens, rooms, the node registry on moto with real media-node processes, and a
//! 30-second load test.

use serde_json::{Value, json};
use std::process::Output;
use std::time::{Duration, Instant};
use stratus_tests::local::LocalStack;

fn stack_bin() -> String {
    stratus_tests::node::workspace_bin("stratus-local").display().to_string()
}

async fn stack(args: &[&str], envs: &[(&str, &str)]) -> LocalStack {
    LocalStack::start(&stack_bin(), args, envs).await
}

/// Runs `stratus args…` against `s`; the process's output.
async fn stratus(s: &LocalStack, args: &[&str]) -> Output {
    stratus_with(s, args, &[]).await
}

async fn stratus_with(s: &LocalStack, args: &[&str], envs: &[(&str, &str)]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_stratus"))
        .args(args)
        .env("STRATUS_URL", &s.base)
        .env("STRATUS_API_KEY", &s.app_key)
        .env("STRATUS_API_SECRET", &s.app_secret)
        .env_remove("STRATUS_TABLE")
        .env_remove("STRATUS_DYNAMODB_ENDPOINT")
        .envs(envs.iter().copied())
        .output()
        .await
        .expect("run stratus")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_out(o: &Output) -> Value {
    assert!(o.status.success(), "stratus failed: {}\n{}", stderr(o), stdout(o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("JSON on stdout: {e}\n{}", stdout(o)))
}

#[tokio::test]
async fn token_create_mints_a_token_the_api_accepts_with_the_grants_and_lifetime_asked() {
    let s = stack(&["--media-nodes", "0"], &[]).await;
    let out =
        stratus(&s, &["token", "create", "--user", "alice", "--publish", "--room", "standup", "--ttl", "10m"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_owned();
    let res = reqwest::Client::new().get(format!("{}/auth/validate", s.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    let c = &v["claims"];
    assert_eq!((c["user_id"].as_str(), c["app"].as_str()), (Some("alice"), Some(s.app_key.as_str())));
    assert_eq!(c["grants"], json!({"room": "standup", "canPublish": true, "canSubscribe": false, "admin": false}));
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 600);

    let full = json_out(&stratus(&s, &["token", "create", "--user", "bob", "--json"]).await);
    assert_eq!(full["token_type"], "Bearer");
    assert!(full["refresh_token"].as_str().is_some_and(|t| !t.is_empty()), "{full}");

    // Wrong credentials: the server's error, and a failing exit status.
    let bad = stratus_with(&s, &["token", "create", "--user", "alice"], &[("STRATUS_API_SECRET", "wrong")]).await;
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("401 INVALID_CREDENTIALS"), "{}", stderr(&bad));
    assert!(stdout(&bad).is_empty(), "no token printed: {}", stdout(&bad));
}

#[tokio::test]
async fn rooms_list_and_show_see_every_room_of_the_app_with_its_members() {
    let s = stack(&[], &[]).await;
    let alice = s.sfu_client("alice", json!({"canPublish": true, "canSubscribe": true})).await;
    alice.ok("createRoom", json!({"roomId": "standup"})).await;
    let joined = alice.ok("joinRoom", json!({"roomId": "standup"})).await;
    let bob = s.sfu_client("bob", json!({})).await;
    bob.ok("createRoom", json!({"roomId": "retro"})).await;

    let list = json_out(&stratus(&s, &["rooms", "list", "--json"]).await);
    assert_eq!(list["totalRooms"], 2, "{list}");
    let standup = list["rooms"].as_array().unwrap().iter().find(|r| r["roomId"] == "standup").expect("standup listed");
    assert_eq!((standup["participants"].as_i64(), standup["owner"].as_str()), (Some(1), Some("alice")));
    assert_eq!(standup["nodeId"], joined["nodeId"]);
    let table = stdout(&stratus(&s, &["rooms", "list"]).await);
    assert!(table.lines().any(|l| l.starts_with("retro ") && l.contains(" bob ")), "{table}");
    assert!(table.contains("2 rooms, 1 participants"), "{table}");

    let shown = json_out(&stratus(&s, &["rooms", "show", "standup", "--json"]).await);
    assert_eq!(shown["members"][0]["userId"], "alice", "{shown}");
    assert_eq!(shown["members"][0]["participantId"], joined["participantId"]);
    let missing = stratus(&s, &["rooms", "show", "nope"]).await;
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("404 ROOM_NOT_FOUND"), "{}", stderr(&missing));
    let invalid = stratus(&s, &["rooms", "show", "a/b"]).await;
    assert!(stderr(&invalid).contains("is not a room id"), "{}", stderr(&invalid));
}

const KEYS: &str = "k1:cli-test-control-key-0123456789abcdef";
const MANAGEMENT: &str = "cli-node:cli-management-secret-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_list_shows_the_fleet_and_drain_makes_a_node_hand_its_room_over_and_exit() {
    let ep = stratus_tests::aws::endpoint();
    let table = stratus_tests::aws::unique_name("cli-nodes");
    let env = stratus_tests::aws::sdk_env();
    let mut envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    envs.push(("STRATUS_CONTROL_KEYS", KEYS));
    envs.push(("STRATUS_WS_MANAGEMENT_CREDENTIALS", MANAGEMENT));
    let args = ["--dynamodb-endpoint", &ep.url, "--table", &table, "--media-nodes", "0", "--room-sweep-secs", "1"];
    let s = stack(&args, &envs).await;
    let bin = stratus_tests::node::workspace_bin("stratus-media-node");
    let events = format!("{}/ws", s.base);
    let node = |id: &str| {
        let mut cmd = stratus_tests::node::media_node(&bin, id, KEYS);
        cmd.env("STRATUS_TABLE", &table)
            .env("STRATUS_WS_MANAGEMENT_ENDPOINT", &events)
            .env("STRATUS_WS_MANAGEMENT_CREDENTIALS", MANAGEMENT)
            .env("STRATUS_DRAIN_SECS", "1")
            .env("STRATUS_DRAIN_LINGER_SECS", "2");
        cmd.spawn().expect("spawn stratus-media-node")
    };
    // node-a sorts first among equally loaded nodes: the room goes there.
    let (mut a, _b) = (node("node-a"), node("node-b"));
    let store = ["--dynamodb-endpoint", ep.url.as_str(), "--table", table.as_str()];
    let list = |json: bool| {
        let mut v = vec!["nodes", "list"];
        v.extend(store);
        if json {
            v.push("--json");
        }
        v
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let nodes = json_out(&stratus(&s, &list(true)).await);
        if nodes.as_array().unwrap().len() == 2 {
            assert!(nodes.as_array().unwrap().iter().all(|n| n["state"] == "ready"), "{nodes}");
            break;
        }
        assert!(Instant::now() < deadline, "two nodes never registered: {nodes}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let table_out = stdout(&stratus(&s, &list(false)).await);
    assert!(table_out.lines().any(|l| l.starts_with("node-a ") && l.contains(" ready ")), "{table_out}");

    let alice = s.sfu_client("alice", json!({"canPublish": true, "canSubscribe": true})).await;
    alice.ok("createRoom", json!({"roomId": "standup"})).await;
    assert_eq!(alice.ok("joinRoom", json!({"roomId": "standup"})).await["nodeId"], "node-a");

    let mut drain = vec!["nodes", "drain", "node-a"];
    drain.extend(store);
    let out = stratus(&s, &drain).await;
    assert!(out.status.success(), "{}", stderr(&out));
    // At its next heartbeat node-a drains: its room moves (alice hears it), then it exits 0.
    let moved = alice.event("roomMoved", |d| d["roomId"] == "standup", Duration::from_secs(20)).await;
    assert_eq!(moved.unwrap_or_else(|| panic!("no roomMoved: {:?}", alice.events()))["data"]["nodeId"], "node-b");
    let status = tokio::time::timeout(Duration::from_secs(20), a.wait()).await.expect("node-a exits").unwrap();
    assert!(status.success(), "{status}");
    let nodes = json_out(&stratus(&s, &list(true)).await);
    let ids: Vec<&str> = nodes.as_array().unwrap().iter().filter_map(|n| n["nodeId"].as_str()).collect();
    assert_eq!(ids, ["node-b"], "node-a left the registry");

    let mut ghost = vec!["nodes", "drain", "ghost"];
    ghost.extend(store);
    let out = stratus(&s, &ghost).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no node ghost"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_test_runs_rooms_relay_and_calls_for_30_seconds_with_nothing_lost() {
    let s = stack(&[], &[]).await;
    let args = [
        "load-test",
        "--rooms",
        "2",
        "--participants",
        "3",
        "--p2p-pairs",
        "2",
        "--calls",
        "2",
        "--call-hold",
        "3s",
        "--duration",
        "30s",
        "--json",
    ];
    let started = Instant::now();
    let out = stratus(&s, &args).await;
    let took = started.elapsed();
    let r = json_out(&out);
    assert!(took >= Duration::from_secs(30), "ran for its duration, not {took:?}");
    assert_eq!(r["errorsTotal"], 0, "{r}");
    let rooms = &r["rooms"];
    assert_eq!((rooms["participantsJoined"].as_u64(), rooms["participantsExpected"].as_u64()), (Some(6), Some(6)));
    assert_eq!((rooms["subscribers"].as_u64(), rooms["subscribersReceiving"].as_u64()), (Some(4), Some(4)), "{rooms}");
    // 30 s of 30 fps video from one publisher, to two subscribers per room.
    assert!(rooms["framesReceived"].as_u64().unwrap() > 2 * 2 * 30 * 20, "{rooms}");
    assert!(rooms["packetsReceived"].as_u64().unwrap() <= rooms["packetsExpected"].as_u64().unwrap());
    assert!(rooms["joinMs"]["p99"].as_f64().is_some() && rooms["firstPacketMs"]["p50"].as_f64().is_some(), "{rooms}");
    let relay = &r["relay"];
    assert!(relay["sent"].as_u64().unwrap() >= 2 * 10 * 25, "{relay}");
    assert_eq!(relay["received"], relay["sent"], "{relay}");
    assert_eq!(relay["misrouted"], 0);
    assert!(relay["latencyMs"]["p99"].as_f64().is_some());
    // Two slots of 3 s calls for 30 s: several calls each.
    assert!(r["calls"]["completed"].as_u64().unwrap() >= 2 * 5, "{}", r["calls"]);
}

#[tokio::test]
async fn load_test_counts_what_the_deployment_refused_and_fails() {
    // No media node: every joinRoom is refused with SERVICE_UNAVAILABLE.
    let s = stack(&["--media-nodes", "0"], &[]).await;
    let out = stratus(&s, &["load-test", "--rooms", "1", "--participants", "2", "--duration", "1s"]).await;
    assert!(!out.status.success(), "a load test with errors fails");
    let report = stdout(&out);
    assert!(report.contains("participants joined") && report.contains("0 of 2"), "{report}");
    assert!(report.contains("2 × joinRoom: SERVICE_UNAVAILABLE"), "{report}");
}

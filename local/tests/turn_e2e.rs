//! Calls across hosts that cannot reach each other, through a real coturn
//! (`use-auth-secret`, Debian's `turnserver`): hosts are network namespaces made by the test
//! (`stratus_tests::netns`), each reaching only its gateway (the local stack) and coturn's
//! address. Headless Chromium runs inside the namespaces; the pages get their ICE servers
//! from `GET /api/v1/ice-servers` through the SDK, like any app.
//!
//! Needs root, iproute2, coturn and Chromium (`scripts/test.sh` installs them).

use serde_json::{Value, json};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use stratus_core::ice::turn_credential;
use stratus_tests::browser::{finish, scenario, scenario_in};
use stratus_tests::local::LocalStack;
use stratus_tests::netns::Lab;
use stratus_tests::peer::{PublishOptions, Publisher};
use stratus_tests::sfu_client::receive_from_user;
use stratus_tests::turn::Coturn;

const BIN: &str = env!("CARGO_BIN_EXE_stratus-local");
const SECRET: &str = "turn-shared-secret-for-the-tests";

/// One browser at a time (they keep both cores busy).
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn port(base: &str) -> u16 {
    base.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap()
}

/// The local stack on every address, handing out coturn's URLs and credentials.
async fn stack(turn: &Coturn, extra: &[&str]) -> LocalStack {
    let urls = turn.turn_urls();
    let stun = turn.stun_url();
    // The pages in the namespaces take their tokens from the demo route.
    let mut args = vec!["--turn-secret", SECRET, "--stun-url", &stun, "--public-demo-token"];
    for u in &urls {
        args.extend(["--turn-url", u.as_str()]);
    }
    args.extend(extra);
    LocalStack::start_on(BIN, "0.0.0.0:0", &args, &[]).await
}

/// Chromium flags for a page served from `origin` (not loopback: camera and microphone
/// need a secure origin).
fn secure(origin: &str) -> (&'static str, String) {
    ("STRATUS_CHROMIUM_ARGS", format!("--unsafely-treat-insecure-origin-as-secure={origin}"))
}

fn relayed(pairs: &Value) -> bool {
    let pairs = pairs.as_array().unwrap();
    !pairs.is_empty() && pairs.iter().all(|p| p["local"] == "relay" || p["remote"] == "relay")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_p2p_call_between_hosts_that_cannot_reach_each_other_goes_through_turn() {
    let _one = BROWSER.lock().await;
    let lab = Lab::new(2);
    let turn = Coturn::start(IpAddr::V4(lab.turn_ip), SECRET, false).await;
    let local = stack(&turn, &[]).await;
    let p = port(&local.base);
    let (base_a, base_b) =
        (format!("http://{}:{p}", lab.hosts[0].gateway), format!("http://{}:{p}", lab.hosts[1].gateway));
    // The isolation holds: each host reaches its own gateway and coturn, not the other side.
    assert!(lab.can_connect(0, SocketAddr::new(lab.hosts[0].gateway.into(), p)));
    assert!(lab.can_connect(1, SocketAddr::new(lab.turn_ip.into(), turn.addr.port())));
    assert!(!lab.can_connect(0, SocketAddr::new(lab.hosts[1].gateway.into(), p)), "host a reaches b's side");

    let callee = scenario_in(
        lab.command(1, "node"),
        "call-side",
        &base_b,
        &[("STRATUS_ROLE", "callee".into()), ("STRATUS_NAME", "bob".into()), secure(&base_b)],
    )
    .spawn()
    .expect("node runs in the namespace");
    // bob must be online before alice calls (Chromium starting in a namespace on a loaded
    // machine can take most of a minute).
    let mut online = false;
    for _ in 0..360 {
        if local.get_as("carol", "/api/v1/presence/status/bob").await["online"] == true {
            online = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(online, "bob's page went online");
    let caller = scenario_in(
        lab.command(0, "node"),
        "call-side",
        &base_a,
        &[
            ("STRATUS_ROLE", "caller".into()),
            ("STRATUS_NAME", "alice".into()),
            ("STRATUS_CALLEE", "bob".into()),
            ("STRATUS_HOLD_MS", "4000".into()),
            secure(&base_a),
        ],
    )
    .spawn()
    .unwrap();
    let (a, b) = (finish("caller", caller, 150).await, finish("callee", callee, 150).await);
    for s in [&a, &b] {
        eprintln!("{}: selected pairs {}", s["name"], s["pairs"]);
        assert!(s["decoded"]["framesDecoded"].as_u64().unwrap() > 0, "{s}");
        assert!(relayed(&s["pairs"]), "the selected candidate pair is relayed: {s}");
        // The SDK took the deployment's servers: coturn's TURN, with this user's credential.
        let servers = s["iceServers"].as_array().unwrap();
        let turn_entry = servers.iter().find(|x| x["urls"][0].as_str().unwrap().starts_with("turn:")).unwrap();
        let user = turn_entry["username"].as_str().unwrap();
        assert!(user.ends_with(&format!(":{}", s["name"].as_str().unwrap())), "{user}");
    }
    let log = turn.log_text();
    assert!(log.contains("ALLOCATE") || log.contains("allocation"), "coturn allocated relays:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_participant_whose_only_path_to_the_media_node_is_turn_publishes_and_subscribes() {
    let _one = BROWSER.lock().await;
    let lab = Lab::new(1);
    // The stack's media node listens and announces 127.0.0.1: out of the host's reach, so
    // coturn relays to it (allowed to relay to loopback peers for this).
    let turn = Coturn::start(IpAddr::V4(lab.turn_ip), SECRET, true).await;
    let local = stack(&turn, &[]).await;
    let base = format!("http://{}:{}", lab.hosts[0].gateway, port(&local.base));
    let room = format!("relayed-{}", rand::random::<u32>());
    let rusty = local.sfu_client("rusty", json!({"canPublish": true, "canSubscribe": true})).await;
    rusty.ok("createRoom", json!({ "roomId": room })).await;
    rusty.ok("joinRoom", json!({ "roomId": room })).await;
    let publisher = Publisher::start_with(&rusty, PublishOptions::default()).await;
    let browser = scenario_in(
        lab.command(0, "node"),
        "rust-peer",
        &base,
        &[("STRATUS_ROOM", room.clone()), ("STRATUS_HOLD_MS", "8000".into()), secure(&base)],
    )
    .spawn()
    .unwrap();

    // The Rust peer (outside the lab) subscribes to what the browser publishes.
    let (audio, video) = receive_from_user(&rusty, "browser", 50, Duration::from_secs(45)).await;
    let (audio, video) = (audio.len(), video.len());
    assert!(audio >= 50 && video >= 50, "from the relayed browser: {audio} audio, {video} video packets");
    let s = finish("rust-peer", browser, 120).await;
    let got = &s["receivedFromRust"];
    assert!(got["audioPackets"].as_u64().unwrap() > 20 && got["videoPackets"].as_u64().unwrap() > 20, "{s}");
    assert!(relayed(&s["pairs"]), "both transports of the page are relayed: {s}");
    publisher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coturn_refuses_expired_credentials_and_a_wrong_secret_and_takes_the_routes_own() {
    let _one = BROWSER.lock().await;
    let turn = Coturn::start("127.0.0.1".parse().unwrap(), SECRET, false).await;
    let local = stack(&turn, &[]).await;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let urls = json!([format!("turn:{}?transport=udp", turn.addr)]);
    let expired_user = format!("{}:alice", now - 60);
    let future_user = format!("{}:alice", now + 3600);
    let from_route = local.get_as("alice", "/api/v1/ice-servers").await;
    let route_turn = from_route["ice_servers"].as_array().unwrap().iter().find(|s| s["username"].is_string()).unwrap();
    let cases = [
        (
            "the route's credential",
            json!([{ "urls": urls, "username": route_turn["username"], "credential": route_turn["credential"] }]),
            true,
        ),
        (
            "expired",
            json!([{ "urls": urls, "username": expired_user, "credential": turn_credential(SECRET.as_bytes(), &expired_user) }]),
            false,
        ),
        (
            "wrong secret",
            json!([{ "urls": urls, "username": future_user, "credential": turn_credential(b"not-the-secret", &future_user) }]),
            false,
        ),
    ];
    // The SDK asked for relay only gets the route's TURN servers with that policy; without
    // TURN it refuses at once instead of never connecting.
    let s = finish("relay-config", scenario("relay-config", &local.base, &[]).spawn().unwrap(), 60).await;
    assert_eq!(s["policy"], "relay", "{s}");
    assert!(s["urls"].as_array().unwrap().iter().any(|u| u.as_str().unwrap().starts_with("turn:")), "{s}");
    let plain = LocalStack::start(BIN, &[], &[]).await;
    let s = finish("relay-config", scenario("relay-config", &plain.base, &[]).spawn().unwrap(), 60).await;
    assert_eq!(s["error"], "SERVICE_UNAVAILABLE", "{s}");

    for (what, ice, allowed) in cases {
        let s = finish(
            what,
            scenario("turn-gather", &local.base, &[("STRATUS_ICE", ice.to_string())]).spawn().unwrap(),
            60,
        )
        .await;
        let relay = s["relay"].as_array().unwrap();
        let codes: Vec<u64> = s["errors"].as_array().unwrap().iter().filter_map(|e| e["errorCode"].as_u64()).collect();
        if allowed {
            assert!(relay.iter().any(|c| c.as_str().unwrap().contains("typ relay")), "{what}: {s}");
            assert!(codes.is_empty(), "{what}: {s}");
        } else {
            assert!(relay.is_empty(), "{what}: no relay candidate: {s}");
            assert!(codes.contains(&401), "{what}: coturn answers 401: {s}");
        }
    }
}

//! Time from `joinRoom` to the first media packet at a subscriber, through the local stack:
//! the stack (REST, WebSocket emulator on the emulated Management API, embedded store, its
//! media node) runs in this process; a publisher is already sending VP8-shaped video in the
//! room; each sample is a fresh WebSocket client that sends `joinRoom`, creates a recv
//! transport, subscribes to the video, answers the node's offer (ICE + DTLS over loopback)
//! and waits for the first RTP packet. Reported: p50 and p95 of each step and of the whole.
//!
//! `cargo run --release -p stratus-bench --bin room-join -- 40` (a publisher that sends a
//! keyframe every 15 frames and ignores keyframe requests), or `-- 40 --honour-pli` (one
//! that answers each request with a keyframe, as browsers do, and otherwise sends one every
//! 10 s: the first frame then waits for the request, not for the period).

use clap::Parser;
use serde_json::json;
use std::time::{Duration, Instant};
use stratus_tests::peer::{PublishOptions, Publisher, Subscriber};
use stratus_tests::sfu_client::SfuClient;

async fn client(base: &str, key: &str, secret: &str, user: &str) -> SfuClient {
    let res: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/auth/token"))
        .json(&json!({"app_key": key, "app_secret": secret, "user_id": user,
                      "grants": {"canPublish": true, "canSubscribe": true}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = res["access_token"].as_str().expect("token");
    SfuClient::connect(&format!("{}/ws?token={token}", base.replacen("http://", "ws://", 1))).await.expect("connect")
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

#[tokio::main]
async fn main() {
    let samples: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let opts = stratus_local::Options::parse_from(["stratus-local", "--listen", "127.0.0.1:0"]);
    let running = stratus_local::start(opts).await.expect("local stack");
    let base = format!("http://{}", running.addr);
    let (key, secret) = (running.app_key.clone(), running.app_secret.clone());

    let host = client(&base, &key, &secret, "host").await;
    host.ok("createRoom", json!({"roomId": "bench", "maxParticipants": 100})).await;
    host.ok("joinRoom", json!({"roomId": "bench"})).await;
    let honour_pli = std::env::args().any(|a| a == "--honour-pli");
    let opts = PublishOptions {
        audio: false,
        honour_pli,
        keyframe_every: if honour_pli { 300 } else { 15 },
        ..Default::default()
    };
    let publisher = Publisher::start_with(&host, opts).await;
    let producer = publisher.producers[0].producer_id.clone();

    // (join, subscribe + negotiate, connected, first packet, total) in ms.
    let mut rows: Vec<[f64; 5]> = Vec::new();
    for i in 0..samples {
        let c = client(&base, &key, &secret, &format!("viewer{i}")).await;
        let t0 = Instant::now();
        c.ok("joinRoom", json!({"roomId": "bench"})).await;
        let t1 = Instant::now();
        let sub = Subscriber::start_with(&c).await;
        let consumer = sub.subscribe_with(&c, &producer, None).await;
        let t2 = Instant::now();
        sub.connected().await;
        let tc = Instant::now();
        let deadline = t2 + Duration::from_secs(10);
        while sub.got(consumer.ssrc).is_empty() {
            assert!(Instant::now() < deadline, "no packet within 10 s");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let t3 = Instant::now();
        let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1000.0;
        rows.push([ms(t0, t1), ms(t1, t2), ms(t2, tc), ms(tc, t3), ms(t0, t3)]);
        c.ok("leaveRoom", json!({})).await;
        let _ = sub.pc.close().await;
        c.close();
    }
    let mode = if honour_pli { "a publisher that honours keyframe requests" } else { "keyframes every 15 frames" };
    println!("{samples} joins, {mode}; milliseconds");
    println!("| step | p50 | p95 |");
    println!("|---|---:|---:|");
    let names = [
        "joinRoom → response",
        "createWebRtcTransport + subscribe + answer",
        "→ peer connection connected (ICE + DTLS)",
        "→ first RTP packet",
        "joinRoom → first packet",
    ];
    for (k, name) in names.iter().enumerate() {
        let mut v: Vec<f64> = rows.iter().map(|r| r[k]).collect();
        v.sort_by(f64::total_cmp);
        println!("| {name} | {:.1} | {:.1} |", quantile(&v, 0.5), quantile(&v, 0.95));
    }
    publisher.stop().await;
}

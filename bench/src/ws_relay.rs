//! `ws-relay`: relayed messages per second and relay latency through a signaling server.
//!
//! `--pairs N` pairs of WebSocket clients; in each pair A sends offers to B at
//! `--rate / N` per second for `--secs` seconds. Every offer carries its send time (one
//! process, one monotonic clock); B records the one-way latency. Prints one JSON line:
//! offered and achieved rates, loss, p50/p99/max latency.
//!
//! `--target stratus` speaks Stratus signaling (mints tokens with the local stack's dev app
//! credentials, joins a room per pair, relays with `to`); `--target peerjs` speaks the
//! PeerJS server protocol (`OFFER` with `dst`). Both relay the same small offer.
//!
//! The client is one task per connection on a current-thread runtime: run it pinned to its
//! own core (`taskset`), away from the server's.

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::connect_async_with_config;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser, Clone)]
struct Args {
    #[arg(long, value_parser = ["stratus", "peerjs"])]
    target: String,
    /// Base URL: `http://127.0.0.1:8080` (stratus) or `http://127.0.0.1:9000` (peerjs).
    #[arg(long)]
    url: String,
    #[arg(long, default_value_t = 50)]
    pairs: usize,
    /// Offered messages per second, all pairs together.
    #[arg(long)]
    rate: u64,
    #[arg(long, default_value_t = 10)]
    secs: u64,
    #[arg(long, default_value = "dev")]
    app_key: String,
    #[arg(long, env = "STRATUS_DEV_APP_SECRET", default_value = "")]
    app_secret: String,
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn token(args: &Args, user: &str) -> String {
    let body = json!({"app_key": args.app_key, "app_secret": args.app_secret, "user_id": user});
    let res = reqwest::Client::new().post(format!("{}/auth/token", args.url)).json(&body).send().await.expect("mint");
    let v: Value = res.json().await.expect("token json");
    v["access_token"].as_str().expect("access_token (right app secret?)").to_owned()
}

/// Connects with Nagle off, as a latency-sensitive client should.
async fn connect(
    url: String,
) -> Result<(Ws, tokio_tungstenite::tungstenite::handshake::client::Response), tokio_tungstenite::tungstenite::Error> {
    connect_async_with_config(url, None, true).await
}

fn ws_base(url: &str) -> String {
    url.replacen("http://", "ws://", 1)
}

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).expect("json"),
            Some(Ok(_)) => continue,
            other => panic!("connection ended: {other:?}"),
        }
    }
}

/// Connects one pair; returns (sender, receiver, how the sender addresses the receiver).
async fn pair(args: &Args, i: usize) -> (Ws, Ws, Value) {
    match args.target.as_str() {
        "stratus" => {
            let room = format!("bench-{}-{i}", std::process::id());
            let mut ends = Vec::new();
            for side in ["a", "b"] {
                let t = token(args, &format!("{side}{i}-{}", std::process::id())).await;
                let (mut ws, _) = connect(format!("{}/ws?token={t}", ws_base(&args.url))).await.expect("connect");
                ws.send(Message::Text(json!({"type": "join", "data": {"room": room}}).to_string().into()))
                    .await
                    .unwrap();
                let joined = next_json(&mut ws).await;
                assert_eq!(joined["type"], "joined", "{joined}");
                ends.push((ws, joined["data"]["peerId"].as_str().unwrap().to_owned()));
            }
            let (mut b, pb) = ends.pop().unwrap();
            let (mut a, _) = ends.pop().unwrap();
            let uj = next_json(&mut a).await;
            assert_eq!(uj["type"], "user-joined");
            let _ = &mut b;
            (a, b, json!({"to": pb, "room": room}))
        }
        _ => {
            let mut ends = Vec::new();
            for side in ["a", "b"] {
                let id = format!("{side}{i}x{}", std::process::id());
                let url = format!("{}/peerjs?key=peerjs&id={id}&token=t{i}", ws_base(&args.url));
                let (mut ws, _) = connect(url).await.expect("connect");
                let open = next_json(&mut ws).await;
                assert_eq!(open["type"], "OPEN", "{open}");
                ends.push((ws, id));
            }
            let (b, idb) = ends.pop().unwrap();
            let (a, _) = ends.pop().unwrap();
            (a, b, json!({"dst": idb}))
        }
    }
}

/// The `"t":<micros>` the sender embedded (both servers relay the payload verbatim).
fn sent_at(text: &str) -> Option<u64> {
    let at = text.find("\"t\":")? + 4;
    let digits: &str = &text[at..];
    let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    digits[..end].parse().ok()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx] as f64 / 1000.0
}

fn main() {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(run(args));
}

async fn run(args: Args) {
    let mut pairs = Vec::new();
    for i in 0..args.pairs {
        pairs.push(pair(&args, i).await);
    }
    let epoch = Instant::now();
    let sent = Arc::new(AtomicU64::new(0));
    let per_pair = args.rate as f64 / args.pairs as f64;
    let duration = Duration::from_secs(args.secs);
    let mut receivers = Vec::new();
    let mut senders = Vec::new();
    for (mut a, mut b, addr) in pairs {
        let sent = sent.clone();
        let stratus = args.target == "stratus";
        let head = if stratus {
            format!(
                r#"{{"type":"offer","to":{},"room":{},"sdp":{{"type":"offer","sdp":"v=0","t":"#,
                addr["to"], addr["room"]
            )
        } else {
            format!(r#"{{"type":"OFFER","dst":{},"payload":{{"type":"offer","sdp":"v=0","t":"#, addr["dst"])
        };
        senders.push(tokio::spawn(async move {
            let interval = Duration::from_secs_f64(1.0 / per_pair);
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let end = Instant::now() + duration;
            let mut seq = 0u64;
            while Instant::now() < end {
                tick.tick().await;
                let t = epoch.elapsed().as_micros() as u64;
                // Formatted by hand: the client must cost far less per message than the server.
                let msg = format!("{head}{t},\"seq\":{seq}}}}}");
                if a.send(Message::Text(msg.into())).await.is_err() {
                    break;
                }
                seq += 1;
                sent.fetch_add(1, Ordering::Relaxed);
            }
            // Keep A open until the receivers are done, then close.
            tokio::time::sleep(Duration::from_secs(2)).await;
            let _ = a.close(None).await;
        }));
        receivers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let deadline = tokio::time::Instant::now() + duration + Duration::from_secs(2);
            loop {
                let next = tokio::time::timeout_at(deadline, b.next()).await;
                let Ok(Some(Ok(Message::Text(text)))) = next else {
                    if matches!(next, Ok(Some(Ok(_)))) {
                        continue;
                    }
                    break;
                };
                if let Some(t) = sent_at(&text) {
                    lat.push((epoch.elapsed().as_micros() as u64).saturating_sub(t));
                }
            }
            let _ = b.close(None).await;
            lat
        }));
    }
    for s in senders {
        let _ = s.await;
    }
    let mut all = Vec::new();
    for r in receivers {
        all.extend(r.await.unwrap_or_default());
    }
    all.sort_unstable();
    let sent = sent.load(Ordering::Relaxed);
    let received = all.len() as u64;
    let secs = args.secs as f64;
    let out = json!({
        "target": args.target,
        "pairs": args.pairs,
        "offered_per_sec": args.rate,
        "sent_per_sec": (sent as f64 / secs).round(),
        "relayed_per_sec": (received as f64 / secs).round(),
        "loss_pct": if sent == 0 { 0.0 } else { (sent - received.min(sent)) as f64 * 100.0 / sent as f64 },
        "p50_ms": percentile(&all, 0.50),
        "p99_ms": percentile(&all, 0.99),
        "max_ms": percentile(&all, 1.0),
    });
    println!("{out}");
}

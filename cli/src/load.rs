//! `stratus load-test`: load a deployment the way its users do, through its public entry
//! points only (REST, the WebSocket, the media nodes' UDP), and measure what they would see.
//!
//! Three loads, each optional, run together for `--duration`:
//! - **rooms**: `--rooms` group rooms of `--participants` WebSocket clients each; the first
//!   `--publishers` of a room publish audio and VP8-shaped video from full `webrtc` peers,
//!   the others subscribe to every publisher of their room with light receive-only peers
//!   (real ICE/DTLS/SRTP handshakes; RTP counted off the socket, `stratus_tests::light_rx`).
//!   Measured: joinRoom time, joinRoom → first RTP packet, packets and frames received, and
//!   loss from each stream's RTP sequence numbers.
//! - **relay**: `--p2p-pairs` pairs of clients in P2P rooms, one relaying offers to the other
//!   at `--p2p-rate`; every message names its pair and sequence number, so the receiver
//!   counts lost and misrouted messages and the one-way latency (one process, one clock).
//! - **calls**: `--calls` concurrent 1:1 calls over REST and the WebSocket: initiate, the
//!   callee's `incoming-call`, answer, `call-status: active` at the caller, held for
//!   `--call-hold`, ended, `ended` at the callee; then dialled again until the end.
//!
//! Every failure is counted by what the server said (its error code) or what went wrong on
//! the client; the exit status is 1 when anything failed.

use crate::Target;
use crate::api::{Api, Failure};
use crate::report::{Table, ms, quantile};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stratus_protocol::auth::Grants;
use stratus_tests::light_rx::LightSubscriber;
use stratus_tests::peer::{PublishOptions, Publisher};
use stratus_tests::sfu_client::SfuClient;
use tokio_tungstenite::tungstenite::Message;

#[derive(clap::Args, Debug, Clone)]
pub struct Plan {
    #[command(flatten)]
    target: Target,
    /// Group (SFU) rooms.
    #[arg(long, default_value_t = 1)]
    rooms: usize,
    /// Participants per room, publishers included.
    #[arg(long, default_value_t = 2)]
    participants: usize,
    /// Participants per room that publish audio and video; the others subscribe to them.
    #[arg(long, default_value_t = 1)]
    publishers: usize,
    /// Pairs of WebSocket clients relaying offers through P2P rooms.
    #[arg(long, default_value_t = 0)]
    p2p_pairs: usize,
    /// Messages per second each pair relays.
    #[arg(long, default_value_t = 10.0)]
    p2p_rate: f64,
    /// Concurrent 1:1 calls, each dialled again when it ends.
    #[arg(long, default_value_t = 0)]
    calls: usize,
    /// How long each call stays up. A user may start 10 calls a minute by default, so a
    /// hold under 6 s makes callers hit RATE_LIMITED.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    call_hold: Duration,
    /// How long the load runs once set up.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// The address the peers' UDP sockets bind: loopback reaches a local stack's node only;
    /// use this host's routable address for a remote deployment.
    #[arg(long, default_value = "127.0.0.1")]
    peer_ip: IpAddr,
    /// Sample this process's memory (RSS), open file descriptors and threads every 10 s
    /// (e.g. the local stack's pid, for a soak), and report them with their slope.
    #[arg(long)]
    watch_pid: Option<u32>,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Failures by kind, e.g. `joinRoom: ROOM_FULL` or `relay: connection closed`.
#[derive(Default)]
struct Errors(Mutex<BTreeMap<String, u64>>);

impl Errors {
    fn add(&self, what: impl Into<String>) {
        *self.0.lock().unwrap().entry(what.into()).or_default() += 1;
    }

    fn total(&self) -> u64 {
        self.0.lock().unwrap().values().sum()
    }

    fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap().clone()
    }
}

fn ws_url(base: &str, token: &str) -> String {
    let ws = base.replacen("https://", "wss://", 1).replacen("http://", "ws://", 1);
    format!("{ws}/ws?token={token}")
}

/// A task's panic (the shared test peers panic where a test would fail) as a message.
fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(p) => p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panicked".into()),
        Err(e) => e.to_string(),
    }
}

/// Runs `f` as a task; a panic becomes an error named `what`.
async fn guarded<T: Send + 'static>(
    errors: &Errors,
    what: &str,
    f: impl Future<Output = Result<T, String>> + Send + 'static,
) -> Option<T> {
    match tokio::spawn(f).await {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            errors.add(format!("{what}: {e}"));
            None
        }
        Err(e) => {
            errors.add(format!("{what}: {}", short(&panic_message(e))));
            None
        }
    }
}

/// The first line of a message, at most 100 characters, so errors group by kind.
fn short(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(100).collect()
}

const PING: &str = r#"{"type":"ping"}"#;

fn code_of(e: &Value) -> String {
    e["code"].as_str().unwrap_or("ERROR").to_owned()
}

struct Ctx {
    api: Api,
    plan: Plan,
    run: String,
    errors: Errors,
}

impl Ctx {
    async fn client(&self, user: &str, grants: Grants) -> Result<SfuClient, String> {
        let t = self
            .api
            .mint(user, grants, Some(Duration::from_secs(24 * 3600)))
            .await
            .map_err(|e| format!("token: {e}"))?;
        SfuClient::connect(&ws_url(&self.api.base, &t.access_token))
            .await
            .map_err(|(status, body)| format!("connect: {status} {}", code_of(&body["error"])))
    }
}

// ---------------------------------------------------------------------------------------
// Rooms

struct Seat {
    client: Arc<SfuClient>,
    publisher: Option<Publisher>,
    subscriber: Option<(LightSubscriber, Instant)>,
    join_ms: f64,
}

async fn room(ctx: Arc<Ctx>, r: usize) -> Result<Vec<Seat>, String> {
    let p = &ctx.plan;
    let room = format!("lt-{}-{r}", ctx.run);
    let mut seats: Vec<Seat> = Vec::new();
    let mut producers: Vec<String> = Vec::new();
    for i in 0..p.participants {
        let publishes = i < p.publishers;
        let grants = Grants { can_publish: publishes, can_subscribe: true, ..Grants::default() };
        let client = match ctx.client(&format!("lt-{}-r{r}-u{i}", ctx.run), grants).await {
            Ok(c) => c,
            Err(e) => {
                ctx.errors.add(e);
                continue;
            }
        };
        if i == 0 {
            let max = p.participants.max(2);
            if let Err(e) = client.request("createRoom", json!({ "roomId": room, "maxParticipants": max })).await {
                return Err(format!("createRoom: {}", code_of(&e)));
            }
        }
        let t0 = Instant::now();
        if let Err(e) = client.request("joinRoom", json!({ "roomId": room })).await {
            ctx.errors.add(format!("joinRoom: {}", code_of(&e)));
            continue;
        }
        let join_ms = t0.elapsed().as_secs_f64() * 1000.0;
        let mut seat = Seat { client: Arc::new(client), publisher: None, subscriber: None, join_ms };
        if publishes {
            let opts = PublishOptions { keep_sent: false, bind: p.peer_ip, ..Default::default() };
            let publisher = Publisher::start_with(seat.client.as_ref(), opts).await;
            producers.extend(publisher.producers.iter().map(|x| x.producer_id.clone()));
            seat.publisher = Some(publisher);
        } else {
            let sub = LightSubscriber::start(seat.client.as_ref(), p.peer_ip).await;
            for id in &producers {
                sub.subscribe(seat.client.as_ref(), id).await;
            }
            seat.subscriber = Some((sub, t0));
        }
        seats.push(seat);
    }
    Ok(seats)
}

#[derive(Default)]
struct RoomFigures {
    joined: usize,
    join_ms: Vec<f64>,
    first_packet_ms: Vec<f64>,
    subscribers: usize,
    receiving: usize,
    packets_sent: u64,
    packets: u64,
    expected: u64,
    frames: u64,
    bytes: u64,
}

fn room_figures(rooms: &[Vec<Seat>]) -> RoomFigures {
    let mut f = RoomFigures::default();
    for seat in rooms.iter().flatten() {
        f.joined += 1;
        f.join_ms.push(seat.join_ms);
        if let Some(p) = &seat.publisher {
            f.packets_sent += p.packets_sent.load(Relaxed);
        }
        if let Some((sub, t0)) = &seat.subscriber {
            f.subscribers += 1;
            let c = &sub.counters;
            if let Some(at) = *c.first_packet.lock().unwrap() {
                f.receiving += 1;
                f.first_packet_ms.push(at.duration_since(*t0).as_secs_f64() * 1000.0);
            }
            f.bytes += c.bytes.load(Relaxed);
            for (_, s) in c.streams() {
                f.packets += s.packets;
                f.expected += s.expected();
                f.frames += s.frames;
            }
        }
    }
    f
}

// ---------------------------------------------------------------------------------------
// P2P relay

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Default)]
struct Relay {
    sent: AtomicU64,
    received: AtomicU64,
    misrouted: AtomicU64,
    latency_us: Mutex<Vec<u64>>,
}

async fn next_json(ws: &mut Ws, within: Duration) -> Result<Value, String> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Err("no message within 10 s".into()),
            Ok(Some(Ok(Message::Text(t)))) => return serde_json::from_str(&t).map_err(|e| e.to_string()),
            Ok(Some(Ok(_))) => continue,
            Ok(other) => return Err(format!("connection ended: {other:?}")),
        }
    }
}

/// One relay pair: `a` sends to `b`, whose peer id is `to`, in `room`.
struct Pair {
    i: usize,
    a: Ws,
    b: Ws,
    to: String,
    room: String,
}

async fn p2p_pair(ctx: Arc<Ctx>, i: usize) -> Result<Pair, String> {
    let room = format!("lt-{}-p2p-{i}", ctx.run);
    let mut ends = Vec::new();
    for side in ["a", "b"] {
        let t = ctx.api.mint(&format!("lt-{}-{side}{i}", ctx.run), Grants::default(), None).await?;
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(ws_url(&ctx.api.base, &t.access_token), None, true)
                .await
                .map_err(|e| format!("connect: {e}"))?;
        let join = json!({"type": "join", "data": {"room": room}}).to_string();
        ws.send(Message::Text(join.into())).await.map_err(|e| e.to_string())?;
        let joined = next_json(&mut ws, Duration::from_secs(10)).await?;
        if joined["type"] != "joined" {
            return Err(format!("join: {}", code_of(&joined["data"])));
        }
        let peer = joined["data"]["peerId"].as_str().unwrap_or_default().to_owned();
        ends.push((ws, peer));
    }
    let (b, pb) = ends.pop().unwrap();
    let (mut a, _) = ends.pop().unwrap();
    let announced = next_json(&mut a, Duration::from_secs(10)).await?;
    if announced["type"] != "user-joined" {
        return Err(format!("expected user-joined, got {}", announced["type"]));
    }
    Ok(Pair { i, a, b, to: pb, room })
}

/// `"key":<digits>` in a relayed message (formatted by the sender, relayed verbatim).
fn number_after(text: &str, key: &str) -> Option<u64> {
    let at = text.find(key)? + key.len();
    let digits = &text[at..];
    let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// Sends until `until`, stamping each message with its time since `epoch`.
fn relay(
    ctx: &Arc<Ctx>,
    stats: &Arc<Relay>,
    pair: Pair,
    until: Instant,
    epoch: Instant,
) -> Vec<tokio::task::JoinHandle<()>> {
    let Pair { i, mut a, mut b, to, room } = pair;
    let head = format!(
        r#"{{"type":"offer","to":{},"room":{},"sdp":{{"type":"offer","sdp":"v=0","pair":{i},"t":"#,
        json!(to),
        json!(room)
    );
    let every = Duration::from_secs_f64(1.0 / ctx.plan.p2p_rate.max(0.01));
    let (s1, s2, errors1, errors2) = (stats.clone(), stats.clone(), ctx.clone(), ctx.clone());
    let sender = tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        while Instant::now() < until {
            tick.tick().await;
            let msg = format!("{head}{}}}}}", epoch.elapsed().as_micros());
            if a.send(Message::Text(msg.into())).await.is_err() {
                errors1.errors.add("relay: sender's connection closed");
                return;
            }
            s1.sent.fetch_add(1, Relaxed);
        }
        // Keep the sender open while the last messages arrive.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let _ = a.close(None).await;
    });
    let receiver = tokio::spawn(async move {
        let deadline = tokio::time::Instant::from_std(until + Duration::from_secs(2));
        // The receiver only listens: a ping a minute keeps the gateway's idle timeout away.
        let mut keepalive = tokio::time::interval(Duration::from_secs(60));
        loop {
            let next = tokio::select! {
                next = tokio::time::timeout_at(deadline, b.next()) => next,
                _ = keepalive.tick() => {
                    let _ = b.send(Message::Text(PING.into())).await;
                    continue;
                }
            };
            match next {
                Err(_) => break,
                Ok(Some(Ok(Message::Text(text)))) => {
                    if !text.contains(r#""type":"offer""#) {
                        continue;
                    }
                    if number_after(&text, r#""pair":"#) != Some(i as u64) {
                        s2.misrouted.fetch_add(1, Relaxed);
                        continue;
                    }
                    s2.received.fetch_add(1, Relaxed);
                    if let Some(t) = number_after(&text, r#""t":"#) {
                        let lat = (epoch.elapsed().as_micros() as u64).saturating_sub(t);
                        s2.latency_us.lock().unwrap().push(lat);
                    }
                }
                Ok(Some(Ok(_))) => continue,
                Ok(_) => {
                    errors2.errors.add("relay: receiver's connection closed");
                    break;
                }
            }
        }
        let _ = b.close(None).await;
    });
    vec![sender, receiver]
}

// ---------------------------------------------------------------------------------------
// Calls

/// How often a client that only listens says something (API Gateway closes a connection
/// after 10 minutes without a frame from the client).
const KEEPALIVE: Duration = Duration::from_secs(60);
/// How much longer than `within` a missing event is waited for, to tell late from lost.
const LATE: Duration = Duration::from_secs(30);

#[derive(Default)]
struct CallFigures {
    completed: AtomicU64,
    setup_ms: Mutex<Vec<f64>>,
}

async fn call_slot(ctx: Arc<Ctx>, figures: Arc<CallFigures>, i: usize, until: Instant) -> Result<(), String> {
    let (caller_id, callee_id) = (format!("lt-{}-caller{i}", ctx.run), format!("lt-{}-callee{i}", ctx.run));
    let caller_token =
        ctx.api.mint(&caller_id, Grants::default(), Some(Duration::from_secs(24 * 3600))).await?.access_token;
    let callee_token =
        ctx.api.mint(&callee_id, Grants::default(), Some(Duration::from_secs(24 * 3600))).await?.access_token;
    let caller =
        SfuClient::connect(&ws_url(&ctx.api.base, &caller_token)).await.map_err(|(s, _)| format!("connect: {s}"))?;
    let callee =
        SfuClient::connect(&ws_url(&ctx.api.base, &callee_token)).await.map_err(|(s, _)| format!("connect: {s}"))?;
    let within = Duration::from_secs(10);
    while Instant::now() < until {
        // Both stay under the gateway's idle timeout (the callee would otherwise only listen).
        if !(caller.try_send_text(PING) && callee.try_send_text(PING)) {
            return Err("connection closed".into());
        }
        while caller.event("pong", |_| true, Duration::ZERO).await.is_some() {}
        while callee.event("pong", |_| true, Duration::ZERO).await.is_some() {}
        let t0 = Instant::now();
        let body = json!({"caller_id": caller_id, "callee_id": callee_id, "call_type": "video"});
        let call: Value = match ctx.api.post(Some(&caller_token), "/api/v1/calls/initiate", &body).await {
            Ok(c) => c,
            Err(Failure { code, .. }) => {
                ctx.errors.add(format!("initiate: {code}"));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let id = call["call_id"].as_str().unwrap_or_default().to_owned();
        let is_call = |d: &Value| d["callId"] == id.as_str();
        if callee.event("incoming-call", is_call, within).await.is_none() {
            ctx.errors.add("incoming-call: not delivered within 10 s");
        }
        if let Err(e) = ctx.api.put::<Value>(&callee_token, &format!("/api/v1/calls/{id}/answer")).await {
            ctx.errors.add(format!("answer: {}", e.code));
        } else if caller.event("call-status", |d| is_call(d) && d["status"] == "active", within).await.is_none() {
            ctx.errors.add("call-status active: not delivered within 10 s");
        } else {
            figures.setup_ms.lock().unwrap().push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        let hold_until = (Instant::now() + ctx.plan.call_hold).min(until.max(Instant::now()));
        // A held call says something once a minute on both connections, as an app does, or
        // the gateway closes them as idle (10 minutes) before the hang-up.
        while Instant::now() < hold_until {
            tokio::time::sleep_until(hold_until.min(Instant::now() + KEEPALIVE).into()).await;
            if Instant::now() < hold_until && !(caller.try_send_text(PING) && callee.try_send_text(PING)) {
                return Err("connection closed".into());
            }
        }
        match ctx.api.delete::<Value>(&caller_token, &format!("/api/v1/calls/{id}")).await {
            Err(e) => ctx.errors.add(format!("end: {}", e.code)),
            Ok(_) => {
                let ended = |d: &Value| is_call(d) && d["status"] == "ended";
                if callee.event("call-status", ended, within).await.is_some() {
                    figures.completed.fetch_add(1, Relaxed);
                } else if let Some(close) = callee.closed() {
                    ctx.errors.add(format!("call-status ended: the callee's connection was closed first ({close})"));
                } else if callee.event("call-status", ended, LATE).await.is_some() {
                    ctx.errors.add("call-status ended: late (10 to 40 s)");
                } else {
                    ctx.errors.add("call-status ended: not delivered within 40 s");
                }
            }
        }
        // What else the caller heard of this call (ringing, ended) is not needed again.
        while caller.event("call-status", is_call, Duration::ZERO).await.is_some() {}
    }
    caller.close();
    callee.close();
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Process sampling (soak)

#[derive(Debug, Clone, Copy, serde::Serialize)]
struct Sample {
    at_s: f64,
    rss_kib: u64,
    fds: u64,
    threads: u64,
    /// CPU seconds so far of the process's media-node worker threads (`sfu<n>-w<i>`: the
    /// local stack's in-process node), 0 when it has none.
    media_cpu_s: f64,
}

fn sample(pid: u32, at_s: f64) -> Option<Sample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.split_whitespace().next()?.parse().ok())
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
    let mut media_cpu_s = 0.0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.starts_with("sfu") && comm.contains("-w") {
            // schedstat: nanoseconds on CPU first.
            let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            media_cpu_s += stat.split_whitespace().next().and_then(|n| n.parse::<f64>().ok()).unwrap_or(0.0) / 1e9;
        }
    }
    Some(Sample { at_s, rss_kib: field("VmRSS:")?, fds, threads: field("Threads:")?, media_cpu_s })
}

/// Least-squares slope of `y` over the samples' time, per minute; `None` under two samples.
fn slope_per_min(samples: &[Sample], y: impl Fn(&Sample) -> f64) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let n = samples.len() as f64;
    let mx = samples.iter().map(|s| s.at_s).sum::<f64>() / n;
    let my = samples.iter().map(&y).sum::<f64>() / n;
    let num: f64 = samples.iter().map(|s| (s.at_s - mx) * (y(s) - my)).sum();
    let den: f64 = samples.iter().map(|s| (s.at_s - mx).powi(2)).sum();
    (den > 0.0).then(|| num / den * 60.0)
}

/// The media workers' CPU over the samples, as a share of one core (several workers can add
/// past 100).
fn media_cpu_pct(samples: &[Sample]) -> Option<f64> {
    let (first, last) = (samples.first()?, samples.last()?);
    let secs = last.at_s - first.at_s;
    (secs > 0.0 && last.media_cpu_s > 0.0).then(|| (last.media_cpu_s - first.media_cpu_s) / secs * 100.0)
}

// ---------------------------------------------------------------------------------------

pub async fn run(plan: Plan) -> ExitCode {
    // The shared peers panic where a test would fail; with unwinding that is one counted
    // error (the message goes in the report), so only a line is printed here. A build with
    // `panic = "abort"` (the release profile) stops at the first: bench/soak.sh builds the
    // `load` profile, which unwinds.
    std::panic::set_hook(Box::new(|info| eprintln!("stratus load-test: a peer failed: {}", short(&info.to_string()))));
    let api = match Api::new(&plan.target) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("stratus: {e}");
            return ExitCode::FAILURE;
        }
    };
    if plan.publishers > plan.participants {
        eprintln!("stratus: --publishers ({}) is more than --participants ({})", plan.publishers, plan.participants);
        return ExitCode::FAILURE;
    }
    let run = format!(
        "{:x}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis()
            & 0xffff_ffff
    );
    let ctx = Arc::new(Ctx { api, plan: plan.clone(), run, errors: Errors::default() });
    let started = Instant::now();
    eprintln!(
        "stratus load-test: {} rooms × {} participants ({} publishing), {} relay pairs at {}/s, {} calls, for {:?} against {}",
        plan.rooms,
        plan.participants,
        plan.publishers,
        plan.p2p_pairs,
        plan.p2p_rate,
        plan.calls,
        plan.duration,
        ctx.api.base
    );

    // Set up: rooms (one task per room, its participants in order), relay pairs.
    let rooms = futures_util::future::join_all((0..plan.rooms).map(|r| {
        let ctx = ctx.clone();
        async move { guarded(&ctx.clone().errors, "room", room(ctx, r)).await.unwrap_or_default() }
    }))
    .await;
    let pairs = futures_util::future::join_all((0..plan.p2p_pairs).map(|i| {
        let ctx = ctx.clone();
        async move { guarded(&ctx.clone().errors, "relay setup", p2p_pair(ctx, i)).await }
    }))
    .await;
    let setup = started.elapsed();
    eprintln!("set up in {:.1} s; running", setup.as_secs_f64());

    // Run.
    let epoch = Instant::now();
    let until = epoch + plan.duration;
    let relay_stats = Arc::new(Relay::default());
    let mut tasks = Vec::new();
    for pair in pairs.into_iter().flatten() {
        tasks.extend(relay(&ctx, &relay_stats, pair, until, epoch));
    }
    let call_figures = Arc::new(CallFigures::default());
    let mut call_tasks = Vec::new();
    for i in 0..plan.calls {
        let (ctx, figures) = (ctx.clone(), call_figures.clone());
        call_tasks.push(async move { guarded(&ctx.clone().errors, "call", call_slot(ctx, figures, i, until)).await });
    }
    let calls = tokio::spawn(futures_util::future::join_all(call_tasks));
    // Every room client says something once a minute, as apps do to stay under the gateway's
    // idle timeout (10 minutes on API Gateway and the local stack).
    let keepalive = {
        let clients: Vec<Arc<SfuClient>> = rooms.iter().flatten().map(|seat| seat.client.clone()).collect();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(KEEPALIVE);
            loop {
                tick.tick().await;
                for c in &clients {
                    c.try_send_text(PING);
                }
            }
        })
    };
    let mut samples = Vec::new();
    let mut next_sample = epoch;
    while Instant::now() < until {
        if let Some(pid) = plan.watch_pid
            && Instant::now() >= next_sample
        {
            match sample(pid, epoch.elapsed().as_secs_f64()) {
                Some(s) => samples.push(s),
                None => ctx.errors.add(format!("watch: process {pid} is gone")),
            }
            next_sample += Duration::from_secs(10);
        }
        tokio::time::sleep(Duration::from_millis(200).min(until.saturating_duration_since(Instant::now()))).await;
    }
    keepalive.abort();
    let media = room_figures(&rooms);
    for t in tasks {
        let _ = t.await;
    }
    let _ = calls.await;
    if let Some(s) = plan.watch_pid.and_then(|pid| sample(pid, epoch.elapsed().as_secs_f64())) {
        samples.push(s);
    }
    for seat in rooms.iter().flatten() {
        if let Some(p) = &seat.publisher {
            p.stop().await;
        }
        let _ = seat.client.request("leaveRoom", json!({})).await;
        seat.client.close();
    }

    let report = Report::new(&plan, setup, media, &relay_stats, &call_figures, &samples, ctx.errors.snapshot());
    if plan.json {
        println!("{}", serde_json::to_string_pretty(&report.json).expect("serializes"));
    } else {
        print!("{}", report.table);
    }
    if ctx.errors.total() > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

struct Report {
    json: Value,
    table: String,
}

impl Report {
    fn new(
        plan: &Plan,
        setup: Duration,
        mut m: RoomFigures,
        relay: &Relay,
        calls: &CallFigures,
        samples: &[Sample],
        errors: BTreeMap<String, u64>,
    ) -> Report {
        let secs = plan.duration.as_secs_f64();
        let loss_pct = |got: u64, expected: u64| {
            if expected == 0 { 0.0 } else { expected.saturating_sub(got) as f64 * 100.0 / expected as f64 }
        };
        let mut lat: Vec<f64> = relay.latency_us.lock().unwrap().iter().map(|us| *us as f64 / 1000.0).collect();
        let (sent, received, misrouted) =
            (relay.sent.load(Relaxed), relay.received.load(Relaxed), relay.misrouted.load(Relaxed));
        let mut setup_ms = calls.setup_ms.lock().unwrap().clone();
        let slope = |f: fn(&Sample) -> f64| slope_per_min(samples, f);
        let json = json!({
            "plan": {
                "url": plan.target.url, "rooms": plan.rooms, "participants": plan.participants,
                "publishers": plan.publishers, "p2pPairs": plan.p2p_pairs, "p2pRate": plan.p2p_rate,
                "calls": plan.calls, "callHoldSecs": plan.call_hold.as_secs_f64(), "durationSecs": secs,
            },
            "setupSecs": setup.as_secs_f64(),
            "rooms": {
                "participantsJoined": m.joined,
                "participantsExpected": plan.rooms * plan.participants,
                "joinMs": { "p50": quantile(&mut m.join_ms, 0.5), "p99": quantile(&mut m.join_ms, 0.99) },
                "firstPacketMs": { "p50": quantile(&mut m.first_packet_ms, 0.5), "p99": quantile(&mut m.first_packet_ms, 0.99) },
                "subscribers": m.subscribers, "subscribersReceiving": m.receiving,
                "packetsSent": m.packets_sent, "packetsReceived": m.packets, "packetsExpected": m.expected,
                "framesReceived": m.frames, "bytesReceived": m.bytes, "lossPct": loss_pct(m.packets, m.expected),
            },
            "relay": {
                "sent": sent, "received": received, "lost": sent.saturating_sub(received), "misrouted": misrouted,
                "lossPct": loss_pct(received, sent),
                "latencyMs": { "p50": quantile(&mut lat, 0.5), "p99": quantile(&mut lat, 0.99), "max": quantile(&mut lat, 1.0) },
            },
            "calls": {
                "completed": calls.completed.load(Relaxed),
                "setupMs": { "p50": quantile(&mut setup_ms, 0.5), "p99": quantile(&mut setup_ms, 0.99) },
            },
            "process": (!samples.is_empty()).then(|| json!({
                "samples": samples,
                "rssKibPerMin": slope(|s| s.rss_kib as f64),
                "fdsPerMin": slope(|s| s.fds as f64),
                "threadsPerMin": slope(|s| s.threads as f64),
                "mediaWorkerCpuPct": media_cpu_pct(samples),
            })),
            "errors": errors,
            "errorsTotal": errors.values().sum::<u64>(),
        });
        let j = &json;
        let f = |v: &Value| ms(v.as_f64());
        let mut t = Table::new(["measure", "value"]);
        let r = &j["rooms"];
        t.row(["participants joined".into(), format!("{} of {}", r["participantsJoined"], r["participantsExpected"])]);
        t.row(["joinRoom p50 / p99 (ms)".into(), format!("{} / {}", f(&r["joinMs"]["p50"]), f(&r["joinMs"]["p99"]))]);
        t.row(["subscribers receiving".into(), format!("{} of {}", r["subscribersReceiving"], r["subscribers"])]);
        t.row([
            "join → first packet p50 / p99 (ms)".into(),
            format!("{} / {}", f(&r["firstPacketMs"]["p50"]), f(&r["firstPacketMs"]["p99"])),
        ]);
        t.row(["media packets sent / received".into(), format!("{} / {}", r["packetsSent"], r["packetsReceived"])]);
        t.row(["video frames received".into(), r["framesReceived"].to_string()]);
        t.row(["media loss (RTP sequence gaps)".into(), format!("{:.3} %", r["lossPct"].as_f64().unwrap_or(0.0))]);
        let rl = &j["relay"];
        t.row([
            "relay sent / received".into(),
            format!("{} / {} ({:.0}/s)", rl["sent"], rl["received"], received as f64 / secs),
        ]);
        t.row(["relay lost / misrouted".into(), format!("{} / {}", rl["lost"], rl["misrouted"])]);
        t.row([
            "relay latency p50 / p99 / max (ms)".into(),
            format!("{} / {} / {}", f(&rl["latencyMs"]["p50"]), f(&rl["latencyMs"]["p99"]), f(&rl["latencyMs"]["max"])),
        ]);
        let c = &j["calls"];
        t.row(["calls completed".into(), c["completed"].to_string()]);
        t.row([
            "call setup p50 / p99 (ms)".into(),
            format!("{} / {}", f(&c["setupMs"]["p50"]), f(&c["setupMs"]["p99"])),
        ]);
        if let (Some(first), Some(last)) = (samples.first(), samples.last()) {
            let per_min = |v: &Value| v.as_f64().map(|x| format!("{x:+.1}/min")).unwrap_or_else(|| "-".into());
            let p = &j["process"];
            t.row([
                "watched RSS first → last (MiB)".into(),
                format!(
                    "{:.1} → {:.1} ({} KiB)",
                    first.rss_kib as f64 / 1024.0,
                    last.rss_kib as f64 / 1024.0,
                    per_min(&p["rssKibPerMin"])
                ),
            ]);
            t.row([
                "watched fds first → last".into(),
                format!("{} → {} ({})", first.fds, last.fds, per_min(&p["fdsPerMin"])),
            ]);
            t.row([
                "watched threads first → last".into(),
                format!("{} → {} ({})", first.threads, last.threads, per_min(&p["threadsPerMin"])),
            ]);
        }
        t.row(["errors".into(), j["errorsTotal"].to_string()]);
        let mut table = format!("{t}");
        for (what, n) in &errors {
            table.push_str(&format!("  {n} × {what}\n"));
        }
        Report { json, table }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_series_has_no_slope_and_a_growing_one_its_rate() {
        let s = |at_s: f64, rss_kib: u64| Sample { at_s, rss_kib, fds: 10, threads: 4, media_cpu_s: at_s / 2.0 };
        let flat = [s(0.0, 100), s(10.0, 100), s(20.0, 100)];
        assert_eq!(slope_per_min(&flat, |s| s.rss_kib as f64), Some(0.0));
        let growing = [s(0.0, 100), s(30.0, 130), s(60.0, 160)];
        assert_eq!(slope_per_min(&growing, |s| s.rss_kib as f64), Some(60.0));
        assert_eq!(slope_per_min(&growing[..1], |s| s.rss_kib as f64), None);
        assert_eq!(media_cpu_pct(&growing), Some(50.0), "half a core");
    }

    #[test]
    fn relayed_numbers_are_read_back_from_the_text() {
        let text = r#"{"type":"offer","from":"p1","sdp":{"type":"offer","sdp":"v=0","pair":12,"t":3456}}"#;
        assert_eq!(number_after(text, r#""pair":"#), Some(12));
        assert_eq!(number_after(text, r#""t":"#), Some(3456));
        assert_eq!(number_after(text, r#""seq":"#), None);
    }
}

//! `lambda-cost`: what each signaling operation costs as deployed, measured through the real
//! function binaries (release build) under the Lambda Runtime API emulator, on moto, with a
//! real media node (TLS control) for the group-room operations. For each operation: the
//! invocation's duration (what Lambda bills, here with moto's loopback latency in place of
//! DynamoDB's), the DynamoDB operations it made (counted by `tests/moto_server.py`), and the
//! messages it posted through the Management API (what API Gateway bills besides the client's
//! own message). Also each function's init time. Prints JSON; `scripts/cost.py` turns it into
//! the figures of docs/cost.md.
//!
//!   cargo build --release -p stratus-functions -p stratus-media-node
//!   cargo run --release -p stratus-bench --bin lambda-cost -- [repetitions] > bench/results/lambda-cost.json

use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stratus_core::auth::{AuthConfig, Authority, Secret, TableRefreshTokens};
use stratus_core::clock::{Clock, ManualClock, SystemClock};
use stratus_core::store::memory::MemoryTable;
use stratus_core::store::schema::MAIN;
use stratus_protocol::auth::{Grants, TokenRequest};
use stratus_tests::apigw::ManagementApiRecorder;
use stratus_tests::aws;
use stratus_tests::lambda::{RuntimeApi, fixture};
use stratus_tests::node::workspace_bin;

fn hex() -> String {
    (0..32).map(|_| format!("{:x}", rand::random::<u8>() % 16)).collect()
}

async fn counts() -> Value {
    reqwest::get(format!("{}/_stratus/counts", aws::endpoint().url)).await.unwrap().json().await.unwrap()
}

fn diff(after: &Value, before: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for (k, v) in after.as_object().unwrap() {
        let d = v.as_i64().unwrap() - before.get(k).and_then(Value::as_i64).unwrap_or(0);
        if d != 0 {
            out.insert(k.clone(), json!(d));
        }
    }
    Value::Object(out)
}

/// One measured operation: durations (ms) and per-invocation means of the counts.
#[derive(Default)]
struct Op {
    ms: Vec<f64>,
    dynamo: serde_json::Map<String, Value>,
    posts: u64,
    n: u64,
}

impl Op {
    fn add(&mut self, ms: f64, dynamo: &Value, posts: usize) {
        self.ms.push(ms);
        self.n += 1;
        self.posts += posts as u64;
        for (k, v) in dynamo.as_object().unwrap() {
            let cur = self.dynamo.get(k).and_then(Value::as_i64).unwrap_or(0);
            self.dynamo.insert(k.clone(), json!(cur + v.as_i64().unwrap()));
        }
    }

    fn report(&mut self, name: &str, function: &str) -> Value {
        self.ms.sort_by(f64::total_cmp);
        let q = |p: f64| self.ms[((self.ms.len() - 1) as f64 * p).round() as usize];
        let per = |v: &Value| (v.as_i64().unwrap() as f64 / self.n as f64 * 100.0).round() / 100.0;
        let dynamo: serde_json::Map<String, Value> =
            self.dynamo.iter().map(|(k, v)| (k.clone(), json!(per(v)))).collect();
        json!({
            "op": name, "function": function, "n": self.n,
            "p50_ms": (q(0.5) * 100.0).round() / 100.0, "p90_ms": (q(0.9) * 100.0).round() / 100.0,
            "dynamodb_per_invocation": dynamo,
            "posts_per_invocation": (self.posts as f64 / self.n as f64 * 100.0).round() / 100.0,
        })
    }
}

struct Fx {
    ws: RuntimeApi,
    rest: RuntimeApi,
    apigw: ManagementApiRecorder,
    auth: Authority,
    app_secret: String,
}

impl Fx {
    async fn token(&self, user: &str) -> String {
        let mem = TableRefreshTokens(Arc::new(MemoryTable::new(&MAIN, Arc::new(ManualClock::at_system_time()))));
        let req = TokenRequest {
            app_key: "app".into(),
            app_secret: self.app_secret.clone(),
            user_id: user.into(),
            email: None,
            full_name: None,
            role: None,
            grants: Grants { can_publish: true, can_subscribe: true, ..Grants::default() },
            ttl_seconds: None,
        };
        self.auth.issue(&mem, &req, SystemClock.now_secs()).await.unwrap().access_token
    }

    fn message(conn: &str, msg: Value) -> Value {
        let mut ev = fixture("apigw-ws/message.json");
        ev["requestContext"]["connectionId"] = json!(conn);
        let route = msg["type"].as_str().unwrap();
        let routed = stratus_protocol::ws::MESSAGE_ROUTES.contains(&route);
        ev["requestContext"]["routeKey"] = json!(if routed { route } else { "$default" });
        ev["body"] = json!(msg.to_string());
        ev
    }

    /// Invokes `rt` with `ev`, measuring it; posts counted on `conns`.
    async fn measure(&self, op: &mut Op, rt: &RuntimeApi, ev: Value, conns: &[&str]) -> Value {
        for c in conns {
            self.apigw.take(c);
        }
        let before = counts().await;
        let t = Instant::now();
        let res = rt.invoke(ev).await.expect("the function answers");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        // Node events are posted by the node, not the function: let them land, then count
        // only what reached the connections while the function ran is not separable, so the
        // count includes the node's events for this operation (both are billed messages).
        tokio::time::sleep(Duration::from_millis(30)).await;
        let posts: usize = conns.iter().map(|c| self.apigw.take(c).len()).sum();
        op.add(ms, &diff(&counts().await, &before), posts);
        res
    }
}

fn main() {
    // Before any thread: the harness's moto inherits it and counts operations.
    unsafe { std::env::set_var("STRATUS_MOTO_COUNTS", "1") };
    let reps: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(run(reps));
}

async fn run(reps: usize) {
    let client = aws::dynamodb().await;
    let table = aws::unique_name("cost");
    stratus_dynamo::create_table(&client, &MAIN, &table).await.unwrap();
    let jwt = hex();
    let app_secret = hex();
    let credentials = aws::create_secret(&json!({"jwt_secret": jwt, "apps": {"app": app_secret}})).await;
    let control_doc = json!({"id": "k1", "secret": hex()});
    let control = aws::create_secret(&control_doc).await;
    let apigw = ManagementApiRecorder::start().await;
    let mut children = Vec::new();
    let node_bin = workspace_bin("stratus-media-node");
    children.push(
        stratus_tests::node::media_node(&node_bin, "cost-node", &control_doc.to_string())
            .env("STRATUS_TABLE", &table)
            .env("STRATUS_CONTROL_TLS", "self-signed")
            .env("STRATUS_HEARTBEAT_SECS", "5")
            .env("STRATUS_WS_MANAGEMENT_ENDPOINT", &apigw.url)
            // The recorder takes any signature.
            .env("STRATUS_WS_MANAGEMENT_CREDENTIALS", "bench:bench")
            .spawn()
            .unwrap(),
    );
    let (ws, rest) = (RuntimeApi::start().await, RuntimeApi::start().await);
    let mut init = Vec::new();
    for (bin, rt, name) in [("stratus-ws", &ws, "stratus-ws"), ("stratus-rest", &rest, "stratus-rest")] {
        let t = Instant::now();
        children.push(
            tokio::process::Command::new(workspace_bin(bin))
                .envs(rt.env(name))
                .envs(aws::sdk_env())
                .env(MAIN.name_env, &table)
                .env("STRATUS_CREDENTIALS_SECRET", &credentials)
                .env("STRATUS_CONTROL_SECRET", &control)
                .env("STRATUS_WS_MANAGEMENT_ENDPOINT", &apigw.url)
                .env("STRATUS_SIGNALING_URL", "wss://abc123ws.execute-api.us-east-1.amazonaws.com/prod")
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .unwrap(),
        );
        // Init ends when the runtime first asks for an event: time a no-op health request.
        let probe = if name == "stratus-rest" {
            let mut ev = fixture("apigw-http/get-health-detailed.json");
            ev["rawPath"] = json!("/health/live");
            ev["requestContext"]["http"]["path"] = json!("/health/live");
            ev
        } else {
            Fx::message("probe=", json!({"type": "ping"}))
        };
        rt.invoke(probe).await.unwrap();
        init.push(json!({ "function": name, "spawn_to_first_response_ms": t.elapsed().as_secs_f64() * 1000.0 }));
    }
    let t = stratus_dynamo::DynamoTable::new(client, &table, &MAIN, Arc::new(SystemClock));
    while !stratus_core::nodes::live(&t).await.unwrap().iter().any(|n| n.id == "cost-node") {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let auth =
        Authority::new(AuthConfig::new("stratus", Secret::new(jwt)).with_app("app", Secret::new(app_secret.clone())));
    let fx = Fx { ws, rest, apigw, auth, app_secret: app_secret.clone() };

    let names = [
        "$connect",
        "ping",
        "join (P2P room)",
        "offer (relay to a peer)",
        "createRoom",
        "joinRoom",
        "createWebRtcTransport",
        "leaveRoom",
        "$disconnect",
        "POST /auth/token",
    ];
    let mut ops: Vec<Op> = names.iter().map(|_| Op::default()).collect();
    for i in 0..reps {
        let (a, b) = (format!("a{i}="), format!("b{i}="));
        for (c, user) in [(&a, format!("alice{i}")), (&b, format!("bob{i}"))] {
            let token = fx.token(&user).await;
            let mut ev = fixture("apigw-ws/connect.json");
            ev["queryStringParameters"]["token"] = json!(token);
            ev["multiValueQueryStringParameters"]["token"] = json!([token]);
            ev["requestContext"]["connectionId"] = json!(c);
            fx.apigw.set_live(c, true);
            let res = fx.measure(&mut ops[0], &fx.ws, ev, &[c]).await;
            assert_eq!(res["statusCode"], 200, "{res}");
        }
        let (a, b) = (a.as_str(), b.as_str());
        fx.measure(&mut ops[1], &fx.ws, Fx::message(a, json!({"type": "ping"})), &[a]).await;
        let p2p = format!("p2p-{i}");
        for c in [a, b] {
            fx.measure(&mut ops[2], &fx.ws, Fx::message(c, json!({"type": "join", "data": {"room": p2p}})), &[a, b])
                .await;
        }
        let offer = json!({"type": "offer", "to": b, "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"});
        fx.measure(&mut ops[3], &fx.ws, Fx::message(a, offer), &[a, b]).await;
        let room = format!("room-{i}");
        let create = json!({"type": "createRoom", "requestId": "c", "data": {"roomId": room}});
        fx.measure(&mut ops[4], &fx.ws, Fx::message(a, create), &[a]).await;
        for c in [a, b] {
            let join = json!({"type": "joinRoom", "requestId": "j", "data": {"roomId": room}});
            fx.measure(&mut ops[5], &fx.ws, Fx::message(c, join), &[a, b]).await;
        }
        for c in [a, b] {
            let tr = json!({"type": "createWebRtcTransport", "requestId": "t", "data": {"direction": "recv"}});
            fx.measure(&mut ops[6], &fx.ws, Fx::message(c, tr), &[a, b]).await;
        }
        fx.measure(
            &mut ops[7],
            &fx.ws,
            Fx::message(b, json!({"type": "leaveRoom", "requestId": "l", "data": {}})),
            &[a, b],
        )
        .await;
        for c in [a, b] {
            fx.apigw.set_live(c, false);
            let mut ev = fixture("apigw-ws/disconnect.json");
            ev["requestContext"]["connectionId"] = json!(c);
            fx.measure(&mut ops[8], &fx.ws, ev, &[a, b]).await;
        }
        let mut ev = fixture("apigw-http/post-auth-token.json");
        let body = json!({"app_key": "app", "app_secret": app_secret, "user_id": format!("carol{i}")}).to_string();
        ev["body"] = json!(body);
        ev["headers"]["content-length"] = json!(body.len().to_string());
        let res = fx.measure(&mut ops[9], &fx.rest, ev, &[]).await;
        assert_eq!(res["statusCode"], 200, "{res}");
    }
    let report: Vec<Value> = names
        .iter()
        .zip(ops.iter_mut())
        .map(|(n, op)| op.report(n, if n.starts_with("POST") { "stratus-rest" } else { "stratus-ws" }))
        .collect();
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "bench": "lambda-cost",
            "repetitions": reps,
            "memory_mb": 256,
            "init": init,
            "operations": report,
            "note": "durations through the release binaries and the Runtime API emulator on loopback, DynamoDB on moto (loopback); posts include the media node's events for the operation",
        }))
        .unwrap()
    );
    // The functions are still polling the emulator: leave without tearing it down first.
    drop(children);
    std::process::exit(0);
}

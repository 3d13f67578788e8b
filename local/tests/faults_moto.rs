//! The store fails for real: the local stack binary on moto through a link the test cuts
//! (`stratus_tests::link`). While moto cannot be reached, or hangs, every request answers 503
//! with `Retry-After` (the SDK's timeouts bound a hang) and every WebSocket message the
//! `SERVICE_UNAVAILABLE` error on a connection that stays open; nothing reaches the table;
//! when the link is back the same process works again. A stack process killed between two
//! writes of `$connect` leaves items that the next process's sweeper removes.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use stratus_tests::link::{Link, Mode};
use stratus_tests::local::LocalStack;
use stratus_tests::sfu_client::SfuClient;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_stratus-local")
}

async fn stack(endpoint: &str, table: &str, extra: &[&str]) -> LocalStack {
    let env = stratus_tests::aws::sdk_env();
    let envs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut args = vec!["--dynamodb-endpoint", endpoint, "--table", table, "--media-nodes", "0", "--no-demo"];
    args.extend_from_slice(extra);
    LocalStack::start(bin(), &args, &envs).await
}

/// Every item of `table` on moto itself (not through the link), as sorted text.
async fn items(table: &str) -> BTreeSet<String> {
    let client = stratus_tests::aws::dynamodb().await;
    let mut out = BTreeSet::new();
    let mut start = None;
    loop {
        let page = client.scan().table_name(table).set_exclusive_start_key(start).send().await.expect("scan moto");
        for it in page.items() {
            let mut attrs: Vec<String> = it.iter().map(|(k, v)| format!("{k}={}", show(v))).collect();
            attrs.sort();
            out.insert(attrs.join(" "));
        }
        match page.last_evaluated_key() {
            Some(k) => start = Some(k.clone()),
            None => return out,
        }
    }
}

fn show(v: &AttributeValue) -> String {
    match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.clone(),
        AttributeValue::Bool(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

async fn rest(
    s: &LocalStack,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Value,
) -> (u16, Value, Option<String>) {
    let res = reqwest::Client::new()
        .request(method, format!("{}{path}", s.base))
        .bearer_auth(token)
        .json(&body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("an answer");
    let status = res.status().as_u16();
    let retry = res.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    (status, res.json().await.unwrap_or(Value::Null), retry)
}

async fn answer(c: &SfuClient, kind: &str, data: Value) -> Value {
    c.send_text(&json!({"type": kind, "data": data}).to_string());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let evs = c.events();
        if let Some(v) = evs.iter().find(|v| v["type"] != "user-joined" && v["type"] != "call-status") {
            let t = v["type"].as_str().unwrap().to_owned();
            return c.event(&t, |_| true, Duration::ZERO).await.unwrap();
        }
        assert!(Instant::now() < deadline, "no answer to {kind}: {evs:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_moto_cut_off_or_hanging_requests_answer_503_nothing_is_written_and_the_same_process_recovers() {
    let ep = stratus_tests::aws::endpoint();
    let link = Link::start(&ep.url).await;
    let table = stratus_tests::aws::unique_name("cut");
    // The call must still ring when the store is back: a ring timeout longer than the outage.
    let quiet = ["--room-sweep-secs", "3600", "--ws-sweep-secs", "3600", "--ring-timeout-secs", "600"];
    let s = stack(&link.url(), &table, &quiet).await;
    let (ta, tb) = (s.token("alice").await, s.token("bob").await);
    let alice = SfuClient::connect(&s.ws_url(&ta)).await.expect("alice connects");
    let _bob = SfuClient::connect(&s.ws_url(&tb)).await.expect("bob connects");
    let body = json!({"caller_id": "alice", "callee_id": "bob", "call_type": "voice"});
    let (status, call, _) = rest(&s, reqwest::Method::POST, "/api/v1/calls/initiate", &ta, body).await;
    assert_eq!(status, 201, "{call}");
    let id = call["call_id"].as_str().unwrap().to_owned();
    let carol = s.token("carol").await;
    // A first message makes the connection known to this process (its owner record read once).
    assert_eq!(answer(&alice, "ping", json!({})).await["type"], "pong");
    let before = items(&table).await;

    for mode in [Mode::Down, Mode::Hang] {
        link.set(mode);
        let asked = Instant::now();
        let requests = [
            (reqwest::Method::PUT, format!("/api/v1/calls/{id}/answer"), &tb, json!({})),
            (reqwest::Method::GET, format!("/api/v1/calls/{id}/status"), &ta, json!({})),
            (reqwest::Method::PUT, "/api/v1/presence/status".to_owned(), &ta, json!({"status": "away"})),
            (reqwest::Method::GET, "/api/v1/rooms".to_owned(), &ta, json!({})),
        ];
        // All at once: each waits out the store's timeouts on its own.
        let rest_all = futures_util::future::join_all(requests.into_iter().map(|(method, path, token, body)| {
            let s = &s;
            async move { (method.clone(), path.clone(), rest(s, method, &path, token, body).await) }
        }));
        let ready = async { reqwest::get(format!("{}/health/ready", s.base)).await.unwrap().status() };
        let ws = async {
            let reply = answer(&alice, "join", json!({"room": "standup"})).await;
            let pong = answer(&alice, "ping", json!({})).await;
            (reply, pong)
        };
        let connect = async { SfuClient::connect(&s.ws_url(&carol)).await.map(|_| ()) };
        let (answers, ready, (reply, pong), connected) = tokio::join!(rest_all, ready, ws, connect);
        for (method, path, (status, err, retry)) in answers {
            assert_eq!(
                (status, err["error"]["code"].as_str()),
                (503, Some("SERVICE_UNAVAILABLE")),
                "{mode:?} {method} {path}: {err}"
            );
            assert_eq!(retry.as_deref(), Some("1"), "{mode:?} {path}");
        }
        assert_eq!(ready, 503, "{mode:?}");
        assert_eq!(
            (reply["type"].as_str(), reply["data"]["code"].as_str()),
            (Some("error"), Some("SERVICE_UNAVAILABLE")),
            "{mode:?}: {reply}"
        );
        assert_eq!(pong["type"], "pong", "{mode:?}: the connection stays open: {pong}");
        assert_eq!(connected.map_err(|(status, _)| status), Err(503), "{mode:?}: $connect refused");
        // Bounded by the SDK's timeouts, a hang costs seconds per request, not forever.
        eprintln!("{mode:?}: everything answered in {:?}", asked.elapsed());
        assert!(asked.elapsed() < Duration::from_secs(30), "{mode:?}: {:?}", asked.elapsed());
    }
    link.set(Mode::Up);
    assert_eq!(items(&table).await, before, "nothing was written while the store was away");

    // Back, with no restart: the ringing call is answered, alice joins, carol connects.
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{}/health/ready", s.base)).await.unwrap().status() != 200 {
        assert!(Instant::now() < deadline, "never ready again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, answered, _) =
        rest(&s, reqwest::Method::PUT, &format!("/api/v1/calls/{id}/answer"), &tb, json!({})).await;
    assert_eq!((status, answered["status"].as_str()), (200, Some("active")), "{answered}");
    assert!(alice.event("call-status", |d| d["status"] == "active", Duration::from_secs(5)).await.is_some());
    assert_eq!(answer(&alice, "join", json!({"room": "standup"})).await["type"], "joined");
    SfuClient::connect(&s.ws_url(&carol)).await.expect("carol connects");
}

/// The `CONN#` partitions of `table` (connections and their owner records).
fn connections(items: &BTreeSet<String>) -> BTreeSet<String> {
    items.iter().filter(|i| i.contains("pk=CONN#") || i.contains("#CONN#")).cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_killed_between_two_writes_of_connect_leaves_what_the_next_stacks_sweeper_removes() {
    let ep = stratus_tests::aws::endpoint();
    let table = stratus_tests::aws::unique_name("killed");
    let mut cut_points = 0;
    for k in 0.. {
        let link = Link::start(&ep.url).await;
        let s = stack(&link.url(), &table, &[]).await;
        let token = s.token("alice").await;
        let before = connections(&items(&table).await);
        let held = link.hold_write(k);
        let url = s.ws_url(&token);
        let mut connect = tokio::spawn(async move { SfuClient::connect(&url).await.map(|_| ()) });
        tokio::select! {
            _ = held => connect.abort(),
            done = &mut connect => {
                // $connect finished with fewer than k + 1 writes: every cut point is covered.
                assert!(done.unwrap().is_ok(), "accepted with the store up");
                break;
            }
        }
        // Killed mid-flow, with its k-th write held.
        drop(s);
        let left = connections(&items(&table).await);
        if k > 0 {
            assert_ne!(left, before, "cut after write {k}: something of the connection is written");
        }
        cut_points += 1;
        // The next process, its sweeper every second: the dead process's connection is gone.
        let next = stack(&ep.url, &table, &["--ws-sweep-secs", "1"]).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let now = connections(&items(&table).await);
            if now == before {
                break;
            }
            assert!(Instant::now() < deadline, "cut after write {k}: left behind {:?}", now.difference(&before));
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        // And alice's connection slots are free again: five connections are accepted.
        let t = next.token("alice").await;
        let mut open = Vec::new();
        for n in 0..5 {
            open.push(
                SfuClient::connect(&next.ws_url(&t))
                    .await
                    .unwrap_or_else(|e| panic!("cut after write {k}: connection {n}: {e:?}")),
            );
        }
        for c in &open {
            c.close();
        }
        // Those five are cleaned up by this process before the next round's snapshot.
        let deadline = Instant::now() + Duration::from_secs(20);
        while connections(&items(&table).await) != before {
            assert!(Instant::now() < deadline, "closed connections were not removed");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        drop(next);
    }
    eprintln!("$connect killed at {cut_points} points");
    assert!(cut_points >= 2, "$connect has at least two writes to cut between, cut at {cut_points}");
}

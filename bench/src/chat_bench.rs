//! `chat-bench`: what chat costs and how fast it is.
//!
//! 1. Store operations per chat operation in a 50-person session (every participant with one
//!    open connection), on the embedded store behind the counting wrapper (`counting.rs`).
//! 2. History pages with `N` messages in one session (default 1,000,000) on the embedded
//!    store: the newest page, a page deep in the past (`before`), a page forward from near the
//!    start (`after`), and a session view whose reader is far behind (the unread count).
//! 3. Message send → delivered on every participant's WebSocket, through the local stack (its
//!    default signaling path: the handlers post through the emulated Management API), a
//!    50-person session, one message every `--every-ms`: p50/p99 of send → each receipt.
//!
//! `cargo run --release -p stratus-bench --bin chat-bench -- [N] [MESSAGES]`. Prints JSON lines.

#[path = "counting.rs"]
mod counting;

use counting::{Counting, Counts, NoSink, pct};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stratus_core::chat::{ChatConfig, Chats, Start};
use stratus_core::clock::{Clock, ManualClock};
use stratus_core::records::chat as rec;
use stratus_core::records::user::{Slot, encode_slot};
use stratus_core::store::memory::MemoryTable;
use stratus_core::store::schema::MAIN;
use stratus_core::store::{Cond, Table};
use stratus_protocol::chat::{CreateSession, EditMessage, MessageType, SendMessage};
use stratus_protocol::ids::{ChatSessionId, MessageId, UserId};

const PEOPLE: usize = 50;

fn user(i: usize) -> UserId {
    UserId::from(format!("u{i:02}"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let deliveries: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(200);
    store_operations().await;
    history(n).await;
    delivery(deliveries).await;
}

async fn store_operations() {
    let clock = ManualClock::at_system_time();
    let table = Arc::new(Counting { inner: MemoryTable::new(&MAIN, Arc::new(clock.clone())), c: Counts::default() });
    let root: Arc<dyn Table> = table.clone();
    let ns = stratus_core::tenant::Namespace::new(&root, &"bench".into());
    let chats = Chats::new(Arc::new(NoSink), ChatConfig::default());
    let chat = chats.app(&ns);
    for i in 0..PEOPLE {
        let slot = Slot { conn: format!("c{i}=").into(), ttl: clock.now_ms() / 1000 + 86_400 };
        ns.table.put(encode_slot(&user(i), 0, &slot), None).await.unwrap();
    }
    table.take();
    let others: Vec<String> = (1..PEOPLE).map(|i| user(i).to_string()).collect();
    let req = CreateSession { participants: others, is_group: true, title: None, duration_seconds: None };
    let s = chat.create(&user(0), &req, clock.now_ms()).await.unwrap();
    let create = table.take();
    let id = ChatSessionId::from(s.session_id.as_str());
    let msg = SendMessage {
        message_type: None,
        text: Some("hello".into()),
        client_message_id: Some("c1".into()),
        attachment_id: None,
    };
    let (m, _) = chat.send(&user(0), &id, &msg, clock.now_ms()).await.unwrap();
    let send = table.take();
    let (_, _) = chat.send(&user(0), &id, &msg, clock.now_ms()).await.unwrap();
    let retry = table.take();
    let mid = MessageId::from(m.message_id.as_str());
    chat.react(&user(1), &id, &mid, "👍", true, clock.now_ms()).await.unwrap();
    let react = table.take();
    chat.edit(&user(0), &id, &mid, &EditMessage { text: "hello all".into() }, clock.now_ms()).await.unwrap();
    let edit = table.take();
    chat.mark_read(&user(2), &id, &mid, clock.now_ms()).await.unwrap();
    let read = table.take();
    chat.typing(&user(3), &id, clock.now_ms()).await.unwrap();
    let typing = table.take();
    chat.messages(&user(4), &id, Start::Newest, 50).await.unwrap();
    let page = table.take();
    chat.get(&user(4), &id, clock.now_ms()).await.unwrap();
    let view = table.take();
    let line = json!({
        "bench": "chat_store_operations", "participants": PEOPLE,
        "create": create, "send": send, "send_retry": retry, "react": react, "edit": edit,
        "mark_read": read, "typing": typing, "page_of_50": page, "session_view": view,
    });
    println!("{line}");
}

async fn history(n: usize) {
    let clock = ManualClock::at_system_time();
    let root: Arc<dyn Table> = Arc::new(MemoryTable::new(&MAIN, Arc::new(clock.clone())));
    let ns = stratus_core::tenant::Namespace::new(&root, &"bench".into());
    let chats = Chats::new(Arc::new(NoSink), ChatConfig::default());
    let chat = chats.app(&ns);
    let req = CreateSession { participants: vec!["u01".into()], is_group: true, title: None, duration_seconds: None };
    let s = chat.create(&user(0), &req, clock.now_ms()).await.unwrap();
    let id = ChatSessionId::from(s.session_id.as_str());
    let session = ns.table.get(&rec::meta(&id)).await.unwrap().as_ref().and_then(rec::decode_session).unwrap();
    // The messages as the store holds them, one per millisecond (sending a million through the
    // domain would measure the writes, not the pages).
    let t0 = Instant::now();
    let start_ms = clock.now_ms();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let at = start_ms + i as i64;
        let mid = ulid::Ulid::from_parts(at as u64, rand::random::<u128>() >> 48).to_string();
        let m = rec::Message::new(mid.clone().into(), user(0), MessageType::Text, format!("message {i}"), at);
        ns.table.put(rec::encode_message(&session, &m), Some(Cond::NotExists)).await.unwrap();
        ids.push(mid);
    }
    let loaded_s = t0.elapsed().as_secs_f64();
    let time = |label: &'static str, start: Start| {
        let (chat, id) = (&chat, &id);
        async move {
            let mut ms = Vec::new();
            let mut got = 0;
            for _ in 0..200 {
                let t = Instant::now();
                got = chat.messages(&user(1), id, start.clone(), 50).await.unwrap().messages.len();
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            ms.sort_by(f64::total_cmp);
            json!({"bench": "chat_history_page", "messages_stored": n, "page": label, "returned": got,
                   "p50_ms": pct(&ms, 0.5), "p99_ms": pct(&ms, 0.99)})
        }
    };
    println!("{}", json!({"bench": "chat_history_load", "messages": n, "secs": (loaded_s * 10.0).round() / 10.0}));
    println!("{}", time("newest 50", Start::Newest).await);
    println!("{}", time("50 before the middle", Start::Before(ids[n / 2].clone().into())).await);
    println!("{}", time("50 after the 10th", Start::After(ids[n.min(10) - 1].clone().into())).await);
    // u01 has read nothing: the unread count stops at its cap after a bounded scan.
    let mut ms = Vec::new();
    let mut unread = Value::Null;
    for _ in 0..200 {
        let t = Instant::now();
        let v = chat.get(&user(1), &id, clock.now_ms()).await.unwrap();
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        unread = json!([v.unread_count, v.unread_more]);
    }
    ms.sort_by(f64::total_cmp);
    let line = json!({"bench": "chat_session_view_far_behind", "messages_stored": n, "unread": unread,
                      "p50_ms": pct(&ms, 0.5), "p99_ms": pct(&ms, 0.99)});
    println!("{line}");
}

async fn delivery(messages: usize) {
    let secret = stratus_tests::rest::random_hex();
    let opts = <stratus_local::Options as clap::Parser>::parse_from([
        "stratus-local",
        "--listen",
        "127.0.0.1:0",
        "--no-demo",
        "--app-secret",
        &secret,
    ]);
    let running = stratus_local::start(opts).await.expect("local stack");
    let base = format!("http://{}", running.addr);
    let http = reqwest::Client::new();
    let mint = |u: String| {
        let (http, base, secret) = (http.clone(), base.clone(), secret.clone());
        async move {
            let body = json!({"app_key": "dev", "app_secret": secret, "user_id": u});
            let r: Value =
                http.post(format!("{base}/auth/token")).json(&body).send().await.unwrap().json().await.unwrap();
            r["access_token"].as_str().unwrap().to_owned()
        }
    };
    let mut tokens = Vec::new();
    for i in 0..PEOPLE {
        tokens.push(mint(user(i).to_string()).await);
    }
    // Every participant listens; each receipt is timed against the send.
    let sent_at: Arc<std::sync::Mutex<std::collections::HashMap<String, Instant>>> = Arc::default();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<f64>();
    for t in &tokens {
        let url = format!("{}/ws?token={t}", base.replacen("http://", "ws://", 1));
        let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("ws");
        let (sent_at, tx) = (sent_at.clone(), tx.clone());
        tokio::spawn(async move {
            let (_, mut read) = ws.split();
            while let Some(Ok(m)) = read.next().await {
                let Ok(v) = serde_json::from_str::<Value>(m.to_text().unwrap_or("")) else { continue };
                if v["type"] != "chat-message" {
                    continue;
                }
                let Some(text) = v["data"]["message"]["text"].as_str() else { continue };
                if let Some(at) = sent_at.lock().unwrap().get(text) {
                    let _ = tx.send(at.elapsed().as_secs_f64() * 1000.0);
                }
            }
        });
    }
    let others: Vec<String> = (1..PEOPLE).map(|i| user(i).to_string()).collect();
    let s: Value = http
        .post(format!("{base}/api/v1/chat/sessions"))
        .bearer_auth(&tokens[0])
        .json(&json!({"participants": others, "is_group": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sid = s["session_id"].as_str().expect("session").to_owned();
    // The API allows 120 sends a minute per user: the senders take turns.
    let every = Duration::from_millis(100);
    let t0 = Instant::now();
    for k in 0..messages {
        let text = format!("m{k}");
        sent_at.lock().unwrap().insert(text.clone(), Instant::now());
        let res = http
            .post(format!("{base}/api/v1/chat/sessions/{sid}/messages"))
            .bearer_auth(&tokens[k % PEOPLE])
            .json(&json!({"text": text}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
        tokio::time::sleep_until((t0 + every * (k as u32 + 1)).into()).await;
    }
    let want = messages * PEOPLE;
    let mut ms = Vec::with_capacity(want);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while ms.len() < want {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(v)) => ms.push(v),
            _ => break,
        }
    }
    ms.sort_by(f64::total_cmp);
    let line = json!({
        "bench": "chat_delivery", "participants": PEOPLE, "messages": messages, "per_sec": 1000 / every.as_millis(),
        "receipts": ms.len(), "expected": want,
        "p50_ms": pct(&ms, 0.5), "p99_ms": pct(&ms, 0.99), "max_ms": pct(&ms, 1.0),
    });
    println!("{line}");
}

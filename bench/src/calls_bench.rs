//! `calls-bench`: what a 1:1 call costs in store operations, and how fast history reads are
//! with 100,000 calls stored for one user, on the embedded store.
//!
//! Store operations are counted by a wrapper around the table, as DynamoDB bills them:
//! a `GetItem` or `Query` is one read request (items returned are reported too), a
//! `PutItem`/`UpdateItem`/`DeleteItem` one write, a transaction one request of N item writes
//! (DynamoDB charges transactional writes double). Prints JSON lines.

#[path = "counting.rs"]
mod counting;

use counting::{Counting, Counts, NoSink, pct};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use stratus_core::calls::{Calls, CallsConfig};
use stratus_core::clock::{Clock, ManualClock};
use stratus_core::records::user::{Slot, encode_slot};
use stratus_core::store::memory::MemoryTable;
use stratus_core::store::schema::MAIN;
use stratus_protocol::calls::{EndReason, InitiateCall, Outcome};
use stratus_protocol::ids::UserId;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let clock = ManualClock::at_system_time();
    let table = Arc::new(Counting { inner: MemoryTable::new(&MAIN, Arc::new(clock.clone())), c: Counts::default() });
    let deployment = Calls::new(table.clone(), Arc::new(NoSink), CallsConfig::default());
    let root: Arc<dyn stratus_core::store::Table> = table.clone();
    let ns = stratus_core::tenant::Namespace::new(&root, &"bench".into());
    let calls = deployment.app(&ns);
    // Both users online: one open connection each (the slot a $connect writes, in the app's
    // namespace).
    for (user, conn) in [("alice", "a1="), ("bob", "b1=")] {
        let slot = Slot { conn: conn.into(), ttl: clock.now_ms() / 1000 + 86_400 };
        ns.table.put(encode_slot(user, 0, &slot), None).await.unwrap();
    }
    table.take();

    // One full flow, counted step by step.
    let (alice, bob) = (UserId::from("alice"), UserId::from("bob"));
    let initiate_call =
        |kind: &str| InitiateCall { caller_id: "alice".into(), callee_id: "bob".into(), call_type: kind.into() };
    let call = calls.initiate(&alice, &initiate_call("video"), clock.now_ms()).await.unwrap();
    let initiate = table.take();
    clock.advance_secs(5);
    calls.answer(&bob, &call.id, clock.now_ms()).await.unwrap();
    let answer = table.take();
    clock.advance_secs(60);
    calls.end(&alice, &call.id, EndReason::UserHangup, clock.now_ms()).await.unwrap();
    let end = table.take();
    println!("{}", json!({"bench": "call_flow_store_operations", "initiate": initiate, "answer": answer, "end": end}));

    // n calls in alice's history: a third answered, the rest missed.
    let started = Instant::now();
    for i in 0..n {
        clock.advance_ms(1);
        let kind = if i % 2 == 0 { "voice" } else { "video" };
        let c = calls.initiate(&alice, &initiate_call(kind), clock.now_ms()).await.unwrap();
        if i % 3 == 0 {
            calls.answer(&bob, &c.id, clock.now_ms()).await.unwrap();
        }
        calls.end(&alice, &c.id, EndReason::UserHangup, clock.now_ms()).await.unwrap();
    }
    table.take();
    println!(
        "{}",
        json!({"bench": "history_fill", "calls": n, "secs": (started.elapsed().as_secs_f64() * 100.0).round() / 100.0, "store_items": table.inner.len()})
    );

    let cases: [(&str, Option<stratus_protocol::calls::CallType>, Option<Outcome>, u32, u32); 5] = [
        ("newest 50 (default page)", None, None, 50, 0),
        ("newest 200 (largest page)", None, None, 200, 0),
        ("50 at offset 10,000", None, None, 50, 10_000),
        ("50 completed (1 in 3 match)", None, Some(Outcome::Completed), 50, 0),
        (
            "50 voice+completed at offset 1,000",
            Some(stratus_protocol::calls::CallType::Voice),
            Some(Outcome::Completed),
            50,
            1_000,
        ),
    ];
    for (name, t, o, limit, offset) in cases {
        let mut ms = Vec::new();
        let mut total = 0;
        for _ in 0..200 {
            let s = Instant::now();
            let (page, tot) = calls.history(&alice, t, o, limit, offset, clock.now_ms()).await.unwrap();
            ms.push(s.elapsed().as_secs_f64() * 1000.0);
            // A full page unless the history runs out first (a small `n`, as in the smoke test).
            let left = tot.saturating_sub(offset as u64);
            assert_eq!(page.len() as u64, left.min(limit as u64), "{name}");
            total = tot;
        }
        let ops = table.take();
        ms.sort_by(|a, b| a.total_cmp(b));
        println!(
            "{}",
            json!({"bench": "history_query", "case": name, "stored": n, "total": total, "p50_ms": pct(&ms, 0.5), "p99_ms": pct(&ms, 0.99),
                   "store_ops_per_query": {"read_requests": ops["read_requests"].as_u64().unwrap() / 200, "items_read": ops["items_read"].as_u64().unwrap() / 200}})
        );
    }
}

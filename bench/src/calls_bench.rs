//! `calls-bench`: what a 1:1 call costs in store operations, and how fast history reads are
//! with 100,000 calls stored for one user, on the embedded store.
//!
//! Store operations are counted by a wrapper around the table, as DynamoDB bills them:
//! a `GetItem` or `Query` is one read request (items returned are reported too), a
//! `PutItem`/`UpdateItem`/`DeleteItem` one write, a transaction one request of N item writes
//! (DynamoDB charges transactional writes double). Prints JSON lines.

use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use stratus_core::calls::{Calls, CallsConfig};
use stratus_core::clock::{Clock, ManualClock};
use stratus_core::records::user::{Slot, encode_slot};
use stratus_core::sink::{ConnectionSink, SinkError};
use stratus_core::store::memory::MemoryTable;
use stratus_core::store::schema::MAIN;
use stratus_core::store::{Cond, Item, Key, Page, Query, StoreError, Table, Update, Write};
use stratus_protocol::calls::{EndReason, InitiateCall, Outcome};
use stratus_protocol::ids::{ConnectionId, UserId};

#[derive(Default)]
struct Counts {
    read_requests: AtomicU64,
    items_read: AtomicU64,
    write_requests: AtomicU64,
    items_written: AtomicU64,
    transactions: AtomicU64,
}

struct Counting {
    inner: MemoryTable,
    c: Counts,
}

impl Counting {
    fn take(&self) -> serde_json::Value {
        let t = |a: &AtomicU64| a.swap(0, Ordering::Relaxed);
        json!({
            "read_requests": t(&self.c.read_requests),
            "items_read": t(&self.c.items_read),
            "write_requests": t(&self.c.write_requests),
            "items_written": t(&self.c.items_written),
            "of_which_transactions": t(&self.c.transactions),
        })
    }

    fn read(&self, items: usize) {
        self.c.read_requests.fetch_add(1, Ordering::Relaxed);
        self.c.items_read.fetch_add(items as u64, Ordering::Relaxed);
    }

    fn write(&self, items: usize) {
        self.c.write_requests.fetch_add(1, Ordering::Relaxed);
        self.c.items_written.fetch_add(items as u64, Ordering::Relaxed);
    }
}

#[async_trait]
impl Table for Counting {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let r = self.inner.get(key).await?;
        self.read(usize::from(r.is_some()));
        Ok(r)
    }
    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), StoreError> {
        self.write(1);
        self.inner.put(item, cond).await
    }
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> Result<Option<Item>, StoreError> {
        self.write(1);
        self.inner.delete(key, cond).await
    }
    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> Result<Item, StoreError> {
        self.write(1);
        self.inner.update(key, update, cond).await
    }
    async fn query(&self, q: &Query) -> Result<Page, StoreError> {
        let p = self.inner.query(q).await?;
        self.read(p.items.len());
        Ok(p)
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let n = writes.iter().filter(|w| !matches!(w, Write::Check { .. })).count();
        self.write(n);
        self.c.transactions.fetch_add(1, Ordering::Relaxed);
        self.inner.transact(writes).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
}

struct NoSink;

#[async_trait]
impl ConnectionSink for NoSink {
    async fn post(&self, _: &ConnectionId, _: &str) -> Result<(), SinkError> {
        Ok(())
    }
    async fn alive(&self, _: &ConnectionId) -> Result<bool, SinkError> {
        Ok(true)
    }
    async fn close(&self, _: &ConnectionId) -> Result<(), SinkError> {
        Ok(())
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    (sorted[i] * 1000.0).round() / 1000.0
}

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
            let left = (tot as u64).saturating_sub(offset as u64);
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

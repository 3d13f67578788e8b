//! What the benches count with: a table wrapper that counts store operations as DynamoDB
//! bills them (a `GetItem` or `Query` one read request, a `PutItem`/`UpdateItem`/`DeleteItem`
//! one write, a transaction one request of N item writes), a sink that posts nowhere, and
//! percentiles. Included by each bench binary (`#[path]`): the bins share no library.

use async_trait::async_trait;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use stratus_core::sink::{ConnectionSink, SinkError};
use stratus_core::store::memory::MemoryTable;
use stratus_core::store::{Cond, Item, Key, Page, Query, StoreError, Table, Update, Write};
use stratus_protocol::ids::ConnectionId;

#[derive(Default)]
pub struct Counts {
    read_requests: AtomicU64,
    items_read: AtomicU64,
    write_requests: AtomicU64,
    items_written: AtomicU64,
    transactions: AtomicU64,
}

pub struct Counting {
    pub inner: MemoryTable,
    pub c: Counts,
}

impl Counting {
    pub fn take(&self) -> serde_json::Value {
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

pub struct NoSink;

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

/// The `p` quantile of `sorted` (0 when empty), to 3 decimals.
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    (sorted[i] * 1000.0).round() / 1000.0
}

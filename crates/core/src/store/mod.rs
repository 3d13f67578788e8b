//! The storage abstraction.
//!
//! Every store implements [`Table`]: items keyed by a partition key and a sort key, with
//! conditional writes, atomic updates, transactions, TTL and paginated queries (on the table
//! or a global secondary index). Two implementations exist and one conformance suite
//! (`stratus-tests`) runs unchanged against both:
//! - [`memory::MemoryTable`], the embedded twin used by the local stack and fast tests;
//! - `stratus_dynamo::DynamoTable`, DynamoDB through `aws-sdk-dynamodb`.
//!
//! Semantics both honour (DynamoDB's, with its lazy TTL made exact):
//! - An item whose TTL attribute (epoch seconds) is `<= now` is *expired*: reads and queries
//!   skip it, and conditions see it as absent. DynamoDB deletes such items lazily, so the
//!   DynamoDB store filters them out itself.
//! - Comparisons against a missing attribute are false; `Update` creates the item if absent.
//! - Items are limited to [`MAX_ITEM_BYTES`].
//!
//! Domain code talks to narrow traits built on this one (e.g. `auth::RefreshTokens`), never to
//! DynamoDB.

pub mod cond;
pub mod cursor;
pub mod memory;
pub mod schema;
pub mod scoped;
pub mod value;

pub use cond::{CmpOp, Cond};
pub use value::{Item, Value};

use async_trait::async_trait;

/// DynamoDB's item size limit, enforced by both stores.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// Longest page a query may ask for.
pub const MAX_PAGE: u32 = 1000;

/// A table's primary key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }
}

/// Changes an update applies, in this order: set, add, remove.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub set: Vec<(String, Value)>,
    /// Atomic counter increments; a missing attribute counts from 0.
    pub add: Vec<(String, i64)>,
    pub remove: Vec<String>,
}

impl Update {
    pub fn set(mut self, attr: impl Into<String>, v: impl Into<Value>) -> Self {
        self.set.push((attr.into(), v.into()));
        self
    }

    pub fn add(mut self, attr: impl Into<String>, by: i64) -> Self {
        self.add.push((attr.into(), by));
        self
    }

    pub fn remove(mut self, attr: impl Into<String>) -> Self {
        self.remove.push(attr.into());
        self
    }
}

/// One write of a transaction. All succeed or none does.
#[derive(Debug, Clone)]
pub enum Write {
    Put {
        item: Item,
        cond: Option<Cond>,
    },
    Delete {
        key: Key,
        cond: Option<Cond>,
    },
    Update {
        key: Key,
        update: Update,
        cond: Option<Cond>,
    },
    /// A condition on an item the transaction does not write.
    Check {
        key: Key,
        cond: Cond,
    },
}

/// A condition on the sort key of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    Any,
    Eq(String),
    BeginsWith(String),
    /// Inclusive on both ends.
    Between(String, String),
    Lt(String),
    Gt(String),
}

#[derive(Debug, Clone)]
pub struct Query {
    /// `None` queries the table; `Some(name)` a global secondary index from the schema.
    pub index: Option<&'static str>,
    pub pk: String,
    pub sk: SortKey,
    /// At most this many items per page (1..=[`MAX_PAGE`]).
    pub limit: u32,
    /// Ascending sort-key order when true.
    pub forward: bool,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

impl Query {
    pub fn table(pk: impl Into<String>) -> Self {
        Self { index: None, pk: pk.into(), sk: SortKey::Any, limit: 100, forward: true, cursor: None }
    }

    pub fn index(index: &'static str, pk: impl Into<String>) -> Self {
        Self { index: Some(index), ..Self::table(pk) }
    }

    pub fn sk(mut self, sk: SortKey) -> Self {
        self.sk = sk;
        self
    }

    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }

    pub fn after(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }
}

/// One page of a query. `next` is an opaque cursor; `None` means there is nothing more.
/// A page may hold fewer than `limit` items (even none) while `next` is still set.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub items: Vec<Item>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// A write's condition did not hold (for a transaction: some write's condition).
    #[error("condition failed")]
    ConditionFailed,
    /// A transaction collided with another write in flight; retrying may succeed.
    #[error("transaction conflict")]
    TransactionConflict,
    /// The request itself is invalid (too large, bad cursor, unknown index, ...).
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// The backing service failed or could not be reached.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Every item `query` matches, following the pages to the end.
pub async fn query_all(table: &dyn Table, mut query: Query) -> Result<Vec<Item>, StoreError> {
    let mut out = Vec::new();
    loop {
        let page = table.query(&query).await?;
        out.extend(page.items);
        match page.next {
            Some(c) => query.cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// The key of `item` per `spec`, or why it has none. Both stores check items with this (and
/// [`check_size`], [`check_update`]) before writing, so they refuse the same things.
pub fn key_of(spec: &schema::TableSpec, item: &Item) -> Result<Key, StoreError> {
    match (item.get(spec.pk), item.get(spec.sk)) {
        (Some(Value::S(p)), Some(Value::S(s))) if !p.is_empty() && !s.is_empty() => Ok(Key::new(p, s)),
        _ => Err(StoreError::Invalid(format!("item needs non-empty string `{}` and `{}`", spec.pk, spec.sk))),
    }
}

pub fn check_size(item: &Item) -> Result<(), StoreError> {
    let size = value::item_size(item);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::Invalid(format!("item size {size} exceeds {MAX_ITEM_BYTES} bytes")));
    }
    Ok(())
}

/// An update may not touch key attributes and must change something.
pub fn check_update(spec: &schema::TableSpec, u: &Update) -> Result<(), StoreError> {
    let touched = u.set.iter().map(|(a, _)| a).chain(u.add.iter().map(|(a, _)| a)).chain(&u.remove);
    for a in touched {
        if a == spec.pk || a == spec.sk {
            return Err(StoreError::Invalid(format!("cannot update key attribute `{a}`")));
        }
    }
    if u.set.is_empty() && u.add.is_empty() && u.remove.is_empty() {
        return Err(StoreError::Invalid("empty update".into()));
    }
    Ok(())
}

#[async_trait]
pub trait Table: Send + Sync + 'static {
    /// A short description of the backend, e.g. `dynamodb:stratus-main@http://127.0.0.1:5000`.
    fn describe(&self) -> String;

    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), StoreError>;

    /// Deletes the item and returns what it held (`None` if it was absent or expired).
    async fn delete(&self, key: &Key, cond: Option<Cond>) -> Result<Option<Item>, StoreError>;

    /// Applies `update` (creating the item if absent) and returns the item as it now is.
    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> Result<Item, StoreError>;

    async fn query(&self, query: &Query) -> Result<Page, StoreError>;

    /// Up to 100 writes on distinct items, atomically.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;

    /// A cheap round trip proving the backend answers (health checks).
    async fn ping(&self) -> Result<(), StoreError>;
}

//! A store that fails on purpose (test support, so the core keeps no timer of its own): wraps any [`Table`] and injects errors or latency on the
//! operations a test chooses, so fault tests run through the real entry points on the
//! embedded store (and, with a proxy in front of moto, on DynamoDB).
//!
//! "The process died after its k-th write" is [`Faulty::fail_after`] on
//! [`Op::WRITES`]: k writes go through, then every operation fails until [`Faulty::clear`].

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stratus_core::store::{Cond, Item, Key, Page, Query, StoreError, Table, Update, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Get,
    Put,
    Delete,
    Update,
    Query,
    Transact,
    Ping,
}

impl Op {
    pub const ALL: &[Op] = &[Op::Get, Op::Put, Op::Delete, Op::Update, Op::Query, Op::Transact, Op::Ping];
    pub const WRITES: &[Op] = &[Op::Put, Op::Delete, Op::Update, Op::Transact];
}

#[derive(Debug, Clone)]
enum Rule {
    /// Matching operations fail.
    Fail { ops: Vec<Op>, err: StoreError },
    /// `left` more matching operations go through; after that every operation fails.
    FailAfter { ops: Vec<Op>, left: u32, err: StoreError },
    /// Matching operations wait this long first.
    Delay { ops: Vec<Op>, by: Duration },
}

pub struct Faulty {
    inner: Arc<dyn Table>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    /// Set once a `FailAfter` has used up its allowance: everything fails from then on.
    dead: Option<StoreError>,
    calls: HashMap<Op, u64>,
}

/// What the error of an unreachable backend looks like.
pub fn down() -> StoreError {
    StoreError::Unavailable("injected fault: store down".into())
}

impl Faulty {
    pub fn new(inner: Arc<dyn Table>) -> Self {
        Self { inner, state: Mutex::new(State::default()) }
    }

    /// Every operation in `ops` fails with `err` until [`clear`](Self::clear).
    pub fn fail(&self, ops: &[Op], err: StoreError) {
        self.lock().rules.push(Rule::Fail { ops: ops.to_vec(), err });
    }

    /// `n` more operations in `ops` succeed; then every operation fails with `err`.
    pub fn fail_after(&self, ops: &[Op], n: u32, err: StoreError) {
        self.lock().rules.push(Rule::FailAfter { ops: ops.to_vec(), left: n, err });
    }

    /// Every operation in `ops` waits `by` before it runs.
    pub fn delay(&self, ops: &[Op], by: Duration) {
        self.lock().rules.push(Rule::Delay { ops: ops.to_vec(), by });
    }

    /// Removes every fault: the store works again.
    pub fn clear(&self) {
        let mut s = self.lock();
        s.rules.clear();
        s.dead = None;
    }

    /// How many `op` calls reached the wrapper (failed ones too).
    pub fn calls(&self, op: Op) -> u64 {
        self.lock().calls.get(&op).copied().unwrap_or(0)
    }

    /// Whether a [`fail_after`](Self::fail_after) has run out (the "process" is dead).
    pub fn is_dead(&self) -> bool {
        self.lock().dead.is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The fault for one call of `op`: how long to wait, then whether to fail.
    fn decide(&self, op: Op) -> (Duration, Option<StoreError>) {
        let mut s = self.lock();
        *s.calls.entry(op).or_default() += 1;
        let mut wait = Duration::ZERO;
        let mut fail = s.dead.clone();
        let mut died = None;
        for rule in &mut s.rules {
            match rule {
                Rule::Delay { ops, by } if ops.contains(&op) => wait += *by,
                Rule::Fail { ops, err } if ops.contains(&op) && fail.is_none() => fail = Some(err.clone()),
                Rule::FailAfter { ops, left, err } if ops.contains(&op) && fail.is_none() => {
                    if *left == 0 {
                        fail = Some(err.clone());
                        died = Some(err.clone());
                    } else {
                        *left -= 1;
                    }
                }
                _ => {}
            }
        }
        if died.is_some() {
            s.dead = died;
        }
        (wait, fail)
    }

    async fn gate(&self, op: Op) -> Result<(), StoreError> {
        let (wait, fail) = self.decide(op);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        fail.map_or(Ok(()), Err)
    }
}

#[async_trait]
impl Table for Faulty {
    fn describe(&self) -> String {
        format!("faulty:{}", self.inner.describe())
    }

    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.gate(Op::Get).await?;
        self.inner.get(key).await
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), StoreError> {
        self.gate(Op::Put).await?;
        self.inner.put(item, cond).await
    }

    async fn delete(&self, key: &Key, cond: Option<Cond>) -> Result<Option<Item>, StoreError> {
        self.gate(Op::Delete).await?;
        self.inner.delete(key, cond).await
    }

    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> Result<Item, StoreError> {
        self.gate(Op::Update).await?;
        self.inner.update(key, update, cond).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.gate(Op::Query).await?;
        self.inner.query(query).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.gate(Op::Transact).await?;
        self.inner.transact(writes).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.gate(Op::Ping).await?;
        self.inner.ping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stratus_core::clock::SystemClock;
    use stratus_core::store::Value;
    use stratus_core::store::memory::MemoryTable;
    use stratus_core::store::schema::MAIN;

    fn item(pk: &str) -> Item {
        Item::from([("pk".to_owned(), Value::S(pk.into())), ("sk".to_owned(), Value::S("x".into()))])
    }

    #[tokio::test]
    async fn fail_after_lets_n_writes_through_then_fails_everything_until_cleared() {
        let mem = Arc::new(MemoryTable::new(&MAIN, Arc::new(SystemClock)));
        let f = Faulty::new(mem.clone());
        f.fail_after(Op::WRITES, 2, down());
        f.put(item("a"), None).await.unwrap();
        f.get(&Key::new("a", "x")).await.unwrap();
        f.put(item("b"), None).await.unwrap();
        assert!(matches!(f.put(item("c"), None).await, Err(StoreError::Unavailable(_))));
        assert!(f.get(&Key::new("a", "x")).await.is_err(), "reads fail too once dead");
        assert_eq!(mem.len(), 2);
        f.clear();
        f.put(item("c"), None).await.unwrap();
        assert_eq!(mem.len(), 3);
        assert_eq!(f.calls(Op::Put), 4);
    }

    #[tokio::test]
    async fn fail_applies_only_to_the_chosen_operations() {
        let f = Faulty::new(Arc::new(MemoryTable::new(&MAIN, Arc::new(SystemClock))));
        f.fail(&[Op::Query], down());
        f.put(item("a"), None).await.unwrap();
        assert!(f.query(&Query::table("a")).await.is_err());
        assert!(f.get(&Key::new("a", "x")).await.unwrap().is_some());
    }
}

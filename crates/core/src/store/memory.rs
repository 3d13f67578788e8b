//! The embedded store: one table in memory, with DynamoDB's semantics (see the module above).
//! The local stack runs on it by default and fast tests use it; the conformance suite keeps
//! it honest against DynamoDB.

use super::cond::Cond;
use super::schema::{IndexSpec, TableSpec};
use super::value::{Item, Value};
use super::{Key, MAX_PAGE, Page, Query, SortKey, StoreError, Table, Update, Write, check_size, check_update, key_of};
use crate::clock::Clock;
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Mutex};

/// A std `Mutex` rather than tokio's: every critical section is a few map operations and
/// never awaits, so a blocking lock is both correct and cheaper.
pub struct MemoryTable {
    spec: &'static TableSpec,
    clock: Arc<dyn Clock>,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    items: BTreeMap<Key, Item>,
    /// Per index: (index pk, index sk, table key), ordered as DynamoDB orders the index.
    indexes: HashMap<&'static str, BTreeSet<(String, String, Key)>>,
}

impl MemoryTable {
    pub fn new(spec: &'static TableSpec, clock: Arc<dyn Clock>) -> Self {
        Self { spec, clock, inner: Mutex::new(Inner::default()) }
    }

    /// Drops expired items, as DynamoDB's TTL process eventually does. Reads never need it;
    /// the local stack calls it now and then to bound memory.
    pub fn purge_expired(&self) -> usize {
        let now = self.clock.now_secs();
        let mut inner = self.lock();
        let dead: Vec<Key> =
            inner.items.iter().filter(|(_, it)| expired(self.spec, it, now)).map(|(k, _)| k.clone()).collect();
        for k in &dead {
            inner.remove(self.spec, k);
        }
        dead.len()
    }

    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keys of every item not expired, in key order (tests compare the table before and
    /// after a fault with it).
    pub fn keys(&self) -> Vec<Key> {
        let now = self.clock.now_secs();
        self.lock().items.iter().filter(|(_, it)| !expired(self.spec, it, now)).map(|(k, _)| k.clone()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves maps that are still structurally valid.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn expired(spec: &TableSpec, item: &Item, now_secs: i64) -> bool {
    matches!(item.get(spec.ttl_attr), Some(Value::N(t)) if *t <= now_secs)
}

fn index_entry(ix: &IndexSpec, item: &Item) -> Option<(String, String)> {
    match (item.get(ix.pk), item.get(ix.sk)) {
        (Some(Value::S(p)), Some(Value::S(s))) => Some((p.clone(), s.clone())),
        _ => None,
    }
}

impl Inner {
    fn live(&self, spec: &TableSpec, key: &Key, now: i64) -> Option<&Item> {
        self.items.get(key).filter(|it| !expired(spec, it, now))
    }

    fn remove(&mut self, spec: &'static TableSpec, key: &Key) -> Option<Item> {
        let old = self.items.remove(key)?;
        for ix in spec.indexes {
            if let Some((p, s)) = index_entry(ix, &old) {
                self.indexes.entry(ix.name).or_default().remove(&(p, s, key.clone()));
            }
        }
        Some(old)
    }

    fn insert(&mut self, spec: &'static TableSpec, key: Key, item: Item) {
        self.remove(spec, &key);
        for ix in spec.indexes {
            if let Some((p, s)) = index_entry(ix, &item) {
                self.indexes.entry(ix.name).or_default().insert((p, s, key.clone()));
            }
        }
        self.items.insert(key, item);
    }
}

/// The item `update` makes of `current` (absent or expired: a new item with only the key).
fn apply_update(spec: &TableSpec, key: &Key, current: Option<&Item>, update: &Update) -> Result<Item, StoreError> {
    check_update(spec, update)?;
    let mut item = current.cloned().unwrap_or_else(|| {
        Item::from([(spec.pk.to_owned(), Value::S(key.pk.clone())), (spec.sk.to_owned(), Value::S(key.sk.clone()))])
    });
    for (a, v) in &update.set {
        item.insert(a.clone(), v.clone());
    }
    for (a, by) in &update.add {
        let base = match item.get(a) {
            None => 0,
            Some(Value::N(n)) => *n,
            Some(_) => return Err(StoreError::Invalid(format!("ADD on non-number attribute `{a}`"))),
        };
        item.insert(a.clone(), Value::N(base + by));
    }
    for a in &update.remove {
        item.remove(a);
    }
    check_size(&item)?;
    Ok(item)
}

/// The sort keys `sk` admits, as a range.
fn sk_range(sk: &SortKey) -> (Bound<String>, Bound<String>) {
    match sk {
        SortKey::Any => (Bound::Unbounded, Bound::Unbounded),
        SortKey::Eq(x) => (Bound::Included(x.clone()), Bound::Included(x.clone())),
        SortKey::BeginsWith(p) => (Bound::Included(p.clone()), successor(p).map_or(Bound::Unbounded, Bound::Excluded)),
        SortKey::Between(a, b) => (Bound::Included(a.clone()), Bound::Included(b.clone())),
        SortKey::Lt(x) => (Bound::Unbounded, Bound::Excluded(x.clone())),
        SortKey::Gt(x) => (Bound::Excluded(x.clone()), Bound::Unbounded),
    }
}

/// The least string greater than every string starting with `p` (its last character
/// counted up), if there is one. Strings order by code point, as UTF-8 bytes do.
fn successor(p: &str) -> Option<String> {
    let mut chars: Vec<char> = p.chars().collect();
    while let Some(c) = chars.pop() {
        let next = (c as u32 + 1..=char::MAX as u32).find_map(char::from_u32);
        if let Some(n) = next {
            chars.push(n);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

fn bound_key(b: &Bound<Key>) -> Option<&Key> {
    match b {
        Bound::Included(k) | Bound::Excluded(k) => Some(k),
        Bound::Unbounded => None,
    }
}

/// Whether no key lies between `lo` and `hi` (`BTreeMap::range` panics on such a range).
fn empty_range(lo: &Bound<Key>, hi: &Bound<Key>) -> bool {
    match (lo, hi) {
        (Bound::Included(a), Bound::Included(b)) => a > b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => a >= b,
        _ => false,
    }
}

fn sk_matches(sk: &SortKey, v: &str) -> bool {
    match sk {
        SortKey::Any => true,
        SortKey::Eq(x) => v == x,
        SortKey::BeginsWith(p) => v.starts_with(p.as_str()),
        SortKey::Between(a, b) => a.as_str() <= v && v <= b.as_str(),
        SortKey::Lt(x) => v < x.as_str(),
        SortKey::Gt(x) => v > x.as_str(),
    }
}

#[async_trait]
impl Table for MemoryTable {
    fn describe(&self) -> String {
        format!("memory:{}", self.spec.default_name)
    }

    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let now = self.clock.now_secs();
        Ok(self.lock().live(self.spec, key, now).cloned())
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), StoreError> {
        let key = key_of(self.spec, &item)?;
        check_size(&item)?;
        let now = self.clock.now_secs();
        let mut inner = self.lock();
        if let Some(c) = &cond
            && !c.eval(inner.live(self.spec, &key, now))
        {
            return Err(StoreError::ConditionFailed);
        }
        inner.insert(self.spec, key, item);
        Ok(())
    }

    async fn delete(&self, key: &Key, cond: Option<Cond>) -> Result<Option<Item>, StoreError> {
        let now = self.clock.now_secs();
        let mut inner = self.lock();
        if let Some(c) = &cond
            && !c.eval(inner.live(self.spec, key, now))
        {
            return Err(StoreError::ConditionFailed);
        }
        let old = inner.remove(self.spec, key);
        Ok(old.filter(|it| !expired(self.spec, it, now)))
    }

    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> Result<Item, StoreError> {
        let now = self.clock.now_secs();
        let mut inner = self.lock();
        let current = inner.live(self.spec, key, now);
        if let Some(c) = &cond
            && !c.eval(current)
        {
            return Err(StoreError::ConditionFailed);
        }
        let item = apply_update(self.spec, key, current, &update)?;
        inner.insert(self.spec, key.clone(), item.clone());
        Ok(item)
    }

    async fn query(&self, q: &Query) -> Result<Page, StoreError> {
        if q.limit == 0 || q.limit > MAX_PAGE {
            return Err(StoreError::Invalid(format!("limit must be 1..={MAX_PAGE}")));
        }
        let now = self.clock.now_secs();
        let inner = self.lock();
        let limit = q.limit as usize;
        let mut items = Vec::new();
        let mut last_pos: Option<(String, Key)> = None;
        let mut more = false;

        // Positions are (sort value, table key): for the table the sort value is the sk.
        let start = match &q.cursor {
            Some(c) => Some(super::cursor::decode(c, self.spec, q.index, &q.pk)?),
            None => None,
        };
        let mut consider = |sortv: &str, key: &Key, it: &Item| -> bool {
            if items.len() == limit {
                more = true;
                return false;
            }
            if sk_matches(&q.sk, sortv) && !expired(self.spec, it, now) {
                items.push(it.clone());
                last_pos = Some((sortv.to_owned(), key.clone()));
            }
            true
        };
        // Ranges bounded by the partition and the cursor, walked in either direction: a page
        // costs O(log n + page), wherever it starts.
        let after_pk = format!("{}\0", q.pk);
        match q.index {
            None => {
                // The partition, narrowed to the sort keys the condition admits (a page deep in
                // a large partition walks only its own range), then to the cursor's side.
                let at = |b: Bound<String>| b.map(|sk| Key::new(q.pk.clone(), sk));
                let (lo, hi) = sk_range(&q.sk);
                let mut lo = match lo {
                    Bound::Unbounded => Bound::Included(Key::new(q.pk.clone(), String::new())),
                    b => at(b),
                };
                let mut hi = match hi {
                    Bound::Unbounded => Bound::Excluded(Key::new(after_pk, String::new())),
                    b => at(b),
                };
                if let Some((_, ck)) = &start {
                    if q.forward {
                        if bound_key(&lo).is_none_or(|k| ck >= k) {
                            lo = Bound::Excluded(ck.clone());
                        }
                    } else if bound_key(&hi).is_none_or(|k| ck <= k) {
                        hi = Bound::Excluded(ck.clone());
                    }
                }
                if empty_range(&lo, &hi) {
                    return Ok(Page::default());
                }
                let range = inner.items.range((lo, hi));
                let entries: Box<dyn Iterator<Item = (&Key, &Item)>> =
                    if q.forward { Box::new(range) } else { Box::new(range.rev()) };
                for (k, it) in entries {
                    if !consider(&k.sk, k, it) {
                        break;
                    }
                }
            }
            Some(name) => {
                let ix = self.spec.index(name).ok_or_else(|| StoreError::Invalid(format!("no index `{name}`")))?;
                let set = match inner.indexes.get(ix.name) {
                    Some(s) => s,
                    None => return Ok(Page::default()),
                };
                let first = (q.pk.clone(), String::new(), Key::new("", ""));
                let end = (after_pk, String::new(), Key::new("", ""));
                let at = start.as_ref().map(|(cs, ck)| (q.pk.clone(), cs.clone(), ck.clone()));
                let (lo, hi) = match (at, q.forward) {
                    (Some(at), true) => (Bound::Excluded(at), Bound::Excluded(end)),
                    (Some(at), false) => (Bound::Included(first), Bound::Excluded(at)),
                    (None, _) => (Bound::Included(first), Bound::Excluded(end)),
                };
                let range = set.range((lo, hi));
                let entries: Box<dyn Iterator<Item = &(String, String, Key)>> =
                    if q.forward { Box::new(range) } else { Box::new(range.rev()) };
                for (_, s, k) in entries {
                    // Every index entry has its item: both maps change under one lock.
                    let it = &inner.items[k];
                    if !consider(s, k, it) {
                        break;
                    }
                }
            }
        }
        let next = match (more, last_pos) {
            (true, Some((sortv, key))) => Some(super::cursor::encode(self.spec, q.index, &q.pk, &sortv, &key)),
            _ => None,
        };
        Ok(Page { items, next })
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() || writes.len() > 100 {
            return Err(StoreError::Invalid("a transaction holds 1..=100 writes".into()));
        }
        let now = self.clock.now_secs();
        let mut inner = self.lock();
        let mut seen = BTreeSet::new();
        // First pass: every condition and every new item, before anything changes.
        let mut planned: Vec<(Key, Option<Item>)> = Vec::new();
        for w in &writes {
            let (key, cond) = match w {
                Write::Put { item, cond } => (key_of(self.spec, item)?, cond.as_ref()),
                Write::Delete { key, cond } | Write::Update { key, cond, .. } => (key.clone(), cond.as_ref()),
                Write::Check { key, cond } => (key.clone(), Some(cond)),
            };
            if !seen.insert(key.clone()) {
                return Err(StoreError::Invalid("a transaction writes each item at most once".into()));
            }
            let current = inner.live(self.spec, &key, now);
            if let Some(c) = cond
                && !c.eval(current)
            {
                return Err(StoreError::ConditionFailed);
            }
            match w {
                Write::Put { item, .. } => {
                    check_size(item)?;
                    planned.push((key, Some(item.clone())));
                }
                Write::Delete { .. } => planned.push((key, None)),
                Write::Update { update, .. } => {
                    let new = apply_update(self.spec, &key, current, update)?;
                    planned.push((key, Some(new)));
                }
                Write::Check { .. } => {}
            }
        }
        for (key, item) in planned {
            match item {
                Some(it) => inner.insert(self.spec, key, it),
                None => {
                    inner.remove(self.spec, &key);
                }
            }
        }
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

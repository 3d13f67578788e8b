//! A table seen through one namespace: every partition key it writes, reads or queries — the
//! table's and each index's — gets `prefix` in front, and items come back with it taken off.
//! A domain module handed a scoped table works exactly as on the whole table, but cannot
//! name an item outside its namespace: this is how an app's entities are kept apart from
//! every other app's (`crate::tenant`).
//!
//! Cursors pass through untouched: they carry the prefixed key, and the store refuses one
//! whose partition is not the query's, so a cursor from another namespace is invalid here.

use super::schema::TableSpec;
use super::{Cond, Item, Key, Page, Query, StoreError, Table, Update, Value, Write};
use async_trait::async_trait;
use std::sync::Arc;

pub struct Scoped {
    inner: Arc<dyn Table>,
    prefix: String,
    /// The partition-key attributes: the table's and every index's.
    pks: Vec<&'static str>,
}

impl Scoped {
    pub fn new(inner: Arc<dyn Table>, spec: &TableSpec, prefix: impl Into<String>) -> Self {
        let mut pks = vec![spec.pk];
        pks.extend(spec.indexes.iter().map(|i| i.pk));
        Scoped { inner, prefix: prefix.into(), pks }
    }

    fn scoped(&self, pk: &str) -> String {
        let mut s = String::with_capacity(self.prefix.len() + pk.len());
        s.push_str(&self.prefix);
        s.push_str(pk);
        s
    }

    fn key(&self, k: &Key) -> Key {
        Key { pk: self.scoped(&k.pk), sk: k.sk.clone() }
    }

    fn item_in(&self, mut it: Item) -> Item {
        for a in &self.pks {
            if let Some(Value::S(s)) = it.get_mut(*a) {
                *s = self.scoped(s);
            }
        }
        it
    }

    fn item_out(&self, mut it: Item) -> Item {
        for a in &self.pks {
            if let Some(Value::S(s)) = it.get_mut(*a)
                && let Some(rest) = s.strip_prefix(self.prefix.as_str())
            {
                *s = rest.to_owned();
            }
        }
        it
    }

    fn update_in(&self, mut u: Update) -> Update {
        for (a, v) in &mut u.set {
            if let Value::S(s) = v
                && self.pks.contains(&a.as_str())
            {
                *s = self.scoped(s);
            }
        }
        u
    }

    fn write_in(&self, w: Write) -> Write {
        match w {
            Write::Put { item, cond } => Write::Put { item: self.item_in(item), cond },
            Write::Delete { key, cond } => Write::Delete { key: self.key(&key), cond },
            Write::Update { key, update, cond } => {
                Write::Update { key: self.key(&key), update: self.update_in(update), cond }
            }
            Write::Check { key, cond } => Write::Check { key: self.key(&key), cond },
        }
    }
}

#[async_trait]
impl Table for Scoped {
    fn describe(&self) -> String {
        format!("{} (namespace {})", self.inner.describe(), self.prefix)
    }

    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        Ok(self.inner.get(&self.key(key)).await?.map(|it| self.item_out(it)))
    }

    async fn put(&self, item: Item, cond: Option<Cond>) -> Result<(), StoreError> {
        self.inner.put(self.item_in(item), cond).await
    }

    async fn delete(&self, key: &Key, cond: Option<Cond>) -> Result<Option<Item>, StoreError> {
        Ok(self.inner.delete(&self.key(key), cond).await?.map(|it| self.item_out(it)))
    }

    async fn update(&self, key: &Key, update: Update, cond: Option<Cond>) -> Result<Item, StoreError> {
        Ok(self.item_out(self.inner.update(&self.key(key), self.update_in(update), cond).await?))
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let q = Query { pk: self.scoped(&query.pk), ..query.clone() };
        let page = self.inner.query(&q).await?;
        Ok(Page { items: page.items.into_iter().map(|it| self.item_out(it)).collect(), next: page.next })
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.inner.transact(writes.into_iter().map(|w| self.write_in(w)).collect()).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::memory::MemoryTable;
    use crate::store::schema::{GSI1, MAIN};
    use crate::store::{SortKey, query_all};

    fn item(pk: &str, sk: &str, gsi: Option<&str>) -> Item {
        let mut it = Item::from([("pk".into(), Value::S(pk.into())), ("sk".into(), Value::S(sk.into()))]);
        if let Some(g) = gsi {
            it.insert("gsi1pk".into(), Value::S(g.into()));
            it.insert("gsi1sk".into(), Value::S(sk.into()));
        }
        it
    }

    fn setup() -> (Arc<dyn Table>, Scoped, Scoped) {
        let root: Arc<dyn Table> = Arc::new(MemoryTable::new(&MAIN, Arc::new(ManualClock::new(0))));
        let a = Scoped::new(root.clone(), &MAIN, "APP#a#");
        let b = Scoped::new(root.clone(), &MAIN, "APP#b#");
        (root, a, b)
    }

    #[tokio::test]
    async fn the_same_key_in_two_namespaces_is_two_items() {
        let (root, a, b) = setup();
        a.put(item("USER#bob", "META", None), Some(Cond::NotExists)).await.unwrap();
        b.put(item("USER#bob", "META", None), Some(Cond::NotExists)).await.unwrap();
        let back = a.get(&Key::new("USER#bob", "META")).await.unwrap().unwrap();
        assert_eq!(back.get("pk"), Some(&Value::S("USER#bob".into())), "the prefix is taken off");
        assert!(root.get(&Key::new("USER#bob", "META")).await.unwrap().is_none(), "nothing unscoped");
        assert!(root.get(&Key::new("APP#a#USER#bob", "META")).await.unwrap().is_some());
        b.delete(&Key::new("USER#bob", "META"), None).await.unwrap();
        assert!(a.get(&Key::new("USER#bob", "META")).await.unwrap().is_some(), "b's delete left a's item");
    }

    #[tokio::test]
    async fn index_queries_and_updates_stay_in_the_namespace() {
        let (_, a, b) = setup();
        for (t, n) in [(&a, "1"), (&a, "2"), (&b, "3")] {
            t.put(item(&format!("ROOM#{n}"), "META", Some("ROOMS")), None).await.unwrap();
        }
        let listed = query_all(&a, Query::index(GSI1, "ROOMS").limit(1)).await.unwrap();
        assert_eq!(listed.len(), 2, "paged through a's rooms only");
        assert!(listed.iter().all(|it| it.get("gsi1pk") == Some(&Value::S("ROOMS".into()))));
        // An update that moves an item into an index partition moves it inside the namespace.
        b.update(&Key::new("ROOM#3", "META"), Update::default().set("gsi1pk", "OTHER"), None).await.unwrap();
        assert_eq!(query_all(&b, Query::index(GSI1, "OTHER")).await.unwrap().len(), 1);
        assert_eq!(query_all(&a, Query::index(GSI1, "OTHER")).await.unwrap().len(), 0);
        let q = Query::table("ROOM#1").sk(SortKey::Any);
        assert_eq!(query_all(&b, q).await.unwrap().len(), 0, "b cannot see a's room partition");
    }

    #[tokio::test]
    async fn a_cursor_from_another_namespace_is_refused() {
        let (_, a, b) = setup();
        for n in 0..3 {
            a.put(item("H#u", &format!("{n}"), None), None).await.unwrap();
            b.put(item("H#u", &format!("{n}"), None), None).await.unwrap();
        }
        let page = a.query(&Query::table("H#u").limit(1)).await.unwrap();
        let next = page.next.expect("more pages");
        assert!(a.query(&Query::table("H#u").limit(1).after(Some(next.clone()))).await.is_ok());
        let err = b.query(&Query::table("H#u").limit(1).after(Some(next))).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    }

    #[tokio::test]
    async fn transactions_write_and_check_inside_the_namespace() {
        let (root, a, _) = setup();
        a.transact(vec![
            Write::Put { item: item("X#1", "A", None), cond: Some(Cond::NotExists) },
            Write::Update { key: Key::new("X#1", "B"), update: Update::default().add("n", 1), cond: None },
        ])
        .await
        .unwrap();
        assert_eq!(query_all(root.as_ref(), Query::table("APP#a#X#1")).await.unwrap().len(), 2);
        let again = a
            .transact(vec![
                Write::Check { key: Key::new("X#1", "A"), cond: Cond::NotExists },
                Write::Delete { key: Key::new("X#1", "B"), cond: None },
            ])
            .await;
        assert_eq!(again, Err(StoreError::ConditionFailed));
        assert!(a.get(&Key::new("X#1", "B")).await.unwrap().is_some(), "a failed transaction wrote nothing");
    }
}

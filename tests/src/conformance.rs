//! The store conformance suite. Each case takes a fresh, empty table and the manual clock
//! that table reads time from; [`conformance_suite!`](crate::conformance_suite) turns every
//! case into a `#[tokio::test]` for one backend.

use std::sync::Arc;
use stratus_core::clock::ManualClock;
use stratus_core::store::schema::GSI1;
use stratus_core::store::value::item;
use stratus_core::store::{
    CmpOp, Cond, Item, Key, MAX_ITEM_BYTES, Query, SortKey, StoreError, Table, Update, Value, Write,
};

pub type Tbl = Arc<dyn Table>;

fn it(pk: &str, sk: &str) -> Item {
    item([("pk", pk.into()), ("sk", sk.into())])
}

fn with(mut i: Item, attr: &str, v: impl Into<Value>) -> Item {
    i.insert(attr.to_owned(), v.into());
    i
}

fn sks(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i["sk"].as_str().unwrap_or_default().to_owned()).collect()
}

/// Reads every page of `q`, checking each stays within the limit.
async fn all_pages(t: &Tbl, q: Query) -> Vec<Item> {
    let mut out = Vec::new();
    let mut q = q;
    for _ in 0..1000 {
        let page = t.query(&q).await.expect("query");
        assert!(page.items.len() <= q.limit as usize, "page over its limit");
        out.extend(page.items);
        match page.next {
            Some(c) => q.cursor = Some(c),
            None => return out,
        }
    }
    panic!("pagination did not end");
}

pub async fn put_get_delete_round_trip(t: Tbl, _clock: ManualClock) {
    let key = Key::new("U#1", "PROFILE");
    assert_eq!(t.get(&key).await.unwrap(), None);
    let v = with(
        with(with(it("U#1", "PROFILE"), "name", "Ada"), "n", 42),
        "nested",
        Value::M([("l".to_owned(), Value::L(vec![Value::Bool(true), Value::Null, Value::N(-7)]))].into()),
    );
    t.put(v.clone(), None).await.unwrap();
    assert_eq!(t.get(&key).await.unwrap(), Some(v.clone()));
    // An unconditional put replaces the whole item.
    let v2 = with(it("U#1", "PROFILE"), "name", "Grace");
    t.put(v2.clone(), None).await.unwrap();
    assert_eq!(t.get(&key).await.unwrap(), Some(v2.clone()));
    assert_eq!(t.delete(&key, None).await.unwrap(), Some(v2));
    assert_eq!(t.get(&key).await.unwrap(), None);
    assert_eq!(t.delete(&key, None).await.unwrap(), None, "deleting an absent item is not an error");
}

pub async fn conditional_create_fails_on_an_existing_item(t: Tbl, _clock: ManualClock) {
    let first = with(it("C#1", "META"), "owner", "a");
    t.put(first.clone(), Some(Cond::NotExists)).await.unwrap();
    let second = with(it("C#1", "META"), "owner", "b");
    assert_eq!(t.put(second, Some(Cond::NotExists)).await, Err(StoreError::ConditionFailed));
    assert_eq!(t.get(&Key::new("C#1", "META")).await.unwrap(), Some(first), "the loser wrote nothing");
}

pub async fn concurrent_conditional_creates_have_exactly_one_winner(t: Tbl, _clock: ManualClock) {
    let mut tasks = Vec::new();
    for i in 0..16 {
        let t = t.clone();
        tasks.push(tokio::spawn(
            async move { t.put(with(it("RACE", "ONE"), "by", i as i64), Some(Cond::NotExists)).await },
        ));
    }
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => wins += 1,
            Err(StoreError::ConditionFailed) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(wins, 1);
}

pub async fn conditional_writes_check_attributes(t: Tbl, _clock: ManualClock) {
    let key = Key::new("CALL#1", "META");
    t.put(with(it("CALL#1", "META"), "status", "ringing"), None).await.unwrap();
    // Compare-and-set: only the first of two answers moves ringing → active.
    let answer = Update::default().set("status", "active");
    let ringing = Cond::eq("status", "ringing");
    t.update(&key, answer.clone(), Some(ringing.clone())).await.unwrap();
    assert_eq!(t.update(&key, answer, Some(ringing.clone())).await, Err(StoreError::ConditionFailed));
    assert_eq!(t.delete(&key, Some(ringing)).await, Err(StoreError::ConditionFailed));
    assert!(t.get(&key).await.unwrap().is_some(), "a failed conditional delete keeps the item");
    let active_or_ended = Cond::eq("status", "active").or(Cond::eq("status", "ended"));
    assert!(t.delete(&key, Some(active_or_ended)).await.unwrap().is_some());
    // Conditions on an absent item: Exists fails, comparisons are false.
    assert_eq!(t.delete(&key, Some(Cond::Exists)).await, Err(StoreError::ConditionFailed));
    let absent_ok = Cond::Not(Box::new(Cond::eq("status", "x")));
    t.put(it("CALL#1", "META"), Some(absent_ok)).await.unwrap();
}

pub async fn updates_create_set_add_and_remove(t: Tbl, _clock: ManualClock) {
    let key = Key::new("RL#u1", "W#1");
    let got = t.update(&key, Update::default().add("count", 1).set("kind", "calls"), None).await.unwrap();
    assert_eq!(got, with(with(it("RL#u1", "W#1"), "count", 1), "kind", "calls"));
    let got = t.update(&key, Update::default().add("count", 2), None).await.unwrap();
    assert_eq!(got["count"], Value::N(3));
    let limit = Cond::cmp("count", CmpOp::Lt, 3);
    assert_eq!(t.update(&key, Update::default().add("count", 1), Some(limit)).await, Err(StoreError::ConditionFailed));
    let got = t.update(&key, Update::default().remove("kind"), None).await.unwrap();
    assert!(!got.contains_key("kind"));
    assert_eq!(t.get(&key).await.unwrap(), Some(got));
    assert!(matches!(t.update(&key, Update::default().set("pk", "x"), None).await, Err(StoreError::Invalid(_))));
}

pub async fn expired_items_read_as_absent(t: Tbl, clock: ManualClock) {
    let now = clock.now_secs_pub();
    t.put(with(it("S#1", "A"), "ttl", now + 10), None).await.unwrap();
    t.put(with(it("S#1", "B"), "ttl", now + 100), None).await.unwrap();
    t.put(it("S#1", "C"), None).await.unwrap();
    assert!(t.get(&Key::new("S#1", "A")).await.unwrap().is_some());
    clock.advance_secs(10);
    assert_eq!(t.get(&Key::new("S#1", "A")).await.unwrap(), None, "expired at its TTL second");
    assert_eq!(sks(&all_pages(&t, Query::table("S#1")).await), ["B", "C"]);
    assert_eq!(t.delete(&Key::new("S#1", "A"), None).await.unwrap(), None);
    clock.advance_secs(1000);
    assert_eq!(sks(&all_pages(&t, Query::table("S#1")).await), ["C"], "items without TTL never expire");
}

pub async fn conditional_create_succeeds_over_an_expired_item(t: Tbl, clock: ManualClock) {
    let now = clock.now_secs_pub();
    t.put(with(with(it("LOCK#r", "L"), "ttl", now + 5), "holder", "a"), Some(Cond::NotExists)).await.unwrap();
    let b = with(with(it("LOCK#r", "L"), "ttl", now + 60), "holder", "b");
    assert_eq!(t.put(b.clone(), Some(Cond::NotExists)).await, Err(StoreError::ConditionFailed));
    clock.advance_secs(5);
    t.put(b.clone(), Some(Cond::NotExists)).await.unwrap();
    assert_eq!(t.get(&Key::new("LOCK#r", "L")).await.unwrap(), Some(b));
    // Conditions that need the item see an expired one as absent.
    clock.advance_secs(60);
    assert_eq!(t.delete(&Key::new("LOCK#r", "L"), Some(Cond::Exists)).await, Err(StoreError::ConditionFailed));
}

pub async fn updates_on_an_expired_item_start_from_nothing(t: Tbl, clock: ManualClock) {
    let now = clock.now_secs_pub();
    let key = Key::new("RL#u2", "W");
    t.update(&key, Update::default().add("count", 9).set("ttl", now + 60).set("old", true), None).await.unwrap();
    clock.advance_secs(61);
    let fresh = t.update(&key, Update::default().add("count", 1).set("ttl", now + 200), Some(Cond::NotExists)).await;
    let fresh = fresh.expect("an expired item counts as absent");
    assert_eq!(fresh["count"], Value::N(1));
    assert!(!fresh.contains_key("old"), "nothing of the expired item survives");
}

pub async fn queries_page_through_a_partition_in_sort_order(t: Tbl, _clock: ManualClock) {
    for i in 0..23 {
        t.put(with(it("ROOM#1", &format!("M#{i:03}")), "i", i as i64), None).await.unwrap();
    }
    t.put(it("ROOM#2", "M#000"), None).await.unwrap();
    let want: Vec<String> = (0..23).map(|i| format!("M#{i:03}")).collect();
    let fwd = all_pages(&t, Query::table("ROOM#1").limit(5)).await;
    assert_eq!(sks(&fwd), want);
    let mut rev_want = want.clone();
    rev_want.reverse();
    let back = all_pages(&t, Query::table("ROOM#1").limit(7).backward()).await;
    assert_eq!(sks(&back), rev_want);
    let first = t.query(&Query::table("ROOM#1").limit(5)).await.unwrap();
    assert_eq!(first.items.len(), 5, "a full first page");
    assert!(first.next.is_some());
    let one_page = t.query(&Query::table("ROOM#1").limit(100)).await.unwrap();
    assert_eq!(one_page.items.len(), 23);
    assert!(one_page.next.is_none(), "no cursor when the partition is exhausted");
}

pub async fn sort_key_conditions_select_ranges(t: Tbl, _clock: ManualClock) {
    for sk in ["A#1", "A#2", "B#1", "B#2", "C#1"] {
        t.put(it("P", sk), None).await.unwrap();
    }
    let q = |sk| all_pages(&t, Query::table("P").sk(sk).limit(2));
    assert_eq!(sks(&q(SortKey::BeginsWith("B#".into())).await), ["B#1", "B#2"]);
    assert_eq!(sks(&q(SortKey::Between("A#2".into(), "B#2".into())).await), ["A#2", "B#1", "B#2"]);
    assert_eq!(sks(&q(SortKey::Lt("B#".into())).await), ["A#1", "A#2"]);
    assert_eq!(sks(&q(SortKey::Gt("B#2".into())).await), ["C#1"]);
    assert_eq!(sks(&q(SortKey::Eq("A#2".into())).await), ["A#2"]);
    // Backward, page by page, each condition still holds its range (and nothing beyond it).
    let back = |sk| all_pages(&t, Query::table("P").sk(sk).limit(2).backward());
    assert_eq!(sks(&back(SortKey::BeginsWith("B#".into())).await), ["B#2", "B#1"]);
    assert_eq!(sks(&back(SortKey::Between("A#2".into(), "B#2".into())).await), ["B#2", "B#1", "A#2"]);
    assert_eq!(sks(&back(SortKey::Lt("B#".into())).await), ["A#2", "A#1"]);
    assert_eq!(sks(&back(SortKey::Gt("B#2".into())).await), ["C#1"]);
    // Keys past ASCII order by their UTF-8 bytes, prefixes included.
    for sk in ["R#a", "R#\u{1F44D}", "R#~", "S"] {
        t.put(it("P", sk), None).await.unwrap();
    }
    assert_eq!(sks(&q(SortKey::BeginsWith("R#".into())).await), ["R#a", "R#~", "R#\u{1F44D}"]);
    assert_eq!(sks(&back(SortKey::BeginsWith("R#".into())).await), ["R#\u{1F44D}", "R#~", "R#a"]);
    assert_eq!(sks(&q(SortKey::Between("R#".into(), "R$".into())).await), ["R#a", "R#~", "R#\u{1F44D}"]);
}

pub async fn index_queries_page_by_the_index_keys(t: Tbl, clock: ManualClock) {
    let now = clock.now_secs_pub();
    // Calls of user u1 across partitions, indexed by user and time.
    for i in 0..12 {
        let mut v = with(it(&format!("CALL#{i}"), "META"), "gsi1pk", "USER#u1");
        v = with(v, "gsi1sk", format!("T#{:04}", 100 - i));
        if i == 3 {
            v = with(v, "ttl", now + 1);
        }
        t.put(v, None).await.unwrap();
    }
    t.put(with(with(it("CALL#x", "META"), "gsi1pk", "USER#u2"), "gsi1sk", "T#0001"), None).await.unwrap();
    t.put(it("CALL#y", "META"), None).await.unwrap(); // not in the index
    clock.advance_secs(1);
    let got = all_pages(&t, Query::index(GSI1, "USER#u1").limit(4)).await;
    let order: Vec<String> = got.iter().map(|i| i["pk"].as_str().unwrap().to_owned()).collect();
    let want: Vec<String> = (0..12).rev().filter(|i| *i != 3).map(|i| format!("CALL#{i}")).collect();
    assert_eq!(order, want, "ascending by gsi1sk, expired item skipped");
    let newest = t.query(&Query::index(GSI1, "USER#u1").limit(2).backward()).await.unwrap();
    assert_eq!(newest.items[0]["pk"], Value::S("CALL#0".into()));
}

pub async fn invalid_cursors_and_limits_are_refused(t: Tbl, _clock: ManualClock) {
    for i in 0..3 {
        t.put(it("Q", &i.to_string()), None).await.unwrap();
    }
    let page = t.query(&Query::table("Q").limit(1)).await.unwrap();
    let cursor = page.next.expect("more pages");
    let other_partition = t.query(&Query::table("OTHER").after(Some(cursor))).await;
    assert!(matches!(other_partition, Err(StoreError::Invalid(_))), "a cursor is bound to its partition");
    let garbage = t.query(&Query::table("Q").after(Some("!!not-a-cursor".into()))).await;
    assert!(matches!(garbage, Err(StoreError::Invalid(_))));
    assert!(matches!(t.query(&Query::table("Q").limit(0)).await, Err(StoreError::Invalid(_))));
}

pub async fn oversized_items_are_refused_and_nothing_is_written(t: Tbl, _clock: ManualClock) {
    let big = with(it("BIG", "1"), "blob", "x".repeat(MAX_ITEM_BYTES + 1));
    assert!(matches!(t.put(big, None).await, Err(StoreError::Invalid(_))));
    assert_eq!(t.get(&Key::new("BIG", "1")).await.unwrap(), None);
    // An update that would grow an item past the limit changes nothing either.
    t.put(with(it("BIG", "2"), "a", "x".repeat(MAX_ITEM_BYTES / 2)), None).await.unwrap();
    let grow = Update::default().set("b", "y".repeat(MAX_ITEM_BYTES / 2 + 16));
    assert!(matches!(t.update(&Key::new("BIG", "2"), grow, None).await, Err(StoreError::Invalid(_))));
    assert!(!t.get(&Key::new("BIG", "2")).await.unwrap().unwrap().contains_key("b"));
    let keyless = item([("pk", "only-pk".into())]);
    assert!(matches!(t.put(keyless, None).await, Err(StoreError::Invalid(_))));
}

pub async fn transactions_are_all_or_nothing(t: Tbl, _clock: ManualClock) {
    t.put(with(it("CALL#t", "META"), "status", "ringing"), None).await.unwrap();
    let answer = |by: &str| {
        vec![
            Write::Update {
                key: Key::new("CALL#t", "META"),
                update: Update::default().set("status", "active").set("answered_by", by),
                cond: Some(Cond::eq("status", "ringing")),
            },
            Write::Put { item: with(it("USER#bob", "ACTIVE"), "call", "t"), cond: Some(Cond::NotExists) },
        ]
    };
    t.transact(answer("bob")).await.unwrap();
    assert_eq!(t.transact(answer("bob2")).await, Err(StoreError::ConditionFailed));
    let call = t.get(&Key::new("CALL#t", "META")).await.unwrap().unwrap();
    assert_eq!(call["answered_by"], Value::S("bob".into()), "the failed transaction changed nothing");
    // A failing check cancels every other write of the transaction.
    let res = t
        .transact(vec![
            Write::Put { item: it("NEW", "1"), cond: None },
            Write::Delete { key: Key::new("USER#bob", "ACTIVE"), cond: None },
            Write::Check { key: Key::new("CALL#t", "META"), cond: Cond::eq("status", "ended") },
        ])
        .await;
    assert_eq!(res, Err(StoreError::ConditionFailed));
    assert_eq!(t.get(&Key::new("NEW", "1")).await.unwrap(), None);
    assert!(t.get(&Key::new("USER#bob", "ACTIVE")).await.unwrap().is_some());
    t.transact(vec![
        Write::Delete { key: Key::new("USER#bob", "ACTIVE"), cond: Some(Cond::Exists) },
        Write::Check { key: Key::new("CALL#t", "META"), cond: Cond::eq("status", "active") },
    ])
    .await
    .unwrap();
    assert_eq!(t.get(&Key::new("USER#bob", "ACTIVE")).await.unwrap(), None);
}

pub async fn ping_answers(t: Tbl, _clock: ManualClock) {
    t.ping().await.unwrap();
    assert!(!t.describe().is_empty());
}

/// `ManualClock::now_secs` through the trait, without importing it in every case.
trait NowSecs {
    fn now_secs_pub(&self) -> i64;
}

impl NowSecs for ManualClock {
    fn now_secs_pub(&self) -> i64 {
        stratus_core::clock::Clock::now_secs(self)
    }
}

/// Instantiates every conformance case as a test. `$make` is an async fn
/// `(ManualClock) -> Arc<dyn Table>` returning a fresh, empty table on that clock.
#[macro_export]
macro_rules! conformance_suite {
    ($make:path) => {
        $crate::conformance_suite!(@cases $make;
            put_get_delete_round_trip,
            conditional_create_fails_on_an_existing_item,
            concurrent_conditional_creates_have_exactly_one_winner,
            conditional_writes_check_attributes,
            updates_create_set_add_and_remove,
            expired_items_read_as_absent,
            conditional_create_succeeds_over_an_expired_item,
            updates_on_an_expired_item_start_from_nothing,
            queries_page_through_a_partition_in_sort_order,
            sort_key_conditions_select_ranges,
            index_queries_page_by_the_index_keys,
            invalid_cursors_and_limits_are_refused,
            oversized_items_are_refused_and_nothing_is_written,
            transactions_are_all_or_nothing,
            ping_answers,
        );
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let clock = ::stratus_core::clock::ManualClock::at_system_time();
                let table = $make(clock.clone()).await;
                $crate::conformance::$case(table, clock).await;
            }
        )*
    };
}

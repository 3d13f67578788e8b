//! A user's partition: connection slots, presence, the active-call lock.

use crate::store::value::item;
use crate::store::{Cond, Item, Key, Query, SortKey, Value};

const SLOT: &str = "SLOT#";

fn pk(user: &str) -> String {
    format!("USER#{user}")
}

/// One of the user's `max_connections` connection slots.
pub fn slot(user: &str, n: u32) -> Key {
    Key::new(pk(user), slot_sk(n))
}

/// The slot item: held by connection `conn` until `ttl` (epoch seconds).
pub fn slot_item(user: &str, n: u32, conn: &str, ttl: i64) -> Item {
    let k = slot(user, n);
    item([("pk", Value::S(k.pk)), ("sk", Value::S(k.sk)), (HOLDER, Value::S(conn.to_owned())), ("ttl", Value::N(ttl))])
}

/// The connection holding a slot item.
pub fn slot_holder(it: &Item) -> Option<&str> {
    it.get(HOLDER).and_then(Value::as_str)
}

/// A condition that holds while `conn` still holds the slot (a newer connection may have it).
pub fn slot_held_by(conn: &str) -> Cond {
    Cond::eq(HOLDER, conn)
}

const HOLDER: &str = "conn";

pub fn slot_sk(n: u32) -> String {
    format!("{SLOT}{n}")
}

pub fn slots(user: &str) -> Query {
    Query::table(pk(user)).sk(SortKey::BeginsWith(SLOT.into()))
}

pub fn presence(user: &str) -> Key {
    Key::new(pk(user), "PRESENCE")
}

pub fn active_call(user: &str) -> Key {
    Key::new(pk(user), "ACTIVECALL")
}

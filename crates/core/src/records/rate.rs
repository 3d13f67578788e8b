//! A per-user, per-limit, per-minute counter: `RATE#<u>#<limit>` / `M#<minute>`.

use crate::store::{CmpOp, Cond, Item, Key, Update};

pub fn key(user: &str, limit: &str, minute: i64) -> Key {
    Key::new(format!("RATE#{user}#{limit}"), format!("M#{minute}"))
}

/// While the counter is below `limit` (or not counted yet).
pub fn below(limit: i64) -> Cond {
    Cond::AttrNotExists(N.into()).or(Cond::cmp(N, CmpOp::Lt, limit))
}

/// One more, the counter living until `ttl` (epoch seconds).
pub fn counted(ttl: i64) -> Update {
    Update::default().add(N, 1).set("ttl", ttl)
}

const N: &str = "n";

/// How many a counter item holds.
pub fn count(it: &Item) -> i64 {
    it.get(N).and_then(crate::store::Value::as_n).unwrap_or(0)
}

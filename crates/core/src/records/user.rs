//! A user's partition: connection slots, presence, the active-call lock.

use crate::store::{Key, Query, SortKey};

const SLOT: &str = "SLOT#";

fn pk(user: &str) -> String {
    format!("USER#{user}")
}

/// One of the user's `max_connections` connection slots.
pub fn slot(user: &str, n: u32) -> Key {
    Key::new(pk(user), slot_sk(n))
}

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

//! A user's partition: connection slots (`SLOT#<n>`), presence (`PRESENCE`), the active-call
//! lock (`ACTIVECALL`).

use super::codec;
use crate::clock::Millis;
use crate::store::{Cond, Item, Key, Query, SortKey, Update};
use serde::{Deserialize, Serialize};
use stratus_protocol::ids::{CallId, ConnectionId};

const SLOT: &str = "SLOT#";

fn pk(user: &str) -> String {
    format!("USER#{user}")
}

/// One of the user's `max_connections` connection slots.
pub fn slot(user: &str, n: u32) -> Key {
    Key::new(pk(user), format!("{SLOT}{n}"))
}

pub fn slots(user: &str) -> Query {
    Query::table(pk(user)).sk(SortKey::BeginsWith(SLOT.into()))
}

/// A slot: held by connection `conn` until `ttl` (epoch seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub conn: ConnectionId,
    #[serde(default)]
    pub ttl: i64,
}

pub fn encode_slot(user: &str, n: u32, slot_: &Slot) -> Item {
    codec::encode(slot(user, n), slot_)
}

/// A slot item's number and holder.
pub fn decode_slot(it: &Item) -> Option<(u32, Slot)> {
    let n = super::sk_id(it, SLOT)?.parse().ok()?;
    Some((n, codec::decode(it)?))
}

/// While `conn` still holds the slot (a newer connection may have it).
pub fn slot_held_by(conn: &str) -> Cond {
    Cond::eq("conn", conn)
}

pub fn presence(user: &str) -> Key {
    Key::new(pk(user), "PRESENCE")
}

/// What the user set and when they were last seen; every field may be unset.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Presence {
    pub status: Option<String>,
    pub message: Option<String>,
    pub last_seen: Option<Millis>,
    pub updated_at: Option<Millis>,
}

pub fn decode_presence(it: &Item) -> Option<Presence> {
    codec::decode(it)
}

/// Seen at `now` (a connect or a disconnect).
pub fn seen(now: Millis) -> Update {
    Update::default().set(LAST_SEEN, now)
}

/// The user chose `status` (and a message, or none) at `now`.
pub fn chose(status: &str, message: Option<&str>, now: Millis) -> Update {
    let u = Update::default().set("status", status).set(LAST_SEEN, now).set("updated_at", now);
    match message {
        Some(m) => u.set(MESSAGE, m),
        None => u.remove(MESSAGE),
    }
}

const LAST_SEEN: &str = "last_seen";
const MESSAGE: &str = "message";

pub fn active_call(user: &str) -> Key {
    Key::new(pk(user), "ACTIVECALL")
}

/// The lock that keeps a user in one call at a time, until `ttl` (epoch seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveCall {
    pub call_id: CallId,
    #[serde(default)]
    pub ttl: i64,
}

pub fn encode_active_call(user: &str, lock: &ActiveCall) -> Item {
    codec::encode(active_call(user), lock)
}

pub fn decode_active_call(it: &Item) -> Option<ActiveCall> {
    codec::decode(it)
}

/// While the lock is call `id`'s.
pub fn locked_by(id: &str) -> Cond {
    Cond::eq(CALL_ID, id)
}

/// The lock held until `ttl`.
pub fn lock_until(ttl: i64) -> Update {
    Update::default().set("ttl", ttl)
}

const CALL_ID: &str = "call_id";

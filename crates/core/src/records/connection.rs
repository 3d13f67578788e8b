//! A WebSocket connection's partition: its record, the P2P rooms it is in, its group room.

use crate::store::{Key, Query, SortKey};

fn pk(c: &str) -> String {
    format!("CONN#{c}")
}

pub fn meta(c: &str) -> Key {
    Key::new(pk(c), "META")
}

/// The connection's side of a P2P room membership (so a disconnect finds its rooms).
pub fn room(c: &str, room: &str) -> Key {
    Key::new(pk(c), format!("{ROOM_PREFIX}{room}"))
}

/// Its group-room membership (kept by `crate::sfu`).
pub fn group_room(c: &str) -> Key {
    Key::new(pk(c), GROUP_ROOM)
}

/// Everything the connection holds.
pub fn all(c: &str) -> Query {
    Query::table(pk(c))
}

/// The P2P rooms it is in.
pub fn rooms(c: &str) -> Query {
    Query::table(pk(c)).sk(SortKey::BeginsWith(ROOM_PREFIX.into()))
}

const ROOM_PREFIX: &str = "ROOM#";
const GROUP_ROOM: &str = "SFU";

/// What one item of a connection's partition is, by its sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item<'a> {
    Meta,
    Room(&'a str),
    GroupRoom,
    Other,
}

pub fn item(sk: &str) -> Item<'_> {
    match sk {
        "META" => Item::Meta,
        GROUP_ROOM => Item::GroupRoom,
        _ => sk.strip_prefix(ROOM_PREFIX).map_or(Item::Other, Item::Room),
    }
}

/// The sweeper's index partition (`gsi1pk`) for connections opened in `hour`.
pub fn sweep_partition(hour: i64, shard: u32) -> String {
    format!("CONNS#{hour}#{shard}")
}

//! A P2P room's members (so a broadcast finds the room's peers).

use crate::store::{Key, Query, SortKey};

const MEMBER: &str = "MEMBER#";

pub fn member(room: &str, c: &str) -> Key {
    Key::new(format!("ROOM#{room}"), format!("{MEMBER}{c}"))
}

pub fn members(room: &str) -> Query {
    Query::table(format!("ROOM#{room}")).sk(SortKey::BeginsWith(MEMBER.into()))
}

/// The connection id of a member item's sort key.
pub fn member_of(sk: &str) -> &str {
    sk.strip_prefix(MEMBER).unwrap_or(sk)
}

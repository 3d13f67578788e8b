//! A P2P room's members (so a broadcast finds the room's peers): `ROOM#<r>` / `MEMBER#<c>`,
//! holding a [`Membership`](super::connection::Membership).

use crate::store::{Item, Key, Query, SortKey};
use stratus_protocol::ids::ConnectionId;

const MEMBER: &str = "MEMBER#";

pub fn member(room: &str, c: &str) -> Key {
    Key::new(format!("ROOM#{room}"), format!("{MEMBER}{c}"))
}

pub fn members(room: &str) -> Query {
    Query::table(format!("ROOM#{room}")).sk(SortKey::BeginsWith(MEMBER.into()))
}

/// The connection id of a member item.
pub fn member_of(it: &Item) -> Option<ConnectionId> {
    super::sk_id(it, MEMBER).map(ConnectionId::from)
}

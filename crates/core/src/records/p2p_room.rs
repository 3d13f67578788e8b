//! A P2P room's members (so a broadcast finds the room's peers): `ROOM#<r>` / `MEMBER#<peer>`,
//! holding a [`Membership`](super::connection::Membership) that names the member's connection.
//! Keyed by the peer id others address it by (`crate::p2p::peer_id`), so a relay to a peer is
//! one read of this item.

use crate::store::{Item, Key, Query, SortKey};
use stratus_protocol::ids::{ConnectionId, PeerId};

const MEMBER: &str = "MEMBER#";

pub fn member(room: &str, peer: &str) -> Key {
    Key::new(format!("ROOM#{room}"), format!("{MEMBER}{peer}"))
}

pub fn members(room: &str) -> Query {
    Query::table(format!("ROOM#{room}")).sk(SortKey::BeginsWith(MEMBER.into()))
}

/// The peer id and connection of a member item.
pub fn member_of(it: &Item) -> Option<(PeerId, ConnectionId)> {
    let peer = super::sk_id(it, MEMBER).map(PeerId::from)?;
    Some((peer, conn_of(it)?))
}

/// Just the connection of a member item (a relay's target: read on every relay, so the
/// one attribute rather than the whole record).
pub fn conn_of(it: &Item) -> Option<ConnectionId> {
    it.get(CONN).and_then(crate::store::Value::as_str).map(ConnectionId::from)
}

/// The [`Membership`](super::connection::Membership) field naming the member's connection.
const CONN: &str = "conn";

//! A WebSocket connection's partition, in its app's namespace: its record (`META`), the P2P
//! rooms it is in (`ROOM#<r>`), its group room (`SFU`). Outside every namespace, one item
//! says which app the connection belongs to (`CONN#<c>` / `APP`, indexed by `gsi1` =
//! `CONNS#<hour>#<shard>` / `<c>` for the sweeper): API Gateway names connections
//! deployment-wide and a message or `$disconnect` carries nothing else, so the front door
//! reads this first and works in that app's namespace from there on.

use super::codec;
use crate::clock::Millis;
use crate::store::schema::GSI1;
use crate::store::{CmpOp, Cond, Item, Key, Query, SortKey, Update};
use serde::{Deserialize, Serialize};
use stratus_protocol::ids::{AppId, ConnectionId, RoomId, UserId};

fn pk(c: &str) -> String {
    format!("{PK}{c}")
}

const PK: &str = "CONN#";

pub fn meta(c: &str) -> Key {
    Key::new(pk(c), "META")
}

/// Which app connection `c` belongs to (on the whole table, not in a namespace).
pub fn owner(c: &str) -> Key {
    Key::new(pk(c), OWNER)
}

const OWNER: &str = "APP";

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
pub enum Kind {
    Meta,
    /// A P2P room it is in.
    Room(RoomId),
    GroupRoom,
    Other,
}

pub fn kind(it: &Item) -> Kind {
    match it.get("sk").and_then(crate::store::Value::as_str) {
        Some("META") => Kind::Meta,
        Some(GROUP_ROOM) => Kind::GroupRoom,
        Some(sk) => sk.strip_prefix(ROOM_PREFIX).map_or(Kind::Other, |r| Kind::Room(r.into())),
        None => Kind::Other,
    }
}

/// The sweeper's index partition (`gsi1pk`) for connections opened in `hour`.
fn sweep_partition(hour: i64, shard: u32) -> String {
    format!("CONNS#{hour}#{shard}")
}

/// The connections opened in `hour` whose id falls in `shard`.
pub fn opened_in(hour: i64, shard: u32) -> Query {
    Query::index(GSI1, sweep_partition(hour, shard))
}

/// A connection's record: who holds it and what its token grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub user_id: UserId,
    #[serde(default)]
    pub app: AppId,
    pub grant_room: Option<RoomId>,
    #[serde(default)]
    pub can_publish: bool,
    #[serde(default)]
    pub can_subscribe: bool,
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub connected_at: Millis,
    /// The user slot it holds (`records::user::slot`).
    pub slot: Option<u32>,
    /// How many P2P rooms it is in.
    #[serde(default)]
    pub rooms: i64,
    /// Its maximum lifetime (epoch seconds); every item of the connection carries it.
    #[serde(default)]
    pub ttl: i64,
}

/// Connection `c`'s record item.
pub fn encode(c: &str, conn: &Connection) -> Item {
    codec::encode(meta(c), conn)
}

pub fn decode(it: &Item) -> Option<Connection> {
    codec::decode(it)
}

/// The app a connection belongs to, and when it opened (for the sweeper).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub app: AppId,
    pub connected_at: Millis,
    pub ttl: i64,
}

#[derive(Serialize)]
struct StoredOwner<'a> {
    #[serde(flatten)]
    owner: &'a Owner,
    gsi1pk: String,
    gsi1sk: &'a str,
}

/// Connection `c`'s owner item, in the sweeper's index under `shard` of its opening hour.
pub fn encode_owner(c: &str, record: &Owner, shard: u32) -> Item {
    let partition = sweep_partition(record.connected_at.div_euclid(3_600_000), shard);
    codec::encode(owner(c), &StoredOwner { owner: record, gsi1pk: partition, gsi1sk: c })
}

/// While the owner item names `app`.
pub fn owned_by(app: &str) -> Cond {
    Cond::eq("app", app)
}

pub fn decode_owner(it: &Item) -> Option<Owner> {
    codec::decode(it)
}

/// A connection as the sweeper's index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub id: ConnectionId,
    pub connected_at: Millis,
}

pub fn decode_opened(it: &Item) -> Option<Opened> {
    Some(Opened { id: super::pk_id(it, PK)?.into(), connected_at: decode_owner(it)?.connected_at })
}

/// An opaque, stable name for connection `c` in the namespace `purpose`: `p` and 24 hex
/// digits of SHA-256 over both. Others in a room see this, never the connection id: the id
/// is the handle the Management API takes, and a one-way digest of 80 random bits cannot
/// be turned back into it. 96 bits keep names of a room's members apart.
pub fn pseudonym(purpose: &str, c: &str) -> String {
    use sha2::{Digest, Sha256};
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::new().chain_update(purpose).chain_update([0]).chain_update(c).finalize();
    // On every relay (the sender's `from`): one allocation, no formatting machinery.
    let mut out = String::with_capacity(25);
    out.push('p');
    for b in &digest[..12] {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

/// While the connection is in fewer than `max` P2P rooms.
pub fn rooms_below(max: i64) -> Cond {
    Cond::cmp(ROOMS, CmpOp::Lt, max)
}

/// Its P2P room count moved by `by`.
pub fn rooms_counted(by: i64) -> Update {
    Update::default().add(ROOMS, by)
}

const ROOMS: &str = "rooms";

/// One side of a P2P room membership, the same on both (`room` here, `p2p_room::member`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub user_id: UserId,
    /// The member's connection, on the room's side (whose key names its peer id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conn: Option<ConnectionId>,
    #[serde(default)]
    pub joined_at: Millis,
    #[serde(default)]
    pub ttl: i64,
}

pub fn encode_membership(key: Key, m: &Membership) -> Item {
    codec::encode(key, m)
}

pub fn decode_membership(it: &Item) -> Option<Membership> {
    codec::decode(it)
}

/// The group-room item: the one SFU room the connection is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRoom {
    pub room: RoomId,
}

pub fn encode_group_room(c: &str, room: &str) -> Item {
    codec::encode(group_room(c), &GroupRoom { room: room.into() })
}

pub fn decode_group_room(it: &Item) -> Option<GroupRoom> {
    codec::decode(it)
}

/// While the group-room item still names `room` (a newer join may have replaced it).
pub fn in_group_room(room: &str) -> Cond {
    Cond::eq("room", room)
}

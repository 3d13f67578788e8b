//! A group (SFU) room: its record (`ROOM#<r>` / `META`, listed through `gsi1` = `ROOMS` /
//! `<r>`) and its participants (`ROOM#<r>` / `P#<participant>`).

use super::codec;
use crate::clock::Millis;
use crate::store::schema::GSI1;
use crate::store::{CmpOp, Cond, Item, Key, Query, SortKey, Update};
use serde::{Deserialize, Serialize};
use stratus_protocol::ids::{ConnectionId, NodeId, ParticipantId, RoomId, UserId};

const PARTICIPANT: &str = "P#";
const ROOMS: &str = "ROOMS";

fn pk(room: &str) -> String {
    format!("ROOM#{room}")
}

pub fn meta(room: &str) -> Key {
    Key::new(pk(room), "META")
}

pub fn participant(room: &str, participant: &str) -> Key {
    Key::new(pk(room), format!("{PARTICIPANT}{participant}"))
}

pub fn participants(room: &str) -> Query {
    Query::table(pk(room)).sk(SortKey::BeginsWith(PARTICIPANT.into()))
}

/// Every room, in id order.
pub fn all() -> Query {
    Query::index(GSI1, ROOMS)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomRecord {
    /// From the key (`ROOM#<id>`), not an attribute.
    #[serde(skip)]
    pub id: RoomId,
    pub owner: UserId,
    #[serde(default)]
    pub max_participants: i64,
    #[serde(default)]
    pub participants: i64,
    pub node_id: Option<NodeId>,
    /// Grows by one each time the room is pinned to a node (first placement included).
    #[serde(default)]
    pub epoch: i64,
    #[serde(default)]
    pub created_at: Millis,
}

#[derive(Serialize)]
struct StoredRoom<'a> {
    #[serde(flatten)]
    room: &'a RoomRecord,
    gsi1pk: &'static str,
    gsi1sk: &'a str,
}

pub fn encode(room: &RoomRecord) -> Item {
    codec::encode(meta(&room.id), &StoredRoom { room, gsi1pk: ROOMS, gsi1sk: &room.id })
}

pub fn decode(it: &Item) -> Option<RoomRecord> {
    Some(RoomRecord { id: super::pk_id(it, "ROOM#")?.into(), ..codec::decode(it)? })
}

/// While the room is on no node (`None`) or still on node `old`.
pub fn on_node(old: Option<&str>) -> Cond {
    match old {
        None => Cond::AttrNotExists(NODE.into()),
        Some(old) => Cond::eq(NODE, old),
    }
}

/// Pins the room to `node` at `now`, one placement epoch further.
pub fn pinned(node: &str, now: Millis) -> Update {
    Update::default().set(NODE, node).set("placed_at", now).add(EPOCH, 1)
}

/// While the room has a place left.
pub fn has_room(max_participants: i64) -> Cond {
    Cond::cmp(COUNT, CmpOp::Lt, max_participants)
}

/// While the room is at placement `epoch`.
pub fn at_epoch(epoch: i64) -> Cond {
    Cond::eq(EPOCH, epoch)
}

/// Its participant count moved by `by`.
pub fn counted(by: i64) -> Update {
    Update::default().add(COUNT, by)
}

const NODE: &str = "node_id";
const EPOCH: &str = "epoch";
const COUNT: &str = "participants";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// From the key (`P#<participant>`), not an attribute.
    #[serde(skip)]
    pub participant_id: ParticipantId,
    pub user_id: UserId,
    pub connection_id: Option<ConnectionId>,
    #[serde(default)]
    pub joined_at: Millis,
    /// The placement epoch the member joined in (0 when joined before any placement).
    #[serde(default)]
    pub epoch: i64,
}

pub fn encode_member(room: &str, m: &Member) -> Item {
    codec::encode(participant(room, &m.participant_id), m)
}

pub fn decode_member(it: &Item) -> Option<Member> {
    Some(Member { participant_id: super::sk_id(it, PARTICIPANT)?.into(), ..codec::decode(it)? })
}

/// While the member joined before placement `epoch`.
pub fn joined_before(epoch: i64) -> Cond {
    Cond::cmp(EPOCH, CmpOp::Lt, epoch)
}

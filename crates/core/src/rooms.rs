//! SFU rooms: the room record, its placement on a media node, and its members.
//!
//! Stored as the room record (owner, capacity, member count, and once placed the node it is
//! pinned to with a placement `epoch` that grows on every move) and one item per member:
//! [`crate::records::room`].
//!
//! Races are settled by the store: the first placement is a conditional write on "no node
//! yet" and a move is one on "still the dead node", so two first joins at once end on the same
//! node and two functions noticing the same dead node move the room once; a join is a
//! transaction that adds the member and bumps the count only while it is below capacity.

use crate::clock::Millis;
use crate::nodes::NodeRecord;
use crate::records::room as record;
use crate::store::{Cond, Key, StoreError, Table, Write, query_all};
use stratus_protocol::error::ErrorCode;
use stratus_protocol::ids::{NodeId, ParticipantId, RoomId, UserId};

/// Rooms' errors are the core's one rejection type.
pub type RoomError = crate::error::Rejection;

fn rejected(code: ErrorCode, msg: impl Into<String>) -> RoomError {
    RoomError::Rejected(code, msg.into())
}

pub use crate::records::room::{Member, RoomRecord};

/// Where a room runs now, and whether this call moved it there from a dead node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub node: NodeRecord,
    pub epoch: i64,
    /// `Some(old)` when the room was on `old`, which is no longer live: its members must
    /// reconnect to the new node.
    pub moved_from: Option<NodeId>,
}

fn meta_key(room: &RoomId) -> Key {
    record::meta(room)
}

fn member_key(room: &RoomId, participant: &str) -> Key {
    record::participant(room, participant)
}

/// Creates the room; `CONFLICT` if the id is taken.
pub async fn create(
    table: &dyn Table,
    id: &RoomId,
    owner: &UserId,
    max_participants: i64,
    now: Millis,
) -> Result<RoomRecord, RoomError> {
    let room = RoomRecord {
        id: id.to_owned(),
        owner: owner.to_owned(),
        max_participants,
        participants: 0,
        node_id: None,
        epoch: 0,
        created_at: now,
    };
    match table.put(record::encode(&room), Some(Cond::NotExists)).await {
        Ok(()) => Ok(room),
        Err(StoreError::ConditionFailed) => Err(rejected(ErrorCode::Conflict, format!("room {id} already exists"))),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(table: &dyn Table, id: &RoomId) -> Result<RoomRecord, RoomError> {
    table
        .get(&meta_key(id))
        .await?
        .as_ref()
        .and_then(record::decode)
        .ok_or_else(|| rejected(ErrorCode::RoomNotFound, format!("no room {id}")))
}

/// Every room, in id order.
pub async fn list(table: &dyn Table) -> Result<Vec<RoomRecord>, RoomError> {
    let items = query_all(table, record::all().limit(500)).await?;
    Ok(items.iter().filter_map(record::decode).collect())
}

/// The node a new room should go to: live, not draining, with room for one more
/// participant; the least loaded by participants per capacity, then rooms, then id.
pub fn least_loaded(nodes: &[NodeRecord]) -> Option<&NodeRecord> {
    nodes.iter().filter(|n| !n.draining && n.load.participants < n.max_participants.max(1)).min_by(|a, b| {
        let share = |n: &NodeRecord| n.load.participants as f64 / n.max_participants.max(1) as f64;
        share(a).total_cmp(&share(b)).then(a.load.rooms.cmp(&b.load.rooms)).then(a.id.cmp(&b.id))
    })
}

/// Pins `room` to `node` if it is still where the caller saw it: on no node
/// (`expected == None`) or on the dead node `expected`. Returns the room as stored after the
/// write, or, when another caller got there first, as that caller left it.
pub async fn pin(
    table: &dyn Table,
    room: &RoomId,
    node: &NodeId,
    expected: Option<&NodeId>,
    now: Millis,
) -> Result<(RoomRecord, bool), RoomError> {
    let still = Cond::Exists.and(record::on_node(expected.map(NodeId::as_str)));
    match table.update(&meta_key(room), record::pinned(node, now), Some(still)).await {
        Ok(it) => Ok((record::decode(&it).ok_or_else(|| rejected(ErrorCode::RoomNotFound, room.to_string()))?, true)),
        Err(StoreError::ConditionFailed) => Ok((get(table, room).await?, false)),
        Err(e) => Err(e.into()),
    }
}

/// Where `room` runs: its node if that node is live, else the least-loaded live node, pinned
/// with a conditional write (`moved_from` says the room left a dead node). `nodes` is the
/// live list (`nodes::live`). `SERVICE_UNAVAILABLE` when no node can take it.
pub async fn place(
    table: &dyn Table,
    room: &RoomId,
    nodes: &[NodeRecord],
    now: Millis,
) -> Result<Placement, RoomError> {
    let mut r = get(table, room).await?;
    // A few rounds at most: each lost race means someone else placed or moved the room.
    for _ in 0..4 {
        if let Some(id) = &r.node_id
            && let Some(node) = nodes.iter().find(|n| &n.id == id)
        {
            // A live node keeps its rooms, draining or not.
            return Ok(Placement { node: node.clone(), epoch: r.epoch, moved_from: None });
        }
        let Some(target) = least_loaded(nodes) else {
            return Err(rejected(ErrorCode::ServiceUnavailable, "no media node can take this room"));
        };
        let (after, won) = pin(table, room, &target.id, r.node_id.as_ref(), now).await?;
        if won {
            return Ok(Placement { node: target.clone(), epoch: after.epoch, moved_from: r.node_id.clone() });
        }
        r = after;
    }
    Err(rejected(ErrorCode::ServiceUnavailable, "room placement kept changing; retry"))
}

/// Adds a member; `ROOM_FULL` at capacity, `CONFLICT` if the participant id is taken. With
/// `at_epoch`, only while the room is still at that placement epoch (the caller is about to
/// use the node it was placed on); the member records the epoch it joined in. `extra` writes
/// go in the same transaction. Everything is written together or not at all.
pub async fn join(
    table: &dyn Table,
    room: &RoomId,
    member: &Member,
    at_epoch: Option<i64>,
    extra: Vec<Write>,
) -> Result<RoomRecord, RoomError> {
    let r = get(table, room).await?;
    let epoch = at_epoch.unwrap_or(r.epoch);
    let it = record::encode_member(room, &Member { epoch, ..member.clone() });
    let mut cond = Cond::Exists.and(record::has_room(r.max_participants));
    if at_epoch.is_some() {
        cond = cond.and(record::at_epoch(epoch));
    }
    let mut writes = vec![
        Write::Update { key: meta_key(room), update: record::counted(1), cond: Some(cond) },
        Write::Put { item: it, cond: Some(Cond::NotExists) },
    ];
    writes.extend(extra);
    match table.transact(writes).await {
        Ok(()) => get(table, room).await,
        Err(StoreError::ConditionFailed) => {
            // Which condition failed decides the error; read what is there now.
            if table.get(&member_key(room, &member.participant_id)).await?.is_some() {
                return Err(rejected(ErrorCode::Conflict, format!("{} is already in the room", member.participant_id)));
            }
            let now = get(table, room).await?;
            if now.participants >= now.max_participants {
                return Err(rejected(
                    ErrorCode::RoomFull,
                    format!("room {room} is full ({} participants)", now.max_participants),
                ));
            }
            if at_epoch.is_some_and(|e| e != now.epoch) {
                return Err(rejected(
                    ErrorCode::ServiceUnavailable,
                    "the room moved to another media node; join again",
                ));
            }
            Err(rejected(ErrorCode::Conflict, "already in a room; leave it first"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Removes the members that joined before `epoch` (the room moved away from their node),
/// each with its count, and returns them. Members who joined on the new node stay.
pub async fn evict_before(table: &dyn Table, room: &RoomId, epoch: i64) -> Result<Vec<Member>, RoomError> {
    let mut out = Vec::new();
    for m in members(table, room).await? {
        let writes = vec![
            Write::Delete {
                key: member_key(room, &m.participant_id),
                cond: Some(Cond::Exists.and(record::joined_before(epoch))),
            },
            Write::Update { key: meta_key(room), update: record::counted(-1), cond: Some(Cond::Exists) },
        ];
        match table.transact(writes).await {
            Ok(()) => out.push(m),
            Err(StoreError::ConditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// Removes a member; `PARTICIPANT_NOT_FOUND` if absent. Count and member go together.
pub async fn leave(table: &dyn Table, room: &RoomId, participant: &ParticipantId) -> Result<(), RoomError> {
    let writes = vec![
        Write::Delete { key: member_key(room, participant), cond: Some(Cond::Exists) },
        Write::Update { key: meta_key(room), update: record::counted(-1), cond: Some(Cond::Exists) },
    ];
    match table.transact(writes).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed) => {
            Err(rejected(ErrorCode::ParticipantNotFound, format!("{participant} is not in room {room}")))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn members(table: &dyn Table, room: &RoomId) -> Result<Vec<Member>, RoomError> {
    let q = crate::records::room::participants(room).limit(500);
    let items = query_all(table, q).await?;
    Ok(items.iter().filter_map(record::decode_member).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::nodes::Load;
    use crate::store::memory::MemoryTable;
    use crate::store::schema::MAIN;
    use std::sync::Arc;

    fn node(id: &str, participants: i64, draining: bool) -> NodeRecord {
        NodeRecord {
            id: id.into(),
            control_url: format!("http://{id}:7880"),
            control_cert_sha256: None,
            public_ip: "127.0.0.1".into(),
            region: "local".into(),
            max_participants: 100,
            load: Load { rooms: 1, participants, producers: 0, consumers: 0, bitrate_bps: 0 },
            draining,
            heartbeat_at: 0,
        }
    }

    fn table() -> MemoryTable {
        MemoryTable::new(&MAIN, Arc::new(ManualClock::new(1_800_000_000_000)))
    }

    fn member(p: &str) -> Member {
        Member {
            participant_id: p.into(),
            user_id: format!("u-{p}").into(),
            connection_id: None,
            joined_at: 1,
            epoch: 0,
        }
    }

    #[test]
    fn the_least_loaded_node_that_is_not_draining_or_full_gets_new_rooms() {
        let nodes = [node("a", 50, false), node("b", 10, true), node("c", 20, false), node("d", 100, false)];
        assert_eq!(least_loaded(&nodes).unwrap().id, "c");
        assert!(least_loaded(&[node("b", 0, true)]).is_none());
    }

    #[tokio::test]
    async fn a_room_stays_on_its_live_node_and_moves_once_when_that_node_dies() {
        let t = table();
        create(&t, &"r1".into(), &"alice".into(), 10, 1).await.unwrap();
        let first = place(&t, &"r1".into(), &[node("a", 5, false), node("b", 1, false)], 2).await.unwrap();
        assert_eq!((first.node.id.as_str(), first.epoch, first.moved_from.clone()), ("b", 1, None));
        // Later joins go to b even when a is now emptier, and even when b drains.
        let again = place(&t, &"r1".into(), &[node("a", 0, false), node("b", 9, true)], 3).await.unwrap();
        assert_eq!((again.node.id.as_str(), again.epoch), ("b", 1));
        // b is gone from the live list: the room moves to a, once.
        let moved = place(&t, &"r1".into(), &[node("a", 0, false), node("c", 3, false)], 4).await.unwrap();
        assert_eq!((moved.node.id.as_str(), moved.epoch, moved.moved_from.as_deref()), ("a", 2, Some("b")));
        let seen_late = place(&t, &"r1".into(), &[node("a", 0, false), node("c", 3, false)], 5).await.unwrap();
        assert_eq!((seen_late.node.id.as_str(), seen_late.moved_from), ("a", None));
        assert_eq!(get(&t, &"r1".into()).await.unwrap().node_id.as_deref(), Some("a"));
    }

    #[tokio::test]
    async fn the_first_pin_wins_and_a_stale_one_learns_where_the_room_went() {
        let t = table();
        create(&t, &"r1".into(), &"alice".into(), 10, 1).await.unwrap();
        let (r, won) = pin(&t, &"r1".into(), &"a".into(), None, 2).await.unwrap();
        assert!(won && r.node_id.as_deref() == Some("a"));
        // A second caller that also saw the room unplaced picked b: it loses and reads a.
        let (r, won) = pin(&t, &"r1".into(), &"b".into(), None, 2).await.unwrap();
        assert!(!won);
        assert_eq!((r.node_id.as_deref(), r.epoch), (Some("a"), 1));
        // A move guarded on a node the room is no longer on changes nothing either.
        let (r, won) = pin(&t, &"r1".into(), &"c".into(), Some(&"b".into()), 3).await.unwrap();
        assert!(!won && r.node_id.as_deref() == Some("a"));
    }

    #[tokio::test]
    async fn no_node_means_service_unavailable_and_unknown_rooms_are_not_found() {
        let t = table();
        create(&t, &"r1".into(), &"alice".into(), 10, 1).await.unwrap();
        let e = place(&t, &"r1".into(), &[node("a", 0, true)], 2).await.unwrap_err();
        assert!(matches!(e, RoomError::Rejected(ErrorCode::ServiceUnavailable, _)));
        assert_eq!(get(&t, &"r1".into()).await.unwrap().node_id, None, "nothing written");
        let e = place(&t, &"nope".into(), &[node("a", 0, false)], 2).await.unwrap_err();
        assert!(matches!(e, RoomError::Rejected(ErrorCode::RoomNotFound, _)));
        let e = create(&t, &"r1".into(), &"bob".into(), 10, 3).await.unwrap_err();
        assert!(matches!(e, RoomError::Rejected(ErrorCode::Conflict, _)));
    }

    #[tokio::test]
    async fn joins_stop_at_capacity_and_a_full_or_duplicate_join_writes_nothing() {
        let t = table();
        create(&t, &"r1".into(), &"alice".into(), 2, 1).await.unwrap();
        join(&t, &"r1".into(), &member("p1"), None, vec![]).await.unwrap();
        let e = join(&t, &"r1".into(), &member("p1"), None, vec![]).await.unwrap_err();
        assert!(matches!(e, RoomError::Rejected(ErrorCode::Conflict, _)), "{e:?}");
        let r = join(&t, &"r1".into(), &member("p2"), None, vec![]).await.unwrap();
        assert_eq!(r.participants, 2);
        let e = join(&t, &"r1".into(), &member("p3"), None, vec![]).await.unwrap_err();
        assert!(matches!(e, RoomError::Rejected(ErrorCode::RoomFull, _)), "{e:?}");
        let ids: Vec<String> =
            members(&t, &"r1".into()).await.unwrap().into_iter().map(|m| m.participant_id.into()).collect();
        assert_eq!(ids, ["p1", "p2"]);
        leave(&t, &"r1".into(), &"p1".into()).await.unwrap();
        let e = leave(&t, &"r1".into(), &"p1".into()).await.unwrap_err();
        assert!(matches!(e, RoomError::Rejected(ErrorCode::ParticipantNotFound, _)));
        assert_eq!(get(&t, &"r1".into()).await.unwrap().participants, 1);
        join(&t, &"r1".into(), &member("p3"), None, vec![]).await.unwrap();
        let e = join(&t, &"nope".into(), &member("p1"), None, vec![]).await.unwrap_err();
        assert!(matches!(e, RoomError::Rejected(ErrorCode::RoomNotFound, _)));
        let listed: Vec<String> = list(&t).await.unwrap().into_iter().map(|r| r.id.into()).collect();
        assert_eq!(listed, ["r1"]);
    }
}

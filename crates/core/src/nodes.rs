//! The media-node registry: each node writes itself to the table (identity, addresses,
//! capacity, load, draining) and rewrites the item every heartbeat with a TTL of a few
//! heartbeats, so a node that stops heartbeating disappears from the live list by itself.
//!
//! Others mark a node: a function that got no control reply marks it unreachable, which
//! takes it out of placement although it still heartbeats; an operator marks it to drain.
//!
//! The record, its marks and their items: [`crate::records::node`].

use crate::clock::Millis;
use crate::records::node;
use crate::store::{Cond, StoreError, Table, Write, query_all};
use stratus_protocol::ids::NodeId;

pub use crate::records::node::{Load, Mark, MarkRecord, NodeRecord};

/// How far a node's clock may be behind the functions' (docs/reliability.md, "Clock skew"):
/// a node's entry lives this much longer than its heartbeats need, so a node a few seconds
/// behind does not look dead to the functions.
pub const CLOCK_SKEW_SECS: i64 = 5;

/// How long an unreachable mark keeps a node out of placement when nothing clears it first
/// (the room sweep probes marked nodes and clears the mark of one that answers).
pub const UNREACHABLE_TTL_SECS: i64 = 300;
/// How long a drain request waits for its node's next heartbeat.
pub const DRAIN_TTL_SECS: i64 = 600;

/// The registry as one read: every registered node and the marks on them.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    pub nodes: Vec<NodeRecord>,
    pub marks: Vec<MarkRecord>,
}

impl Fleet {
    pub fn marked(&self, id: &NodeId, mark: Mark) -> Option<&MarkRecord> {
        self.marks.iter().find(|m| &m.node == id && m.mark == mark)
    }

    /// The nodes placement may use: registered and not marked unreachable.
    pub fn placeable(&self) -> Vec<NodeRecord> {
        self.nodes.iter().filter(|n| self.marked(&n.id, Mark::Unreachable).is_none()).cloned().collect()
    }
}

/// Writes (or refreshes) the node's entry; it lives `ttl_secs` unless refreshed.
pub async fn heartbeat(table: &dyn Table, node: &NodeRecord, now: Millis, ttl_secs: i64) -> Result<(), StoreError> {
    table.put(node::encode(node, now, ttl_secs), None).await
}

pub async fn deregister(table: &dyn Table, id: &NodeId) -> Result<(), StoreError> {
    table.delete(&node::meta(id), None).await.map(|_| ())
}

/// Every node whose entry is live (heartbeat within its TTL) and that is not marked
/// unreachable, draining ones included: where rooms may run.
pub async fn live(table: &dyn Table) -> Result<Vec<NodeRecord>, StoreError> {
    Ok(fleet(table).await?.placeable())
}

/// Every registered node, and the live marks on them.
pub async fn fleet(table: &dyn Table) -> Result<Fleet, StoreError> {
    let items = query_all(table, node::all().limit(500)).await?;
    Ok(Fleet {
        nodes: items.iter().filter_map(node::decode).collect(),
        marks: items.iter().filter_map(node::decode_mark).collect(),
    })
}

/// Takes node `id` out of placement for [`UNREACHABLE_TTL_SECS`]: it did not answer control.
pub async fn mark_unreachable(table: &dyn Table, id: &NodeId, now: Millis, reason: &str) -> Result<(), StoreError> {
    let m = MarkRecord { node: id.clone(), mark: Mark::Unreachable, at: now, reason: reason.to_owned() };
    table.put(node::encode_mark(&m, UNREACHABLE_TTL_SECS), None).await
}

/// Takes mark `mark` off node `id` (it answered control again; it drained).
pub async fn unmark(table: &dyn Table, id: &NodeId, mark: Mark) -> Result<(), StoreError> {
    table.delete(&node::mark_key(id, mark), None).await.map(|_| ())
}

/// Asks registered node `id` to drain. `Ok(false)` when no such node is registered (nothing
/// is written then).
pub async fn request_drain(table: &dyn Table, id: &NodeId, now: Millis, reason: &str) -> Result<bool, StoreError> {
    let m = MarkRecord { node: id.clone(), mark: Mark::Drain, at: now, reason: reason.to_owned() };
    let writes = vec![
        Write::Check { key: node::meta(id), cond: Cond::Exists },
        Write::Put { item: node::encode_mark(&m, DRAIN_TTL_SECS), cond: None },
    ];
    match table.transact(writes).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether someone asked node `id` to drain (the node asks at each heartbeat).
pub async fn drain_requested(table: &dyn Table, id: &NodeId) -> Result<bool, StoreError> {
    Ok(table.get(&node::mark_key(id, Mark::Drain)).await?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::store::memory::MemoryTable;
    use crate::store::schema::MAIN;
    use std::sync::Arc;

    fn node(id: &str) -> NodeRecord {
        NodeRecord {
            id: id.into(),
            control_url: format!("https://{id}:7880"),
            control_cert_sha256: Some("ab".repeat(32)),
            public_ip: "203.0.113.9".into(),
            region: "local".into(),
            max_participants: 500,
            load: Load { rooms: 2, participants: 7, producers: 6, consumers: 30, bitrate_bps: 9_000_000 },
            draining: false,
            heartbeat_at: 0,
        }
    }

    #[tokio::test]
    async fn a_node_that_stops_heartbeating_leaves_the_live_list() {
        let clock = ManualClock::new(1_800_000_000_000);
        let t = MemoryTable::new(&MAIN, Arc::new(clock.clone()));
        heartbeat(&t, &node("n1"), clock.now_ms(), 15).await.unwrap();
        heartbeat(&t, &node("n2"), clock.now_ms(), 15).await.unwrap();
        clock.advance_secs(10);
        heartbeat(&t, &node("n1"), clock.now_ms(), 15).await.unwrap();
        clock.advance_secs(10);
        let ids: Vec<String> = live(&t).await.unwrap().into_iter().map(|n| n.id.into()).collect();
        assert_eq!(ids, ["n1"], "n2 missed its heartbeats");
        let n1 = &live(&t).await.unwrap()[0];
        assert_eq!(n1.load.consumers, 30);
        assert_eq!(n1.control_cert_sha256.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(n1.heartbeat_at, clock.now_ms() - 10_000);
        deregister(&t, &"n1".into()).await.unwrap();
        assert!(live(&t).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_node_marked_unreachable_is_out_of_placement_until_cleared_or_expired() {
        let clock = ManualClock::new(1_800_000_000_000);
        let t = MemoryTable::new(&MAIN, Arc::new(clock.clone()));
        let ids = |v: Vec<NodeRecord>| v.into_iter().map(|n| n.id.to_string()).collect::<Vec<_>>();
        heartbeat(&t, &node("n1"), clock.now_ms(), 3600).await.unwrap();
        heartbeat(&t, &node("n2"), clock.now_ms(), 3600).await.unwrap();
        mark_unreachable(&t, &"n1".into(), clock.now_ms(), "timed out").await.unwrap();
        assert_eq!(ids(live(&t).await.unwrap()), ["n2"]);
        let f = fleet(&t).await.unwrap();
        assert_eq!(ids(f.nodes.clone()), ["n1", "n2"], "still registered: it heartbeats");
        assert_eq!(f.marked(&"n1".into(), Mark::Unreachable).map(|m| m.reason.as_str()), Some("timed out"));
        unmark(&t, &"n1".into(), Mark::Unreachable).await.unwrap();
        assert_eq!(ids(live(&t).await.unwrap()), ["n1", "n2"]);
        mark_unreachable(&t, &"n2".into(), clock.now_ms(), "refused").await.unwrap();
        clock.advance_secs(UNREACHABLE_TTL_SECS + 1);
        assert_eq!(ids(live(&t).await.unwrap()), ["n1", "n2"], "the mark expired");
    }

    #[tokio::test]
    async fn a_drain_is_requested_only_of_a_registered_node() {
        let clock = ManualClock::new(1_800_000_000_000);
        let t = MemoryTable::new(&MAIN, Arc::new(clock.clone()));
        heartbeat(&t, &node("n1"), clock.now_ms(), 15).await.unwrap();
        assert!(!request_drain(&t, &"ghost".into(), clock.now_ms(), "cli").await.unwrap());
        assert!(!drain_requested(&t, &"ghost".into()).await.unwrap(), "nothing written for a node that is not there");
        assert!(!drain_requested(&t, &"n1".into()).await.unwrap());
        assert!(request_drain(&t, &"n1".into(), clock.now_ms(), "cli").await.unwrap());
        assert!(drain_requested(&t, &"n1".into()).await.unwrap());
        assert_eq!(ids_of(&live(&t).await.unwrap()), ["n1"], "a drain request does not hide the node");
    }

    fn ids_of(v: &[NodeRecord]) -> Vec<String> {
        v.iter().map(|n| n.id.to_string()).collect()
    }
}

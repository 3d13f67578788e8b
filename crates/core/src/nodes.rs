//! The media-node registry: each node writes itself to the table (identity, addresses,
//! capacity, load, draining) and rewrites the item every heartbeat with a TTL of a few
//! heartbeats, so a node that stops heartbeating disappears from the live list by itself.
//!
//! The record and its item: [`crate::records::node`].

use crate::clock::Millis;
use crate::records::node;
use crate::store::{StoreError, Table, query_all};
use stratus_protocol::ids::NodeId;

pub use crate::records::node::{Load, NodeRecord};

/// Writes (or refreshes) the node's entry; it lives `ttl_secs` unless refreshed.
pub async fn heartbeat(table: &dyn Table, node: &NodeRecord, now: Millis, ttl_secs: i64) -> Result<(), StoreError> {
    table.put(node::encode(node, now, ttl_secs), None).await
}

pub async fn deregister(table: &dyn Table, id: &NodeId) -> Result<(), StoreError> {
    table.delete(&node::meta(id), None).await.map(|_| ())
}

/// Every node whose entry is live (heartbeat within its TTL), draining ones included.
pub async fn live(table: &dyn Table) -> Result<Vec<NodeRecord>, StoreError> {
    let items = query_all(table, node::all().limit(500)).await?;
    Ok(items.iter().filter_map(node::decode).collect())
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
}

//! The media-node registry: each node writes itself to the table (identity, addresses,
//! capacity, load, draining) and rewrites the item every heartbeat with a TTL of a few
//! heartbeats, so a node that stops heartbeating disappears from the live list by itself.
//!
//! Items: `NODE#<id>` / `META`, with `gsi1` = `NODES` / `<id>` so placement lists them with one
//! query.

use crate::clock::Millis;
use crate::store::schema::GSI1;
use crate::store::{Item, Key, Query, StoreError, Table, Value, query_all, value::item};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Load {
    pub rooms: i64,
    pub participants: i64,
    pub producers: i64,
    pub consumers: i64,
    pub bitrate_bps: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    pub id: String,
    /// Where the functions send signed control requests, e.g. `https://203.0.113.9:7880`.
    pub control_url: String,
    /// For an `https://` control URL with a self-signed certificate: its SHA-256 (lower-case
    /// hex), the only certificate callers accept from this node.
    pub control_cert_sha256: Option<String>,
    /// The address advertised in ICE candidates.
    pub public_ip: String,
    pub region: String,
    pub max_participants: i64,
    pub load: Load,
    pub draining: bool,
    pub heartbeat_at: Millis,
}

fn key(id: &str) -> Key {
    crate::records::node::meta(id)
}

fn n(it: &Item, a: &str) -> i64 {
    it.get(a).and_then(Value::as_n).unwrap_or(0)
}

fn s(it: &Item, a: &str) -> String {
    it.get(a).and_then(Value::as_str).unwrap_or_default().to_owned()
}

impl NodeRecord {
    fn from_item(it: &Item) -> Option<NodeRecord> {
        Some(NodeRecord {
            id: crate::records::node::id_of(it.get("pk")?.as_str()?)?.to_owned(),
            control_url: s(it, "control_url"),
            control_cert_sha256: it.get("control_cert_sha256").and_then(Value::as_str).map(str::to_owned),
            public_ip: s(it, "public_ip"),
            region: s(it, "region"),
            max_participants: n(it, "max_participants"),
            load: Load {
                rooms: n(it, "rooms"),
                participants: n(it, "participants"),
                producers: n(it, "producers"),
                consumers: n(it, "consumers"),
                bitrate_bps: n(it, "bitrate_bps"),
            },
            draining: it.get("draining").and_then(Value::as_bool).unwrap_or(false),
            heartbeat_at: n(it, "heartbeat_at"),
        })
    }
}

/// Writes (or refreshes) the node's entry; it lives `ttl_secs` unless refreshed.
pub async fn heartbeat(table: &dyn Table, node: &NodeRecord, now: Millis, ttl_secs: i64) -> Result<(), StoreError> {
    let k = key(&node.id);
    let mut it = item([
        ("pk", Value::S(k.pk)),
        ("sk", Value::S(k.sk)),
        ("gsi1pk", "NODES".into()),
        ("gsi1sk", Value::S(node.id.clone())),
        ("control_url", Value::S(node.control_url.clone())),
        ("public_ip", Value::S(node.public_ip.clone())),
        ("region", Value::S(node.region.clone())),
        ("max_participants", Value::N(node.max_participants)),
        ("rooms", Value::N(node.load.rooms)),
        ("participants", Value::N(node.load.participants)),
        ("producers", Value::N(node.load.producers)),
        ("consumers", Value::N(node.load.consumers)),
        ("bitrate_bps", Value::N(node.load.bitrate_bps)),
        ("draining", Value::Bool(node.draining)),
        ("heartbeat_at", Value::N(now)),
        ("ttl", Value::N(now.div_euclid(1000) + ttl_secs)),
    ]);
    if let Some(fp) = &node.control_cert_sha256 {
        it.insert("control_cert_sha256".into(), Value::S(fp.clone()));
    }
    table.put(it, None).await
}

pub async fn deregister(table: &dyn Table, id: &str) -> Result<(), StoreError> {
    table.delete(&key(id), None).await.map(|_| ())
}

/// Every node whose entry is live (heartbeat within its TTL), draining ones included.
pub async fn live(table: &dyn Table) -> Result<Vec<NodeRecord>, StoreError> {
    let items = query_all(table, Query::index(GSI1, "NODES").limit(500)).await?;
    Ok(items.iter().filter_map(NodeRecord::from_item).collect())
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
        let ids: Vec<String> = live(&t).await.unwrap().into_iter().map(|n| n.id).collect();
        assert_eq!(ids, ["n1"], "n2 missed its heartbeats");
        let n1 = &live(&t).await.unwrap()[0];
        assert_eq!(n1.load.consumers, 30);
        assert_eq!(n1.control_cert_sha256.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(n1.heartbeat_at, clock.now_ms() - 10_000);
        deregister(&t, "n1").await.unwrap();
        assert!(live(&t).await.unwrap().is_empty());
    }
}

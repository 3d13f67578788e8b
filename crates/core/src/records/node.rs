//! A media node's registry record: `NODE#<id>` / `META`, listed through `gsi1` = `NODES` /
//! `<id>`, rewritten every heartbeat with a TTL of a few heartbeats.

use super::codec;
use crate::clock::Millis;
use crate::store::schema::GSI1;
use crate::store::{Item, Key, Query};
use serde::{Deserialize, Serialize};
use stratus_protocol::ids::NodeId;

pub fn meta(id: &str) -> Key {
    Key::new(format!("NODE#{id}"), "META")
}

/// Every registered node (the index partition they all share).
pub fn all() -> Query {
    Query::index(GSI1, NODES)
}

const NODES: &str = "NODES";

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Load {
    #[serde(default)]
    pub rooms: i64,
    #[serde(default)]
    pub participants: i64,
    #[serde(default)]
    pub producers: i64,
    #[serde(default)]
    pub consumers: i64,
    #[serde(default)]
    pub bitrate_bps: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// From the key (`NODE#<id>`), not an attribute.
    #[serde(skip)]
    pub id: NodeId,
    /// Where the functions send signed control requests, e.g. `https://203.0.113.9:7880`.
    #[serde(default)]
    pub control_url: String,
    /// For an `https://` control URL with a self-signed certificate: its SHA-256 (lower-case
    /// hex), the only certificate callers accept from this node.
    pub control_cert_sha256: Option<String>,
    /// The address advertised in ICE candidates.
    #[serde(default)]
    pub public_ip: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub max_participants: i64,
    #[serde(flatten)]
    pub load: Load,
    #[serde(default)]
    pub draining: bool,
    #[serde(default)]
    pub heartbeat_at: Millis,
}

#[derive(Serialize)]
struct Stored<'a> {
    #[serde(flatten)]
    node: &'a NodeRecord,
    gsi1pk: &'static str,
    gsi1sk: &'a str,
    ttl: i64,
}

/// The node's item as of a heartbeat at `now`, live for `ttl_secs`.
pub fn encode(node: &NodeRecord, now: Millis, ttl_secs: i64) -> Item {
    let node = NodeRecord { heartbeat_at: now, ..node.clone() };
    let stored = Stored { node: &node, gsi1pk: NODES, gsi1sk: &node.id, ttl: now.div_euclid(1000) + ttl_secs };
    codec::encode(meta(&node.id), &stored)
}

pub fn decode(it: &Item) -> Option<NodeRecord> {
    let id = super::pk_id(it, "NODE#")?;
    Some(NodeRecord { id: id.into(), ..codec::decode(it)? })
}

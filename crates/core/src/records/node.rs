//! A media node's registry record: `NODE#<id>` / `META`, listed through `gsi1` = `NODES` /
//! `<id>`, rewritten every heartbeat with a TTL of a few heartbeats.
//!
//! Beside it, two marks others put on the node, listed by the same index query (`gsi1sk`
//! `<id>#<mark>`), so reading the fleet stays one query:
//! - `UNREACHABLE`: a function could not get a control reply from it (a node that hangs but
//!   keeps heartbeating); it is out of placement while the mark lives (a TTL of minutes, and
//!   the room sweep's probe clears it when the node answers again);
//! - `DRAIN`: an operator asked it to drain (`stratus nodes drain`); the node reads it at its
//!   next heartbeat and drains as on SIGTERM.

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

/// A mark on a node (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Unreachable,
    Drain,
}

impl Mark {
    fn sk(self) -> &'static str {
        match self {
            Mark::Unreachable => "UNREACHABLE",
            Mark::Drain => "DRAIN",
        }
    }
}

pub fn mark_key(id: &str, mark: Mark) -> Key {
    Key::new(format!("NODE#{id}"), mark.sk())
}

/// What a mark holds: when it was made, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkRecord {
    #[serde(skip)]
    pub node: NodeId,
    #[serde(skip, default = "unreachable")]
    pub mark: Mark,
    pub at: Millis,
    #[serde(default)]
    pub reason: String,
}

fn unreachable() -> Mark {
    Mark::Unreachable
}

#[derive(Serialize)]
struct StoredMark<'a> {
    #[serde(flatten)]
    mark: &'a MarkRecord,
    gsi1pk: &'static str,
    gsi1sk: String,
    ttl: i64,
}

/// Mark `m.mark` on node `m.node`, live for `ttl_secs` from `m.at`.
pub fn encode_mark(m: &MarkRecord, ttl_secs: i64) -> Item {
    let stored = StoredMark {
        mark: m,
        gsi1pk: NODES,
        gsi1sk: format!("{}#{}", m.node, m.mark.sk()),
        ttl: m.at.div_euclid(1000) + ttl_secs,
    };
    codec::encode(mark_key(&m.node, m.mark), &stored)
}

pub fn decode_mark(it: &Item) -> Option<MarkRecord> {
    let node = super::pk_id(it, "NODE#")?;
    let mark = match it.get("sk").and_then(crate::store::Value::as_str)? {
        "UNREACHABLE" => Mark::Unreachable,
        "DRAIN" => Mark::Drain,
        _ => return None,
    };
    Some(MarkRecord { node: node.into(), mark, ..codec::decode(it)? })
}

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
    super::sk_id(it, "META").filter(String::is_empty)?;
    let id = super::pk_id(it, "NODE#")?;
    Some(NodeRecord { id: id.into(), ..codec::decode(it)? })
}

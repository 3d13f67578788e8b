//! The node in the registry (`stratus_core::nodes`): a heartbeat task rewrites the node's
//! entry every `every` with its load and a TTL of three heartbeats (plus the tolerated clock
//! skew, `nodes::CLOCK_SKEW_SECS`), and keeps ECS scale-in protection in step with whether
//! the node hosts rooms.
//!
//! On SIGTERM the node drains in two phases, both inside the platform's stop timeout:
//! 1. **wait** (`Drain::wait`): marked draining (no new rooms; `/readyz` answers 503), it
//!    waits for its rooms to end by themselves;
//! 2. **hand over**: it leaves the registry, so the functions count it as lost and move its
//!    remaining rooms (the sweeper within a minute, or any request of a participant first);
//!    the participants get `roomMoved` and join again elsewhere while this node still
//!    forwards, for up to `Drain::linger` or until its rooms are gone.
//!
//! Then protection is cleared and the process may exit. An operator's drain request in the
//! registry (`stratus nodes drain`), seen at a heartbeat, starts the same drain.

use crate::protection::Protection;
use crate::state::NodeState;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use stratus_core::nodes::{self, NodeRecord};
use stratus_core::store::Table;
use stratus_protocol::ids::NodeId;
use tokio::sync::Notify;

pub struct Registration {
    pub control_url: String,
    /// The control certificate's fingerprint, when the control port serves TLS.
    pub control_cert_sha256: Option<String>,
    pub public_ip: String,
    pub max_participants: i64,
    pub every: Duration,
    /// Set once the node has left the registry: heartbeats stop writing it back.
    pub left: AtomicBool,
    /// Notified when a heartbeat finds an operator's drain request (`stratus nodes drain`):
    /// the node then drains as on SIGTERM.
    pub drain_asked: Notify,
}

impl Registration {
    pub fn new(control_url: String, public_ip: String, max_participants: i64, every: Duration) -> Registration {
        Registration {
            control_url,
            control_cert_sha256: None,
            public_ip,
            max_participants,
            every,
            left: AtomicBool::new(false),
            drain_asked: Notify::new(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Drain {
    /// How long rooms may take to end by themselves before they are handed over.
    pub wait: Duration,
    /// How long the node keeps forwarding after handing its rooms over.
    pub linger: Duration,
}

fn record(st: &NodeState, reg: &Registration) -> NodeRecord {
    NodeRecord {
        id: NodeId::from(st.id.as_str()),
        control_url: reg.control_url.clone(),
        control_cert_sha256: reg.control_cert_sha256.clone(),
        public_ip: reg.public_ip.clone(),
        region: st.region.clone(),
        max_participants: reg.max_participants,
        load: st.load(),
        draining: st.is_draining(),
        heartbeat_at: 0,
    }
}

async fn beat(table: &dyn Table, st: &NodeState, reg: &Registration) {
    if reg.left.load(Ordering::SeqCst) {
        return;
    }
    // Three heartbeats, plus the clock skew the functions tolerate between them and a node.
    let ttl = (reg.every.as_secs() as i64 * 3).max(3) + nodes::CLOCK_SKEW_SECS;
    if let Err(e) = nodes::heartbeat(table, &record(st, reg), st.clock.now_ms(), ttl).await {
        tracing::warn!(error = %e, "heartbeat failed");
    }
    if !st.is_draining() {
        match nodes::drain_requested(table, &NodeId::from(st.id.as_str())).await {
            Ok(true) => {
                tracing::info!(node_id = %st.id, "drain requested in the registry");
                reg.drain_asked.notify_one();
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not read drain requests"),
        }
    }
}

/// Heartbeats (and protection updates) until the process ends; a new room triggers an
/// early round.
pub async fn heartbeats(
    table: Option<Arc<dyn Table>>,
    st: Arc<NodeState>,
    reg: Arc<Registration>,
    protection: Option<Arc<Protection>>,
) {
    loop {
        if let Some(t) = &table {
            beat(t.as_ref(), &st, &reg).await;
        }
        // Once the node has left (drain), the drain owns the protection: it clears it last.
        if let Some(p) = &protection
            && !reg.left.load(Ordering::SeqCst)
        {
            p.sync(st.load().rooms > 0).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(reg.every) => {}
            _ = st.load_changed.notified() => {}
        }
    }
}

async fn rooms_gone_within(st: &NodeState, within: Duration) -> bool {
    let until = tokio::time::Instant::now() + within;
    while st.load().rooms > 0 {
        if tokio::time::Instant::now() >= until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    true
}

/// SIGTERM: drain, hand over, leave. Returns when the node may exit.
pub async fn drain(
    table: Option<Arc<dyn Table>>,
    st: Arc<NodeState>,
    reg: Arc<Registration>,
    protection: Option<Arc<Protection>>,
    d: Drain,
) {
    st.draining.store(true, Ordering::SeqCst);
    tracing::info!(node_id = %st.id, rooms = st.load().rooms, "draining");
    if let Some(t) = &table {
        beat(t.as_ref(), &st, &reg).await;
    }
    let empty = rooms_gone_within(&st, d.wait).await;
    reg.left.store(true, Ordering::SeqCst);
    if let Some(t) = &table {
        let id = NodeId::from(st.id.as_str());
        if let Err(e) = nodes::deregister(t.as_ref(), &id).await {
            tracing::warn!(error = %e, "could not leave the registry; its entry will expire");
        }
        // Done: a node started again under this id must not drain at its first heartbeat.
        let _ = nodes::unmark(t.as_ref(), &id, nodes::Mark::Drain).await;
    }
    if !empty {
        tracing::info!(node_id = %st.id, rooms = st.load().rooms, "rooms handed over; forwarding while they move");
        rooms_gone_within(&st, d.linger).await;
    }
    if let Some(p) = &protection {
        p.sync(false).await;
    }
    tracing::info!(node_id = %st.id, "drained");
}

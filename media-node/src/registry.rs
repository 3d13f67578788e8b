//! The node in the registry (`stratus_core::nodes`): a heartbeat task rewrites the node's
//! entry every `every` with its load and a TTL of three heartbeats; on SIGTERM the node marks
//! itself draining (no new rooms; `/readyz` answers 503), waits until it carries no room or the
//! deadline passes, removes its entry and exits.

use crate::NodeState;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use stratus_core::nodes::{self, NodeRecord};
use stratus_core::store::Table;

pub struct Registration {
    pub control_url: String,
    pub public_ip: String,
    pub max_participants: i64,
    pub every: Duration,
}

fn record(st: &NodeState, reg: &Registration) -> NodeRecord {
    NodeRecord {
        id: st.id.clone(),
        control_url: reg.control_url.clone(),
        public_ip: reg.public_ip.clone(),
        region: st.region.clone(),
        max_participants: reg.max_participants,
        load: st.load(),
        draining: st.is_draining(),
        heartbeat_at: 0,
    }
}

async fn beat(table: &dyn Table, st: &NodeState, reg: &Registration) {
    let ttl = (reg.every.as_secs() as i64 * 3).max(3);
    if let Err(e) = nodes::heartbeat(table, &record(st, reg), st.clock.now_ms(), ttl).await {
        tracing::warn!(error = %e, "heartbeat failed");
    }
}

/// Heartbeats until the process ends.
pub async fn heartbeats(table: Arc<dyn Table>, st: Arc<NodeState>, reg: Arc<Registration>) {
    loop {
        beat(table.as_ref(), &st, &reg).await;
        tokio::time::sleep(reg.every).await;
    }
}

/// SIGTERM: drain, then leave the registry. Returns when the node may exit.
pub async fn drain(table: Option<Arc<dyn Table>>, st: Arc<NodeState>, reg: Arc<Registration>, deadline: Duration) {
    st.draining.store(true, Ordering::SeqCst);
    tracing::info!(node_id = %st.id, "draining");
    if let Some(t) = &table {
        beat(t.as_ref(), &st, &reg).await;
    }
    let until = tokio::time::Instant::now() + deadline;
    while st.load().rooms > 0 && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if let Some(t) = &table
        && let Err(e) = nodes::deregister(t.as_ref(), &st.id).await
    {
        tracing::warn!(error = %e, "could not leave the registry; its entry will expire");
    }
    tracing::info!(node_id = %st.id, "drained");
}

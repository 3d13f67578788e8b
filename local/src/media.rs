//! The local stack's media node: the same engine and signed control API as the
//! `stratus-media-node` binary, in this process, on loopback, registered (with heartbeats) in
//! the stack's own store so placement finds it like a fleet node. Its room events go through
//! the same `ConnectionSink` as the signaling's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use stratus_core::clock::Clock;
use stratus_core::sink::ConnectionSink;
use stratus_core::store::Table;
use stratus_media_node::registry::{self, Registration};
use stratus_media_node::sfu::{Sfu, SfuConfig};

pub struct MediaNode {
    pub id: String,
    pub control: SocketAddr,
    pub media: Vec<SocketAddr>,
}

pub async fn start(
    table: Arc<dyn Table>,
    sink: Arc<dyn ConnectionSink>,
    keys: Vec<stratus_control::Key>,
    clock: Arc<dyn Clock>,
    heartbeat: Duration,
    public_ip: std::net::IpAddr,
) -> Result<MediaNode, String> {
    let loopback: std::net::IpAddr = [127, 0, 0, 1].into();
    // Media on the announced address; control stays on loopback (only this process calls it).
    let config = SfuConfig { public_ip, bind_ip: public_ip, udp_port: 0, workers: 1, max_participants_per_room: 100 };
    let (events_tx, events_rx) = tokio::sync::mpsc::unbounded_channel();
    let sfu = Arc::new(Sfu::start(config, events_tx).map_err(|e| format!("media sockets: {e}"))?);
    tokio::spawn(stratus_media_node::events::push(events_rx, Some(sink)));
    let id = format!("local-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let state = Arc::new(stratus_media_node::NodeState::new(
        id.clone(),
        "local".into(),
        stratus_control::Verifier::new(keys),
        clock,
        sfu.clone(),
    ));
    let listener = tokio::net::TcpListener::bind((loopback, 0)).await.map_err(|e| format!("media node bind: {e}"))?;
    let control = listener.local_addr().map_err(|e| e.to_string())?;
    let reg = Arc::new(Registration::new(format!("http://{control}"), public_ip.to_string(), 500, heartbeat));
    tokio::spawn(registry::heartbeats(Some(table.clone()), state.clone(), reg, None));
    // Placement reads the registry: return once the first heartbeat is in it.
    for _ in 0..100 {
        if stratus_core::nodes::live(table.as_ref()).await.is_ok_and(|l| l.iter().any(|n| n.id == id)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let app = stratus_media_node::app(state);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "media node server stopped");
        }
    });
    Ok(MediaNode { id, control, media: sfu.media_addrs() })
}

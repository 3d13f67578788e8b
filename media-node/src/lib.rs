//! # stratus-media-node
//!
//! The media node: a long-running process that will host the SFU (the `webrtc` engine comes
//! with its own issue) and takes orders only from the functions, over HTTP signed with RFC
//! 9421 message signatures (`stratus-control`).
//!
//! Layout:
//! - [`NodeState`] — identity, control keys (verifier), start time.
//! - [`signed`]    — the middleware that verifies every `/v1/*` request before any work.
//! - [`registry`]  — heartbeats into the node registry; drain on SIGTERM.
//! - [`app`]       — routes: operations (`/healthz`, `/readyz`, `/api/version`) unsigned,
//!   control (`/v1/*`) signed.

pub mod registry;
pub mod signed;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use stratus_control::Verifier;
use stratus_core::clock::{Clock, rfc3339_ms};
use stratus_core::nodes::Load;

pub struct NodeState {
    pub id: String,
    pub region: String,
    pub verifier: Verifier,
    pub clock: Arc<dyn Clock>,
    pub started_ms: i64,
    /// Set on SIGTERM: the node takes no new rooms and reports not ready.
    pub draining: AtomicBool,
}

impl NodeState {
    /// What the node carries now. The SFU engine is not built yet, so it carries nothing.
    pub fn load(&self) -> Load {
        Load { rooms: 0, participants: 0, producers: 0, consumers: 0, bitrate_bps: 0 }
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}

#[derive(Serialize)]
struct NodeInfo {
    node_id: String,
    region: String,
    version: &'static str,
    started_at: String,
}

async fn node_info(State(st): State<Arc<NodeState>>) -> Json<NodeInfo> {
    Json(NodeInfo {
        node_id: st.id.clone(),
        region: st.region.clone(),
        version: env!("CARGO_PKG_VERSION"),
        started_at: rfc3339_ms(st.started_ms),
    })
}

/// Not ready while draining, so load balancers and placement stop sending new work.
async fn ready(State(st): State<Arc<NodeState>>) -> (StatusCode, Json<serde_json::Value>) {
    if st.is_draining() {
        (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "draining" })))
    } else {
        (StatusCode::OK, Json(serde_json::json!({ "status": "ok" })))
    }
}

pub fn app(state: Arc<NodeState>) -> Router {
    let control = Router::new()
        .route("/v1/node", get(node_info))
        .layer(axum::middleware::from_fn_with_state(state.clone(), signed::verify));
    Router::new()
        .route("/healthz", get(|| async { Json(serde_json::json!({ "status": "ok" })) }))
        .route("/readyz", get(ready))
        .route(
            "/api/version",
            get(|| async {
                Json(serde_json::json!({ "service": "stratus-media-node", "version": env!("CARGO_PKG_VERSION") }))
            }),
        )
        .merge(control)
        .with_state(state)
}

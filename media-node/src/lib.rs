//! # stratus-media-node
//!
//! The media node: a long-running process that will host the SFU (the `webrtc` engine comes
//! with its own issue) and takes orders only from the functions, over HTTP signed with RFC
//! 9421 message signatures (`stratus-control`).
//!
//! Layout:
//! - [`NodeState`] — identity, control keys (verifier), start time.
//! - [`signed`]    — the middleware that verifies every `/v1/*` request before any work.
//! - [`app`]       — routes: operations (`/healthz`, `/readyz`, `/api/version`) unsigned,
//!   control (`/v1/*`) signed.

pub mod signed;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use std::sync::Arc;
use stratus_control::Verifier;
use stratus_core::clock::{Clock, rfc3339_ms};

pub struct NodeState {
    pub id: String,
    pub region: String,
    pub verifier: Verifier,
    pub clock: Arc<dyn Clock>,
    pub started_ms: i64,
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

pub fn app(state: Arc<NodeState>) -> Router {
    let control = Router::new()
        .route("/v1/node", get(node_info))
        .layer(axum::middleware::from_fn_with_state(state.clone(), signed::verify));
    Router::new()
        .route("/healthz", get(|| async { Json(serde_json::json!({ "status": "ok" })) }))
        .route("/readyz", get(|| async { Json(serde_json::json!({ "status": "ok" })) }))
        .route(
            "/api/version",
            get(|| async {
                Json(serde_json::json!({ "service": "stratus-media-node", "version": env!("CARGO_PKG_VERSION") }))
            }),
        )
        .merge(control)
        .with_state(state)
}

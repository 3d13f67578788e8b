//! The node's HTTP surface: operations endpoints (health, readiness, status, metrics)
//! unsigned, the control routes behind the signature check.

use crate::routes::{self, Serve};
use crate::signed;
use crate::state::NodeState;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;
use stratus_core::clock::rfc3339_ms;
use stratus_protocol::media::NodeStats;

#[derive(Serialize)]
struct NodeInfo {
    node_id: String,
    region: String,
    version: &'static str,
    started_at: String,
    draining: bool,
    media_addrs: Vec<String>,
}

fn info(st: &NodeState) -> NodeInfo {
    NodeInfo {
        node_id: st.id.clone(),
        region: st.region.clone(),
        version: env!("CARGO_PKG_VERSION"),
        started_at: rfc3339_ms(st.started_ms),
        draining: st.is_draining(),
        media_addrs: st.sfu.media_addrs().iter().map(|a| a.to_string()).collect(),
    }
}

async fn node_info(State(st): State<Arc<NodeState>>) -> Json<NodeInfo> {
    Json(info(&st))
}

/// Not ready while draining, so load balancers and placement stop sending new work.
async fn ready(State(st): State<Arc<NodeState>>) -> (StatusCode, Json<serde_json::Value>) {
    if st.is_draining() {
        (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "draining" })))
    } else {
        (StatusCode::OK, Json(serde_json::json!({ "status": "ok" })))
    }
}

/// Checks and load. The one check that can fail is the workers answering a job.
async fn health(State(st): State<Arc<NodeState>>) -> (StatusCode, Json<serde_json::Value>) {
    let started = Instant::now();
    let workers = st.sfu.ping().await;
    let ok = workers.is_ok();
    let status = if !ok {
        "unhealthy"
    } else if st.is_draining() {
        "draining"
    } else {
        "healthy"
    };
    let body = serde_json::json!({
        "status": status,
        "checks": { "workers": { "status": if ok { "ok" } else { "error" }, "count": workers.unwrap_or(0),
                                 "duration_ms": started.elapsed().as_secs_f64() * 1000.0 } },
        "load": st.stats(),
    });
    (if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}

async fn status(State(st): State<Arc<NodeState>>) -> Json<serde_json::Value> {
    let uptime = (st.clock.now_ms() - st.started_ms) / 1000;
    let p99 = st.sfu.metrics.delay_quantile_us(0.99);
    Json(serde_json::json!({
        "node": info(&st),
        "uptime_secs": uptime,
        "stats": st.stats(),
        "forwarding_delay_p99_us": p99,
        "workers": st.sfu.config.workers,
    }))
}

async fn metrics(State(st): State<Arc<NodeState>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], st.sfu.metrics.render(&st.id, st.is_draining()))
}

async fn metrics_json(State(st): State<Arc<NodeState>>) -> Json<NodeStats> {
    Json(st.stats())
}

pub fn app(state: Arc<NodeState>) -> Router {
    let control = routes::control()
        .serve(stratus_protocol::control::NODE_INFO, node_info)
        .layer(axum::middleware::from_fn_with_state(state.clone(), signed::verify));
    Router::new()
        .route("/healthz", get(|| async { Json(serde_json::json!({ "status": "ok" })) }))
        .route("/readyz", get(ready))
        .route("/health", get(health))
        .route("/status", get(status))
        .route("/metrics", get(metrics))
        .route("/metrics/json", get(metrics_json))
        .route(
            "/api/version",
            get(|| async {
                Json(serde_json::json!({ "service": "stratus-media-node", "version": env!("CARGO_PKG_VERSION") }))
            }),
        )
        .merge(control)
        .with_state(state)
}

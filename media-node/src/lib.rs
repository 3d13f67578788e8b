//! # stratus-media-node
//!
//! The media node: a long-running process hosting the SFU, taking orders only from the
//! functions over HTTP signed with RFC 9421 message signatures (`stratus-control`), and
//! pushing room events to participants' WebSocket connections.
//!
//! Layout:
//! - [`NodeState`] — identity, control keys (verifier), the SFU, drain flag.
//! - [`sfu`]       — the engine: workers with one UDP port each, rooms, transports,
//!   producers, consumers, the forwarding loop.
//! - [`routes`]    — the signed control API (`/v1/*`).
//! - [`signed`]    — the middleware that verifies every `/v1/*` request before any work.
//! - [`events`]    — room events to connections through a `ConnectionSink`.
//! - [`metrics`]   — counters and the Prometheus rendering.
//! - [`registry`]  — heartbeats into the node registry (with scale-in protection kept in
//!   step); drain on SIGTERM.
//! - [`address`]   — the announced address: fixed, or discovered (ECS task metadata + EC2,
//!   IMDSv2).
//! - [`protection`] — ECS task scale-in protection while rooms are hosted.
//! - [`cloudwatch`] — load figures for the fleet's autoscaling and alarms.
//! - [`env`]       — the names of the environment variables the binary reads.
//! - [`aws_query`] — the SigV4-signed query-protocol calls behind those two (EC2, CloudWatch).
//! - [`app`]       — the router: operations endpoints unsigned, control signed. The binary
//!   serves it over TLS with a self-signed certificate (`stratus_control::tls`) when asked.

pub mod address;
pub mod aws_query;
pub mod cloudwatch;
pub mod env;
pub mod events;
pub mod metrics;
pub mod protection;
pub mod registry;
pub mod routes;
pub mod sfu;
pub mod signed;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;
use sfu::Sfu;
use std::sync::atomic::{AtomicBool, Ordering, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use stratus_control::Verifier;
use stratus_core::clock::{Clock, rfc3339_ms};
use stratus_core::nodes::Load;
use stratus_protocol::media::NodeStats;

pub struct NodeState {
    pub id: String,
    pub region: String,
    pub verifier: Verifier,
    pub clock: Arc<dyn Clock>,
    pub started_ms: i64,
    /// Set on SIGTERM: the node takes no new rooms and reports not ready.
    pub draining: AtomicBool,
    /// Poked when a room is made, so the heartbeat task updates scale-in protection now.
    pub load_changed: tokio::sync::Notify,
    pub sfu: Arc<Sfu>,
    /// (when, bytes in, bytes out, bps in, bps out) of the last bitrate sample.
    rate: Mutex<(Instant, u64, u64, u64, u64)>,
}

impl NodeState {
    pub fn new(id: String, region: String, verifier: Verifier, clock: Arc<dyn Clock>, sfu: Arc<Sfu>) -> NodeState {
        NodeState {
            id,
            region,
            verifier,
            started_ms: clock.now_ms(),
            clock,
            draining: AtomicBool::new(false),
            load_changed: tokio::sync::Notify::new(),
            sfu,
            rate: Mutex::new((Instant::now(), 0, 0, 0, 0)),
        }
    }

    pub fn stats(&self) -> NodeStats {
        let m = &self.sfu.metrics;
        let (bytes_in, bytes_out) = (m.bytes_in.load(Relaxed), m.bytes_out.load(Relaxed));
        let (bps_in, bps_out) = {
            let mut r = self.rate.lock().unwrap();
            let secs = r.0.elapsed().as_secs_f64();
            // Rates over at least a second; callers in between see the last sample.
            if secs >= 1.0 {
                *r = (
                    Instant::now(),
                    bytes_in,
                    bytes_out,
                    ((bytes_in - r.1) as f64 * 8.0 / secs) as u64,
                    ((bytes_out - r.2) as f64 * 8.0 / secs) as u64,
                );
            }
            (r.3, r.4)
        };
        NodeStats {
            rooms: m.rooms.load(Relaxed),
            participants: m.participants.load(Relaxed),
            transports: m.transports.load(Relaxed),
            producers: m.producers.load(Relaxed),
            consumers: m.consumers.load(Relaxed),
            packets_in: m.packets_in.load(Relaxed),
            packets_out: m.packets_out.load(Relaxed),
            bytes_in,
            bytes_out,
            packets_lost: m.packets_lost.load(Relaxed),
            bitrate_in_bps: bps_in,
            bitrate_out_bps: bps_out,
        }
    }

    /// What the node carries now, for the registry.
    pub fn load(&self) -> Load {
        let s = self.stats();
        Load {
            rooms: s.rooms as i64,
            participants: s.participants as i64,
            producers: s.producers as i64,
            consumers: s.consumers as i64,
            bitrate_bps: (s.bitrate_in_bps + s.bitrate_out_bps) as i64,
        }
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
        .route("/v1/node", get(node_info))
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

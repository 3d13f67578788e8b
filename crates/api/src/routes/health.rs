//! Health and version. `/health` and `/health/live` say the process serves; `/health/ready`
//! and `/health/detailed` also check the store (503 when it does not answer).

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::collections::BTreeMap;
use std::time::Instant;
use stratus_core::clock::rfc3339_ms;
use stratus_protocol::PROTOCOL_VERSION;
use stratus_protocol::health::{Check, DetailedHealth, Health, Status, VersionInfo};

fn health_body(state: &AppState, status: Status) -> Health {
    Health {
        status,
        service: state.info.service.clone(),
        version: state.info.version.clone(),
        timestamp: rfc3339_ms(state.clock.now_ms()),
    }
}

pub async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(health_body(&state, Status::Ok))
}

pub async fn live(State(state): State<AppState>) -> Json<Health> {
    Json(health_body(&state, Status::Ok))
}

async fn store_check(state: &AppState) -> Check {
    let started = Instant::now();
    let res = state.root.ping().await;
    let duration_ms = (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
    match res {
        Ok(()) => Check { status: Status::Ok, duration_ms, error: None, target: state.root.describe() },
        Err(e) => {
            tracing::warn!(error = %e, "store health check failed");
            Check {
                status: Status::Down,
                duration_ms,
                error: Some("store did not answer".into()),
                target: state.root.describe(),
            }
        }
    }
}

fn code(status: Status) -> StatusCode {
    if status == Status::Ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }
}

pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let check = store_check(&state).await;
    (code(check.status), Json(health_body(&state, check.status)))
}

pub async fn detailed(State(state): State<AppState>) -> (StatusCode, Json<DetailedHealth>) {
    let check = store_check(&state).await;
    let key = if check.target.starts_with("dynamodb:") { "dynamodb" } else { "store" };
    let status = check.status;
    let now = state.clock.now_ms();
    let body = DetailedHealth {
        status,
        service: state.info.service.clone(),
        version: state.info.version.clone(),
        timestamp: rfc3339_ms(now),
        uptime_seconds: ((now - state.started_ms).max(0) / 1000) as u64,
        checks: BTreeMap::from([(key.to_owned(), check)]),
    };
    (code(status), Json(body))
}

pub async fn version(State(state): State<AppState>) -> Json<VersionInfo> {
    Json(VersionInfo {
        service: state.info.service.clone(),
        version: state.info.version.clone(),
        protocol_version: PROTOCOL_VERSION,
        runtime: state.info.runtime.clone(),
    })
}

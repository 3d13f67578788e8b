#![allow(dead_code)] // each target uses part of it
//! What several targets share: one deployment's wiring on the embedded store with a sink
//! that drops what it is given, and one runtime.

use std::sync::{Arc, OnceLock};
use stratus_api::ServiceInfo;
use stratus_api::graph::{Graph, Parts};
use stratus_core::auth::{AuthConfig, Authority, Secret};
use stratus_core::calls::CallsConfig;
use stratus_core::clock::{Clock, ManualClock};
use stratus_core::sink::{ConnectionSink, SinkError};
use stratus_core::store::memory::MemoryTable;
use stratus_core::store::schema::MAIN;
use stratus_protocol::ids::ConnectionId;

pub const APP: &str = "fuzz-app";
pub const APP_SECRET: &str = "fuzz-app-secret-0123456789";
pub const JWT_SECRET: &str = "fuzz-jwt-secret-0123456789abcdef0123456789";

pub struct Dropping;

#[async_trait::async_trait]
impl ConnectionSink for Dropping {
    async fn post(&self, _: &ConnectionId, _: &str) -> Result<(), SinkError> {
        Ok(())
    }
    async fn alive(&self, _: &ConnectionId) -> Result<bool, SinkError> {
        Ok(true)
    }
    async fn close(&self, _: &ConnectionId) -> Result<(), SinkError> {
        Ok(())
    }
}

pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap())
}

pub fn authority() -> Arc<Authority> {
    let cfg = AuthConfig::new("stratus-fuzz", Secret::new(JWT_SECRET)).with_app(APP, Secret::new(APP_SECRET));
    Arc::new(Authority::new(cfg))
}

/// The REST state and the WebSocket front door of one deployment, and its clock.
pub fn graph() -> (Graph, ManualClock) {
    let clock = ManualClock::at_system_time();
    let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
    let table = Arc::new(MemoryTable::new(&MAIN, clock_dyn.clone()));
    let calls = CallsConfig { signaling_url: "ws://fuzz/ws".into(), ..CallsConfig::default() };
    let parts = Parts::new(table, Arc::new(Dropping), authority(), clock_dyn, ServiceInfo::new("fuzz"), calls);
    (Graph::build(parts), clock)
}

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

/// An access token of `user` in the fuzz app, minted at the clock's time.
pub fn access_token(clock: &ManualClock, user: &str) -> String {
    let req = stratus_protocol::auth::TokenRequest {
        app_key: APP.into(),
        app_secret: APP_SECRET.into(),
        user_id: user.into(),
        email: None,
        full_name: None,
        role: None,
        grants: Default::default(),
        ttl_seconds: Some(86_400),
    };
    let tokens = stratus_core::auth::TableRefreshTokens(Arc::new(MemoryTable::new(&MAIN, Arc::new(clock.clone()))));
    runtime().block_on(authority().issue(&tokens, &req, clock.now_secs())).unwrap().access_token
}

/// A media node engine with room `r` and participant `p` (may publish and subscribe).
pub fn engine(now: std::time::Instant) -> stratus_media_node::sfu::Engine {
    use stratus_media_node::sfu::{Command, Engine};
    let metrics = Arc::new(stratus_media_node::metrics::Metrics::default());
    let mut e = Engine::new("127.0.0.1:40000".parse().unwrap(), metrics, now);
    e.handle_command("r", Command::CreateRoom { max_participants: 4, name: "r".into() }, now).unwrap();
    let req = stratus_protocol::media::CreateParticipantRequest {
        user_id: "u".into(),
        connection_id: None,
        can_publish: true,
        can_subscribe: true,
    };
    e.handle_command("r", Command::Join { participant: "p".into(), req }, now).unwrap();
    e
}

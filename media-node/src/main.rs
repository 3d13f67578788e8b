//! `stratus-media-node`. Environment:
//! - `STRATUS_MEDIA_ADDR` — listen address (default `127.0.0.1:7880`).
//! - `STRATUS_CONTROL_KEYS` — `id:secret[,id:secret]`, the keys control requests are signed
//!   with (two while rotating). Required.
//! - `STRATUS_NODE_ID` (default: a new UUID), `STRATUS_REGION` (default `local`).
//! - `STRATUS_TABLE` — the table to register in (DynamoDB; `STRATUS_DYNAMODB_ENDPOINT` or
//!   `AWS_ENDPOINT_URL` for a compatible endpoint). Without it the node runs unregistered.
//! - `STRATUS_CONTROL_URL` (default `http://<listen address>`), `STRATUS_PUBLIC_IP` (default
//!   `127.0.0.1`), `STRATUS_MAX_PARTICIPANTS` (500), `STRATUS_HEARTBEAT_SECS` (5),
//!   `STRATUS_DRAIN_SECS` (300).
//! - Media: `STRATUS_MEDIA_UDP_PORT` (first worker's UDP port; worker `i` uses port + i; 0
//!   picks free ports; default 0), `STRATUS_MEDIA_WORKERS` (default: the number of CPUs),
//!   `STRATUS_MEDIA_BIND_IP` (default `0.0.0.0`), `STRATUS_ROOM_MAX_PARTICIPANTS` (100).
//! - Events: `STRATUS_WS_MANAGEMENT_ENDPOINT`, the API Gateway Management API endpoint the
//!   node pushes room events to (an `http://` endpoint, such as the local stack's emulator,
//!   is called with dummy credentials). Without it events are not pushed.

use std::sync::Arc;
use std::time::Duration;
use stratus_core::clock::{Clock, SystemClock};
use stratus_core::signaling::ConnectionSink;
use stratus_core::store::Table;
use stratus_core::store::schema::MAIN;
use stratus_dynamo::management::ManagementApiSink;
use stratus_media_node::registry::{self, Registration};
use stratus_media_node::sfu::{Sfu, SfuConfig};

fn fail(msg: String) -> ! {
    eprintln!("stratus-media-node: {msg}");
    std::process::exit(2);
}

fn num(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| fail(format!("{name} must be a number"))),
        Err(_) => default,
    }
}

#[tokio::main]
async fn main() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt().json().with_env_filter(filter).with_target(false).try_init();
    let addr = std::env::var("STRATUS_MEDIA_ADDR").unwrap_or_else(|_| "127.0.0.1:7880".into());
    let keys = std::env::var("STRATUS_CONTROL_KEYS")
        .map_err(|_| "STRATUS_CONTROL_KEYS is not set".to_owned())
        .and_then(|k| stratus_control::parse_keys(&k))
        .unwrap_or_else(|e| fail(e));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ip = |name: &str, default: &str| -> std::net::IpAddr {
        std::env::var(name)
            .unwrap_or_else(|_| default.into())
            .parse()
            .unwrap_or_else(|_| fail(format!("{name} must be an IP address")))
    };
    let public_ip = ip("STRATUS_PUBLIC_IP", "127.0.0.1");
    let cpus = std::thread::available_parallelism().map(|n| n.get() as u64).unwrap_or(1);
    let config = SfuConfig {
        public_ip,
        bind_ip: ip("STRATUS_MEDIA_BIND_IP", "0.0.0.0"),
        udp_port: num("STRATUS_MEDIA_UDP_PORT", 0) as u16,
        workers: num("STRATUS_MEDIA_WORKERS", cpus).max(1) as usize,
        max_participants_per_room: num("STRATUS_ROOM_MAX_PARTICIPANTS", 100) as u32,
    };
    let (events_tx, events_rx) = tokio::sync::mpsc::unbounded_channel();
    let sfu = Arc::new(Sfu::start(config, events_tx).unwrap_or_else(|e| fail(format!("media sockets: {e}"))));
    let sink: Option<Arc<dyn ConnectionSink>> = match std::env::var("STRATUS_WS_MANAGEMENT_ENDPOINT") {
        Ok(ep) if ep.starts_with("http://") => Some(Arc::new(ManagementApiSink::local(&ep))),
        Ok(ep) => Some(Arc::new(ManagementApiSink::new(&aws_config::load_from_env().await, &ep))),
        Err(_) => None,
    };
    tokio::spawn(stratus_media_node::events::push(events_rx, sink));
    let state = Arc::new(stratus_media_node::NodeState::new(
        std::env::var("STRATUS_NODE_ID").unwrap_or_else(|_| uuid::Uuid::new_v4().to_string()),
        std::env::var("STRATUS_REGION").unwrap_or_else(|_| "local".into()),
        stratus_control::Verifier::new(keys),
        clock.clone(),
        sfu.clone(),
    ));
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap_or_else(|e| fail(format!("bind {addr}: {e}")));
    let local = listener.local_addr().unwrap_or_else(|e| fail(e.to_string()));
    let reg = Arc::new(Registration {
        control_url: std::env::var("STRATUS_CONTROL_URL").unwrap_or_else(|_| format!("http://{local}")),
        public_ip: public_ip.to_string(),
        max_participants: num("STRATUS_MAX_PARTICIPANTS", 500) as i64,
        every: Duration::from_secs(num("STRATUS_HEARTBEAT_SECS", 5).max(1)),
    });
    let table: Option<Arc<dyn Table>> = match std::env::var(MAIN.name_env) {
        Ok(name) => {
            let endpoint = std::env::var("STRATUS_DYNAMODB_ENDPOINT").ok();
            let client = stratus_dynamo::client(endpoint.as_deref()).await;
            Some(Arc::new(stratus_dynamo::DynamoTable::new(client, name, &MAIN, clock.clone())))
        }
        Err(_) => {
            eprintln!("stratus-media-node: {} not set; running unregistered", MAIN.name_env);
            None
        }
    };
    if let Some(t) = &table {
        tokio::spawn(registry::heartbeats(t.clone(), state.clone(), reg.clone()));
    }
    let media: Vec<String> = sfu.media_addrs().iter().map(|a| a.to_string()).collect();
    println!("stratus-media-node {} listening on http://{local}, media on udp {}", state.id, media.join(","));
    let drain_for = Duration::from_secs(num("STRATUS_DRAIN_SECS", 300));
    let shutdown = {
        let (state, reg) = (state.clone(), reg.clone());
        async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .unwrap_or_else(|e| fail(format!("SIGTERM handler: {e}")));
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            registry::drain(table, state, reg, drain_for).await;
        }
    };
    if let Err(e) = axum::serve(listener, stratus_media_node::app(state)).with_graceful_shutdown(shutdown).await {
        fail(e.to_string());
    }
}

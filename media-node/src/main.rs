//! `stratus-media-node`. Environment:
//! - `STRATUS_MEDIA_ADDR` — listen address (default `127.0.0.1:7880`).
//! - `STRATUS_CONTROL_KEYS` — `id:secret[,id:secret]`, the keys control requests are signed
//!   with (two while rotating). Required.
//! - `STRATUS_NODE_ID` (default: a new UUID), `STRATUS_REGION` (default `local`).

use std::sync::Arc;
use stratus_core::clock::{Clock, SystemClock};

#[tokio::main]
async fn main() {
    let addr = std::env::var("STRATUS_MEDIA_ADDR").unwrap_or_else(|_| "127.0.0.1:7880".into());
    let keys = match std::env::var("STRATUS_CONTROL_KEYS")
        .map_err(|_| "STRATUS_CONTROL_KEYS is not set".to_owned())
        .and_then(|k| stratus_control::parse_keys(&k))
    {
        Ok(k) => k,
        Err(e) => {
            eprintln!("stratus-media-node: {e}");
            std::process::exit(2);
        }
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let state = Arc::new(stratus_media_node::NodeState {
        id: std::env::var("STRATUS_NODE_ID").unwrap_or_else(|_| uuid::Uuid::new_v4().to_string()),
        region: std::env::var("STRATUS_REGION").unwrap_or_else(|_| "local".into()),
        verifier: stratus_control::Verifier::new(keys),
        started_ms: clock.now_ms(),
        clock,
    });
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("stratus-media-node: bind {addr}: {e}");
            std::process::exit(1);
        }
    };
    match listener.local_addr() {
        Ok(a) => println!("stratus-media-node {} listening on http://{a}", state.id),
        Err(e) => eprintln!("stratus-media-node: {e}"),
    }
    if let Err(e) = axum::serve(listener, stratus_media_node::app(state)).await {
        eprintln!("stratus-media-node: {e}");
        std::process::exit(1);
    }
}

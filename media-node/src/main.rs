//! # stratus-media-node
//!
//! Placeholder for the SFU media node (its own issue brings the `webrtc` engine, the signed
//! control API, the registry and metrics). Today it only answers `/healthz` and
//! `/api/version`, so the binary, its port and its place in the workspace exist.
//!
//! `STRATUS_MEDIA_ADDR` — listen address (default `127.0.0.1:7880`).

use axum::Json;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("STRATUS_MEDIA_ADDR").unwrap_or_else(|_| "127.0.0.1:7880".into());
    let app =
        axum::Router::new().route("/healthz", get(|| async { Json(serde_json::json!({ "status": "ok" })) })).route(
            "/api/version",
            get(|| async {
                Json(serde_json::json!({ "service": "stratus-media-node", "version": env!("CARGO_PKG_VERSION") }))
            }),
        );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("stratus-media-node (placeholder) listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}

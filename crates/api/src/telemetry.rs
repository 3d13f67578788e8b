//! Structured logs: one JSON object per line, with the request span's fields (request id,
//! method, path) on every line logged while serving a request. Level from `RUST_LOG`
//! (default `info`). Request bodies, tokens and secrets are never logged.

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber; a second call is a no-op.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .flatten_event(true)
        .try_init();
}

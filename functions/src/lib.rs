//! # stratus-functions
//!
//! Lambda entry points. Each binary in `src/bin/` is a thin `main`: build clients once at
//! init (cold start pays the TLS handshake once), then hand the shared router or handler to
//! the Lambda runtime. What they share is here.
//!
//! Layout:
//! - [`config`] — environment → store and token authority (credentials from Secrets Manager).
//! - [`ws`]     — the WebSocket dispatcher: API Gateway WebSocket event → `Signaling`.
//! - `bin/rest.rs` — the REST API (`stratus_api::router`) under `lambda_http::run`.
//! - `bin/ws.rs` — the WebSocket routes under `lambda_runtime::run`.
//! - `bin/ws_sweeper.rs` — the scheduled sweeper of stale connections.
//!
//! Environment (set by `template.yaml`):
//! - `STRATUS_TABLE` — the main table's name.
//! - `STRATUS_CREDENTIALS_SECRET` — id or ARN of the Secrets Manager secret holding
//!   `{"jwt_secret": "...", "apps": {"<app key>": "<app secret>"}}`.
//! - `STRATUS_CONTROL_SECRET` — id or ARN of the media fleet's control-keys secret
//!   (`{"id", "secret", "next_id"?, "next_secret"?}`, see `stratus_control::parse_keys`); with
//!   it the functions drive media nodes (group rooms) over signed HTTPS. A secret of its own,
//!   so the nodes, which read it, never see the JWT signing key.
//! - `STRATUS_ISSUER` — the tokens' `iss` (default `stratus`).
//! - `STRATUS_WS_MANAGEMENT_ENDPOINT` — the WebSocket API's `@connections` endpoint.
//! - `AWS_ENDPOINT_URL` — honoured by the SDK, for LocalStack-compatible endpoints.

pub mod config;
pub mod ws;

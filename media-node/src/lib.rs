//! # stratus-media-node
//!
//! The media node: a long-running process hosting the SFU, taking orders only from the
//! functions over HTTP signed with RFC 9421 message signatures (`stratus-control`), and
//! pushing room events to participants' WebSocket connections.
//!
//! Layout:
//! - [`state`]     — [`NodeState`]: identity, control keys (verifier), the SFU, drain flag, load.
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
//! - [`app`]       — [`app()`], the router: operations endpoints unsigned, control signed. The binary
//!   serves it over TLS with a self-signed certificate (`stratus_control::tls`) when asked.
//!
//! Dependencies point one way: `app` uses `routes` and `signed`, which use `state`, which
//! uses `sfu`; no module imports one that uses it (checked by tests/tests/layers.rs).

pub mod address;
pub mod app;
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
pub mod state;

pub use app::app;
pub use state::NodeState;

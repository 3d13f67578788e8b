//! # stratus-core
//!
//! The rules of the platform, as plain logic over narrow store traits. No AWS SDK, no HTTP,
//! no clock of its own: every operation that depends on time takes `now` (milliseconds since
//! the Unix epoch) from a [`clock::Clock`] its caller owns, so tests move time by hand.
//!
//! Layout, from the bottom up (a module uses only those above it; `tests/tests/layers.rs`
//! checks there is no circle and that nothing imports the front door):
//! - [`clock`]  — the `Clock` trait, the system clock and a manual clock for tests.
//! - [`store`]  — the table abstraction every store implements (`Table`), its value/condition
//!   types, the table definitions ([`store::schema`]) and the embedded in-memory twin
//!   ([`store::memory`]). The DynamoDB implementation lives in `stratus-dynamo`.
//! - [`objects`] — the object-store port (presigned uploads and downloads: chat attachments)
//!   and its embedded twin; S3 lives in `stratus-dynamo`.
//! - [`error`]  — `Rejection`, the one error every domain module reports (refused with a
//!   code, rate limited, or the store failed).
//! - [`records`] — each stored entity: its key layout and its typed record (serde, turned
//!   into an item by [`records::codec`]), with the updates and conditions on its attributes;
//!   the only place key prefixes and attribute names are spelled (`layers.rs` checks).
//! - [`tenant`] — apps as tenants: an app's namespace of the table (every key of its users'
//!   entities, made by [`store::scoped`]) and its rooms' ids on a media node.
//! - [`sink`]   — the `ConnectionSink` port messages to connections go through; posting
//!   reports who is gone and cleans up nothing.
//! - [`auth`]   — app credentials, JWT minting/validation and refresh-token rotation.
//! - [`ratelimit`] — per-user, per-minute limits counted in the store.
//! - [`ice`]    — the ICE servers handed to clients, TURN credentials in the REST API style.
//! - [`presence`] — chosen status + facts (open connections, active-call lock), last seen.
//! - [`nodes`]  — the media-node registry: heartbeats with a TTL, draining, the live list.
//! - [`p2p`]    — connection records and peer-to-peer rooms (join, leave, relay); operations
//!   return the messages they want sent.
//! - [`rooms`]  — SFU rooms: records, placement on the least-loaded live node with
//!   conditional writes, re-placement off dead nodes, members with a capacity guard.
//! - [`calls`]  — 1:1 calls: initiate/answer/end races, missed calls, history, call events.
//! - [`chat`]   — chat sessions with roles, messages and attachments, reactions, read markers, usage; events
//!   to every participant's connections.
//! - [`sfu`]    — group rooms end to end: the WebSocket SFU dialect and REST room operations
//!   over the rooms, the registry and a `MediaControl` (signed HTTP to a node).
//! - [`signaling`] — the WebSocket front door: connect, disconnect, messages dispatched to
//!   the modules above; the only place that posts their messages and cleans up connections.
//!
//! Dependencies point one way: `stratus-protocol` ← this crate ← stores, functions, local stack.
//! docs/architecture.md has the picture.

pub mod auth;
pub mod calls;
pub mod chat;
pub mod clock;
pub mod error;
pub mod ice;
pub mod nodes;
pub mod objects;
pub mod p2p;
pub mod presence;
pub mod ratelimit;
pub mod records;
pub mod rooms;
pub mod sfu;
pub mod signaling;
pub mod sink;
pub mod store;
pub mod tenant;

//! # stratus-protocol
//!
//! The single source of Stratus wire types. Everything a client, a function or a media node
//! sends or receives is defined here, and nowhere else. No I/O, no clocks, no AWS.
//!
//! Layout:
//! - [`error`]  — the one JSON error shape and the error codes (with their HTTP status).
//! - [`ids`]    — named id types (`UserId`, `RequestId`, ...), never bare strings.
//! - [`auth`]   — token minting, refresh, validation bodies and the JWT claims.
//! - [`calls`]  — calls, history and presence bodies; call events pushed over the WebSocket.
//! - [`chat`]   — chat sessions, messages, reactions, read markers, usage; chat events.
//! - [`health`] — health, readiness and version bodies.
//! - [`ice`]    — the ICE servers (STUN, TURN with short-lived credentials) clients use.
//! - [`ws`]     — WebSocket signaling messages: parsing (envelope and flat dialects), events.
//! - [`media`]  — SFU: the media node's control bodies, RTP capabilities, room events.
//! - [`control`] — the media node's control routes (method + path pattern), declared once.
//! - [`sfu`]    — the WebSocket SFU dialect (createRoom … setPreferredLayers, declared once with
//!   their response types) and REST room bodies.
//! - [`typescript`] — the SDK's `wire.ts`, rendered from these types (checked by a test).
//!
//! Field naming: REST bodies use `snake_case` (what the calling services this platform
//! replaces used); JWT grants keep the camelCase names app developers know (`canPublish`), and
//! so do the SFU bodies in [`media`] (`producerId`, `requestId`), which the WebSocket SFU
//! protocol carries unchanged.

pub mod auth;
pub mod calls;
pub mod chat;
pub mod control;
pub mod error;
pub mod health;
pub mod ice;
pub mod ids;
pub mod media;
pub mod sfu;
pub mod typescript;
pub mod ws;

/// Version of the wire protocol described by this crate. Bumped on breaking changes.
pub const PROTOCOL_VERSION: u32 = 1;

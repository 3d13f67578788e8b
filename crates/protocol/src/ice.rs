//! `GET /api/v1/ice-servers`: the ICE servers a client should give its peer connections.
//! Each entry has the shape of WebRTC's `RTCIceServer` (`urls`, `username`, `credential`), so
//! a browser passes the list as is.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IceServer {
    /// `stun:`, `turn:` or `turns:` URLs (RFC 7064 / 7065), e.g.
    /// `turn:turn.example.com:3478?transport=udp`.
    pub urls: Vec<String>,
    /// TURN only: `<expiry unix time>:<user id>` (the TURN REST API convention).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub username: Option<String>,
    /// TURN only: base64(HMAC-SHA1(shared secret, username)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub credential: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IceServersResponse {
    pub ice_servers: Vec<IceServer>,
    /// Seconds the TURN credentials stay valid from now; ask again before they run out.
    pub ttl_seconds: i64,
    /// When they stop being valid (RFC 3339).
    pub expires_at: String,
    /// Whether a relay (TURN) is offered. Without one, clients behind symmetric NATs or
    /// UDP-blocking firewalls cannot connect.
    pub relay: bool,
    /// What is missing, when something is (`relay: false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub note: Option<String>,
}

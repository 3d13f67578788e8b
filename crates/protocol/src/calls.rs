//! Calls and presence: REST bodies under `/api/v1` and the events pushed over the WebSocket.
//!
//! - `POST /api/v1/calls/initiate` [`InitiateCall`] → 201 [`CallView`]
//! - `PUT /api/v1/calls/{id}/answer` → [`CallView`]
//! - `DELETE /api/v1/calls/{id}` ([`EndCall`] body or `?reason=`) → [`CallView`] with the duration
//! - `GET /api/v1/calls/{id}/status` → [`CallView`]
//! - `GET /api/v1/calls/user/{user_id}/active` → [`ActiveCalls`]
//! - `GET /api/v1/calls/user/{user_id}/history` → [`History`]
//! - `GET /api/v1/presence/status/{user_id}` → [`PresenceView`]; `PUT /api/v1/presence/status`
//!   [`PresenceUpdate`] → [`PresenceView`]; `GET /api/v1/presence/check/{user_id}` → [`Availability`]
//!
//! WebSocket events: `incoming-call` (to the callee's connections) and `call-status` (to both
//! sides on every change), both carrying a [`CallEvent`].

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum CallType {
    Voice,
    Video,
}

impl CallType {
    pub fn parse(s: &str) -> Option<CallType> {
        match s {
            "voice" => Some(CallType::Voice),
            "video" => Some(CallType::Video),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CallType::Voice => "voice",
            CallType::Video => "video",
        }
    }
}

/// A call's live status (what `call-status` events carry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum CallStatus {
    /// Ringing: initiated, not answered yet.
    Connecting,
    Active,
    Ended,
    Failed,
}

impl CallStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Connecting => "connecting",
            CallStatus::Active => "active",
            CallStatus::Ended => "ended",
            CallStatus::Failed => "failed",
        }
    }
}

/// How a call ended, as history reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Answered, then hung up.
    Completed,
    /// Ended by `connection_failed`.
    Failed,
    /// Never answered (hung up while ringing, or rang past the timeout).
    Missed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Failed => "failed",
            Outcome::Missed => "missed",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "completed" => Some(Outcome::Completed),
            "failed" => Some(Outcome::Failed),
            "missed" => Some(Outcome::Missed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    UserHangup,
    ConnectionFailed,
    Timeout,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::UserHangup => "user_hangup",
            EndReason::ConnectionFailed => "connection_failed",
            EndReason::Timeout => "timeout",
        }
    }

    pub fn parse(s: &str) -> Option<EndReason> {
        match s {
            "user_hangup" => Some(EndReason::UserHangup),
            "connection_failed" => Some(EndReason::ConnectionFailed),
            "timeout" => Some(EndReason::Timeout),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct InitiateCall {
    pub caller_id: String,
    pub callee_id: String,
    /// `voice` or `video` (anything else: 400 `INVALID_CALL_TYPE`).
    pub call_type: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct EndCall {
    /// `user_hangup` (default), `connection_failed` or `timeout`.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Caller,
    Callee,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Participant {
    pub user_id: String,
    pub role: Role,
    /// When this side joined the call: the caller at initiation, the callee on answering.
    pub joined_at: Option<String>,
    /// `connected` (in the call's signaling room now), `ringing` (callee, not answered yet),
    /// `disconnected`.
    pub connection_status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct CallView {
    pub call_id: String,
    pub call_type: CallType,
    pub status: CallStatus,
    /// Set once the call is over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub outcome: Option<Outcome>,
    pub caller_id: String,
    pub callee_id: String,
    /// Where to signal: the WebSocket URL and the room to join there.
    pub signaling_url: String,
    pub room: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub answered_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ended_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub end_reason: Option<EndReason>,
    /// Seconds from answer to end (0 when never answered); set once the call is over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub duration_seconds: Option<u64>,
    pub participants: Vec<Participant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ActiveCalls {
    pub user_id: String,
    pub calls: Vec<CallView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct HistoryEntry {
    pub call_id: String,
    pub call_type: CallType,
    /// `completed`, `failed` or `missed`; absent while the call is still going.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub status: Option<Outcome>,
    pub role: Role,
    /// The other side.
    pub peer_id: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ended_at: Option<String>,
    pub duration_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Pagination {
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
    pub has_more: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct History {
    pub user_id: String,
    pub calls: Vec<HistoryEntry>,
    pub pagination: Pagination,
}

/// `GET …/history` query.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    pub call_type: Option<String>,
    pub status: Option<String>,
}

pub const HISTORY_DEFAULT_LIMIT: u32 = 50;
pub const HISTORY_MAX_LIMIT: u32 = 200;

/// Presence statuses a user can set. `offline` is also what a user with no connection shows.
pub const PRESENCE_STATUSES: &[&str] = &["online", "away", "busy", "dnd", "offline"];

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct PresenceUpdate {
    pub status: String,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PresenceView {
    pub user_id: String,
    /// The chosen status while connected; `offline` with no open connection.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub message: Option<String>,
    pub online: bool,
    pub in_call: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub last_seen: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Availability {
    pub user_id: String,
    /// Online, not `dnd`, and not in a call.
    pub available: bool,
    pub status: String,
    pub in_call: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub last_seen: Option<String>,
}

/// The data of `incoming-call` and `call-status` events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CallEvent {
    pub call_id: String,
    pub status: CallStatus,
    pub call_type: CallType,
    pub caller_id: String,
    pub callee_id: String,
    pub room: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason: Option<EndReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub outcome: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub duration_seconds: Option<u64>,
}

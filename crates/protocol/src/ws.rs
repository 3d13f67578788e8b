//! WebSocket signaling messages (API Gateway WebSocket API, or the local stack's emulator).
//!
//! Every message is an envelope `{"type", "requestId"?, "data"?}`. Clients may also send the
//! flat shape of simple signaling dialects, with the fields beside `type`
//! (`{"type":"offer","to":"…","sdp":…}`); [`parse_client`] accepts both, and a few common
//! type spellings (`join-room`, `ice-candidate`, …). The server always sends envelopes.
//!
//! Client → server:
//!
//! | type | data | effect |
//! |---|---|---|
//! | `join` (`join-room`) | `{room}` | joins; answered by `joined`; others get `user-joined` |
//! | `leave` (`leave-room`) | `{room}` | leaves; answered by `left`; others get `user-left` |
//! | `offer`, `answer` | `{to?, room?, sdp}` | relayed to peer `to`, or to the whole room |
//! | `candidate` (`ice-candidate`, `iceCandidate`) | `{to?, room?, candidate}` | same |
//! | `bye`, `custom` | `{to?, room?, …}` | same; any other fields are relayed as they are |
//! | `ping` | — | answered by `pong` |
//! | `chat-typing` | `{session_id}` | the session's other participants get `chat-typing` |
//!
//! Relayed messages keep their type and data and gain `from` (the sender's peer id),
//! `fromUser` and `room`. A peer id is the sender's connection id. `room` may be left out
//! when the sender is in exactly one room (or, with `to`, shares one room with the target).
//!
//! Server → client: `joined {room, peerId, userId, peers: [{peerId, userId}]}`, `left {room}`,
//! `user-joined {room, peerId, userId}`, `user-left {room, peerId, userId, reason}`, the relayed
//! types above, `pong`, and `error {code, message, requestId}`.
//!
//! The SFU dialect (`createRoom`, `joinRoom`, … `setPreferredLayers`; see [`crate::sfu`])
//! shares the envelope and parses to [`ClientMessage::Sfu`].

use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

/// Route keys of the WebSocket API besides `$connect`, `$disconnect` and `$default`, chosen
/// by `$request.body.type` (other types, aliases included, go to `$default`).
pub const MESSAGE_ROUTES: &[&str] = &["join", "leave", "offer", "answer", "candidate", "bye", "custom", "ping"];

/// Chat's client messages (through `$default`): `chat-typing {session_id}`, told to the
/// session's other participants as a `chat-typing` event, answered only on error.
pub const CHAT_TYPES: &[&str] = &["chat-typing"];

/// The names of the events the server pushes (besides the SFU room events in
/// [`crate::media::RoomEvent`] and answers to requests). Their data types are listed with
/// them in [`crate::typescript`].
pub mod event {
    pub const JOINED: &str = "joined";
    pub const LEFT: &str = "left";
    pub const USER_JOINED: &str = "user-joined";
    pub const USER_LEFT: &str = "user-left";
    pub const PONG: &str = "pong";
    pub const INCOMING_CALL: &str = "incoming-call";
    pub const CALL_STATUS: &str = "call-status";
    pub const ROOM_MOVED: &str = "roomMoved";
}

/// Largest message the signaling handlers take (API Gateway itself closes connections on
/// messages over 128 KB; between the two the client gets `MESSAGE_TOO_LARGE`).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelayKind {
    Offer,
    Answer,
    Candidate,
    Bye,
    Custom,
}

impl RelayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RelayKind::Offer => "offer",
            RelayKind::Answer => "answer",
            RelayKind::Candidate => "candidate",
            RelayKind::Bye => "bye",
            RelayKind::Custom => "custom",
        }
    }

    /// The data field this kind must carry.
    fn required(self) -> Option<&'static str> {
        match self {
            RelayKind::Offer | RelayKind::Answer => Some("sdp"),
            RelayKind::Candidate => Some("candidate"),
            RelayKind::Bye | RelayKind::Custom => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    Join {
        room: String,
    },
    Leave {
        room: String,
    },
    /// `data` holds everything to relay (without `to` and `room`).
    Relay {
        kind: RelayKind,
        to: Option<String>,
        room: Option<String>,
        data: Map<String, Value>,
    },
    Ping,
    /// `chat-typing`: the sender is typing in this chat session.
    ChatTyping {
        session_id: String,
    },
    /// A request of the SFU dialect.
    Sfu(crate::sfu::SfuRequest),
}

/// A rejected message: what the client gets back as `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WsError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(rename = "requestId", default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub request_id: Option<String>,
}

impl WsError {
    pub fn new(code: ErrorCode, message: impl Into<String>, request_id: Option<String>) -> Self {
        Self { code, message: message.into(), request_id }
    }
}

/// The request id of a message, if it has a usable one (≤ 128 chars string or number).
fn request_id(obj: &Map<String, Value>) -> Option<String> {
    match obj.get("requestId") {
        Some(Value::String(s)) if s.len() <= 128 => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn kind_of(t: &str) -> Option<Result<RelayKind, &'static str>> {
    Some(Ok(match t {
        "offer" => RelayKind::Offer,
        "answer" => RelayKind::Answer,
        "candidate" | "ice-candidate" | "iceCandidate" | "ice_candidate" => RelayKind::Candidate,
        "bye" => RelayKind::Bye,
        "custom" => RelayKind::Custom,
        "join" | "join-room" => return Some(Err("join")),
        "leave" | "leave-room" => return Some(Err("leave")),
        "ping" => return Some(Err("ping")),
        "chat-typing" => return Some(Err("chat-typing")),
        t if crate::sfu::SFU_TYPES.contains(&t) => return Some(Err("sfu")),
        _ => return None,
    }))
}

fn take_id(data: &mut Map<String, Value>, field: &str, rid: &Option<String>) -> Result<Option<String>, WsError> {
    match data.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if crate::ids::is_valid_id(&s) || (field == "to" && !s.is_empty() && s.len() <= 128) => {
            Ok(Some(s))
        }
        Some(_) => Err(WsError::new(
            ErrorCode::ValidationError,
            format!("`{field}` must be an id of 1-128 characters"),
            rid.clone(),
        )),
    }
}

/// A serde message without its position suffix, bounded (it may quote client input).
fn short(msg: &str) -> String {
    let msg = msg.split(" at line ").next().unwrap_or(msg);
    msg.chars().take(200).collect()
}

/// Parses one client message. `Err` carries the error to send back (with the request id
/// when the message had one).
pub fn parse_client(text: &str) -> Result<(Option<String>, ClientMessage), WsError> {
    if text.len() > MAX_MESSAGE_BYTES {
        // Still worth a parse (the transport bounds its size) to echo the request id.
        let rid = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(o)) => request_id(&o),
            _ => None,
        };
        return Err(WsError::new(
            ErrorCode::MessageTooLarge,
            format!("messages are limited to {MAX_MESSAGE_BYTES} bytes"),
            rid,
        ));
    }
    let mut obj: Map<String, Value> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return Err(WsError::new(ErrorCode::InvalidMessage, "a message is a JSON object", None)),
        Err(_) => return Err(WsError::new(ErrorCode::InvalidMessage, "message is not valid JSON", None)),
    };
    let rid = request_id(&obj);
    let t = match obj.remove("type") {
        Some(Value::String(t)) => t,
        _ => return Err(WsError::new(ErrorCode::InvalidMessage, "missing string field `type`", rid)),
    };
    let Some(kind) = kind_of(&t) else {
        let shown: String = t.chars().take(40).collect();
        return Err(WsError::new(ErrorCode::UnknownMessageType, format!("unknown message type `{shown}`"), rid));
    };
    obj.remove("requestId");
    // Envelope `data`, or the flat dialect's top-level fields.
    let mut data = match obj.remove("data") {
        Some(Value::Object(d)) => d,
        Some(Value::Null) | None => obj,
        Some(_) => return Err(WsError::new(ErrorCode::ValidationError, "`data` must be an object", rid)),
    };
    let msg = match kind {
        Err("ping") => ClientMessage::Ping,
        Err("chat-typing") => {
            let id = take_id(&mut data, "session_id", &rid)?;
            let id =
                id.ok_or_else(|| WsError::new(ErrorCode::ValidationError, "`session_id` is required", rid.clone()))?;
            ClientMessage::ChatTyping { session_id: id }
        }
        Err("sfu") => {
            let v = serde_json::json!({ "type": t, "data": Value::Object(data) });
            let req = serde_json::from_value(v).map_err(|e| {
                WsError::new(ErrorCode::ValidationError, format!("`{t}`: {}", short(&e.to_string())), rid.clone())
            })?;
            ClientMessage::Sfu(req)
        }
        Err(which) => {
            let room = take_id(&mut data, "room", &rid)?.or(take_id(&mut data, "roomId", &rid)?);
            let room =
                room.ok_or_else(|| WsError::new(ErrorCode::ValidationError, "`room` is required", rid.clone()))?;
            if which == "join" { ClientMessage::Join { room } } else { ClientMessage::Leave { room } }
        }
        Ok(kind) => {
            let to = take_id(&mut data, "to", &rid)?;
            let room = take_id(&mut data, "room", &rid)?;
            if let Some(field) = kind.required()
                && data.get(field).is_none_or(Value::is_null)
            {
                return Err(WsError::new(
                    ErrorCode::ValidationError,
                    format!("`{}` needs `{field}`", kind.as_str()),
                    rid,
                ));
            }
            // Fields the server sets on relayed messages cannot be forged by the sender.
            for reserved in ["from", "fromUser"] {
                data.remove(reserved);
            }
            ClientMessage::Relay { kind, to, room, data }
        }
    };
    Ok((rid, msg))
}

/// One member of a room, as others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Peer {
    pub peer_id: String,
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Joined {
    pub room: String,
    pub peer_id: String,
    pub user_id: String,
    pub peers: Vec<Peer>,
}

/// `user-joined`: someone joined a room this connection is in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PeerJoined {
    pub room: String,
    pub peer_id: String,
    pub user_id: String,
}

/// Why a peer left a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum LeaveReason {
    /// It sent `leave`.
    Left,
    /// Its WebSocket closed.
    Disconnected,
    /// Its connection was found gone (a post to it failed, or the sweeper found it stale).
    Gone,
}

/// `user-left`: someone left a room this connection is in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PeerLeft {
    pub room: String,
    pub peer_id: String,
    pub user_id: String,
    pub reason: LeaveReason,
}

/// `join` (and `leave`): the room.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RoomName {
    pub room: String,
}

/// Serializes a server message envelope: `{"type", "requestId"?, "data"}`.
pub fn envelope(kind: &str, request_id: Option<&str>, data: impl Serialize) -> String {
    #[derive(Serialize)]
    struct Out<'a, D> {
        #[serde(rename = "type")]
        kind: &'a str,
        #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
        request_id: Option<&'a str>,
        data: D,
    }
    // Our data types and JSON maps always serialize.
    serde_json::to_string(&Out { kind, request_id, data }).expect("server message serializes")
}

pub fn error_message(e: &WsError) -> String {
    envelope("error", e.request_id.as_deref(), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_and_flat_shapes_parse_alike() {
        let a = parse_client(r#"{"type":"offer","requestId":"r1","data":{"to":"B","sdp":"v=0"}}"#).unwrap();
        let b = parse_client(r#"{"type":"offer","requestId":"r1","to":"B","sdp":"v=0"}"#).unwrap();
        assert_eq!(a, b);
        let (rid, msg) = a;
        assert_eq!(rid.as_deref(), Some("r1"));
        match msg {
            ClientMessage::Relay { kind, to, room, data } => {
                assert_eq!(kind, RelayKind::Offer);
                assert_eq!(to.as_deref(), Some("B"));
                assert_eq!(room, None);
                assert_eq!(data.get("sdp"), Some(&Value::String("v=0".into())));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn dialect_type_names_are_accepted() {
        assert!(matches!(parse_client(r#"{"type":"join-room","roomId":"r"}"#).unwrap().1, ClientMessage::Join { .. }));
        let (_, m) = parse_client(r#"{"type":"ice-candidate","candidate":{"candidate":"c"}}"#).unwrap();
        assert!(matches!(m, ClientMessage::Relay { kind: RelayKind::Candidate, .. }));
    }

    #[test]
    fn bad_messages_get_their_codes_and_keep_the_request_id() {
        let code = |t: &str| parse_client(t).unwrap_err().code;
        assert_eq!(code("{nope"), ErrorCode::InvalidMessage);
        assert_eq!(code("[1]"), ErrorCode::InvalidMessage);
        assert_eq!(code(r#"{"data":{}}"#), ErrorCode::InvalidMessage);
        assert_eq!(code(r#"{"type":"teleport"}"#), ErrorCode::UnknownMessageType);
        assert_eq!(code(r#"{"type":"offer","to":"B"}"#), ErrorCode::ValidationError);
        assert_eq!(code(r#"{"type":"join"}"#), ErrorCode::ValidationError);
        assert_eq!(code(r#"{"type":"join","room":"a#b"}"#), ErrorCode::ValidationError);
        let big = format!(r#"{{"type":"custom","x":"{}"}}"#, "y".repeat(MAX_MESSAGE_BYTES));
        assert_eq!(code(&big), ErrorCode::MessageTooLarge);
        let e = parse_client(r#"{"type":"teleport","requestId":"q7"}"#).unwrap_err();
        assert_eq!(e.request_id.as_deref(), Some("q7"));
    }

    #[test]
    fn sfu_requests_parse_in_both_shapes_and_bad_fields_are_validation_errors() {
        use crate::sfu::{ConsumerRef, SfuRequest};
        let a = parse_client(r#"{"type":"pause","requestId":"7","data":{"consumerId":"c1"}}"#).unwrap();
        let b = parse_client(r#"{"type":"pause","requestId":7,"consumerId":"c1"}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.1, ClientMessage::Sfu(SfuRequest::Pause(ConsumerRef { consumer_id: "c1".into() })));
        let e = parse_client(r#"{"type":"joinRoom","requestId":"q","data":{"room":"r"}}"#).unwrap_err();
        assert_eq!((e.code, e.request_id.as_deref()), (ErrorCode::ValidationError, Some("q")));
        assert!(e.message.contains("joinRoom"), "{}", e.message);
        let e = parse_client(r#"{"type":"createWebRtcTransport","direction":"sideways"}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationError);
    }

    #[test]
    fn senders_cannot_forge_from() {
        let (_, m) = parse_client(r#"{"type":"custom","from":"admin","fromUser":"root","x":1}"#).unwrap();
        let ClientMessage::Relay { data, .. } = m else { panic!() };
        assert!(!data.contains_key("from") && !data.contains_key("fromUser"));
    }
}

//! The one error shape used by every REST route (and, with the same codes, the WebSocket):
//!
//! ```json
//! {"error": {"code": "INVALID_REQUEST", "message": "...", "details": {...}},
//!  "timestamp": "2026-11-21T10:00:00.000Z", "request_id": "..."}
//! ```

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Every error code a client can see. Serialized as `SCREAMING_SNAKE_CASE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    // Common codes.
    InvalidRequest,
    ValidationError,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    InternalError,
    ServiceUnavailable,
    // Authentication.
    AuthTokenMissing,
    AuthTokenInvalid,
    AuthTokenExpired,
    InvalidCredentials,
    // WebSocket signaling.
    InvalidMessage,
    UnknownMessageType,
    MessageTooLarge,
    NotInRoom,
    PeerNotFound,
    TooManyRooms,
    TooManyConnections,
    // Calls.
    CallNotFound,
    CallAlreadyEnded,
    UserAlreadyInCall,
    UserNotAvailable,
    InvalidCallType,
    // Signed control requests to media nodes.
    SignatureMissing,
    SignatureMalformed,
    SignatureUnknownKey,
    SignatureInvalid,
    SignatureExpired,
    SignatureClockSkew,
    SignatureReplayed,
    // SFU rooms (media nodes and the SFU signaling).
    RoomNotFound,
    RoomFull,
    ParticipantNotFound,
    ProducerNotFound,
    ConsumerNotFound,
    TransportNotFound,
    /// A participant asked for more transports than the node keeps for one.
    TooManyTransports,
    InvalidSdp,
    NodeDraining,
    // Chat.
    ChatSessionNotFound,
    MessageNotFound,
    /// The session's duration is over: its history is read-only.
    ChatSessionExpired,
    AttachmentNotFound,
    /// The attachment's object is not there yet, or not the size and type it was declared.
    AttachmentIncomplete,
    AttachmentTooLarge,
    AttachmentTypeNotAllowed,
}

impl ErrorCode {
    /// The HTTP status a REST response with this code carries.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidRequest | ValidationError | InvalidMessage | UnknownMessageType | NotInRoom | PeerNotFound
            | TooManyRooms | InvalidCallType | InvalidSdp => 400,
            Unauthorized | AuthTokenMissing | AuthTokenInvalid | AuthTokenExpired | InvalidCredentials
            | SignatureMissing | SignatureMalformed | SignatureUnknownKey | SignatureInvalid | SignatureExpired
            | SignatureClockSkew | SignatureReplayed => 401,
            Forbidden => 403,
            NotFound | CallNotFound | RoomNotFound | ParticipantNotFound | ProducerNotFound | ConsumerNotFound
            | TransportNotFound | ChatSessionNotFound | MessageNotFound | AttachmentNotFound => 404,
            MethodNotAllowed => 405,
            Conflict | CallAlreadyEnded | UserAlreadyInCall | UserNotAvailable | RoomFull | ChatSessionExpired
            | AttachmentIncomplete => 409,
            PayloadTooLarge | MessageTooLarge | AttachmentTooLarge => 413,
            UnsupportedMediaType | AttachmentTypeNotAllowed => 415,
            RateLimited | TooManyConnections | TooManyTransports => 429,
            InternalError => 500,
            ServiceUnavailable | NodeDraining => 503,
        }
    }

    /// The code's wire name, e.g. `"INVALID_REQUEST"`.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidRequest => "INVALID_REQUEST",
            ValidationError => "VALIDATION_ERROR",
            Unauthorized => "UNAUTHORIZED",
            Forbidden => "FORBIDDEN",
            NotFound => "NOT_FOUND",
            MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Conflict => "CONFLICT",
            PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            RateLimited => "RATE_LIMITED",
            InternalError => "INTERNAL_ERROR",
            ServiceUnavailable => "SERVICE_UNAVAILABLE",
            AuthTokenMissing => "AUTH_TOKEN_MISSING",
            AuthTokenInvalid => "AUTH_TOKEN_INVALID",
            AuthTokenExpired => "AUTH_TOKEN_EXPIRED",
            InvalidCredentials => "INVALID_CREDENTIALS",
            InvalidMessage => "INVALID_MESSAGE",
            UnknownMessageType => "UNKNOWN_MESSAGE_TYPE",
            MessageTooLarge => "MESSAGE_TOO_LARGE",
            NotInRoom => "NOT_IN_ROOM",
            PeerNotFound => "PEER_NOT_FOUND",
            TooManyRooms => "TOO_MANY_ROOMS",
            TooManyConnections => "TOO_MANY_CONNECTIONS",
            CallNotFound => "CALL_NOT_FOUND",
            CallAlreadyEnded => "CALL_ALREADY_ENDED",
            UserAlreadyInCall => "USER_ALREADY_IN_CALL",
            UserNotAvailable => "USER_NOT_AVAILABLE",
            InvalidCallType => "INVALID_CALL_TYPE",
            SignatureMissing => "SIGNATURE_MISSING",
            SignatureMalformed => "SIGNATURE_MALFORMED",
            SignatureUnknownKey => "SIGNATURE_UNKNOWN_KEY",
            SignatureInvalid => "SIGNATURE_INVALID",
            SignatureExpired => "SIGNATURE_EXPIRED",
            SignatureClockSkew => "SIGNATURE_CLOCK_SKEW",
            SignatureReplayed => "SIGNATURE_REPLAYED",
            RoomNotFound => "ROOM_NOT_FOUND",
            RoomFull => "ROOM_FULL",
            ParticipantNotFound => "PARTICIPANT_NOT_FOUND",
            ProducerNotFound => "PRODUCER_NOT_FOUND",
            ConsumerNotFound => "CONSUMER_NOT_FOUND",
            TransportNotFound => "TRANSPORT_NOT_FOUND",
            TooManyTransports => "TOO_MANY_TRANSPORTS",
            InvalidSdp => "INVALID_SDP",
            NodeDraining => "NODE_DRAINING",
            ChatSessionNotFound => "CHAT_SESSION_NOT_FOUND",
            MessageNotFound => "MESSAGE_NOT_FOUND",
            ChatSessionExpired => "CHAT_SESSION_EXPIRED",
            AttachmentNotFound => "ATTACHMENT_NOT_FOUND",
            AttachmentIncomplete => "ATTACHMENT_INCOMPLETE",
            AttachmentTooLarge => "ATTACHMENT_TOO_LARGE",
            AttachmentTypeNotAllowed => "ATTACHMENT_TYPE_NOT_ALLOWED",
        }
    }

    /// The code a bare HTTP status maps to, for responses produced outside our handlers
    /// (routing, body limits).
    pub fn for_status(status: u16) -> ErrorCode {
        use ErrorCode::*;
        match status {
            401 => Unauthorized,
            403 => Forbidden,
            404 => NotFound,
            405 => MethodNotAllowed,
            409 => Conflict,
            413 => PayloadTooLarge,
            415 => UnsupportedMediaType,
            429 => RateLimited,
            503 => ServiceUnavailable,
            400..=499 => InvalidRequest,
            _ => InternalError,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub details: Option<serde_json::Value>,
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    /// RFC 3339, UTC, milliseconds.
    pub timestamp: String,
    pub request_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_wire_names() {
        for code in [
            ErrorCode::InvalidRequest,
            ErrorCode::AuthTokenExpired,
            ErrorCode::PayloadTooLarge,
            ErrorCode::ServiceUnavailable,
        ] {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::Value::String(code.as_str().to_owned()));
        }
    }

    #[test]
    fn error_body_omits_absent_details() {
        let body = ErrorBody {
            error: ErrorDetail { code: ErrorCode::NotFound, message: "no route".into(), details: None },
            timestamp: "t".into(),
            request_id: "r".into(),
        };
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(v["error"]["code"], "NOT_FOUND");
        assert!(v["error"].get("details").is_none());
    }
}

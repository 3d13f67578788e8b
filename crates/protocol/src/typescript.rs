//! The SDK's wire types in TypeScript, rendered from the Rust types of this crate (ts-rs
//! reads their serde attributes). The committed `clients/js/src/wire.ts` must equal
//! [`render`]: `tests/typescript.rs` fails when it drifts, and rewrites it with
//! `STRATUS_BLESS=1`.

use crate::{calls, chat, error, ice, media, sfu, ws};
use ts_rs::{Config, TS};

/// The whole of `wire.ts`.
pub fn render() -> String {
    // Every integer on the wire fits a JS number (ids are strings).
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from crates/protocol by `STRATUS_BLESS=1 cargo test -p stratus-protocol --test typescript`.\n\
         // Do not edit: change the Rust types and regenerate.\n\n",
    );
    macro_rules! decls {
        ($($t:ty),* $(,)?) => {$(
            out.push_str("export ");
            out.push_str(&<$t as TS>::decl(&cfg));
            out.push_str("\n\n");
        )*};
    }
    decls!(
        serde_json::Value,
        error::ErrorCode,
        error::ErrorDetail,
        error::ErrorBody,
        ws::WsError,
        // Peer-to-peer signaling.
        ws::RoomName,
        ws::Peer,
        ws::Joined,
        ws::PeerJoined,
        ws::LeaveReason,
        ws::PeerLeft,
        // Calls and presence.
        calls::CallType,
        calls::CallStatus,
        calls::Outcome,
        calls::EndReason,
        calls::Role,
        calls::InitiateCall,
        calls::EndCall,
        calls::Participant,
        calls::CallView,
        calls::ActiveCalls,
        calls::HistoryEntry,
        calls::Pagination,
        calls::History,
        calls::PresenceUpdate,
        calls::PresenceView,
        calls::Availability,
        calls::CallEvent,
        ice::IceServer,
        ice::IceServersResponse,
        // Group rooms (the SFU dialect).
        media::MediaKind,
        media::Direction,
        media::RtpCodec,
        media::HeaderExtension,
        media::RtpCapabilities,
        media::CreateTransportRequest,
        media::IceCandidate,
        media::TransportInfo,
        media::PublishTrack,
        media::PublishRequest,
        media::ProducerInfo,
        media::PublishResponse,
        media::Layers,
        media::SubscribeRequest,
        media::ConsumerInfo,
        media::SubscribeResponse,
        media::NegotiationResponse,
        media::ParticipantInfo,
        media::RoomEvent,
        sfu::Empty,
        sfu::CreateRoom,
        sfu::RoomRef,
        sfu::OptionalRoom,
        sfu::ConnectTransport,
        sfu::TransportRef,
        sfu::ProducerRef,
        sfu::ConsumerRef,
        sfu::PreferredLayers,
        media::QualityRequest,
        media::QualityInfo,
        sfu::RoomSummary,
        sfu::JoinRoomResponse,
        sfu::RoomMoved,
        sfu::RoomList,
        sfu::RoomDetail,
        sfu::RoomMember,
        sfu::JoinResult,
        // Chat.
        chat::ChatRole,
        chat::MessageType,
        chat::CreateSession,
        chat::AddParticipant,
        chat::SetRole,
        chat::ChatParticipant,
        chat::SessionView,
        chat::SessionList,
        chat::SendMessage,
        chat::EditMessage,
        chat::ReactionCount,
        chat::SystemKind,
        chat::SystemEvent,
        chat::MessageView,
        chat::MessagePage,
        chat::MarkRead,
        chat::ReadState,
        chat::Usage,
        chat::ChatEvent,
        chat::Typing,
        chat::RequestUpload,
        chat::UploadTicket,
        chat::AttachmentView,
    );

    out.push_str("/** Each SFU request's `data` and the `data` of its answer. */\nexport interface SfuMethods {\n");
    for (name, req, res) in sfu::ts_methods(&cfg) {
        out.push_str(&format!("  {name}: {{ request: {req}; response: {res} }};\n"));
    }
    out.push_str("}\n\n");

    out.push_str("/** The peer-to-peer requests that are answered: `join` by `joined`, `leave` by `left`. */\n");
    out.push_str("export interface SignalingMethods {\n");
    for (name, req, res) in [("join", "RoomName", "Joined"), ("leave", "RoomName", "RoomName")] {
        out.push_str(&format!("  {name}: {{ request: {req}; response: {res} }};\n"));
    }
    out.push_str("}\n\n");

    out.push_str("/** What the functions push, by event type (the media node's are in `RoomEvent`). */\n");
    out.push_str("export interface PushedEvents {\n");
    let events = [
        (ws::event::JOINED, ws::Joined::name(&cfg)),
        (ws::event::LEFT, ws::RoomName::name(&cfg)),
        (ws::event::USER_JOINED, ws::PeerJoined::name(&cfg)),
        (ws::event::USER_LEFT, ws::PeerLeft::name(&cfg)),
        (ws::event::INCOMING_CALL, calls::CallEvent::name(&cfg)),
        (ws::event::CALL_STATUS, calls::CallEvent::name(&cfg)),
        (ws::event::ROOM_MOVED, sfu::RoomMoved::name(&cfg)),
    ];
    let chat_events: Vec<(&str, String)> = chat::event::ALL.iter().map(|e| (*e, chat::ChatEvent::name(&cfg))).collect();
    let events = events.into_iter().chain(chat_events);
    for (name, ty) in events {
        out.push_str(&format!("  '{name}': {ty};\n"));
    }
    out.push_str("}\n");
    out
}

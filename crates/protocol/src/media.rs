//! SFU wire types: the media node's control API (requests the functions sign and send), the
//! RTP capabilities a node supports, and the room events a node pushes to participants.
//!
//! Negotiation is SDP, one PeerConnection per direction:
//! - a **send** transport carries a participant's published tracks: the client offers
//!   (`PublishRequest.sdp`), the node answers;
//! - a **recv** transport carries what the participant subscribed to: the node offers (in
//!   `SubscribeResponse.offer`, `ConsumerClosedResponse.offer` or a `negotiationNeeded`
//!   event), the client answers (`AnswerRequest`). One offer is outstanding at a time; an
//!   offer that could not be made while another was pending comes back in the response to
//!   the answer.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Audio,
    Video,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Send,
    Recv,
}

/// A codec the node forwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RtpCodec {
    pub kind: MediaKind,
    pub mime_type: String,
    pub clock_rate: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub channels: Option<u16>,
    pub payload_type: u8,
    #[serde(default)]
    pub sdp_fmtp_line: String,
    #[serde(default)]
    pub rtcp_feedback: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HeaderExtension {
    pub kind: MediaKind,
    pub uri: String,
}

/// What `getRouterRtpCapabilities` returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RtpCapabilities {
    pub codecs: Vec<RtpCodec>,
    pub header_extensions: Vec<HeaderExtension>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRoomRequest {
    /// Participants allowed at once; the node's own limit when absent.
    #[serde(default)]
    pub max_participants: Option<u32>,
    /// The room's name as its participants know it, used in the events they get; the id in
    /// the path when absent. (The functions name a room on the node by app and name, since
    /// every app's rooms share the fleet: `stratus_core::tenant::node_room`.)
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateParticipantRequest {
    pub user_id: String,
    /// The WebSocket connection the node pushes this participant's events to.
    #[serde(default)]
    pub connection_id: Option<String>,
    #[serde(default = "yes")]
    pub can_publish: bool,
    #[serde(default = "yes")]
    pub can_subscribe: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTransportRequest {
    pub direction: Direction,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct IceCandidate {
    pub ip: String,
    pub port: u16,
    pub protocol: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TransportInfo {
    pub transport_id: String,
    pub direction: Direction,
    /// Where the node receives media for this transport (also in every SDP it writes).
    pub ice_candidates: Vec<IceCandidate>,
}

/// One track in a publish offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishTrack {
    /// The track's `a=mid` in the offer.
    pub mid: String,
    pub kind: MediaKind,
    /// Simulcast encodings' rids, lowest resolution first (spatial layer 0 is `rids[0]`).
    #[serde(default)]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub rids: Vec<String>,
    /// Free-form label shown to subscribers (`camera`, `screen`, ...).
    #[serde(default)]
    #[ts(optional = nullable)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishRequest {
    pub transport_id: String,
    /// The client's offer on its send transport, containing every track it publishes.
    pub sdp: String,
    /// The tracks this offer adds (tracks already published may be absent).
    pub tracks: Vec<PublishTrack>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProducerInfo {
    pub producer_id: String,
    pub participant_id: String,
    pub user_id: String,
    pub kind: MediaKind,
    pub mid: String,
    #[serde(default)]
    pub rids: Vec<String>,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub source: Option<String>,
    /// Paused by its publisher (muted): the node forwards nothing of it until it resumes.
    #[serde(default)]
    pub paused: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PublishResponse {
    /// The node's answer.
    pub sdp: String,
    pub producers: Vec<ProducerInfo>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Layers {
    pub spatial_layer: u8,
    /// Highest temporal layer forwarded; all when absent.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub temporal_layer: Option<u8>,
}

/// Highest receive quality ([`QualityRequest`]).
pub const MAX_QUALITY: u8 = 100;

/// A participant's receive quality, 0 (least) to 100 (best): what the node forwards to them
/// of every video they subscribe to, now and later. [`quality_layers`] and
/// [`quality_max_bitrate`] say how it maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QualityRequest {
    pub quality: u8,
}

/// The quality set, what it maps to, and the participant's video consumers after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QualityInfo {
    pub quality: u8,
    /// The spatial layer asked for of a three-layer simulcast (fewer layers: the nearest).
    pub spatial_layer: u8,
    /// The highest temporal layer forwarded; all when absent.
    pub temporal_layer: Option<u8>,
    /// A layer above this many bits per second (as the node measures it) is not forwarded.
    pub max_bitrate: u64,
    pub consumers: Vec<ConsumerInfo>,
}

/// The layers quality `q` asks of a video whose highest spatial layer is `top`:
/// 67–100 the highest, 34–66 the middle (layer 1), 0–33 the lowest; below 20 only the base
/// temporal layer (about half the frame rate, where the publisher sends temporal layers).
pub fn quality_layers(q: u8, top: u8) -> Layers {
    let spatial = match q {
        67.. => top,
        34..=66 => top.min(1),
        _ => 0,
    };
    Layers { spatial_layer: spatial, temporal_layer: (q < 20).then_some(0) }
}

/// The bitrate cap of quality `q`: 150 kbps at 0, 25 kbps more per point (1.4 Mbps at 50,
/// 2.65 Mbps at 100). The node forwards the highest layer within the preference whose
/// measured bitrate fits, and the lowest active layer when none does.
pub fn quality_max_bitrate(q: u8) -> u64 {
    150_000 + 25_000 * u64::from(q.min(MAX_QUALITY))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscribeRequest {
    /// The subscriber's recv transport.
    pub transport_id: String,
    pub producer_id: String,
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub paused: bool,
    /// Simulcast: the layers to forward; the highest spatial layer when absent.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub preferred_layers: Option<Layers>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerInfo {
    pub consumer_id: String,
    pub producer_id: String,
    pub transport_id: String,
    pub kind: MediaKind,
    /// The consumer's `a=mid` in the recv transport's offer.
    pub mid: Option<String>,
    /// The SSRC the subscriber receives this consumer on.
    pub ssrc: u32,
    pub paused: bool,
    pub preferred_layers: Option<Layers>,
    /// The spatial layer being forwarded now (switches happen on a keyframe).
    pub current_spatial_layer: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SubscribeResponse {
    pub consumer: ConsumerInfo,
    /// The recv transport's new offer; absent when another offer is awaiting its answer (the
    /// new one then comes in the response to that answer).
    pub offer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnswerRequest {
    pub sdp: String,
}

/// Responses that may carry the recv transport's next offer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NegotiationResponse {
    pub offer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantInfo {
    pub participant_id: String,
    pub user_id: String,
    pub producers: Vec<ProducerInfo>,
    pub consumers: u32,
    pub transports: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomInfo {
    pub room_id: String,
    pub max_participants: u32,
    pub participants: Vec<ParticipantInfo>,
}

/// A node's load, also written to the registry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStats {
    pub rooms: u64,
    pub participants: u64,
    pub transports: u64,
    pub producers: u64,
    pub consumers: u64,
    pub packets_in: u64,
    pub packets_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Publisher packets never received (sequence gaps), since start.
    pub packets_lost: u64,
    pub bitrate_in_bps: u64,
    pub bitrate_out_bps: u64,
}

/// Events a node pushes to participants' connections (the `type` field names them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum RoomEvent {
    #[serde(rename_all = "camelCase")]
    ParticipantJoined { room_id: String, participant_id: String, user_id: String },
    #[serde(rename_all = "camelCase")]
    ParticipantLeft { room_id: String, participant_id: String, user_id: String },
    #[serde(rename_all = "camelCase")]
    ProducerCreated { room_id: String, producer: ProducerInfo },
    #[serde(rename_all = "camelCase")]
    ProducerClosed { room_id: String, producer_id: String, participant_id: String },
    /// The publisher paused (muted) a producer: its consumers get nothing until it resumes.
    #[serde(rename_all = "camelCase")]
    ProducerPaused { room_id: String, producer_id: String, participant_id: String },
    #[serde(rename_all = "camelCase")]
    ProducerResumed { room_id: String, producer_id: String, participant_id: String },
    #[serde(rename_all = "camelCase")]
    ConsumerPaused { room_id: String, consumer_id: String, producer_id: String },
    #[serde(rename_all = "camelCase")]
    ConsumerResumed { room_id: String, consumer_id: String, producer_id: String },
    #[serde(rename_all = "camelCase")]
    ConsumerLayersChanged { room_id: String, consumer_id: String, spatial_layer: u8, temporal_layer: Option<u8> },
    /// The recv transport changed without a request from its owner (a producer it consumed
    /// closed): answer this offer.
    #[serde(rename_all = "camelCase")]
    NegotiationNeeded { room_id: String, transport_id: String, offer: String },
}

impl RoomEvent {
    /// The room the event is about (a node names it in the participants' terms).
    pub fn room_id_mut(&mut self) -> &mut String {
        match self {
            RoomEvent::ParticipantJoined { room_id, .. }
            | RoomEvent::ParticipantLeft { room_id, .. }
            | RoomEvent::ProducerCreated { room_id, .. }
            | RoomEvent::ProducerClosed { room_id, .. }
            | RoomEvent::ProducerPaused { room_id, .. }
            | RoomEvent::ProducerResumed { room_id, .. }
            | RoomEvent::ConsumerPaused { room_id, .. }
            | RoomEvent::ConsumerResumed { room_id, .. }
            | RoomEvent::ConsumerLayersChanged { room_id, .. }
            | RoomEvent::NegotiationNeeded { room_id, .. } => room_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_carry_their_type_and_camel_case_fields() {
        let e = RoomEvent::ProducerClosed { room_id: "r".into(), producer_id: "p".into(), participant_id: "a".into() };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v, serde_json::json!({"type":"producerClosed","roomId":"r","producerId":"p","participantId":"a"}));
    }

    #[test]
    fn subscribe_request_refuses_unknown_fields() {
        let bad = r#"{"transportId":"t","producerId":"p","layers":1}"#;
        assert!(serde_json::from_str::<SubscribeRequest>(bad).is_err());
        let ok = r#"{"transportId":"t","producerId":"p","preferredLayers":{"spatialLayer":1}}"#;
        let r: SubscribeRequest = serde_json::from_str(ok).unwrap();
        assert_eq!(r.preferred_layers, Some(Layers { spatial_layer: 1, temporal_layer: None }));
    }
}

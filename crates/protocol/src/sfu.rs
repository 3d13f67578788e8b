//! The WebSocket SFU protocol (group rooms on media nodes) and the REST room bodies.
//!
//! Requests travel in the signaling envelope, `{"type", "requestId", "data"}` (or flat, with
//! the fields beside `type`); each is answered by `<type>Response` with the same `requestId`
//! and the result in `data`, or by `error {code, message, requestId}`.
//!
//! | type | data | response data |
//! |---|---|---|
//! | `createRoom` | `{roomId?, maxParticipants?}` | [`RoomSummary`] |
//! | `joinRoom` | `{roomId}` | [`JoinRoomResponse`] |
//! | `leaveRoom` | `{}` | `{roomId}` |
//! | `getRouterRtpCapabilities` | `{roomId?}` | [`RtpCapabilities`] |
//! | `createWebRtcTransport` | `{direction: "send" \| "recv"}` | [`TransportInfo`] |
//! | `connectWebRtcTransport` | `{transportId, sdp}` (answer to the node's offer) | `{offer?}` |
//! | `restartIce` | `{transportId}` | `{offer?}` (recv: new offer; send: offer again with `iceRestart`) |
//! | `publish` | [`PublishRequest`] | [`PublishResponse`] |
//! | `unpublish` | `{producerId}` | `{producerId}` |
//! | `pauseProducer`, `resumeProducer` | `{producerId}` (mute / unmute your own) | [`crate::media::ProducerInfo`] |
//! | `subscribe` | [`SubscribeRequest`] | [`SubscribeResponse`] |
//! | `unsubscribe` | `{consumerId}` | `{offer?}` |
//! | `pause`, `resume` | `{consumerId}` | [`ConsumerInfo`] |
//! | `setPreferredLayers` | `{consumerId, spatialLayer, temporalLayer?}` | [`ConsumerInfo`] |
//! | `setQuality` | `{quality}` (0–100, every video the caller receives) | [`QualityInfo`] |
//!
//! A connection is in at most one SFU room; its participant id is its connection id.
//! Events (pushed by the media node): `participantJoined`, `participantLeft`,
//! `producerCreated`, `producerClosed`, `producerPaused`, `producerResumed`, `consumerPaused`, `consumerResumed`,
//! `consumerLayersChanged`, `negotiationNeeded` ([`crate::media::RoomEvent`]); and from the
//! functions, `roomMoved` ([`RoomMoved`]): the room's media node was lost, join again.

use crate::media::{
    ConsumerInfo, CreateTransportRequest, Layers, NegotiationResponse, ParticipantInfo, ProducerInfo, PublishRequest,
    PublishResponse, QualityInfo, QualityRequest, RtpCapabilities, SubscribeRequest, SubscribeResponse, TransportInfo,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Declares the SFU dialect once: each request's variant, wire name, data type and response
/// type. From the list come [`SfuRequest`], [`SfuRequest::name`], [`SFU_TYPES`],
/// [`check_response`] and the SDK's `SfuMethods` map (see [`crate::typescript`]).
macro_rules! sfu_methods {
    ($($variant:ident $name:literal ($req:ty) -> $res:ty;)*) => {
        /// The request types of the SFU dialect.
        pub const SFU_TYPES: &[&str] = &[$($name),*];

        #[derive(Debug, Clone, PartialEq, Deserialize)]
        #[serde(tag = "type", content = "data")]
        pub enum SfuRequest {
            $(#[serde(rename = $name)] $variant($req),)*
        }

        impl SfuRequest {
            /// The request's type name; its response is this plus `Response`.
            pub fn name(&self) -> &'static str {
                match self {
                    $(SfuRequest::$variant(_) => $name,)*
                }
            }
        }

        /// Whether `data` has the shape of the response to request `name` (tests hold every
        /// answer the server gives to the declared type).
        pub fn check_response(name: &str, data: &serde_json::Value) -> Result<(), String> {
            match name {
                $($name => serde_json::from_value::<$res>(data.clone()).map(|_| ()).map_err(|e| e.to_string()),)*
                other => Err(format!("{other} is not an SFU request")),
            }
        }

        /// `(name, request type, response type)` in TypeScript, for the SDK's method map.
        pub(crate) fn ts_methods(cfg: &ts_rs::Config) -> Vec<(&'static str, String, String)> {
            vec![$(($name, <$req as TS>::name(cfg), <$res as TS>::name(cfg)),)*]
        }
    };
}

sfu_methods! {
    CreateRoom "createRoom" (CreateRoom) -> RoomSummary;
    JoinRoom "joinRoom" (RoomRef) -> JoinRoomResponse;
    LeaveRoom "leaveRoom" (Empty) -> RoomRef;
    GetRouterRtpCapabilities "getRouterRtpCapabilities" (OptionalRoom) -> RtpCapabilities;
    CreateWebRtcTransport "createWebRtcTransport" (CreateTransportRequest) -> TransportInfo;
    ConnectWebRtcTransport "connectWebRtcTransport" (ConnectTransport) -> NegotiationResponse;
    RestartIce "restartIce" (TransportRef) -> NegotiationResponse;
    Publish "publish" (PublishRequest) -> PublishResponse;
    Unpublish "unpublish" (ProducerRef) -> ProducerRef;
    PauseProducer "pauseProducer" (ProducerRef) -> ProducerInfo;
    ResumeProducer "resumeProducer" (ProducerRef) -> ProducerInfo;
    Subscribe "subscribe" (SubscribeRequest) -> SubscribeResponse;
    Unsubscribe "unsubscribe" (ConsumerRef) -> NegotiationResponse;
    Pause "pause" (ConsumerRef) -> ConsumerInfo;
    Resume "resume" (ConsumerRef) -> ConsumerInfo;
    SetPreferredLayers "setPreferredLayers" (PreferredLayers) -> ConsumerInfo;
    SetQuality "setQuality" (QualityRequest) -> QualityInfo;
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// Seed 003's call routes with its bodies as written, in its `{status, message, data}`
/// envelope (`crate::chat::seed::SeedEnvelope`).
///
/// - `POST /call/quality` [`SeedQuality`] → 200, `data`: [`QualityInfo`]
pub mod seed {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct SeedQuality {
        /// The group room (a 1:1 call's media is peer to peer: no node to set it on).
        #[serde(rename = "sessionId")]
        pub session_id: String,
        /// Whose receive quality: the caller's own user id.
        #[serde(rename = "participantId")]
        pub participant_id: String,
        /// 0–100.
        pub quality: u8,
    }
}

/// `createRoom`, and the body of `POST /api/v1/rooms` and `POST /api/v1/rooms/join`. Room
/// bodies are camelCase like the rest of the SFU dialect; REST callers' snake_case
/// spellings are accepted too.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRoom {
    /// A new id is made when absent.
    #[serde(default, alias = "room_id")]
    #[ts(optional = nullable)]
    pub room_id: Option<String>,
    /// For join: used only when the join creates the room.
    #[serde(default, alias = "max_participants")]
    #[ts(optional = nullable)]
    pub max_participants: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoomRef {
    pub room_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OptionalRoom {
    #[serde(default)]
    #[ts(optional = nullable)]
    pub room_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectTransport {
    pub transport_id: String,
    /// The client's answer to the node's offer on a recv transport.
    pub sdp: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransportRef {
    pub transport_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProducerRef {
    pub producer_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsumerRef {
    pub consumer_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferredLayers {
    pub consumer_id: String,
    pub spatial_layer: u8,
    #[serde(default)]
    #[ts(optional = nullable)]
    pub temporal_layer: Option<u8>,
}

impl PreferredLayers {
    pub fn layers(&self) -> Layers {
        Layers { spatial_layer: self.spatial_layer, temporal_layer: self.temporal_layer }
    }
}

/// A room as the WebSocket `createRoom` and the REST routes show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RoomSummary {
    pub room_id: String,
    pub owner: String,
    pub max_participants: i64,
    pub participants: i64,
    /// The media node the room is pinned to, once someone joined.
    pub node_id: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct JoinRoomResponse {
    pub room_id: String,
    /// This connection's participant id (its connection id).
    pub participant_id: String,
    pub node_id: String,
    /// Grows each time the room moves to another node.
    pub epoch: i64,
    /// Everyone in the room on the node, this participant included, with their producers.
    pub participants: Vec<ParticipantInfo>,
}

/// Pushed to a room's members when its media node was lost and the room moved: their
/// transports are gone; join again (the same `roomId`) and publish and subscribe anew.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RoomMoved {
    pub room_id: String,
    pub from_node_id: String,
    pub node_id: String,
    pub epoch: i64,
}

/// `GET /api/v1/rooms`: the caller's rooms with their participants, and totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RoomList {
    pub rooms: Vec<RoomDetail>,
    pub total_rooms: usize,
    pub total_participants: i64,
}

/// `GET /api/v1/rooms/{id}`, and one entry of the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct RoomDetail {
    #[serde(flatten)]
    pub room: RoomSummary,
    pub members: Vec<RoomMember>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RoomMember {
    pub participant_id: String,
    pub user_id: String,
    pub joined_at: String,
    /// Connected over the WebSocket (else joined over REST only).
    pub connected: bool,
}

/// What `POST /api/v1/rooms/join` answers: the room, placed on a media node, and how to
/// enter it (connect to `signaling_url` with a token and send `joinRoom {roomId}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct JoinResult {
    pub room_id: String,
    /// Whether this join created the room.
    pub created: bool,
    pub node_id: String,
    pub participants: i64,
    pub max_participants: i64,
    pub signaling_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_from_type_and_data() {
        let r: SfuRequest =
            serde_json::from_str(r#"{"type":"setPreferredLayers","data":{"consumerId":"c1","spatialLayer":1}}"#)
                .unwrap();
        assert_eq!(
            r,
            SfuRequest::SetPreferredLayers(PreferredLayers {
                consumer_id: "c1".into(),
                spatial_layer: 1,
                temporal_layer: None
            })
        );
        assert_eq!(r.name(), "setPreferredLayers");
        let r: SfuRequest = serde_json::from_str(r#"{"type":"leaveRoom","data":{}}"#).unwrap();
        assert_eq!(r, SfuRequest::LeaveRoom(Empty {}));
        assert!(serde_json::from_str::<SfuRequest>(r#"{"type":"joinRoom","data":{}}"#).is_err());
        assert!(serde_json::from_str::<SfuRequest>(r#"{"type":"pause","data":{"consumerId":"c","x":1}}"#).is_err());
    }

    #[test]
    fn every_listed_type_is_a_request() {
        for t in SFU_TYPES {
            let r = serde_json::from_str::<SfuRequest>(&format!(r#"{{"type":"{t}","data":{{}}}}"#));
            // Parses or fails on its fields, never on the type.
            if let Err(e) = r {
                assert!(!e.to_string().contains("unknown variant"), "{t}: {e}");
            }
        }
    }
}

export type MediaKind = 'audio' | 'video';
export type Direction = 'send' | 'recv';
/** Every WebSocket message: `{type, requestId?, data?}`. */
export interface Envelope<T = unknown> {
    type: string;
    requestId?: string;
    data?: T;
}
export interface Layers {
    spatialLayer: number;
    temporalLayer?: number;
}
export interface ProducerInfo {
    producerId: string;
    participantId: string;
    userId: string;
    kind: MediaKind;
    mid: string;
    rids?: string[];
    /** What the publisher says it is: `mic`, `camera`, `screen`, … */
    source?: string;
    /** Paused by its publisher (muted): nothing is forwarded until it resumes. */
    paused?: boolean;
}
export interface ParticipantInfo {
    participantId: string;
    userId: string;
    producers: ProducerInfo[];
}
export interface RoomSummary {
    roomId: string;
    owner: string;
    maxParticipants: number;
    participants: number;
    nodeId?: string;
    createdAt: string;
}
export interface JoinRoomResponse {
    roomId: string;
    participantId: string;
    nodeId: string;
    epoch: number;
    participants: ParticipantInfo[];
}
export interface TransportInfo {
    transportId: string;
    direction: Direction;
    iceCandidates: {
        ip: string;
        port: number;
        protocol: string;
    }[];
}
export interface PublishTrack {
    mid: string;
    kind: MediaKind;
    rids?: string[];
    source?: string;
}
export interface PublishResponse {
    sdp: string;
    producers: ProducerInfo[];
}
export interface ConsumerInfo {
    consumerId: string;
    producerId: string;
    transportId: string;
    kind: MediaKind;
    mid?: string;
    ssrc: number;
    paused: boolean;
    preferredLayers?: Layers;
    currentSpatialLayer?: number;
}
export interface SubscribeResponse {
    consumer: ConsumerInfo;
    offer?: string;
}
export interface NegotiationResponse {
    offer?: string;
}
export interface RoomMoved {
    roomId: string;
    fromNodeId: string;
    nodeId: string;
    epoch: number;
}
/** Events the media node pushes to a room's members (and `roomMoved` from the functions). */
export interface RoomWireEvents {
    participantJoined: {
        roomId: string;
        participantId: string;
        userId: string;
    };
    participantLeft: {
        roomId: string;
        participantId: string;
        userId: string;
    };
    producerCreated: {
        roomId: string;
        producer: ProducerInfo;
    };
    producerClosed: {
        roomId: string;
        producerId: string;
        participantId: string;
    };
    producerPaused: {
        roomId: string;
        producerId: string;
        participantId: string;
    };
    producerResumed: {
        roomId: string;
        producerId: string;
        participantId: string;
    };
    consumerPaused: {
        roomId: string;
        consumerId: string;
        producerId: string;
    };
    consumerResumed: {
        roomId: string;
        consumerId: string;
        producerId: string;
    };
    consumerLayersChanged: {
        roomId: string;
        consumerId: string;
        spatialLayer: number;
        temporalLayer?: number;
    };
    negotiationNeeded: {
        roomId: string;
        transportId: string;
        offer: string;
    };
    roomMoved: RoomMoved;
}
export interface PeerRef {
    peerId: string;
    userId: string;
}
export interface Joined {
    room: string;
    peerId: string;
    userId: string;
    peers: PeerRef[];
}
/** A relayed `offer` / `answer` / `candidate` / `bye` / `custom` as received. */
export interface Relayed {
    from: string;
    fromUser: string;
    room: string;
    sdp?: RTCSessionDescriptionInit | string;
    candidate?: RTCIceCandidateInit | string;
    [k: string]: unknown;
}
export type CallType = 'voice' | 'video';
export type CallStatus = 'connecting' | 'active' | 'ended' | 'failed';
export type EndReason = 'user_hangup' | 'connection_failed' | 'timeout';
/** The data of `incoming-call` and `call-status` events. */
export interface CallEvent {
    callId: string;
    status: CallStatus;
    callType: CallType;
    callerId: string;
    calleeId: string;
    room: string;
    reason?: EndReason;
    outcome?: 'completed' | 'failed' | 'missed';
    durationSeconds?: number;
}
/** A call as the REST API returns it (snake_case). */
export interface CallView {
    call_id: string;
    call_type: CallType;
    status: CallStatus;
    outcome?: string;
    caller_id: string;
    callee_id: string;
    signaling_url: string;
    room: string;
    created_at: string;
    answered_at?: string;
    ended_at?: string;
    end_reason?: EndReason;
    duration_seconds?: number;
    participants: {
        user_id: string;
        role: 'caller' | 'callee';
        joined_at?: string;
        connection_status: string;
    }[];
}
/** Everything the server pushes that is not the answer to a request, by type. */
export interface ServerEvents extends RoomWireEvents {
    joined: Joined;
    left: {
        room: string;
    };
    'user-joined': {
        room: string;
        peerId: string;
        userId: string;
    };
    'user-left': {
        room: string;
        peerId: string;
        userId: string;
        reason: 'left' | 'disconnected' | 'gone';
    };
    offer: Relayed;
    answer: Relayed;
    candidate: Relayed;
    bye: Relayed;
    custom: Relayed;
    'incoming-call': CallEvent;
    'call-status': CallEvent;
}
/** `GET /api/v1/ice-servers` (crates/protocol/src/ice.rs). */
export interface IceServer {
    urls: string[];
    username?: string;
    credential?: string;
}
export interface IceServersResponse {
    ice_servers: IceServer[];
    ttl_seconds: number;
    expires_at: string;
    relay: boolean;
    note?: string;
}

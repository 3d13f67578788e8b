export type JsonValue = number | string | boolean | Array<JsonValue> | {
    [key in string]: JsonValue;
} | null;
export type ErrorCode = "INVALID_REQUEST" | "VALIDATION_ERROR" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND" | "METHOD_NOT_ALLOWED" | "CONFLICT" | "PAYLOAD_TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE" | "RATE_LIMITED" | "INTERNAL_ERROR" | "SERVICE_UNAVAILABLE" | "AUTH_TOKEN_MISSING" | "AUTH_TOKEN_INVALID" | "AUTH_TOKEN_EXPIRED" | "INVALID_CREDENTIALS" | "INVALID_MESSAGE" | "UNKNOWN_MESSAGE_TYPE" | "MESSAGE_TOO_LARGE" | "NOT_IN_ROOM" | "PEER_NOT_FOUND" | "TOO_MANY_ROOMS" | "TOO_MANY_CONNECTIONS" | "CALL_NOT_FOUND" | "CALL_ALREADY_ENDED" | "USER_ALREADY_IN_CALL" | "USER_NOT_AVAILABLE" | "INVALID_CALL_TYPE" | "SIGNATURE_MISSING" | "SIGNATURE_MALFORMED" | "SIGNATURE_UNKNOWN_KEY" | "SIGNATURE_INVALID" | "SIGNATURE_EXPIRED" | "SIGNATURE_CLOCK_SKEW" | "SIGNATURE_REPLAYED" | "ROOM_NOT_FOUND" | "ROOM_FULL" | "PARTICIPANT_NOT_FOUND" | "PRODUCER_NOT_FOUND" | "CONSUMER_NOT_FOUND" | "TRANSPORT_NOT_FOUND" | "TOO_MANY_TRANSPORTS" | "INVALID_SDP" | "NODE_DRAINING" | "CHAT_SESSION_NOT_FOUND" | "MESSAGE_NOT_FOUND" | "CHAT_SESSION_EXPIRED" | "ATTACHMENT_NOT_FOUND" | "ATTACHMENT_INCOMPLETE" | "ATTACHMENT_TOO_LARGE" | "ATTACHMENT_TYPE_NOT_ALLOWED";
export type ErrorDetail = {
    code: ErrorCode;
    message: string;
    details?: JsonValue;
};
export type ErrorBody = {
    error: ErrorDetail;
    /**
     * RFC 3339, UTC, milliseconds.
     */
    timestamp: string;
    request_id: string;
};
export type WsError = {
    code: ErrorCode;
    message: string;
    requestId?: string;
};
export type RoomName = {
    room: string;
};
export type Peer = {
    peerId: string;
    userId: string;
};
export type Joined = {
    room: string;
    peerId: string;
    userId: string;
    peers: Array<Peer>;
};
export type PeerJoined = {
    room: string;
    peerId: string;
    userId: string;
};
export type LeaveReason = "left" | "disconnected" | "gone";
export type PeerLeft = {
    room: string;
    peerId: string;
    userId: string;
    reason: LeaveReason;
};
export type CallType = "voice" | "video";
export type CallStatus = "connecting" | "active" | "ended" | "failed";
export type Outcome = "completed" | "failed" | "missed";
export type EndReason = "user_hangup" | "connection_failed" | "timeout";
export type Role = "caller" | "callee";
export type InitiateCall = {
    caller_id: string;
    callee_id: string;
    /**
     * `voice` or `video` (anything else: 400 `INVALID_CALL_TYPE`).
     */
    call_type: string;
};
export type EndCall = {
    /**
     * `user_hangup` (default), `connection_failed` or `timeout`.
     */
    reason?: string | null;
};
export type Participant = {
    user_id: string;
    role: Role;
    /**
     * When this side joined the call: the caller at initiation, the callee on answering.
     */
    joined_at: string | null;
    /**
     * `connected` (in the call's signaling room now), `ringing` (callee, not answered yet),
     * `disconnected`.
     */
    connection_status: string;
};
export type CallView = {
    call_id: string;
    call_type: CallType;
    status: CallStatus;
    /**
     * Set once the call is over.
     */
    outcome?: Outcome;
    caller_id: string;
    callee_id: string;
    /**
     * Where to signal: the WebSocket URL and the room to join there.
     */
    signaling_url: string;
    room: string;
    created_at: string;
    answered_at?: string;
    ended_at?: string;
    end_reason?: EndReason;
    /**
     * Seconds from answer to end (0 when never answered); set once the call is over.
     */
    duration_seconds?: number;
    participants: Array<Participant>;
};
export type ActiveCalls = {
    user_id: string;
    calls: Array<CallView>;
};
export type HistoryEntry = {
    call_id: string;
    call_type: CallType;
    /**
     * `completed`, `failed` or `missed`; absent while the call is still going.
     */
    status?: Outcome;
    role: Role;
    /**
     * The other side.
     */
    peer_id: string;
    created_at: string;
    ended_at?: string;
    duration_seconds: number;
};
export type Pagination = {
    total: number;
    limit: number;
    offset: number;
    has_more: boolean;
};
export type History = {
    user_id: string;
    calls: Array<HistoryEntry>;
    pagination: Pagination;
};
export type PresenceUpdate = {
    status: string;
    message?: string | null;
};
export type PresenceView = {
    user_id: string;
    /**
     * The chosen status while connected; `offline` with no open connection.
     */
    status: string;
    message?: string;
    online: boolean;
    in_call: boolean;
    last_seen?: string;
};
export type Availability = {
    user_id: string;
    /**
     * Online, not `dnd`, and not in a call.
     */
    available: boolean;
    status: string;
    in_call: boolean;
    last_seen?: string;
};
export type CallEvent = {
    callId: string;
    status: CallStatus;
    callType: CallType;
    callerId: string;
    calleeId: string;
    room: string;
    reason?: EndReason;
    outcome?: Outcome;
    durationSeconds?: number;
};
export type IceServer = {
    /**
     * `stun:`, `turn:` or `turns:` URLs (RFC 7064 / 7065), e.g.
     * `turn:turn.example.com:3478?transport=udp`.
     */
    urls: Array<string>;
    /**
     * TURN only: `<expiry unix time>:<user id>` (the TURN REST API convention).
     */
    username?: string;
    /**
     * TURN only: base64(HMAC-SHA1(shared secret, username)).
     */
    credential?: string;
};
export type IceServersResponse = {
    ice_servers: Array<IceServer>;
    /**
     * Seconds the TURN credentials stay valid from now; ask again before they run out.
     */
    ttl_seconds: number;
    /**
     * When they stop being valid (RFC 3339).
     */
    expires_at: string;
    /**
     * Whether a relay (TURN) is offered. Without one, clients behind symmetric NATs or
     * UDP-blocking firewalls cannot connect.
     */
    relay: boolean;
    /**
     * What is missing, when something is (`relay: false`).
     */
    note?: string;
};
export type MediaKind = "audio" | "video";
export type Direction = "send" | "recv";
export type RtpCodec = {
    kind: MediaKind;
    mimeType: string;
    clockRate: number;
    channels?: number;
    payloadType: number;
    sdpFmtpLine: string;
    rtcpFeedback: Array<string>;
};
export type HeaderExtension = {
    kind: MediaKind;
    uri: string;
};
export type RtpCapabilities = {
    codecs: Array<RtpCodec>;
    headerExtensions: Array<HeaderExtension>;
};
export type CreateTransportRequest = {
    direction: Direction;
};
export type IceCandidate = {
    ip: string;
    port: number;
    protocol: string;
};
export type TransportInfo = {
    transportId: string;
    direction: Direction;
    /**
     * Where the node receives media for this transport (also in every SDP it writes).
     */
    iceCandidates: Array<IceCandidate>;
};
export type PublishTrack = {
    /**
     * The track's `a=mid` in the offer.
     */
    mid: string;
    kind: MediaKind;
    /**
     * Simulcast encodings' rids, lowest resolution first (spatial layer 0 is `rids[0]`).
     */
    rids?: Array<string>;
    /**
     * Free-form label shown to subscribers (`camera`, `screen`, ...).
     */
    source?: string | null;
};
export type PublishRequest = {
    transportId: string;
    /**
     * The client's offer on its send transport, containing every track it publishes.
     */
    sdp: string;
    /**
     * The tracks this offer adds (tracks already published may be absent).
     */
    tracks: Array<PublishTrack>;
};
export type ProducerInfo = {
    producerId: string;
    participantId: string;
    userId: string;
    kind: MediaKind;
    mid: string;
    rids: Array<string>;
    source?: string | null;
    /**
     * Paused by its publisher (muted): the node forwards nothing of it until it resumes.
     */
    paused: boolean;
};
export type PublishResponse = {
    /**
     * The node's answer.
     */
    sdp: string;
    producers: Array<ProducerInfo>;
};
export type Layers = {
    spatialLayer: number;
    /**
     * Highest temporal layer forwarded; all when absent.
     */
    temporalLayer?: number | null;
};
export type SubscribeRequest = {
    /**
     * The subscriber's recv transport.
     */
    transportId: string;
    producerId: string;
    paused?: boolean;
    /**
     * Simulcast: the layers to forward; the highest spatial layer when absent.
     */
    preferredLayers?: Layers | null;
};
export type ConsumerInfo = {
    consumerId: string;
    producerId: string;
    transportId: string;
    kind: MediaKind;
    /**
     * The consumer's `a=mid` in the recv transport's offer.
     */
    mid: string | null;
    /**
     * The SSRC the subscriber receives this consumer on.
     */
    ssrc: number;
    paused: boolean;
    preferredLayers: Layers | null;
    /**
     * The spatial layer being forwarded now (switches happen on a keyframe).
     */
    currentSpatialLayer: number | null;
};
export type SubscribeResponse = {
    consumer: ConsumerInfo;
    /**
     * The recv transport's new offer; absent when another offer is awaiting its answer (the
     * new one then comes in the response to that answer).
     */
    offer: string | null;
};
export type NegotiationResponse = {
    offer: string | null;
};
export type ParticipantInfo = {
    participantId: string;
    userId: string;
    producers: Array<ProducerInfo>;
    consumers: number;
    transports: number;
};
export type RoomEvent = {
    "type": "participantJoined";
    roomId: string;
    participantId: string;
    userId: string;
} | {
    "type": "participantLeft";
    roomId: string;
    participantId: string;
    userId: string;
} | {
    "type": "producerCreated";
    roomId: string;
    producer: ProducerInfo;
} | {
    "type": "producerClosed";
    roomId: string;
    producerId: string;
    participantId: string;
} | {
    "type": "producerPaused";
    roomId: string;
    producerId: string;
    participantId: string;
} | {
    "type": "producerResumed";
    roomId: string;
    producerId: string;
    participantId: string;
} | {
    "type": "consumerPaused";
    roomId: string;
    consumerId: string;
    producerId: string;
} | {
    "type": "consumerResumed";
    roomId: string;
    consumerId: string;
    producerId: string;
} | {
    "type": "consumerLayersChanged";
    roomId: string;
    consumerId: string;
    spatialLayer: number;
    temporalLayer: number | null;
} | {
    "type": "negotiationNeeded";
    roomId: string;
    transportId: string;
    offer: string;
};
export type Empty = Record<symbol, never>;
export type CreateRoom = {
    /**
     * A new id is made when absent.
     */
    roomId?: string | null;
    /**
     * For join: used only when the join creates the room.
     */
    maxParticipants?: number | null;
};
export type RoomRef = {
    roomId: string;
};
export type OptionalRoom = {
    roomId?: string | null;
};
export type ConnectTransport = {
    transportId: string;
    /**
     * The client's answer to the node's offer on a recv transport.
     */
    sdp: string;
};
export type TransportRef = {
    transportId: string;
};
export type ProducerRef = {
    producerId: string;
};
export type ConsumerRef = {
    consumerId: string;
};
export type PreferredLayers = {
    consumerId: string;
    spatialLayer: number;
    temporalLayer?: number | null;
};
export type QualityRequest = {
    quality: number;
};
export type QualityInfo = {
    quality: number;
    /**
     * The spatial layer asked for of a three-layer simulcast (fewer layers: the nearest).
     */
    spatialLayer: number;
    /**
     * The highest temporal layer forwarded; all when absent.
     */
    temporalLayer: number | null;
    /**
     * A layer above this many bits per second (as the node measures it) is not forwarded.
     */
    maxBitrate: number;
    consumers: Array<ConsumerInfo>;
};
export type RoomSummary = {
    roomId: string;
    owner: string;
    maxParticipants: number;
    participants: number;
    /**
     * The media node the room is pinned to, once someone joined.
     */
    nodeId: string | null;
    createdAt: string;
};
export type JoinRoomResponse = {
    roomId: string;
    /**
     * This connection's participant id (its connection id).
     */
    participantId: string;
    nodeId: string;
    /**
     * Grows each time the room moves to another node.
     */
    epoch: number;
    /**
     * Everyone in the room on the node, this participant included, with their producers.
     */
    participants: Array<ParticipantInfo>;
};
export type RoomMoved = {
    roomId: string;
    fromNodeId: string;
    nodeId: string;
    epoch: number;
};
export type RoomList = {
    rooms: Array<RoomDetail>;
    totalRooms: number;
    totalParticipants: number;
};
export type RoomDetail = {
    members: Array<RoomMember>;
    roomId: string;
    owner: string;
    maxParticipants: number;
    participants: number;
    /**
     * The media node the room is pinned to, once someone joined.
     */
    nodeId: string | null;
    createdAt: string;
};
export type RoomMember = {
    participantId: string;
    userId: string;
    joinedAt: string;
    /**
     * Connected over the WebSocket (else joined over REST only).
     */
    connected: boolean;
};
export type JoinResult = {
    roomId: string;
    /**
     * Whether this join created the room.
     */
    created: boolean;
    nodeId: string;
    participants: number;
    maxParticipants: number;
    signalingUrl: string;
};
export type ChatRole = "member" | "admin" | "owner";
export type MessageType = "text" | "image" | "file" | "system";
export type CreateSession = {
    /**
     * The others (the creator is added as owner). A 1:1 session names exactly one.
     */
    participants: Array<string>;
    is_group: boolean;
    title?: string | null;
    /**
     * Seconds from creation after which no message may be sent; history stays readable
     * for the deployment's retention after that. Absent: the session does not expire.
     */
    duration_seconds?: number | null;
};
export type AddParticipant = {
    user_id: string;
    /**
     * `member` (default) or `admin` (the owner only).
     */
    role?: ChatRole | null;
};
export type SetRole = {
    /**
     * `member` or `admin`; ownership does not move.
     */
    role: ChatRole;
};
export type ChatParticipant = {
    user_id: string;
    role: ChatRole;
    joined_at: string;
    /**
     * The last message this participant has read.
     */
    last_read?: string;
};
export type SessionView = {
    session_id: string;
    is_group: boolean;
    title?: string;
    created_by: string;
    created_at: string;
    /**
     * When sending stops (sessions with a duration).
     */
    expires_at?: string;
    /**
     * Past `expires_at`: the history is read-only.
     */
    expired: boolean;
    participants: Array<ChatParticipant>;
    /**
     * The caller's role.
     */
    role: ChatRole;
    /**
     * Messages after the caller's read marker that others sent, up to [`UNREAD_CAP`].
     */
    unread_count: number;
    /**
     * More unread than `unread_count` says.
     */
    unread_more: boolean;
    last_activity_at?: string;
};
export type SessionList = {
    sessions: Array<SessionView>;
    /**
     * Pass as `cursor` for the next page; absent on the last.
     */
    next_cursor?: string;
};
export type SendMessage = {
    /**
     * `text` (default), `image` or `file`; `system` is the service's own.
     */
    type?: MessageType | null;
    text?: string | null;
    /**
     * The client's own id for this message (1-64 characters): a retry with the same id
     * creates nothing new and answers with the first message.
     */
    client_message_id?: string | null;
    /**
     * `image` and `file` messages: an uploaded attachment of the sender's (from
     * [`UploadTicket`]); `text` is then an optional caption.
     */
    attachment_id?: string | null;
};
export type EditMessage = {
    text: string;
};
export type ReactionCount = {
    emoji: string;
    count: number;
    /**
     * The caller is among them.
     */
    me: boolean;
};
export type SystemKind = "created" | "joined" | "left" | "removed";
export type SystemEvent = {
    kind: SystemKind;
    user_id: string;
    /**
     * Who did it, when not the user themself.
     */
    by?: string;
};
export type MessageView = {
    /**
     * Sorts by creation time (a ULID).
     */
    message_id: string;
    session_id: string;
    sender_id: string;
    type: MessageType;
    /**
     * Absent once deleted.
     */
    text?: string;
    created_at: string;
    edited_at?: string;
    deleted: boolean;
    deleted_by?: string;
    client_message_id?: string;
    system?: SystemEvent;
    /**
     * `image` and `file` messages (absent once deleted).
     */
    attachment?: AttachmentView;
    reactions: Array<ReactionCount>;
};
export type MessagePage = {
    /**
     * Newest first (`before`, or no cursor), or oldest first (`after`).
     */
    messages: Array<MessageView>;
    /**
     * Pass as the same parameter (`before` or `after`) for the next page; absent at the end.
     */
    next_cursor?: string;
};
export type MarkRead = {
    message_id: string;
};
export type ReadState = {
    session_id: string;
    user_id: string;
    last_read: string;
    unread_count: number;
    unread_more: boolean;
};
export type Usage = {
    session_id: string;
    /**
     * Messages sent (system messages not counted; deleted ones still are).
     */
    messages: number;
    system_messages: number;
    /**
     * Current participants.
     */
    participants: number;
    attachments: number;
    attachment_bytes: number;
    /**
     * The session's creation.
     */
    first_activity_at: string;
    /**
     * The last message, or change of participants.
     */
    last_activity_at: string;
};
export type ChatEvent = {
    session_id: string;
    /**
     * Whose action it is.
     */
    user_id: string;
    message?: MessageView;
    /**
     * `chat-participant-added` / `-removed`: who.
     */
    participant?: ChatParticipant;
    /**
     * `chat-reaction`: which, and whether it was added or taken back.
     */
    emoji?: string;
    added?: boolean;
    /**
     * `chat-read`: the reader's new marker.
     */
    last_read?: string;
};
export type Typing = {
    session_id: string;
};
export type RequestUpload = {
    /**
     * Shown to the others, and the name a download saves under (1-255 characters).
     */
    file_name: string;
    /**
     * One of [`ATTACHMENT_TYPES`].
     */
    content_type: string;
    /**
     * Exactly the file's length in bytes (1 to [`MAX_ATTACHMENT_BYTES`]).
     */
    size: number;
};
export type UploadTicket = {
    attachment_id: string;
    upload_url: string;
    upload_method: string;
    upload_headers: {
        [key in string]: string;
    };
    expires_at: string;
    /**
     * The object's address without a signature (seed 003's attachment `url`).
     */
    url: string;
};
export type AttachmentView = {
    attachment_id: string;
    file_name: string;
    content_type: string;
    size: number;
    /**
     * `GET /…/attachments/{attachment_id}` only: a download URL for a while.
     */
    download_url?: string;
    download_expires_at?: string;
};
/** Each SFU request's `data` and the `data` of its answer. */
export interface SfuMethods {
    createRoom: {
        request: CreateRoom;
        response: RoomSummary;
    };
    joinRoom: {
        request: RoomRef;
        response: JoinRoomResponse;
    };
    leaveRoom: {
        request: Empty;
        response: RoomRef;
    };
    getRouterRtpCapabilities: {
        request: OptionalRoom;
        response: RtpCapabilities;
    };
    createWebRtcTransport: {
        request: CreateTransportRequest;
        response: TransportInfo;
    };
    connectWebRtcTransport: {
        request: ConnectTransport;
        response: NegotiationResponse;
    };
    restartIce: {
        request: TransportRef;
        response: NegotiationResponse;
    };
    publish: {
        request: PublishRequest;
        response: PublishResponse;
    };
    unpublish: {
        request: ProducerRef;
        response: ProducerRef;
    };
    pauseProducer: {
        request: ProducerRef;
        response: ProducerInfo;
    };
    resumeProducer: {
        request: ProducerRef;
        response: ProducerInfo;
    };
    subscribe: {
        request: SubscribeRequest;
        response: SubscribeResponse;
    };
    unsubscribe: {
        request: ConsumerRef;
        response: NegotiationResponse;
    };
    pause: {
        request: ConsumerRef;
        response: ConsumerInfo;
    };
    resume: {
        request: ConsumerRef;
        response: ConsumerInfo;
    };
    setPreferredLayers: {
        request: PreferredLayers;
        response: ConsumerInfo;
    };
    setQuality: {
        request: QualityRequest;
        response: QualityInfo;
    };
}
/** The peer-to-peer requests that are answered: `join` by `joined`, `leave` by `left`. */
export interface SignalingMethods {
    join: {
        request: RoomName;
        response: Joined;
    };
    leave: {
        request: RoomName;
        response: RoomName;
    };
}
/** What the functions push, by event type (the media node's are in `RoomEvent`). */
export interface PushedEvents {
    'joined': Joined;
    'left': RoomName;
    'user-joined': PeerJoined;
    'user-left': PeerLeft;
    'incoming-call': CallEvent;
    'call-status': CallEvent;
    'roomMoved': RoomMoved;
    'chat-message': ChatEvent;
    'chat-message-edited': ChatEvent;
    'chat-message-deleted': ChatEvent;
    'chat-reaction': ChatEvent;
    'chat-participant-added': ChatEvent;
    'chat-participant-removed': ChatEvent;
    'chat-typing': ChatEvent;
    'chat-read': ChatEvent;
}

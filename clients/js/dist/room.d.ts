import type { IceServers } from './ice.js';
import { Emitter } from './emitter.js';
import { StratusError } from './errors.js';
import type { Layers, MediaKind, ProducerInfo, QualityInfo } from './protocol.js';
import type { Signaling } from './signaling.js';
export interface PublishOptions {
    /** Capture the microphone (constraints allowed); default true. Ignored with `stream`. */
    audio?: boolean | MediaTrackConstraints;
    /** Capture the camera (constraints allowed); default true. Ignored with `stream`. */
    video?: boolean | MediaTrackConstraints;
    /** Publish these tracks instead of capturing. */
    stream?: MediaStream;
    /** Send video in three layers (rids q, h, f: ¼, ½ and full resolution). */
    simulcast?: boolean;
}
export interface RoomOptions {
    /** Create the room when it does not exist (default true). */
    create?: boolean;
    /** The size limit of a room this join creates (the server's default is 16). */
    maxParticipants?: number;
    /** Subscribe to everything others publish, now and later (default true). */
    autoSubscribe?: boolean;
    /** Layers asked for on automatic subscriptions. */
    preferredLayers?: Layers;
    /** Publish right after joining. */
    publish?: PublishOptions;
    /** Fixed ICE servers for this room's peer connections (default: the client's `ice`). */
    iceServers?: RTCIceServer[];
    /** Where peer connections get their ICE configuration (set by `StratusClient`). */
    ice?: IceServers;
    /** Stop the local capture tracks on `leave` (default true). */
    stopTracksOnLeave?: boolean;
}
/** A remote producer this client consumes. */
export interface RemoteTrack {
    consumerId: string;
    producerId: string;
    participantId: string;
    userId: string;
    kind: MediaKind;
    source?: string;
    track: MediaStreamTrack;
    /** Paused by us (`pause`). */
    paused: boolean;
}
export declare class RemoteParticipant {
    readonly participantId: string;
    readonly userId: string;
    readonly producers: Map<string, ProducerInfo>;
    readonly tracks: Map<string, RemoteTrack>;
    /** Every subscribed track of this participant, for a `<video>` element. */
    readonly stream: MediaStream;
    constructor(participantId: string, userId: string);
    /** Whether the participant has muted (paused) or does not publish this kind. */
    isMuted(kind: MediaKind): boolean;
}
export interface LocalPublication {
    producerId: string;
    kind: MediaKind;
    source: string;
    track: MediaStreamTrack;
    muted: boolean;
    rids: string[];
}
export interface RoomEvents {
    participantJoined: RemoteParticipant;
    participantLeft: RemoteParticipant;
    /** A remote participant published (whether or not we subscribe). */
    trackPublished: {
        participant: RemoteParticipant;
        producer: ProducerInfo;
    };
    trackUnpublished: {
        participant: RemoteParticipant;
        producerId: string;
    };
    trackSubscribed: {
        participant: RemoteParticipant;
        track: RemoteTrack;
    };
    trackUnsubscribed: {
        participant: RemoteParticipant;
        track: RemoteTrack;
    };
    /** A remote participant muted or unmuted a track (paused or resumed its producer). */
    muteChanged: {
        participant: RemoteParticipant;
        producerId: string;
        kind: MediaKind;
        muted: boolean;
    };
    /** The node switched the layer it forwards us. */
    layersChanged: {
        track: RemoteTrack;
        spatialLayer: number;
        temporalLayer?: number;
    };
    /** The room is being joined again (it moved to another media node, or the WebSocket reconnected). */
    reconnecting: {
        reason: 'moved' | 'connection';
    };
    reconnected: {
        participantId: string;
    };
    left: {
        reason: 'left' | 'failed';
        error?: StratusError;
    };
    /** A background step failed (an automatic subscription, a renegotiation). */
    error: StratusError;
}
export declare class Room extends Emitter<RoomEvents> {
    private readonly sig;
    readonly roomId: string;
    private readonly opts;
    participantId: string;
    nodeId: string;
    readonly participants: Map<string, RemoteParticipant>;
    readonly publications: Map<string, LocalPublication>;
    private sendPc;
    private sendTransport;
    private recvPc;
    private recvTransport;
    private sendQueue;
    private recvQueue;
    private consumers;
    private published;
    private offs;
    private epoch;
    private closed;
    private constructor();
    /** Joins `roomId` on the connection `sig` (see `StratusClient.joinRoom`). */
    static join(sig: Signaling, roomId: string, opts?: RoomOptions): Promise<Room>;
    get localTracks(): MediaStreamTrack[];
    /** Captures (or takes) tracks and publishes them; resolves once the node accepted them. */
    publish(opts?: PublishOptions): Promise<LocalPublication[]>;
    private publishTracks;
    /** Stops publishing a track (others get `trackUnpublished`). */
    unpublish(producerId: string): Promise<void>;
    /**
     * Mutes or unmutes every local track of `kind`: the track stops producing (silence,
     * black) and the producer is paused on the node, so others see the mute and nothing is
     * forwarded.
     */
    setMuted(kind: MediaKind, muted: boolean): Promise<void>;
    isMuted(kind: MediaKind): boolean;
    /** Consumes a remote producer; resolves with its track once negotiated. */
    subscribe(producerId: string, opts?: {
        paused?: boolean;
        preferredLayers?: Layers;
    }): Promise<RemoteTrack>;
    unsubscribe(consumerId: string): Promise<void>;
    /** Stops (or restarts) forwarding of one subscription without renegotiating. */
    pause(consumerId: string): Promise<void>;
    resume(consumerId: string): Promise<void>;
    /** Asks for a simulcast layer of a subscription (0 = lowest); the node switches on a keyframe. */
    setPreferredLayers(consumerId: string, spatialLayer: number, temporalLayer?: number): Promise<void>;
    /**
     * `setQuality(n)`: receive quality 0–100 for every video this participant receives, now and
     * later (a simulcast layer, the base frame rate below 20, and a bitrate cap; docs/api.md,
     * "Quality"); an explicit `setPreferredLayers` on a subscription overrides it there.
     * `setQuality(consumerId, 'low' | 'medium' | 'high')`: spatial layer 0 / 1 / 2 of one
     * subscription.
     */
    setQuality(quality: number): Promise<QualityInfo>;
    setQuality(consumerId: string, quality: 'low' | 'medium' | 'high'): Promise<void>;
    leave(): Promise<void>;
    /**
     * Receive statistics per subscribed track (from `getStats`): what a quality indicator or
     * a test reads.
     */
    stats(): Promise<{
        participantId: string;
        userId: string;
        kind: MediaKind;
        consumerId: string;
        packetsReceived: number;
        bytesReceived: number;
        framesDecoded?: number;
        packetsLost?: number;
        jitter?: number;
        frameWidth?: number;
        frameHeight?: number;
    }[]>;
    private enter;
    private addParticipant;
    private addProducer;
    private owner;
    private dropConsumer;
    private peerConnection;
    private ensureSend;
    private ensureRecv;
    /** Answers the node's offer, and each offer it sends back, until the transport is stable. */
    private negotiate;
    private on2;
    private listen;
    /** Drops the transports and everything learned, then joins, publishes and subscribes anew. */
    private rejoin;
    private closeTransports;
    private teardown;
}

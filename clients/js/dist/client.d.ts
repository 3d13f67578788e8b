import { RestClient } from './api.js';
import { Call, CallMediaOptions } from './call.js';
import { Chat } from './chat.js';
import { Emitter } from './emitter.js';
import { IceServers } from './ice.js';
import { StratusError } from './errors.js';
import type { CallType } from './protocol.js';
import { Room, RoomOptions } from './room.js';
import { ConnectionState, ReconnectOptions, Signaling, TokenSource } from './signaling.js';
export interface ClientOptions {
    /** The REST API base, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com` or `http://127.0.0.1:8080`. */
    apiUrl: string;
    /** The WebSocket API, e.g. `wss://xyz.execute-api…/prod`; default: `apiUrl` with `ws(s)://` and `/ws` (the local stack). */
    signalingUrl?: string;
    /** An access token, or a function returning a fresh one (used on every reconnect). */
    token: TokenSource;
    reconnect?: ReconnectOptions | false;
    pingIntervalMs?: number;
    requestTimeoutMs?: number;
    /** Fixed ICE servers; by default the deployment's (`GET /api/v1/ice-servers`: STUN and
     * TURN with short-lived credentials, refreshed before they expire). */
    iceServers?: RTCIceServer[];
    /** `'relay'` forces TURN (no direct or STUN candidates). */
    iceTransportPolicy?: RTCIceTransportPolicy;
}
export interface ClientEvents {
    state: ConnectionState;
    /** Someone is calling: `call.answer()` or `call.hangup()`. */
    incomingCall: Call;
    /** Errors that answer no request (e.g. a relay to a peer that left). */
    error: StratusError;
}
export declare class StratusClient extends Emitter<ClientEvents> {
    private readonly opts;
    readonly signaling: Signaling;
    readonly api: RestClient;
    /** The ICE servers this client's peer connections use. */
    readonly ice: IceServers;
    /** Chat sessions, messages and their live events. */
    readonly chat: Chat;
    private readonly calls;
    private _userId;
    constructor(opts: ClientOptions);
    /** The signed-in user (the token's `user_id`). */
    get userId(): string;
    /** Opens the WebSocket; rejects with a `StratusError` (`AUTH_TOKEN_EXPIRED`, …) when refused. */
    connect(): Promise<void>;
    disconnect(): void;
    /** Joins (creating if needed) a group room on the SFU. */
    joinRoom(roomId: string, opts?: RoomOptions): Promise<Room>;
    /** Creates a room with a size limit (`joinRoom` creates one with the default, 16, when absent). */
    createRoom(roomId?: string, maxParticipants?: number): Promise<string>;
    /** Calls `userId` peer to peer; resolves once it rings (the `Call` then reports progress). */
    call(userId: string, callType?: CallType, media?: CallMediaOptions): Promise<Call>;
    private onIncoming;
    private track;
}
/** The claims of a JWT, unverified (the server verifies; the client only reads its own id). */
export declare function claims(token: string): {
    user_id?: string;
    exp?: number;
    grants?: Record<string, unknown>;
};

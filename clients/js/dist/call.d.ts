import { Emitter } from './emitter.js';
import { StratusError } from './errors.js';
import type { CallStatus, CallType, EndReason } from './protocol.js';
import type { RestClient } from './api.js';
import type { IceServers } from './ice.js';
import type { Signaling } from './signaling.js';
export interface CallMediaOptions {
    /** Tracks to send; captured with getUserMedia (audio, and video for video calls) when absent. */
    stream?: MediaStream;
    /** Fixed ICE servers for this call (default: the client's `ice`). */
    iceServers?: RTCIceServer[];
    /** Where the peer connection gets its ICE configuration (set by `StratusClient`). */
    ice?: IceServers;
}
export interface CallEvents {
    /** The other side's media arrived (or changed). */
    remoteStream: MediaStream;
    status: CallStatus;
    /** The call is over (hung up on either side, failed, or never answered). */
    ended: {
        reason?: EndReason;
        outcome?: string;
        durationSeconds?: number;
    };
    connectionState: RTCPeerConnectionState;
    error: StratusError;
}
export declare class Call extends Emitter<CallEvents> {
    private readonly sig;
    private readonly api;
    readonly callId: string;
    readonly role: 'caller' | 'callee';
    readonly callType: CallType;
    /** The other side's user id. */
    readonly peerUserId: string;
    readonly room: string;
    /** The client's ICE servers, used when `answer`/`start` are given none. */
    private readonly ice?;
    status: CallStatus;
    readonly remoteStream: MediaStream;
    localStream: MediaStream | null;
    pc: RTCPeerConnection | null;
    private peerId;
    private offered;
    private pendingCandidates;
    private offs;
    private finished;
    constructor(sig: Signaling, api: RestClient, callId: string, role: 'caller' | 'callee', callType: CallType, 
    /** The other side's user id. */
    peerUserId: string, room: string, 
    /** The client's ICE servers, used when `answer`/`start` are given none. */
    ice?: IceServers | undefined);
    /** The callee accepts: answers through the API, then waits for the caller's offer. */
    answer(opts?: CallMediaOptions): Promise<void>;
    /** Ends the call for both sides (declines it, if not answered yet). */
    hangup(reason?: EndReason): Promise<void>;
    /** @internal the caller's side, right after initiating. */
    start(opts: CallMediaOptions): Promise<void>;
    private prepare;
    private joinRoom;
    private peerArrived;
    private offer;
    private mine;
    private onOffer;
    private onAnswer;
    private onCandidate;
    private flushCandidates;
    private relay;
    private setStatus;
    private finish;
}

import type { CallType, CallView, EndReason, RoomSummary } from './protocol.js';
import type { TokenSource } from './signaling.js';
export interface RoomJoinResult {
    roomId: string;
    created: boolean;
    nodeId: string;
    participants: number;
    maxParticipants: number;
    signalingUrl: string;
}
export interface Presence {
    user_id: string;
    status: string;
    message?: string;
    online: boolean;
    in_call: boolean;
    last_seen?: string;
}
export declare class RestClient {
    private readonly baseUrl;
    private readonly token;
    constructor(baseUrl: string, token: TokenSource);
    request<T>(method: string, path: string, body?: unknown): Promise<T>;
    initiateCall(callerId: string, calleeId: string, callType: CallType): Promise<CallView>;
    answerCall(callId: string): Promise<CallView>;
    endCall(callId: string, reason?: EndReason): Promise<CallView>;
    callStatus(callId: string): Promise<CallView>;
    presence(userId: string): Promise<Presence>;
    setPresence(status: 'online' | 'away' | 'busy' | 'dnd' | 'offline', message?: string): Promise<Presence>;
    createRoom(roomId?: string, maxParticipants?: number): Promise<RoomSummary>;
    getRoom(roomId: string): Promise<unknown>;
    listRooms(): Promise<unknown>;
    /** Creates (when needed) and places a room; the seat is taken by `Room.join` over the WebSocket. */
    prepareRoom(roomId?: string, maxParticipants?: number): Promise<RoomJoinResult>;
}

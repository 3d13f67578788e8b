import type { CallType, CallView, EndReason, JoinResult, PresenceView, RoomSummary } from './protocol.js';
import type { TokenSource } from './signaling.js';
/** `POST /api/v1/rooms/join` (the generated `JoinResult`). */
export type RoomJoinResult = JoinResult;
/** `GET /api/v1/presence/status/{user}` (the generated `PresenceView`). */
export type Presence = PresenceView;
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

// The REST API (docs/api.md): calls, presence and rooms, with bearer tokens. Failures come
// back as `StratusError` with the server's code and status.

import { StratusError, fromRestBody } from './errors.js';
import type { CallType, CallView, EndReason, JoinResult, PresenceView, RoomSummary } from './protocol.js';
import type { TokenSource } from './signaling.js';

/** `POST /api/v1/rooms/join` (the generated `JoinResult`). */
export type RoomJoinResult = JoinResult;

/** `GET /api/v1/presence/status/{user}` (the generated `PresenceView`). */
export type Presence = PresenceView;

export class RestClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: TokenSource,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const t = typeof this.token === 'function' ? await this.token() : this.token;
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl.replace(/\/$/, '')}${path}`, {
        method,
        headers: { authorization: `Bearer ${t}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new StratusError('SERVICE_UNAVAILABLE', `${method} ${path}: ${(e as Error).message}`);
    }
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (!res.ok) throw fromRestBody(res.status, json);
    return json as T;
  }

  // Calls
  initiateCall(callerId: string, calleeId: string, callType: CallType): Promise<CallView> {
    return this.request('POST', '/api/v1/calls/initiate', { caller_id: callerId, callee_id: calleeId, call_type: callType });
  }
  answerCall(callId: string): Promise<CallView> {
    return this.request('PUT', `/api/v1/calls/${encodeURIComponent(callId)}/answer`);
  }
  endCall(callId: string, reason: EndReason = 'user_hangup'): Promise<CallView> {
    return this.request('DELETE', `/api/v1/calls/${encodeURIComponent(callId)}`, { reason });
  }
  callStatus(callId: string): Promise<CallView> {
    return this.request('GET', `/api/v1/calls/${encodeURIComponent(callId)}/status`);
  }

  // Presence
  presence(userId: string): Promise<Presence> {
    return this.request('GET', `/api/v1/presence/status/${encodeURIComponent(userId)}`);
  }
  setPresence(status: 'online' | 'away' | 'busy' | 'dnd' | 'offline', message?: string): Promise<Presence> {
    return this.request('PUT', '/api/v1/presence/status', { status, message });
  }

  // Rooms
  createRoom(roomId?: string, maxParticipants?: number): Promise<RoomSummary> {
    return this.request('POST', '/api/v1/rooms', { roomId, maxParticipants });
  }
  getRoom(roomId: string): Promise<unknown> {
    return this.request('GET', `/api/v1/rooms/${encodeURIComponent(roomId)}`);
  }
  listRooms(): Promise<unknown> {
    return this.request('GET', '/api/v1/rooms');
  }
  /** Creates (when needed) and places a room; the seat is taken by `Room.join` over the WebSocket. */
  prepareRoom(roomId?: string, maxParticipants?: number): Promise<RoomJoinResult> {
    return this.request('POST', '/api/v1/rooms/join', { roomId, maxParticipants });
  }
}

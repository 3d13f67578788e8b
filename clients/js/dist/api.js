// The REST API (docs/api.md): calls, presence and rooms, with bearer tokens. Failures come
// back as `StratusError` with the server's code and status.
import { StratusError, fromRestBody } from './errors.js';
export class RestClient {
    constructor(baseUrl, token) {
        this.baseUrl = baseUrl;
        this.token = token;
    }
    async request(method, path, body) {
        const t = typeof this.token === 'function' ? await this.token() : this.token;
        let res;
        try {
            res = await fetch(`${this.baseUrl.replace(/\/$/, '')}${path}`, {
                method,
                headers: { authorization: `Bearer ${t}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
                body: body === undefined ? undefined : JSON.stringify(body),
            });
        }
        catch (e) {
            throw new StratusError('SERVICE_UNAVAILABLE', `${method} ${path}: ${e.message}`);
        }
        const text = await res.text();
        const json = text ? JSON.parse(text) : null;
        if (!res.ok)
            throw fromRestBody(res.status, json);
        return json;
    }
    // Calls
    initiateCall(callerId, calleeId, callType) {
        return this.request('POST', '/api/v1/calls/initiate', { caller_id: callerId, callee_id: calleeId, call_type: callType });
    }
    answerCall(callId) {
        return this.request('PUT', `/api/v1/calls/${encodeURIComponent(callId)}/answer`);
    }
    endCall(callId, reason = 'user_hangup') {
        return this.request('DELETE', `/api/v1/calls/${encodeURIComponent(callId)}`, { reason });
    }
    callStatus(callId) {
        return this.request('GET', `/api/v1/calls/${encodeURIComponent(callId)}/status`);
    }
    // Presence
    presence(userId) {
        return this.request('GET', `/api/v1/presence/status/${encodeURIComponent(userId)}`);
    }
    setPresence(status, message) {
        return this.request('PUT', '/api/v1/presence/status', { status, message });
    }
    // Rooms
    createRoom(roomId, maxParticipants) {
        return this.request('POST', '/api/v1/rooms', { roomId, maxParticipants });
    }
    getRoom(roomId) {
        return this.request('GET', `/api/v1/rooms/${encodeURIComponent(roomId)}`);
    }
    listRooms() {
        return this.request('GET', '/api/v1/rooms');
    }
    /** Creates (when needed) and places a room; the seat is taken by `Room.join` over the WebSocket. */
    prepareRoom(roomId, maxParticipants) {
        return this.request('POST', '/api/v1/rooms/join', { roomId, maxParticipants });
    }
}

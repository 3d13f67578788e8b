// The entry point: one WebSocket connection, the REST API, rooms, calls and chat.
import { RestClient } from './api.js';
import { Call } from './call.js';
import { Chat } from './chat.js';
import { Emitter } from './emitter.js';
import { IceServers } from './ice.js';
import { Room } from './room.js';
import { Signaling } from './signaling.js';
export class StratusClient extends Emitter {
    constructor(opts) {
        super();
        this.opts = opts;
        this.calls = new Map();
        this._userId = '';
        const signalingUrl = opts.signalingUrl ?? `${opts.apiUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/ws`;
        this.api = new RestClient(opts.apiUrl, opts.token);
        this.ice = new IceServers(this.api, { iceServers: opts.iceServers, iceTransportPolicy: opts.iceTransportPolicy });
        this.signaling = new Signaling({
            url: signalingUrl,
            apiUrl: opts.apiUrl,
            token: opts.token,
            reconnect: opts.reconnect,
            pingIntervalMs: opts.pingIntervalMs,
            requestTimeoutMs: opts.requestTimeoutMs,
        });
        this.chat = new Chat(this.api, this.signaling, () => this.userId);
        this.signaling.on('state', (s) => this.emit('state', s));
        this.signaling.on('error', (e) => this.emit('error', e));
        this.signaling.on('incoming-call', (e) => this.onIncoming(e));
    }
    /** The signed-in user (the token's `user_id`). */
    get userId() {
        return this._userId;
    }
    /** Opens the WebSocket; rejects with a `StratusError` (`AUTH_TOKEN_EXPIRED`, …) when refused. */
    async connect() {
        const t = typeof this.opts.token === 'function' ? await this.opts.token() : this.opts.token;
        this._userId = claims(t).user_id ?? '';
        await this.signaling.connect();
    }
    disconnect() {
        this.ice.close();
        this.signaling.close();
    }
    /** Joins (creating if needed) a group room on the SFU. */
    joinRoom(roomId, opts = {}) {
        return Room.join(this.signaling, roomId, { ice: this.ice, ...opts });
    }
    /** Creates a room with a size limit (`joinRoom` creates one with the default, 16, when absent). */
    async createRoom(roomId, maxParticipants) {
        const r = await this.signaling.request('createRoom', { roomId, maxParticipants });
        return r.roomId;
    }
    /** Calls `userId` peer to peer; resolves once it rings (the `Call` then reports progress). */
    async call(userId, callType = 'video', media = {}) {
        const v = await this.api.initiateCall(this.userId, userId, callType);
        const call = new Call(this.signaling, this.api, v.call_id, 'caller', v.call_type, userId, v.room);
        this.track(call);
        try {
            await call.start({ ice: this.ice, ...media });
        }
        catch (e) {
            await call.hangup('connection_failed').catch(() => undefined);
            throw e;
        }
        return call;
    }
    onIncoming(e) {
        if (this.calls.has(e.callId))
            return;
        const call = new Call(this.signaling, this.api, e.callId, 'callee', e.callType, e.callerId, e.room, this.ice);
        this.track(call);
        this.emit('incomingCall', call);
    }
    track(call) {
        this.calls.set(call.callId, call);
        call.on('ended', () => this.calls.delete(call.callId));
    }
}
/** The claims of a JWT, unverified (the server verifies; the client only reads its own id). */
export function claims(token) {
    try {
        const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
        return JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
    }
    catch {
        return {};
    }
}

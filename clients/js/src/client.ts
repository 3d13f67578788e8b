// The entry point: one WebSocket connection, the REST API, rooms, calls and chat.

import { RestClient } from './api.js';
import { Call, CallMediaOptions } from './call.js';
import { Chat } from './chat.js';
import { Emitter } from './emitter.js';
import { IceServers } from './ice.js';
import { StratusError } from './errors.js';
import type { CallEvent, CallType } from './protocol.js';
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

export class StratusClient extends Emitter<ClientEvents> {
  readonly signaling: Signaling;
  readonly api: RestClient;
  /** The ICE servers this client's peer connections use. */
  readonly ice: IceServers;
  /** Chat sessions, messages and their live events. */
  readonly chat: Chat;
  private readonly calls = new Map<string, Call>();
  private _userId = '';

  constructor(private readonly opts: ClientOptions) {
    super();
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
  get userId(): string {
    return this._userId;
  }

  /** Opens the WebSocket; rejects with a `StratusError` (`AUTH_TOKEN_EXPIRED`, …) when refused. */
  async connect(): Promise<void> {
    const t = typeof this.opts.token === 'function' ? await this.opts.token() : this.opts.token;
    this._userId = claims(t).user_id ?? '';
    await this.signaling.connect();
  }

  disconnect(): void {
    this.ice.close();
    this.signaling.close();
  }

  /** Joins (creating if needed) a group room on the SFU. */
  joinRoom(roomId: string, opts: RoomOptions = {}): Promise<Room> {
    return Room.join(this.signaling, roomId, { ice: this.ice, ...opts });
  }

  /** Creates a room with a size limit (`joinRoom` creates one with the default, 16, when absent). */
  async createRoom(roomId?: string, maxParticipants?: number): Promise<string> {
    const r = await this.signaling.request('createRoom', { roomId, maxParticipants });
    return r.roomId;
  }

  /** Calls `userId` peer to peer; resolves once it rings (the `Call` then reports progress). */
  async call(userId: string, callType: CallType = 'video', media: CallMediaOptions = {}): Promise<Call> {
    const v = await this.api.initiateCall(this.userId, userId, callType);
    const call = new Call(this.signaling, this.api, v.call_id, 'caller', v.call_type, userId, v.room);
    this.track(call);
    try {
      await call.start({ ice: this.ice, ...media });
    } catch (e) {
      await call.hangup('connection_failed').catch(() => undefined);
      throw e;
    }
    return call;
  }

  private onIncoming(e: CallEvent) {
    if (this.calls.has(e.callId)) return;
    const call = new Call(this.signaling, this.api, e.callId, 'callee', e.callType, e.callerId, e.room, this.ice);
    this.track(call);
    this.emit('incomingCall', call);
  }

  private track(call: Call) {
    this.calls.set(call.callId, call);
    call.on('ended', () => this.calls.delete(call.callId));
  }
}

/** The claims of a JWT, unverified (the server verifies; the client only reads its own id). */
export function claims(token: string): { user_id?: string; exp?: number; grants?: Record<string, unknown> } {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part + '='.repeat((4 - (part.length % 4)) % 4)));
  } catch {
    return {};
  }
}

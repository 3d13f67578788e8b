// The WebSocket connection to the platform: requests answered by `requestId`, pushed events
// by type, a keepalive, and reconnection with backoff.
//
// API Gateway closes a WebSocket after 10 minutes without traffic and after 2 hours in any
// case; a client that stays in a call longer than that must come back by itself. The
// connection pings every `pingIntervalMs` (default 5 min) and, whatever closed it (a drop,
// the idle or lifetime limit, a redeploy), reconnects with exponential backoff and jitter,
// asking the token provider for a fresh token each time. It opens a new connection shortly
// before the 2-hour limit rather than waiting to be cut off. A new connection is a new peer:
// rooms and calls built on it listen for `open` with `reconnected: true` and join again.

import { Emitter } from './emitter.js';
import { ErrorCode, StratusError, fromRestBody, fromWsError } from './errors.js';
import type { Envelope, Methods, ServerEvents } from './protocol.js';

/** A token, or a function that returns a fresh one (called on every (re)connect). */
export type TokenSource = string | (() => string | Promise<string>);

export interface ReconnectOptions {
  /** First delay; each attempt doubles it (with ±20% jitter) up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Give up after this many failed attempts in a row (default: never). */
  maxAttempts?: number;
}

export interface SignalingOptions {
  /** `wss://…/prod` on AWS, `ws://127.0.0.1:8080/ws` locally. */
  url: string;
  token: TokenSource;
  /** The REST API base: used to learn why a handshake was refused (browsers hide the 401). */
  apiUrl?: string;
  /** `false` disables reconnection. */
  reconnect?: ReconnectOptions | false;
  pingIntervalMs?: number;
  requestTimeoutMs?: number;
  /** Reconnect proactively after this long (API Gateway's limit is 2 h). */
  maxConnectionMs?: number;
  /** A WebSocket implementation, for environments without a global one. */
  WebSocket?: typeof WebSocket;
}

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface SignalingEvents extends ServerEvents {
  /** The connection is open; `reconnected` when it replaces one that closed. */
  open: { reconnected: boolean };
  /** The connection closed; `willReconnect` says whether another attempt follows. */
  close: { code: number; reason: string; willReconnect: boolean; error?: StratusError };
  reconnecting: { attempt: number; delayMs: number };
  state: ConnectionState;
  /** An `error` message that answers no request. */
  error: StratusError;
  /** Every message received, before dispatch (for logging and tools). */
  message: Envelope;
}

interface Pending {
  resolve: (data: unknown) => void;
  reject: (e: StratusError) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class Signaling extends Emitter<SignalingEvents> {
  private readonly opts: SignalingOptions;
  private ws: WebSocket | null = null;
  private pending = new Map<string, Pending>();
  private nextId = 1;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private attempt = 0;
  private everOpened = false;
  private closedByUser = false;
  private _state: ConnectionState = 'idle';

  constructor(opts: SignalingOptions) {
    super();
    this.opts = opts;
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** Opens the connection; rejects with the server's reason (e.g. `AUTH_TOKEN_EXPIRED`). */
  async connect(): Promise<void> {
    this.closedByUser = false;
    this.setState('connecting');
    await this.open();
  }

  /** Closes for good: no reconnection; pending requests fail with `CONNECTION_CLOSED`. */
  close(): void {
    this.closedByUser = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= 1) ws.close(1000, 'client closed');
    this.failPending('closed by the client');
    this.setState('closed');
  }

  /** Sends a message that needs no answer. */
  send(type: string, data: unknown = {}): void {
    if (!this.ws || this.ws.readyState !== 1) {
      throw new StratusError('CONNECTION_CLOSED', `cannot send '${type}': not connected`);
    }
    this.ws.send(JSON.stringify({ type, data }));
  }

  /**
   * Sends a request and resolves with the data of its answer (or rejects with its error).
   * Typed by request: `data` and the answer are the types crates/protocol declares for it.
   */
  request<K extends keyof Methods>(
    type: K,
    data: Methods[K]['request'],
    timeoutMs?: number,
  ): Promise<Methods[K]['response']> {
    type T = Methods[K]['response'];
    if (!this.ws || this.ws.readyState !== 1) {
      return Promise.reject(new StratusError('CONNECTION_CLOSED', `cannot send '${type}': not connected`));
    }
    const requestId = `r${this.nextId++}`;
    const ms = timeoutMs ?? this.opts.requestTimeoutMs ?? 15000;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new StratusError('TIMEOUT', `no answer to '${type}' in ${ms} ms`, { requestId }));
      }, ms);
      this.pending.set(requestId, { resolve: resolve as (d: unknown) => void, reject, timer });
      this.ws!.send(JSON.stringify({ type, requestId, data }));
    });
  }

  private setState(s: ConnectionState) {
    if (this._state !== s) {
      this._state = s;
      this.emit('state', s);
    }
  }

  private async token(): Promise<string> {
    const t = this.opts.token;
    return typeof t === 'function' ? await t() : t;
  }

  /** One attempt: resolves once open, rejects with the reason it did not open. */
  private async open(): Promise<void> {
    const token = await this.token();
    const WS = this.opts.WebSocket ?? globalThis.WebSocket;
    const sep = this.opts.url.includes('?') ? '&' : '?';
    const ws = new WS(`${this.opts.url}${sep}token=${encodeURIComponent(token)}`);
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      let opened = false;
      ws.onopen = () => {
        opened = true;
        const reconnected = this.everOpened;
        this.everOpened = true;
        this.attempt = 0;
        this.setState('open');
        this.startTimers();
        resolve();
        this.emit('open', { reconnected });
      };
      ws.onmessage = (ev) => this.onMessage(ev.data);
      ws.onclose = (ev) => {
        if (this.ws !== ws) return; // replaced or closed by the client
        this.ws = null;
        this.clearTimers();
        this.failPending(`connection closed (${ev.code})`);
        if (!opened) {
          // The handshake failed: browsers hide the HTTP status, so ask the REST API what
          // is wrong with the token, if we can.
          void this.diagnose(token).then(reject);
          return;
        }
        this.onLost(ev.code, ev.reason);
      };
    });
  }

  private async diagnose(token: string): Promise<StratusError> {
    if (this.opts.apiUrl) {
      try {
        const res = await fetch(`${this.opts.apiUrl.replace(/\/$/, '')}/auth/validate`, {
          headers: { authorization: `Bearer ${token}` },
        });
        if (!res.ok) return fromRestBody(res.status, await res.json().catch(() => null));
      } catch {
        // fall through
      }
    }
    return new StratusError('CONNECTION_FAILED', 'the WebSocket connection could not be opened');
  }

  private onLost(code: number, reason: string) {
    const r = this.opts.reconnect;
    if (this.closedByUser || r === false) {
      this.setState('closed');
      this.emit('close', { code, reason, willReconnect: false });
      return;
    }
    this.emit('close', { code, reason, willReconnect: true });
    this.scheduleReconnect();
  }

  private scheduleReconnect() {
    const r = (this.opts.reconnect || {}) as ReconnectOptions;
    this.attempt += 1;
    if (r.maxAttempts !== undefined && this.attempt > r.maxAttempts) {
      this.setState('closed');
      const error = new StratusError('CONNECTION_FAILED', `gave up after ${r.maxAttempts} attempts`);
      this.emit('close', { code: 1006, reason: 'gave up', willReconnect: false, error });
      return;
    }
    const base = Math.min(r.maxDelayMs ?? 15000, (r.initialDelayMs ?? 500) * 2 ** (this.attempt - 1));
    const delayMs = Math.round(base * (0.8 + Math.random() * 0.4));
    this.setState('reconnecting');
    this.emit('reconnecting', { attempt: this.attempt, delayMs });
    this.timers.push(
      setTimeout(async () => {
        if (this.closedByUser) return;
        try {
          await this.open();
        } catch (e) {
          const err = e as StratusError;
          if (err.isAuthError && typeof this.opts.token === 'string') {
            // The same token will be refused again.
            this.setState('closed');
            this.emit('close', { code: 1008, reason: err.message, willReconnect: false, error: err });
            return;
          }
          this.scheduleReconnect();
        }
      }, delayMs),
    );
  }

  private startTimers() {
    const ping = this.opts.pingIntervalMs ?? 5 * 60_000;
    const every = setInterval(() => {
      if (this.ws?.readyState === 1) this.ws.send(JSON.stringify({ type: 'ping' }));
    }, ping);
    this.timers.push(every as unknown as ReturnType<typeof setTimeout>);
    const lifetime = this.opts.maxConnectionMs ?? 2 * 3600_000 - 5 * 60_000;
    this.timers.push(
      setTimeout(() => {
        // Recycle before API Gateway cuts us off; `onclose` reconnects.
        this.ws?.close(4000, 'connection lifetime');
      }, lifetime),
    );
  }

  private clearTimers() {
    for (const t of this.timers) {
      clearTimeout(t);
      clearInterval(t as unknown as ReturnType<typeof setInterval>);
    }
    this.timers = [];
  }

  private failPending(why: string) {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new StratusError('CONNECTION_CLOSED', why, { requestId: id }));
    }
    this.pending.clear();
  }

  private onMessage(raw: unknown) {
    let msg: Envelope;
    try {
      msg = JSON.parse(String(raw));
    } catch {
      return;
    }
    if (!msg || typeof msg.type !== 'string') return;
    this.emit('message', msg);
    const p = msg.requestId ? this.pending.get(msg.requestId) : undefined;
    if (p) {
      this.pending.delete(msg.requestId!);
      clearTimeout(p.timer);
      if (msg.type === 'error') p.reject(fromWsError(msg.data, msg.requestId));
      else p.resolve(msg.data ?? {});
      return;
    }
    if (msg.type === 'error') {
      this.emit('error', fromWsError(msg.data, msg.requestId));
      return;
    }
    if (msg.type === 'pong') return;
    this.emit(msg.type as keyof ServerEvents, (msg.data ?? {}) as never);
  }
}

export type { ErrorCode };

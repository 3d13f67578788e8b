import { Emitter } from './emitter.js';
import { ErrorCode, StratusError } from './errors.js';
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
    open: {
        reconnected: boolean;
    };
    /** The connection closed; `willReconnect` says whether another attempt follows. */
    close: {
        code: number;
        reason: string;
        willReconnect: boolean;
        error?: StratusError;
    };
    reconnecting: {
        attempt: number;
        delayMs: number;
    };
    state: ConnectionState;
    /** An `error` message that answers no request. */
    error: StratusError;
    /** Every message received, before dispatch (for logging and tools). */
    message: Envelope;
}
export declare class Signaling extends Emitter<SignalingEvents> {
    private readonly opts;
    private ws;
    private pending;
    private nextId;
    private timers;
    private attempt;
    private everOpened;
    private closedByUser;
    private _state;
    constructor(opts: SignalingOptions);
    get state(): ConnectionState;
    /** Opens the connection; rejects with the server's reason (e.g. `AUTH_TOKEN_EXPIRED`). */
    connect(): Promise<void>;
    /** Closes for good: no reconnection; pending requests fail with `CONNECTION_CLOSED`. */
    close(): void;
    /** Sends a message that needs no answer. */
    send(type: string, data?: unknown): void;
    /**
     * Sends a request and resolves with the data of its answer (or rejects with its error).
     * Typed by request: `data` and the answer are the types crates/protocol declares for it.
     */
    request<K extends keyof Methods>(type: K, data: Methods[K]['request'], timeoutMs?: number): Promise<Methods[K]['response']>;
    private setState;
    private token;
    /** One attempt: resolves once open, rejects with the reason it did not open. */
    private open;
    private diagnose;
    private onLost;
    private scheduleReconnect;
    private startTimers;
    private clearTimers;
    private failPending;
    private onMessage;
}
export type { ErrorCode };

import type { ErrorCode as ServerErrorCode } from './wire.js';
/** The codes the platform sends (generated from crates/protocol/src/error.rs), plus the SDK's own. */
export type ErrorCode = ServerErrorCode | 'CONNECTION_CLOSED' | 'CONNECTION_FAILED' | 'TIMEOUT' | 'MEDIA_FAILED';
/** A refusal from the platform, or a failure the SDK met on the way. */
export declare class StratusError extends Error {
    readonly code: ErrorCode;
    /** HTTP status, for REST errors and refused WebSocket handshakes. */
    readonly status?: number;
    /** The WebSocket request id, or the REST `request_id`. */
    readonly requestId?: string;
    readonly details?: unknown;
    constructor(code: ErrorCode, message: string, extra?: {
        status?: number;
        requestId?: string;
        details?: unknown;
    });
    /** True for refusals that retrying with the same token cannot fix. */
    get isAuthError(): boolean;
}
/** The REST error body: `{"error": {"code", "message", "details"?}, "request_id"}`. */
export declare function fromRestBody(status: number, body: unknown): StratusError;
/** A WebSocket `error` message's data: `{code, message, requestId?}`. */
export declare function fromWsError(data: unknown, requestId?: string): StratusError;
export declare function mediaError(what: string, cause: unknown): StratusError;

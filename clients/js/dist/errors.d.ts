/** The codes the platform sends (crates/protocol/src/error.rs), plus the SDK's own. */
export type ErrorCode = 'INVALID_REQUEST' | 'VALIDATION_ERROR' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND' | 'METHOD_NOT_ALLOWED' | 'CONFLICT' | 'PAYLOAD_TOO_LARGE' | 'UNSUPPORTED_MEDIA_TYPE' | 'RATE_LIMITED' | 'INTERNAL_ERROR' | 'SERVICE_UNAVAILABLE' | 'AUTH_TOKEN_MISSING' | 'AUTH_TOKEN_INVALID' | 'AUTH_TOKEN_EXPIRED' | 'INVALID_CREDENTIALS' | 'INVALID_MESSAGE' | 'UNKNOWN_MESSAGE_TYPE' | 'MESSAGE_TOO_LARGE' | 'NOT_IN_ROOM' | 'PEER_NOT_FOUND' | 'TOO_MANY_ROOMS' | 'TOO_MANY_CONNECTIONS' | 'CALL_NOT_FOUND' | 'CALL_ALREADY_ENDED' | 'USER_ALREADY_IN_CALL' | 'USER_NOT_AVAILABLE' | 'INVALID_CALL_TYPE' | 'ROOM_NOT_FOUND' | 'ROOM_FULL' | 'PARTICIPANT_NOT_FOUND' | 'PRODUCER_NOT_FOUND' | 'CONSUMER_NOT_FOUND' | 'TRANSPORT_NOT_FOUND' | 'INVALID_SDP' | 'NODE_DRAINING' | 'CONNECTION_CLOSED' | 'CONNECTION_FAILED' | 'TIMEOUT' | 'MEDIA_FAILED';
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

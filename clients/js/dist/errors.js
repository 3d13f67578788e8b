// Errors the SDK throws. Every server refusal (REST or WebSocket) becomes a `StratusError`
// carrying the server's code, so apps switch on `err.code` rather than parse messages.
/** A refusal from the platform, or a failure the SDK met on the way. */
export class StratusError extends Error {
    constructor(code, message, extra = {}) {
        super(message);
        this.name = 'StratusError';
        this.code = code;
        this.status = extra.status;
        this.requestId = extra.requestId;
        this.details = extra.details;
    }
    /** True for refusals that retrying with the same token cannot fix. */
    get isAuthError() {
        return this.code === 'AUTH_TOKEN_MISSING' || this.code === 'AUTH_TOKEN_INVALID' || this.code === 'AUTH_TOKEN_EXPIRED';
    }
}
/** The REST error body: `{"error": {"code", "message", "details"?}, "request_id"}`. */
export function fromRestBody(status, body) {
    const b = body;
    if (b && b.error && typeof b.error.code === 'string') {
        return new StratusError(b.error.code, b.error.message ?? b.error.code, {
            status,
            requestId: b.request_id,
            details: b.error.details,
        });
    }
    return new StratusError(status >= 500 ? 'INTERNAL_ERROR' : 'INVALID_REQUEST', `HTTP ${status}`, { status });
}
/** A WebSocket `error` message's data: `{code, message, requestId?}`. */
export function fromWsError(data, requestId) {
    const d = (data ?? {});
    return new StratusError((d.code ?? 'INTERNAL_ERROR'), d.message ?? 'error', {
        requestId: requestId ?? d.requestId,
    });
}
export function mediaError(what, cause) {
    const m = cause instanceof Error ? cause.message : String(cause);
    return new StratusError('MEDIA_FAILED', `${what}: ${m}`, { details: cause });
}

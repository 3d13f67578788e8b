// Errors the SDK throws. Every server refusal (REST or WebSocket) becomes a `StratusError`
// carrying the server's code, so apps switch on `err.code` rather than parse messages.

import type { ErrorCode as ServerErrorCode } from './wire.js';

/** The codes the platform sends (generated from crates/protocol/src/error.rs), plus the SDK's own. */
export type ErrorCode =
  | ServerErrorCode
  // The SDK's own:
  | 'CONNECTION_CLOSED' // the WebSocket closed before the answer came
  | 'CONNECTION_FAILED' // the WebSocket could not be opened (and the server gave no reason)
  | 'TIMEOUT' // no answer in time
  | 'MEDIA_FAILED'; // a browser WebRTC or getUserMedia call failed

/** A refusal from the platform, or a failure the SDK met on the way. */
export class StratusError extends Error {
  readonly code: ErrorCode;
  /** HTTP status, for REST errors and refused WebSocket handshakes. */
  readonly status?: number;
  /** The WebSocket request id, or the REST `request_id`. */
  readonly requestId?: string;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, extra: { status?: number; requestId?: string; details?: unknown } = {}) {
    super(message);
    this.name = 'StratusError';
    this.code = code;
    this.status = extra.status;
    this.requestId = extra.requestId;
    this.details = extra.details;
  }

  /** True for refusals that retrying with the same token cannot fix. */
  get isAuthError(): boolean {
    return this.code === 'AUTH_TOKEN_MISSING' || this.code === 'AUTH_TOKEN_INVALID' || this.code === 'AUTH_TOKEN_EXPIRED';
  }
}

/** The REST error body: `{"error": {"code", "message", "details"?}, "request_id"}`. */
export function fromRestBody(status: number, body: unknown): StratusError {
  const b = body as { error?: { code?: string; message?: string; details?: unknown }; request_id?: string } | null;
  if (b && b.error && typeof b.error.code === 'string') {
    return new StratusError(b.error.code as ErrorCode, b.error.message ?? b.error.code, {
      status,
      requestId: b.request_id,
      details: b.error.details,
    });
  }
  return new StratusError(status >= 500 ? 'INTERNAL_ERROR' : 'INVALID_REQUEST', `HTTP ${status}`, { status });
}

/** A WebSocket `error` message's data: `{code, message, requestId?}`. */
export function fromWsError(data: unknown, requestId?: string): StratusError {
  const d = (data ?? {}) as { code?: string; message?: string; requestId?: string };
  return new StratusError((d.code ?? 'INTERNAL_ERROR') as ErrorCode, d.message ?? 'error', {
    requestId: requestId ?? d.requestId,
  });
}

export function mediaError(what: string, cause: unknown): StratusError {
  const m = cause instanceof Error ? cause.message : String(cause);
  return new StratusError('MEDIA_FAILED', `${what}: ${m}`, { details: cause });
}

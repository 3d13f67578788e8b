// Wire types. Everything the server sends or takes is generated from the Rust protocol crate
// into wire.ts (do not edit that file); this module adds what only the SDK needs: the
// envelope, the relayed-message shape, and the event and request maps built from the
// generated types. WebSocket bodies are camelCase; the calls REST API is snake_case.
export * from './wire.js';

// Wire types, mirrored from the Rust protocol crate (crates/protocol: ws.rs, sfu.rs,
// media.rs, calls.rs), which is the source of truth. WebSocket bodies are camelCase; the
// calls REST API is snake_case, as on the server.
export {};

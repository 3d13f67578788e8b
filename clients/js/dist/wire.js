// Generated from crates/protocol by `STRATUS_BLESS=1 cargo test -p stratus-protocol --test typescript`.
// Do not edit: change the Rust types and regenerate.
export {};

//! Access and refresh token verification on any input: refused, never accepted, never a
//! panic (an input the verifier accepted would be a forged token).

#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use stratus_protocol::auth::TokenType;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    static AUTH: OnceLock<std::sync::Arc<stratus_core::auth::Authority>> = OnceLock::new();
    let auth = AUTH.get_or_init(common::authority);
    let token = String::from_utf8_lossy(data);
    for kind in [TokenType::Access, TokenType::Refresh] {
        assert!(auth.verify(&token, kind, 1_800_000_000).is_err(), "accepted: {token:?}");
    }
});

//! The media node's RFC 9421 verifier on any request (method, authority, path, digest,
//! signature input, signature, body): refused, never accepted without the key.

#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use stratus_control::{Key, Request, Verifier};

fuzz_target!(|data: &[u8]| {
    static V: OnceLock<Verifier> = OnceLock::new();
    let v =
        V.get_or_init(|| Verifier::new(vec![Key::new("k1", b"fuzz-control-key-0123456789abcdef".to_vec()).unwrap()]));
    // Fields separated by 0xff; the last is the body.
    let mut parts = data.splitn(7, |b| *b == 0xff);
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (method, authority, path, digest, input, sig) = (next(), next(), next(), next(), next(), next());
    let body = parts.next().unwrap_or_default();
    let r = Request {
        method: &method,
        authority: &authority,
        path: &path,
        content_digest: Some(&digest),
        signature_input: Some(&input),
        signature: Some(&sig),
        body,
    };
    assert!(v.verify(&r, 1_800_000_000).is_err(), "accepted a request signed without the key");
});

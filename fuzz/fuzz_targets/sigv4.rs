//! The local stack's SigV4 check of Management API requests on any request: refused, never
//! accepted without the secret.

#![no_main]
use libfuzzer_sys::fuzz_target;
use stratus_local::sigv4::{Credential, verify};

fuzz_target!(|data: &[u8]| {
    let cred = Credential::new("LOCALFUZZ", "fuzz-management-secret-0123");
    // Fields separated by 0xff: method, uri, then header name/value pairs; the last is the body.
    let fields: Vec<&[u8]> = data.split(|b| *b == 0xff).collect();
    let text = |i: usize| String::from_utf8_lossy(fields.get(i).copied().unwrap_or_default()).into_owned();
    let (method, uri) = (text(0), text(1));
    let mut headers = http::HeaderMap::new();
    let mut i = 2;
    while i + 1 < fields.len().saturating_sub(1) {
        if let (Ok(n), Ok(v)) = (http::HeaderName::from_bytes(fields[i]), http::HeaderValue::from_bytes(fields[i + 1]))
        {
            headers.append(n, v);
        }
        i += 2;
    }
    let body = fields.last().copied().unwrap_or_default();
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
    assert!(verify(&cred, &method, &uri, &headers, body, now).is_err(), "accepted without the secret");
});

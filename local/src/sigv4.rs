//! SigV4 on the emulated Management API, as API Gateway requires it: `@connections` is the
//! back end's door into every socket (send as anyone, read a client's address, hang up), so a
//! request without a valid signature by the stack's credentials is refused with API
//! Gateway's 403s. The stack's own sink signs with these credentials through the AWS SDK; a
//! media node or a tool is given them (`--ws-management-credentials`), never a client.
//!
//! The signature is recomputed with `aws-sigv4`, the crate the SDK signs with, over the
//! request as received (method, path and query as sent, the headers it names, the body), so
//! what the SDK signs verifies and anything changed in transit does not.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use axum::http::HeaderMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use subtle::ConstantTimeEq;

/// How far a request's `x-amz-date` may be from our clock (AWS allows five minutes).
pub const MAX_SKEW: Duration = Duration::from_secs(300);

const SERVICE: &str = "execute-api";

/// An access key and its secret.
#[derive(Clone)]
pub struct Credential {
    pub access_key: String,
    secret: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential").field("access_key", &self.access_key).finish_non_exhaustive()
    }
}

impl Credential {
    pub fn new(access_key: impl Into<String>, secret: impl Into<String>) -> Self {
        Self { access_key: access_key.into(), secret: secret.into() }
    }

    /// `ACCESS_KEY:SECRET`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            Some((k, v)) if !k.is_empty() && v.len() >= 16 => Ok(Self::new(k, v)),
            _ => Err("expected ACCESS_KEY:SECRET with a secret of at least 16 bytes".into()),
        }
    }

    /// A random pair, for one start of the stack.
    pub fn random() -> Self {
        let hex = |n: usize| (0..n).map(|_| format!("{:02x}", rand::random::<u8>())).collect::<String>();
        Self::new(format!("LOCAL{}", hex(8).to_uppercase()), hex(20))
    }

    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// For the AWS SDK's credentials provider.
    pub fn sdk(&self) -> Credentials {
        Credentials::new(&self.access_key, &self.secret, None, None, "stratus-local")
    }
}

/// Why a request was refused: API Gateway's error type and message for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No `Authorization` header (or not SigV4).
    Missing,
    /// An access key we do not hold.
    UnknownKey,
    /// Malformed, out of its time window, or a signature that does not match.
    BadSignature,
    Expired,
}

impl Denied {
    pub fn error_type(self) -> &'static str {
        match self {
            Denied::Missing => "MissingAuthenticationTokenException",
            Denied::UnknownKey => "UnrecognizedClientException",
            Denied::BadSignature | Denied::Expired => "InvalidSignatureException",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Denied::Missing => "Missing Authentication Token",
            Denied::UnknownKey => "The security token included in the request is invalid.",
            Denied::BadSignature => "The request signature we calculated does not match the signature you provided.",
            Denied::Expired => "Signature expired: the request time is too far from the server time.",
        }
    }
}

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
struct Authorization<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(v: &str) -> Option<Authorization<'_>> {
    let rest = v.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',').map(str::trim) {
        let (k, v) = part.split_once('=')?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => return None,
        }
    }
    let mut scope = credential?.split('/');
    let (access_key, date, region, service, terminator) =
        (scope.next()?, scope.next()?, scope.next()?, scope.next()?, scope.next()?);
    if terminator != "aws4_request" || scope.next().is_some() {
        return None;
    }
    let signed_headers: Vec<&str> = signed?.split(';').collect();
    Some(Authorization { access_key, date, region, service, signed_headers, signature: signature? })
}

/// `20261203T055000Z` as a time.
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16
        || b[8] != b'T'
        || b[15] != b'Z'
        || !s[..8].bytes().chain(s[9..15].bytes()).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(4..6)?, n(6..8)?);
    let (hh, mm, ss) = (n(9..11)?, n(11..13)?, n(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let secs = u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Checks one request against `cred`. `uri` is the path and query exactly as received.
pub fn verify(
    cred: &Credential,
    method: &str,
    uri: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<(), Denied> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).ok_or(Denied::Missing)?;
    if !auth.starts_with("AWS4-HMAC-SHA256 ") {
        return Err(Denied::Missing);
    }
    let auth = parse_authorization(auth).ok_or(Denied::BadSignature)?;
    // What a server takes as a request target: origin form, visible ASCII. Anything else the
    // signer's canonical-request writer may not take (fuzzing found a relative one that
    // panics inside it).
    if !uri.starts_with('/') || !uri.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Denied::BadSignature);
    }
    if auth.access_key != cred.access_key {
        return Err(Denied::UnknownKey);
    }
    let amz_date = headers.get("x-amz-date").and_then(|v| v.to_str().ok()).ok_or(Denied::BadSignature)?;
    let time = parse_amz_date(amz_date).ok_or(Denied::BadSignature)?;
    if auth.service != SERVICE || !amz_date.starts_with(auth.date) || !auth.signed_headers.contains(&"host") {
        return Err(Denied::BadSignature);
    }
    let skew = now.duration_since(time).or_else(|e| Ok::<_, ()>(e.duration())).unwrap_or_default();
    if skew > MAX_SKEW {
        return Err(Denied::Expired);
    }
    // The headers it signed, but `x-amz-date`, which the signer adds from the time.
    let mut signed = Vec::with_capacity(auth.signed_headers.len());
    for name in auth.signed_headers.iter().filter(|h| **h != "x-amz-date") {
        let value = headers.get(*name).and_then(|v| v.to_str().ok()).ok_or(Denied::BadSignature)?;
        signed.push((*name, value));
    }
    let identity: Identity = cred.sdk().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(auth.region)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|_| Denied::BadSignature)?
        .into();
    let request = SignableRequest::new(method, uri, signed.into_iter(), SignableBody::Bytes(body))
        .map_err(|_| Denied::BadSignature)?;
    let expected = sign(request, &params).map_err(|_| Denied::BadSignature)?;
    if bool::from(expected.signature().as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(())
    } else {
        Err(Denied::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_parse_to_their_instant() {
        let t = parse_amz_date("20261203T055000Z").unwrap();
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 1_796_277_000);
        for bad in ["20261303T055000Z", "2026120T3055000Z", "20261203 055000Z", "20261203T055000", ""] {
            assert!(parse_amz_date(bad).is_none(), "{bad}");
        }
    }

    /// Found by `fuzz/fuzz_targets/sigv4.rs`: a request target without a leading `/` panicked
    /// in aws-sigv4's canonical request (its query writer cannot rebuild such a URI).
    #[test]
    fn a_request_target_that_is_not_a_path_is_refused_not_a_panic() {
        let cred = Credential::new("LOCALFUZZ", "fuzz-management-secret-0123");
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=LOCALFUZZ/20261203/us-east-1/execute-api/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=00"
                .parse()
                .unwrap(),
        );
        headers.insert("x-amz-date", "20261203T055000Z".parse().unwrap());
        headers.insert("host", "127.0.0.1".parse().unwrap());
        let now = parse_amz_date("20261203T055000Z").unwrap();
        for uri in ["host", "*", "", "/ws/a b", "/ws/\u{1}"] {
            assert_eq!(verify(&cred, "POST", uri, &headers, b"", now), Err(Denied::BadSignature), "{uri:?}");
        }
        assert_eq!(verify(&cred, "POST", "/ws/%40connections/x", &headers, b"", now), Err(Denied::BadSignature));
    }

    #[test]
    fn authorization_headers_parse_into_their_scope() {
        let a = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AK/20261203/us-east-1/execute-api/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=abcd",
        )
        .unwrap();
        assert_eq!((a.access_key, a.date, a.region, a.service), ("AK", "20261203", "us-east-1", "execute-api"));
        assert_eq!(a.signed_headers, ["host", "x-amz-date"]);
        assert_eq!(a.signature, "abcd");
        assert!(parse_authorization("AWS4-HMAC-SHA256 Credential=AK/20261203/us-east-1/execute-api").is_none());
    }
}

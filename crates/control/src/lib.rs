//! # stratus-control
//!
//! Every control request from the functions to a media node is signed with RFC 9421 HTTP
//! Message Signatures, HMAC-SHA256, covering the method, the authority, the path (with query),
//! an RFC 9530 `Content-Digest` of the body, `created`, a random `nonce` and the `keyid`:
//!
//! ```text
//! Content-Digest: sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:
//! Signature-Input: sig1=("@method" "@authority" "@path" "content-digest");created=1795255200;nonce="…";keyid="k1";alg="hmac-sha256"
//! Signature: sig1=:…:
//! ```
//!
//! The node verifies before doing any work: missing, malformed, unknown-key, forged (wrong
//! signature or digest), expired, from-the-future (clock skew) and replayed (nonce seen
//! within the validity window) requests are refused. Two keys can be active at once, so a
//! key rotates by adding the new one to every node, switching signers, then removing the old.
//!
//! Layout: [`sign`] (the signing side), [`Verifier`] (the node side, with its replay cache),
//! [`base`] (the signature base both compute), [`parse_keys`] (the keys' two text forms): no
//! I/O, time passed in. Feature `tls` adds `tls` (the node's self-signed certificate and the
//! callers' pin on its fingerprint); feature `client` adds `client::ControlClient`, which
//! signs and sends requests over HTTP(S) with short timeouts.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use stratus_protocol::error::ErrorCode;
use subtle::ConstantTimeEq;

#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "tls")]
pub mod tls;

pub const CONTENT_DIGEST: &str = "content-digest";
pub const SIGNATURE_INPUT: &str = "signature-input";
pub const SIGNATURE: &str = "signature";
const LABEL: &str = "sig1";
const COMPONENTS: &str = r#"("@method" "@authority" "@path" "content-digest")"#;

/// A shared secret with its id. `Debug` never shows the secret.
#[derive(Clone)]
pub struct Key {
    pub id: String,
    secret: Vec<u8>,
}

impl Key {
    /// `id` must be a token (letters, digits, `-_.`); the secret at least 32 bytes.
    pub fn new(id: impl Into<String>, secret: impl Into<Vec<u8>>) -> Result<Key, String> {
        let id = id.into();
        let secret = secret.into();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
            return Err("key id must be letters, digits, - _ .".into());
        }
        if secret.len() < 32 {
            return Err(format!("key {id}: secret must be at least 32 bytes"));
        }
        Ok(Key { id, secret })
    }

    fn mac(&self, data: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of any length.
        let mut m = Hmac::<Sha256>::new_from_slice(&self.secret).expect("hmac key");
        m.update(data);
        m.finalize().into_bytes().to_vec()
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({}, <{} bytes>)", self.id, self.secret.len())
    }
}

/// The control-keys secret as the deployment generates it: `{"id": "k1", "secret": "…"}`,
/// with an optional `next_id`/`next_secret` that nodes also accept while a rotation is
/// staged (infra/README.md, "Rotating the control key").
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysDoc {
    id: String,
    secret: String,
    next_id: Option<String>,
    next_secret: Option<String>,
}

/// Parses the control keys, signing key first: either `id1:secret1[,id2:secret2]` (the
/// `STRATUS_CONTROL_KEYS` text form) or the JSON document of the control-keys secret.
pub fn parse_keys(s: &str) -> Result<Vec<Key>, String> {
    if s.trim_start().starts_with('{') {
        // The parser's own message may quote a value: say where, never what.
        let d: KeysDoc = serde_json::from_str(s).map_err(|e| {
            format!(
                "control keys document is not {{id, secret, next_id?, next_secret?}} (line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
        let mut keys = vec![Key::new(d.id, d.secret.into_bytes())?];
        match (d.next_id, d.next_secret) {
            (Some(id), Some(secret)) => keys.push(Key::new(id, secret.into_bytes())?),
            (None, None) => {}
            _ => return Err("control keys document: next_id and next_secret go together".into()),
        }
        return Ok(keys);
    }
    let keys: Vec<Key> = s
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (id, secret) = p.trim().split_once(':').ok_or("each key is id:secret")?;
            Key::new(id, secret.as_bytes())
        })
        .collect::<Result<_, String>>()?;
    if keys.is_empty() || keys.len() > 2 {
        return Err("one or two control keys (two while rotating)".into());
    }
    Ok(keys)
}

/// RFC 9530 `Content-Digest` of a body.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", B64.encode(Sha256::digest(body)))
}

/// The `@signature-params` value.
fn params(created: i64, nonce: &str, keyid: &str) -> String {
    format!(r#"{COMPONENTS};created={created};nonce="{nonce}";keyid="{keyid}";alg="hmac-sha256""#)
}

/// The RFC 9421 signature base for our covered components.
pub fn base(method: &str, authority: &str, path: &str, digest: &str, params: &str) -> String {
    format!(
        "\"@method\": {}\n\"@authority\": {}\n\"@path\": {}\n\"content-digest\": {}\n\"@signature-params\": {}",
        method.to_ascii_uppercase(),
        authority.to_ascii_lowercase(),
        path,
        digest,
        params
    )
}

/// Signs a request; returns the headers to add (`content-digest`, `signature-input`,
/// `signature`). `path` includes the query string, if any. Each call draws a fresh nonce.
pub fn sign(
    method: &str,
    authority: &str,
    path: &str,
    body: &[u8],
    key: &Key,
    now_secs: i64,
) -> Vec<(&'static str, String)> {
    let nonce = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
    let nonce = nonce.as_str();
    let digest = content_digest(body);
    let p = params(now_secs, nonce, &key.id);
    let sig = key.mac(base(method, authority, path, &digest, &p).as_bytes());
    vec![
        (CONTENT_DIGEST, digest),
        (SIGNATURE_INPUT, format!("{LABEL}={p}")),
        (SIGNATURE, format!("{LABEL}=:{}:", B64.encode(sig))),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    #[error("request is not signed")]
    Missing,
    #[error("signature headers are malformed")]
    Malformed,
    #[error("unknown key id")]
    UnknownKey,
    #[error("content digest does not match the body")]
    DigestMismatch,
    #[error("signature does not verify")]
    BadSignature,
    #[error("signature has expired")]
    Expired,
    #[error("signature is from the future (clock skew)")]
    FromTheFuture,
    #[error("request was already received (replay)")]
    Replayed,
}

impl SigError {
    /// The error code the node answers with (all 401).
    pub fn code(self) -> ErrorCode {
        match self {
            SigError::Missing => ErrorCode::SignatureMissing,
            SigError::Malformed => ErrorCode::SignatureMalformed,
            SigError::UnknownKey => ErrorCode::SignatureUnknownKey,
            SigError::DigestMismatch | SigError::BadSignature => ErrorCode::SignatureInvalid,
            SigError::Expired => ErrorCode::SignatureExpired,
            SigError::FromTheFuture => ErrorCode::SignatureClockSkew,
            SigError::Replayed => ErrorCode::SignatureReplayed,
        }
    }
}

struct Parsed {
    created: i64,
    nonce: String,
    keyid: String,
    params: String,
}

fn parse_input(v: &str) -> Result<Parsed, SigError> {
    let params = v.strip_prefix(&format!("{LABEL}=")).ok_or(SigError::Malformed)?;
    let rest = params.strip_prefix(COMPONENTS).ok_or(SigError::Malformed)?;
    let (mut created, mut nonce, mut keyid, mut alg) = (None, None, None, None);
    for part in rest.split(';').skip(1) {
        let (k, v) = part.split_once('=').ok_or(SigError::Malformed)?;
        let unquote = |v: &str| v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).map(str::to_owned);
        match k {
            "created" => created = v.parse::<i64>().ok(),
            "nonce" => nonce = unquote(v),
            "keyid" => keyid = unquote(v),
            "alg" => alg = unquote(v),
            _ => return Err(SigError::Malformed),
        }
    }
    if alg.as_deref() != Some("hmac-sha256") {
        return Err(SigError::Malformed);
    }
    let nonce = nonce.filter(|n| (8..=128).contains(&n.len())).ok_or(SigError::Malformed)?;
    Ok(Parsed {
        created: created.ok_or(SigError::Malformed)?,
        nonce,
        keyid: keyid.ok_or(SigError::Malformed)?,
        params: params.to_owned(),
    })
}

/// The node side. Shared by all requests (the replay cache is behind a std `Mutex`: a map
/// insert per request, never held across an await).
pub struct Verifier {
    keys: Vec<Key>,
    /// How long a signature is valid after `created`.
    pub max_age_secs: i64,
    /// How far in the future `created` may be.
    pub max_skew_secs: i64,
    seen: Mutex<HashMap<String, i64>>,
}

/// The signed parts of a request, as the node received it.
pub struct Request<'a> {
    pub method: &'a str,
    pub authority: &'a str,
    pub path: &'a str,
    pub content_digest: Option<&'a str>,
    pub signature_input: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub body: &'a [u8],
}

impl Verifier {
    pub fn new(keys: Vec<Key>) -> Self {
        Self { keys, max_age_secs: 60, max_skew_secs: 30, seen: Mutex::new(HashMap::new()) }
    }

    /// Checks everything; on success returns the key id and remembers the nonce.
    pub fn verify(&self, r: &Request<'_>, now_secs: i64) -> Result<String, SigError> {
        let (Some(input), Some(sig)) = (r.signature_input, r.signature) else { return Err(SigError::Missing) };
        let p = parse_input(input)?;
        let key = self.keys.iter().find(|k| k.id == p.keyid).ok_or(SigError::UnknownKey)?;
        if p.created > now_secs + self.max_skew_secs {
            return Err(SigError::FromTheFuture);
        }
        if p.created + self.max_age_secs < now_secs {
            return Err(SigError::Expired);
        }
        let digest = r.content_digest.ok_or(SigError::Malformed)?;
        if digest.as_bytes().ct_eq(content_digest(r.body).as_bytes()).unwrap_u8() == 0 {
            return Err(SigError::DigestMismatch);
        }
        let given = sig
            .strip_prefix(&format!("{LABEL}=:"))
            .and_then(|s| s.strip_suffix(':'))
            .and_then(|s| B64.decode(s).ok())
            .ok_or(SigError::Malformed)?;
        let want = key.mac(base(r.method, r.authority, r.path, digest, &p.params).as_bytes());
        if given.ct_eq(&want).unwrap_u8() == 0 {
            return Err(SigError::BadSignature);
        }
        // Only a valid signature may claim a nonce (a forger cannot burn real ones).
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 10_000 {
            seen.retain(|_, exp| *exp >= now_secs);
        }
        let nonce_key = format!("{}/{}", p.keyid, p.nonce);
        if seen.get(&nonce_key).is_some_and(|exp| *exp >= now_secs) {
            return Err(SigError::Replayed);
        }
        seen.insert(nonce_key, p.created + self.max_age_secs);
        Ok(p.keyid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_255_200;

    fn key(id: &str) -> Key {
        Key::new(id, format!("{id}-secret-0123456789abcdef0123456789").into_bytes()).unwrap()
    }

    fn req<'a>(h: &'a [(&'static str, String)], body: &'a [u8], path: &'a str) -> Request<'a> {
        let get = |n: &str| h.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
        Request {
            method: "POST",
            authority: "node-1.internal:7880",
            path,
            content_digest: get(CONTENT_DIGEST),
            signature_input: get(SIGNATURE_INPUT),
            signature: get(SIGNATURE),
            body,
        }
    }

    #[test]
    fn a_signed_request_verifies_once() {
        let v = Verifier::new(vec![key("k1")]);
        let h = sign("POST", "node-1.internal:7880", "/v1/rooms?x=1", b"{\"a\":1}", &key("k1"), NOW);
        assert_eq!(v.verify(&req(&h, b"{\"a\":1}", "/v1/rooms?x=1"), NOW + 2), Ok("k1".into()));
        assert_eq!(v.verify(&req(&h, b"{\"a\":1}", "/v1/rooms?x=1"), NOW + 3), Err(SigError::Replayed));
    }

    #[test]
    fn each_kind_of_bad_request_is_refused() {
        let v = Verifier::new(vec![key("k1")]);
        let body = b"{\"room\":\"r\"}";
        let good = sign("POST", "node-1.internal:7880", "/v1/rooms", body, &key("k1"), NOW);
        let check = |h: &[(&'static str, String)], b: &[u8], path: &str, now: i64| v.verify(&req(h, b, path), now);
        assert_eq!(check(&[], body, "/v1/rooms", NOW), Err(SigError::Missing));
        assert_eq!(check(&good, b"{\"room\":\"other\"}", "/v1/rooms", NOW), Err(SigError::DigestMismatch));
        assert_eq!(check(&good, body, "/v1/rooms/other", NOW), Err(SigError::BadSignature));
        let forged =
            sign("POST", "node-1.internal:7880", "/v1/rooms", body, &Key::new("k1", vec![7u8; 32]).unwrap(), NOW);
        assert_eq!(check(&forged, body, "/v1/rooms", NOW), Err(SigError::BadSignature));
        let unknown = sign("POST", "node-1.internal:7880", "/v1/rooms", body, &key("k9"), NOW);
        assert_eq!(check(&unknown, body, "/v1/rooms", NOW), Err(SigError::UnknownKey));
        assert_eq!(check(&good, body, "/v1/rooms", NOW + 61), Err(SigError::Expired));
        assert_eq!(check(&good, body, "/v1/rooms", NOW - 31), Err(SigError::FromTheFuture));
        let mut mangled = good.clone();
        mangled[1].1 = mangled[1].1.replace("hmac-sha256", "none");
        assert_eq!(check(&mangled, body, "/v1/rooms", NOW), Err(SigError::Malformed));
        // None of the refusals used up the nonce: the genuine request still passes once.
        assert!(check(&good, body, "/v1/rooms", NOW).is_ok());
    }

    #[test]
    fn two_keys_are_accepted_while_rotating() {
        let v = Verifier::new(vec![key("old"), key("new")]);
        for k in ["old", "new"] {
            let h = sign("DELETE", "n:1", "/v1/rooms/r", b"", &key(k), NOW);
            let r = Request {
                method: "DELETE",
                authority: "n:1",
                path: "/v1/rooms/r",
                body: b"",
                content_digest: Some(&h[0].1),
                signature_input: Some(&h[1].1),
                signature: Some(&h[2].1),
            };
            assert_eq!(v.verify(&r, NOW), Ok(k.to_owned()));
        }
        assert!(parse_keys("a:short").is_err());
        assert_eq!(parse_keys(&format!("a:{0},b:{0}", "s".repeat(32))).unwrap().len(), 2);
        assert!(parse_keys(&format!("a:{0},b:{0},c:{0}", "s".repeat(32))).is_err());
    }

    #[test]
    fn the_generated_keys_document_parses_signing_key_first() {
        let secret = "x".repeat(64);
        let one = parse_keys(&format!(r#"{{"id":"k1","secret":"{secret}"}}"#)).unwrap();
        assert_eq!(one.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(), ["k1"]);
        let staged =
            parse_keys(&format!(r#"{{"id":"k1","secret":"{secret}","next_id":"k2","next_secret":"{secret}y"}}"#))
                .unwrap();
        assert_eq!(staged.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(), ["k1", "k2"]);
        assert!(parse_keys(&format!(r#"{{"id":"k1","secret":"{secret}","next_id":"k2"}}"#)).is_err());
        assert!(parse_keys(r#"{"id":"k1","secret":"short"}"#).is_err());
        let err = parse_keys(&format!(r#"{{"id":"k1","secret":"{secret}","jwt_secret":"s"}}"#)).unwrap_err();
        assert!(!err.contains(&secret), "errors never echo a secret: {err}");
    }

    #[test]
    fn debug_output_hides_secrets() {
        assert_eq!(format!("{:?}", key("k1")), "Key(k1, <36 bytes>)");
    }
}

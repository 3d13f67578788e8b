//! ICE servers for clients: STUN, and TURN with short-lived credentials in the TURN REST API
//! style that coturn checks with `use-auth-secret` / `static-auth-secret`: the username is
//! `<expiry unix time>:<user id>` and the credential base64(HMAC-SHA1(shared secret,
//! username)). The TURN server needs only the shared secret; the secret never leaves the
//! functions, and a credential is useless after its expiry.

use crate::auth::Secret;
use crate::clock::{Millis, rfc3339_ms};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use stratus_protocol::ice::{IceServer, IceServersResponse};
use stratus_protocol::ids::UserId;

/// Credentials live a day by default (what coturn's own examples and most TURN services use):
/// long enough for a call, short enough that a leaked one soon stops working.
pub const DEFAULT_TTL_SECS: i64 = 24 * 3600;
/// Shortest lifetime a deployment may configure: clients refresh a little before expiry.
pub const MIN_TTL_SECS: i64 = 60;

#[derive(Debug, Clone)]
pub struct IceConfig {
    pub stun_urls: Vec<String>,
    pub turn_urls: Vec<String>,
    pub turn_secret: Option<Secret>,
    pub ttl_secs: i64,
}

impl Default for IceConfig {
    fn default() -> Self {
        IceConfig { stun_urls: Vec::new(), turn_urls: Vec::new(), turn_secret: None, ttl_secs: DEFAULT_TTL_SECS }
    }
}

fn scheme_ok(url: &str, schemes: &[&str]) -> bool {
    schemes.iter().any(|s| url.strip_prefix(s).and_then(|r| r.strip_prefix(':')).is_some_and(|h| !h.is_empty()))
}

impl IceConfig {
    /// Checks the configuration once, at start: URL schemes, a secret for TURN, the TTL.
    /// Errors name the setting, never the secret.
    pub fn new(
        stun_urls: Vec<String>,
        turn_urls: Vec<String>,
        turn_secret: Option<Secret>,
        ttl_secs: i64,
    ) -> Result<IceConfig, String> {
        if let Some(bad) = stun_urls.iter().find(|u| !scheme_ok(u, &["stun", "stuns"])) {
            return Err(format!("STUN URL {bad:?} must start with stun: or stuns:"));
        }
        if let Some(bad) = turn_urls.iter().find(|u| !scheme_ok(u, &["turn", "turns"])) {
            return Err(format!("TURN URL {bad:?} must start with turn: or turns:"));
        }
        let turn_secret = turn_secret.filter(|s| !s.expose().is_empty());
        if !turn_urls.is_empty() && turn_secret.is_none() {
            return Err("TURN URLs are set but no TURN shared secret".into());
        }
        if ttl_secs < MIN_TTL_SECS {
            return Err(format!("the ICE credential TTL must be at least {MIN_TTL_SECS} s"));
        }
        Ok(IceConfig { stun_urls, turn_urls, turn_secret, ttl_secs })
    }

    pub fn relay(&self) -> bool {
        !self.turn_urls.is_empty()
    }
}

/// base64(HMAC-SHA1(secret, username)), the TURN REST API credential.
pub fn turn_credential(secret: &[u8], username: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(username.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

/// The servers `user` should use from `now` on.
pub fn ice_servers(cfg: &IceConfig, user: &UserId, now: Millis) -> IceServersResponse {
    let expires = now.div_euclid(1000) + cfg.ttl_secs;
    let mut servers = Vec::new();
    if !cfg.stun_urls.is_empty() {
        servers.push(IceServer { urls: cfg.stun_urls.clone(), username: None, credential: None });
    }
    if let Some(secret) = &cfg.turn_secret
        && cfg.relay()
    {
        let username = format!("{expires}:{user}");
        let credential = turn_credential(secret.expose(), &username);
        servers.push(IceServer { urls: cfg.turn_urls.clone(), username: Some(username), credential: Some(credential) });
    }
    let note = (!cfg.relay()).then(|| {
        if cfg.stun_urls.is_empty() {
            "no STUN or TURN server is configured: host candidates only".to_owned()
        } else {
            "no TURN server is configured: STUN only, no relay for clients behind symmetric NATs or firewalls"
                .to_owned()
        }
    });
    IceServersResponse {
        ice_servers: servers,
        ttl_seconds: cfg.ttl_secs,
        expires_at: rfc3339_ms(expires * 1000),
        relay: cfg.relay(),
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_is_the_turn_rest_api_hmac() {
        // RFC 2202 test case 2 (HMAC-SHA1, key "Jefe"), base64 of its digest.
        assert_eq!(turn_credential(b"Jefe", "what do ya want for nothing?"), "7/zfauXrL6LSdBbV8YTfnCWafHk=");
    }

    #[test]
    fn turn_servers_carry_an_expiring_username_and_stun_only_says_so() {
        let now = 1_800_000_000_000;
        let cfg = IceConfig::new(
            vec!["stun:turn.example.com:3478".into()],
            vec!["turn:turn.example.com:3478?transport=udp".into(), "turns:turn.example.com:443?transport=tcp".into()],
            Some(Secret::new("s3cret")),
            600,
        )
        .unwrap();
        let r = ice_servers(&cfg, &"alice".into(), now);
        assert!(r.relay && r.note.is_none());
        assert_eq!(r.ttl_seconds, 600);
        let turn = &r.ice_servers[1];
        assert_eq!(turn.username.as_deref(), Some("1800000600:alice"));
        assert_eq!(turn.credential.as_deref(), Some(turn_credential(b"s3cret", "1800000600:alice").as_str()));
        assert_eq!(r.ice_servers[0].username, None);

        let stun_only = IceConfig::new(vec!["stun:stun.example.com".into()], vec![], None, 600).unwrap();
        let r = ice_servers(&stun_only, &"alice".into(), now);
        assert!(!r.relay && r.note.as_deref().unwrap().contains("STUN only"));
        assert_eq!(r.ice_servers.len(), 1);
    }

    #[test]
    fn bad_configurations_are_refused_without_naming_the_secret() {
        let s = || Some(Secret::new("topsecret"));
        for (stun, turn, secret, ttl) in [
            (vec!["turn:x"], vec![], None, 600),
            (vec![], vec!["stun:x"], s(), 600),
            (vec![], vec!["turn:"], s(), 600),
            (vec![], vec!["turn:x"], None, 600),
            (vec![], vec!["turn:x"], s(), 10),
        ] {
            let e = IceConfig::new(
                stun.into_iter().map(String::from).collect(),
                turn.into_iter().map(String::from).collect(),
                secret,
                ttl,
            )
            .unwrap_err();
            assert!(!e.contains("topsecret"), "{e}");
        }
    }
}

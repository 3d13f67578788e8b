//! Authentication: app credentials mint JWTs for an app's users; access tokens authorize
//! every route; refresh tokens are single-use and rotate.
//!
//! Tokens are HS256 JWTs. Validation pins the algorithm (a token declaring `none` or any
//! other algorithm is refused), checks the issuer, and checks `exp`/`nbf` against the `now`
//! the caller passes, so tests decide what time it is.

use crate::records::refresh;
use crate::store::{Cond, StoreError, Table};
use async_trait::async_trait;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use stratus_protocol::auth::{Claims, TokenRequest, TokenResponse, TokenType};
use stratus_protocol::error::ErrorCode;
use stratus_protocol::ids::{AppId, TokenId, UserId, is_valid_id};
use subtle::ConstantTimeEq;

/// Bytes that must never be printed. `Debug` shows only the length.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// A random 256-bit secret, hex encoded (for development defaults).
    pub fn random_hex() -> Self {
        let bytes: [u8; 32] = rand::random();
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>().into_bytes())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes>)", self.0.len())
    }
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `iss` of every token; tokens with another issuer are refused.
    pub issuer: String,
    pub jwt_secret: Secret,
    /// App key → app secret. Apps mint tokens for their users with these.
    pub apps: BTreeMap<String, Secret>,
    /// App key → the limits that app's users get where they differ from the deployment's.
    pub limits: BTreeMap<String, AppLimits>,
    pub access_ttl_secs: u64,
    pub max_access_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway_secs: i64,
}

/// One app's own limits; each absent one is the deployment's. Rate and connection limits
/// replace the deployment's; a room's size stays within the deployment's largest (what its
/// media nodes are configured for).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppLimits {
    /// Concurrent WebSocket connections per user.
    pub max_connections_per_user: Option<u32>,
    /// P2P rooms one connection may be in at once.
    pub max_rooms_per_connection: Option<i64>,
    /// The largest group room (participants) its users may create.
    pub max_participants: Option<u32>,
    /// Requests per user and minute, by limit name (`initiate`, `presence`, `history`, `ice`).
    #[serde(default)]
    pub per_minute: BTreeMap<String, i64>,
}

/// An app in the credentials document: its secret, or its secret and limits.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum AppEntry {
    Secret(String),
    WithLimits {
        secret: String,
        #[serde(default)]
        limits: AppLimits,
    },
}

/// The JSON form of the credentials secret (Secrets Manager or an environment variable):
/// `{"jwt_secret": "...", "apps": {"<app key>": "<app secret>" | {"secret": "...", "limits":
/// {...}}}, "turn_secret"?: "..."}` ([`AppLimits`] for the limits).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsDoc {
    pub jwt_secret: String,
    #[serde(default)]
    pub apps: BTreeMap<String, AppEntry>,
    /// The TURN server's shared secret (coturn's `static-auth-secret`), for the ICE-server
    /// credentials (`ice`); the authority ignores it.
    #[serde(default)]
    pub turn_secret: Option<String>,
}

/// Shortest JWT signing secret accepted: 32 bytes, the HS256 key size.
pub const MIN_JWT_SECRET: usize = 32;

impl AuthConfig {
    pub fn new(issuer: impl Into<String>, jwt_secret: Secret) -> Self {
        Self {
            issuer: issuer.into(),
            jwt_secret,
            apps: BTreeMap::new(),
            limits: BTreeMap::new(),
            access_ttl_secs: 3600,
            max_access_ttl_secs: 24 * 3600,
            refresh_ttl_secs: 30 * 24 * 3600,
            // The functions and the nodes may each be a few seconds off (docs/reliability.md,
            // "Clock skew": ±5 s between processes is tested); a token minted by one function
            // is then still valid at another whose clock is behind.
            leeway_secs: 10,
        }
    }

    pub fn with_app(mut self, key: impl Into<String>, secret: Secret) -> Self {
        self.apps.insert(key.into(), secret);
        self
    }

    /// Gives app `key` its own limits.
    pub fn with_limits(mut self, key: impl Into<String>, limits: AppLimits) -> Self {
        self.limits.insert(key.into(), limits);
        self
    }

    /// Reads the credentials document; refuses short signing secrets and empty app secrets.
    pub fn from_credentials_json(issuer: impl Into<String>, json: &str) -> Result<Self, String> {
        let doc: CredentialsDoc = serde_json::from_str(json).map_err(|e| format!("credentials document: {e}"))?;
        if doc.jwt_secret.len() < MIN_JWT_SECRET {
            return Err(format!("jwt_secret must be at least {MIN_JWT_SECRET} bytes"));
        }
        let mut cfg = Self::new(issuer, Secret::new(doc.jwt_secret));
        for (k, entry) in doc.apps {
            let (s, limits) = match entry {
                AppEntry::Secret(s) => (s, None),
                AppEntry::WithLimits { secret, limits } => (secret, Some(limits)),
            };
            if s.len() < 16 || !is_valid_id(&k) {
                return Err(format!("app `{k}`: key must be an id and its secret at least 16 bytes"));
            }
            if let Some(l) = limits {
                if l.per_minute.values().any(|n| *n < 1)
                    || [l.max_connections_per_user, l.max_participants].contains(&Some(0))
                    || l.max_rooms_per_connection.is_some_and(|n| n < 1)
                {
                    return Err(format!("app `{k}`: limits must be at least 1"));
                }
                cfg.limits.insert(k.clone(), l);
            }
            cfg.apps.insert(k, Secret::new(s));
        }
        Ok(cfg)
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(&'static str),
    #[error("token expired")]
    Expired,
    #[error("invalid app key or secret")]
    BadCredentials,
    #[error("{0}")]
    Validation(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AuthError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AuthError::Missing => ErrorCode::AuthTokenMissing,
            AuthError::Invalid(_) => ErrorCode::AuthTokenInvalid,
            AuthError::Expired => ErrorCode::AuthTokenExpired,
            AuthError::BadCredentials => ErrorCode::InvalidCredentials,
            AuthError::Validation(_) => ErrorCode::ValidationError,
            AuthError::Store(StoreError::Unavailable(_)) => ErrorCode::ServiceUnavailable,
            AuthError::Store(_) => ErrorCode::InternalError,
        }
    }
}

/// Where issued refresh tokens are remembered, so each can be used once; each app's apart.
#[async_trait]
pub trait RefreshTokens: Send + Sync {
    /// Remembers a refresh token issued for app `app` until `expires_at` (epoch seconds).
    async fn record(&self, app: &AppId, jti: &TokenId, user_id: &UserId, expires_at: i64) -> Result<(), StoreError>;
    /// Uses up a refresh token of app `app`; `false` if it was never issued, already used or
    /// expired.
    async fn consume(&self, app: &AppId, jti: &TokenId) -> Result<bool, StoreError>;
    /// Refuses every token of sign-in `fam` from now until `until` (epoch seconds).
    async fn revoke_family(&self, app: &AppId, fam: &TokenId, user_id: &UserId, until: i64) -> Result<(), StoreError>;
    async fn family_revoked(&self, app: &AppId, fam: &TokenId) -> Result<bool, StoreError>;
}

/// [`RefreshTokens`] on the main table: `REFRESH#<jti>` items with a TTL, in the app's
/// namespace (the table given is the whole table).
pub struct TableRefreshTokens(pub Arc<dyn Table>);

#[async_trait]
impl RefreshTokens for TableRefreshTokens {
    async fn record(&self, app: &AppId, jti: &TokenId, user_id: &UserId, expires_at: i64) -> Result<(), StoreError> {
        let record = refresh::Refresh { user_id: user_id.clone(), ttl: expires_at };
        crate::tenant::table(&self.0, app).put(refresh::encode(jti, &record), Some(Cond::NotExists)).await
    }

    async fn consume(&self, app: &AppId, jti: &TokenId) -> Result<bool, StoreError> {
        match crate::tenant::table(&self.0, app).delete(&refresh::key(jti), Some(Cond::Exists)).await {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn revoke_family(&self, app: &AppId, fam: &TokenId, user_id: &UserId, until: i64) -> Result<(), StoreError> {
        let record = refresh::Revoked { user_id: user_id.clone(), ttl: until };
        crate::tenant::table(&self.0, app).put(refresh::encode_revoked(fam, &record), None).await
    }

    async fn family_revoked(&self, app: &AppId, fam: &TokenId) -> Result<bool, StoreError> {
        Ok(crate::tenant::table(&self.0, app).get(&refresh::family(fam)).await?.is_some())
    }
}

/// Mints and checks tokens for one deployment.
pub struct Authority {
    cfg: AuthConfig,
    enc: EncodingKey,
    dec: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authority").field("cfg", &self.cfg).finish_non_exhaustive()
    }
}

const MAX_TEXT: usize = 256;

impl Authority {
    pub fn new(cfg: AuthConfig) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // exp/nbf are checked below against the caller's `now`, not the system clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "sub"]);
        validation.set_issuer(&[cfg.issuer.as_str()]);
        Self {
            enc: EncodingKey::from_secret(cfg.jwt_secret.expose()),
            dec: DecodingKey::from_secret(cfg.jwt_secret.expose()),
            cfg,
            validation,
        }
    }

    pub fn config(&self) -> &AuthConfig {
        &self.cfg
    }

    /// App `app`'s own limits (none: the deployment's everywhere).
    pub fn limits(&self, app: &AppId) -> AppLimits {
        self.cfg.limits.get(app.as_str()).cloned().unwrap_or_default()
    }

    /// The apps configured now (the sweepers work through each one's namespace).
    pub fn apps(&self) -> Vec<AppId> {
        self.cfg.apps.keys().map(|k| AppId::from(k.as_str())).collect()
    }

    /// Checks an app's key and secret in constant time (an unknown key costs the same).
    pub fn check_app(&self, key: &str, secret: &str) -> Result<(), AuthError> {
        const DUMMY: &[u8] = b"0000000000000000000000000000000000000000000000000000000000000000";
        let (expected, known) = match self.cfg.apps.get(key) {
            Some(s) => (s.expose(), true),
            None => (DUMMY, false),
        };
        let same: bool = expected.ct_eq(secret.as_bytes()).into();
        if same && known { Ok(()) } else { Err(AuthError::BadCredentials) }
    }

    fn sign(&self, claims: &Claims) -> String {
        // HS256 signing of serializable claims with an HMAC key cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.enc).expect("HS256 signing")
    }

    /// Access and refresh claims for one identity, both starting at `now_secs`.
    fn pair(&self, base: &Claims, access_ttl: u64, now_secs: i64) -> (Claims, Claims) {
        let mut access = base.clone();
        access.token_type = TokenType::Access;
        access.jti = TokenId::from(uuid::Uuid::new_v4().to_string());
        access.iat = now_secs;
        access.nbf = now_secs;
        access.exp = now_secs + access_ttl as i64;
        let mut refresh = access.clone();
        refresh.token_type = TokenType::Refresh;
        refresh.jti = TokenId::from(uuid::Uuid::new_v4().to_string());
        refresh.exp = now_secs + self.cfg.refresh_ttl_secs as i64;
        // A new sign-in starts its family with its first refresh token.
        let fam = base.fam.clone().unwrap_or_else(|| refresh.jti.clone());
        access.fam = Some(fam.clone());
        refresh.fam = Some(fam);
        refresh.sv = self.secret_version(&base.app);
        access.sv = None;
        (access, refresh)
    }

    /// A digest naming app `app`'s current secret, keyed with the JWT secret so a token's
    /// holder learns nothing of the secret from it.
    fn secret_version(&self, app: &AppId) -> Option<String> {
        use hmac::{Hmac, Mac};
        let secret = self.cfg.apps.get(app.as_str())?;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(self.cfg.jwt_secret.expose()).expect("HMAC takes any key");
        mac.update(b"stratus app secret version\0");
        mac.update(secret.expose());
        Some(mac.finalize().into_bytes()[..8].iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Validates a token request's fields (after the app is authenticated).
    fn claims_for(&self, req: &TokenRequest) -> Result<(Claims, u64), AuthError> {
        let bad = |m: &str| Err(AuthError::Validation(m.to_owned()));
        if !is_valid_id(&req.user_id) {
            return bad("user_id must be 1-128 characters of A-Z a-z 0-9 . _ @ : -");
        }
        if let Some(room) = &req.grants.room
            && !is_valid_id(room)
        {
            return bad("grants.room must be 1-128 characters of A-Z a-z 0-9 . _ @ : -");
        }
        for (name, v) in [("email", &req.email), ("full_name", &req.full_name), ("role", &req.role)] {
            if v.as_ref().is_some_and(|s| s.len() > MAX_TEXT || s.chars().any(char::is_control)) {
                return Err(AuthError::Validation(format!("{name} must be at most {MAX_TEXT} printable characters")));
            }
        }
        let ttl = req.ttl_seconds.unwrap_or(self.cfg.access_ttl_secs);
        if ttl == 0 || ttl > self.cfg.max_access_ttl_secs {
            return Err(AuthError::Validation(format!(
                "ttl_seconds must be between 1 and {}",
                self.cfg.max_access_ttl_secs
            )));
        }
        let claims = Claims {
            iss: self.cfg.issuer.clone(),
            sub: req.user_id.clone(),
            user_id: UserId::from(req.user_id.as_str()),
            email: req.email.clone(),
            full_name: req.full_name.clone(),
            role: req.role.clone().unwrap_or_else(|| "user".to_owned()),
            grants: req.grants.clone(),
            app: AppId::from(req.app_key.as_str()),
            token_type: TokenType::Access,
            jti: TokenId::default(),
            iat: 0,
            nbf: 0,
            exp: 0,
            fam: None,
            sv: None,
        };
        Ok((claims, ttl))
    }

    fn response(&self, access: &Claims, refresh: &Claims) -> TokenResponse {
        TokenResponse {
            access_token: self.sign(access),
            refresh_token: self.sign(refresh),
            token_type: "Bearer".to_owned(),
            expires_in: (access.exp - access.iat) as u64,
            refresh_expires_in: (refresh.exp - refresh.iat) as u64,
        }
    }

    /// `POST /auth/token`: authenticates the app, then mints an access/refresh pair.
    pub async fn issue(
        &self,
        tokens: &dyn RefreshTokens,
        req: &TokenRequest,
        now_secs: i64,
    ) -> Result<TokenResponse, AuthError> {
        self.check_app(&req.app_key, &req.app_secret)?;
        let (base, ttl) = self.claims_for(req)?;
        let (access, refresh) = self.pair(&base, ttl, now_secs);
        tokens.record(&refresh.app, &refresh.jti, &refresh.user_id, refresh.exp).await?;
        Ok(self.response(&access, &refresh))
    }

    /// `POST /auth/refresh`: uses up a refresh token and returns a fresh pair for the same
    /// identity and grants. A refresh token works once; a second use is refused.
    pub async fn refresh(
        &self,
        tokens: &dyn RefreshTokens,
        refresh_token: &str,
        now_secs: i64,
    ) -> Result<TokenResponse, AuthError> {
        let claims = self.verify(refresh_token, TokenType::Refresh, now_secs)?;
        if claims.sv != self.secret_version(&claims.app) {
            return Err(AuthError::Invalid("the app's secret has changed since this sign-in; sign in again"));
        }
        let fam = claims.fam.clone().unwrap_or_else(|| claims.jti.clone());
        // Checked before the token is used up: of refreshes racing with one token, the one
        // that uses it up gets its pair (and the others' reuse then revokes the sign-in, so
        // that pair works only until it is refreshed or connects).
        if tokens.family_revoked(&claims.app, &fam).await? {
            return Err(AuthError::Invalid("this sign-in was revoked (a refresh token of it was reused)"));
        }
        if !tokens.consume(&claims.app, &claims.jti).await? {
            // A spent refresh token came back: one of its two holders is not its owner, and
            // which cannot be told, so the whole sign-in ends (the tokens minted from it too).
            tokens
                .revoke_family(&claims.app, &fam, &claims.user_id, now_secs + self.cfg.refresh_ttl_secs as i64)
                .await?;
            tracing::warn!(app = %claims.app, user_id = %claims.user_id, "refresh token reused; its sign-in is revoked");
            return Err(AuthError::Invalid("refresh token already used or revoked"));
        }
        let (access, refresh) = self.pair(&claims, self.cfg.access_ttl_secs, now_secs);
        tokens.record(&refresh.app, &refresh.jti, &refresh.user_id, refresh.exp).await?;
        Ok(self.response(&access, &refresh))
    }

    /// Checks signature, algorithm, issuer, type and validity window at `now_secs`.
    pub fn verify(&self, token: &str, want: TokenType, now_secs: i64) -> Result<Claims, AuthError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Claims>(token, &self.dec, &self.validation).map_err(|e| {
            AuthError::Invalid(match e.kind() {
                ErrorKind::InvalidSignature => "bad signature",
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => "algorithm not allowed",
                ErrorKind::InvalidIssuer => "wrong issuer",
                ErrorKind::MissingRequiredClaim(_) => "missing required claim",
                _ => "malformed token",
            })
        })?;
        let c = data.claims;
        if c.exp <= now_secs - self.cfg.leeway_secs {
            return Err(AuthError::Expired);
        }
        if c.nbf > now_secs + self.cfg.leeway_secs {
            return Err(AuthError::Invalid("token not valid yet"));
        }
        if c.token_type != want {
            return Err(AuthError::Invalid(match want {
                TokenType::Access => "a refresh token cannot be used as an access token",
                TokenType::Refresh => "an access token cannot be used to refresh",
            }));
        }
        // Removing an app from the credentials ends its tokens at once, access tokens too.
        if !self.cfg.apps.contains_key(c.app.as_str()) {
            return Err(AuthError::Invalid("the app that minted this token is no longer configured"));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::store::memory::MemoryTable;
    use crate::store::schema::MAIN;
    use stratus_protocol::auth::Grants;

    fn setup() -> (Authority, TableRefreshTokens, ManualClock) {
        let clock = ManualClock::new(1_800_000_000_000);
        let cfg = AuthConfig::new("stratus-test", Secret::new("s".repeat(32)))
            .with_app("app1", Secret::new("app-secret-0123456789"));
        let table = Arc::new(MemoryTable::new(&MAIN, Arc::new(clock.clone())));
        (Authority::new(cfg), TableRefreshTokens(table), clock)
    }

    fn request(user: &str) -> TokenRequest {
        TokenRequest {
            app_key: "app1".into(),
            app_secret: "app-secret-0123456789".into(),
            user_id: user.into(),
            email: None,
            full_name: Some("Alice".into()),
            role: None,
            grants: Grants { room: Some("r1".into()), can_publish: true, can_subscribe: true, admin: false },
            ttl_seconds: Some(60),
        }
    }

    #[tokio::test]
    async fn access_token_round_trips_claims_until_it_expires() {
        let (auth, tokens, clock) = setup();
        let res = auth.issue(&tokens, &request("alice"), clock.now_secs()).await.unwrap();
        assert_eq!(res.expires_in, 60);
        let c = auth.verify(&res.access_token, TokenType::Access, clock.now_secs()).unwrap();
        assert_eq!(c.user_id, "alice");
        assert_eq!(c.role, "user");
        assert!(c.grants.can_publish);
        // Within the leeway past `exp` (clocks of two instances may disagree) it still holds.
        clock.advance_secs(60 + 9);
        assert!(auth.verify(&res.access_token, TokenType::Access, clock.now_secs()).is_ok());
        clock.advance_secs(2);
        assert_eq!(auth.verify(&res.access_token, TokenType::Access, clock.now_secs()), Err(AuthError::Expired));
    }

    #[tokio::test]
    async fn refresh_token_works_once_and_is_not_an_access_token() {
        let (auth, tokens, clock) = setup();
        let now = clock.now_secs();
        let first = auth.issue(&tokens, &request("bob"), now).await.unwrap();
        assert!(matches!(auth.verify(&first.refresh_token, TokenType::Access, now), Err(AuthError::Invalid(_))));
        assert!(matches!(auth.verify(&first.access_token, TokenType::Refresh, now), Err(AuthError::Invalid(_))));
        let second = auth.refresh(&tokens, &first.refresh_token, now).await.unwrap();
        assert!(auth.verify(&second.access_token, TokenType::Access, now).is_ok());
        let third = auth.refresh(&tokens, &second.refresh_token, now).await.unwrap();
        assert!(auth.refresh(&tokens, &third.refresh_token, now).await.is_ok());
    }

    #[tokio::test]
    async fn a_reused_refresh_token_ends_its_whole_sign_in_and_no_other() {
        let (auth, tokens, clock) = setup();
        let now = clock.now_secs();
        let first = auth.issue(&tokens, &request("bob"), now).await.unwrap();
        let other = auth.issue(&tokens, &request("bob"), now).await.unwrap();
        let second = auth.refresh(&tokens, &first.refresh_token, now).await.unwrap();
        let fam = |t: &str| auth.verify(t, TokenType::Access, now).unwrap().fam.unwrap();
        assert_eq!(fam(&second.access_token), fam(&first.access_token), "one family per sign-in");
        assert_ne!(fam(&other.access_token), fam(&first.access_token));
        // The spent token comes back (a thief, or the owner after the thief): refused, and the
        // token minted from it is refused too.
        assert!(matches!(auth.refresh(&tokens, &first.refresh_token, now).await, Err(AuthError::Invalid(_))));
        let f = fam(&second.access_token);
        assert!(tokens.family_revoked(&"app1".into(), &f).await.unwrap());
        assert!(matches!(auth.refresh(&tokens, &second.refresh_token, now).await, Err(AuthError::Invalid(_))));
        // Bob's other sign-in is untouched.
        assert!(auth.refresh(&tokens, &other.refresh_token, now).await.is_ok());
    }

    #[tokio::test]
    async fn rotating_an_apps_secret_ends_its_refresh_tokens() {
        let (auth, tokens, clock) = setup();
        let now = clock.now_secs();
        let res = auth.issue(&tokens, &request("alice"), now).await.unwrap();
        let refresh = auth.verify(&res.refresh_token, TokenType::Refresh, now).unwrap();
        let sv = refresh.sv.clone().unwrap();
        assert!(!sv.is_empty() && !"app-secret-0123456789".contains(&sv), "a digest, not the secret");
        assert!(auth.verify(&res.access_token, TokenType::Access, now).unwrap().sv.is_none());
        let rotated = Authority::new(auth.config().clone().with_app("app1", Secret::new("new-app-secret-9876543210")));
        let e = rotated.refresh(&tokens, &res.refresh_token, now).await.unwrap_err();
        assert!(matches!(e, AuthError::Invalid(m) if m.contains("secret")), "{e:?}");
        // Refused before it was used up: the old deployment (a function not yet rotated) still
        // takes it, and the new one takes what the new secret mints.
        assert!(auth.refresh(&tokens, &res.refresh_token, now).await.is_ok());
        let mut fresh = request("alice");
        fresh.app_secret = "new-app-secret-9876543210".into();
        let minted = rotated.issue(&tokens, &fresh, now).await.unwrap();
        assert!(rotated.refresh(&tokens, &minted.refresh_token, now).await.is_ok());
    }

    #[tokio::test]
    async fn removing_an_app_ends_its_access_and_refresh_tokens_at_once() {
        let (auth, tokens, clock) = setup();
        let res = auth.issue(&tokens, &request("alice"), clock.now_secs()).await.unwrap();
        let c = auth.verify(&res.access_token, TokenType::Access, clock.now_secs()).unwrap();
        assert_eq!(c.app, "app1");
        // The same deployment (same signing key) with app1 taken out of its credentials.
        let mut cfg = auth.config().clone();
        cfg.apps.remove("app1");
        let without = Authority::new(cfg.with_app("app2", Secret::new("other-secret-0123456789")));
        let now = clock.now_secs();
        assert!(matches!(without.verify(&res.access_token, TokenType::Access, now), Err(AuthError::Invalid(_))));
        assert!(matches!(without.refresh(&tokens, &res.refresh_token, now).await, Err(AuthError::Invalid(_))));
        // The refresh token was not used up by the refused attempt.
        assert!(auth.refresh(&tokens, &res.refresh_token, now).await.is_ok());
    }

    #[tokio::test]
    async fn a_refresh_token_is_remembered_in_its_apps_namespace_only() {
        let (_, tokens, _) = setup();
        let (a, b) = (AppId::from("app1"), AppId::from("app2"));
        let jti = TokenId::from("t1");
        tokens.record(&a, &jti, &UserId::from("bob"), 1_900_000_000).await.unwrap();
        assert!(!tokens.consume(&b, &jti).await.unwrap(), "another app cannot use it up");
        assert!(tokens.consume(&a, &jti).await.unwrap());
    }

    #[test]
    fn wrong_app_secret_and_unknown_app_are_refused_alike() {
        let (auth, _, _) = setup();
        assert_eq!(auth.check_app("app1", "nope"), Err(AuthError::BadCredentials));
        assert_eq!(auth.check_app("app2", "app-secret-0123456789"), Err(AuthError::BadCredentials));
        assert_eq!(auth.check_app("app1", "app-secret-0123456789"), Ok(()));
    }

    #[test]
    fn credentials_document_refuses_weak_secrets() {
        assert!(AuthConfig::from_credentials_json("i", r#"{"jwt_secret":"short"}"#).is_err());
        let ok = format!(r#"{{"jwt_secret":"{}","apps":{{"a":"0123456789abcdef"}}}}"#, "x".repeat(32));
        assert_eq!(AuthConfig::from_credentials_json("i", &ok).unwrap().apps.len(), 1);
        let limited = format!(
            r#"{{"jwt_secret":"{}","apps":{{"a":"0123456789abcdef","b":{{"secret":"0123456789abcdef","limits":{{"max_participants":4,"per_minute":{{"initiate":2}}}}}}}}}}"#,
            "x".repeat(32)
        );
        let cfg = AuthConfig::from_credentials_json("i", &limited).unwrap();
        assert_eq!(cfg.apps.len(), 2);
        let auth = Authority::new(cfg);
        let b = auth.limits(&"b".into());
        assert_eq!(b.max_participants, Some(4));
        assert_eq!(b.per_minute.get("initiate"), Some(&2));
        assert_eq!(auth.limits(&"a".into()), AppLimits::default());
        let typo = limited.replace("max_participants", "max_participant");
        assert!(AuthConfig::from_credentials_json("i", &typo).is_err(), "an unknown limit is refused");
        let zero = limited.replace(r#""initiate":2"#, r#""initiate":0"#);
        assert!(AuthConfig::from_credentials_json("i", &zero).is_err());
        let weak_app = format!(r#"{{"jwt_secret":"{}","apps":{{"a":"short"}}}}"#, "x".repeat(32));
        assert!(AuthConfig::from_credentials_json("i", &weak_app).is_err());
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2-hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<15 bytes>)");
    }
}

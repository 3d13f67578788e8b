//! Authentication bodies and JWT claims.
//!
//! - `POST /auth/token`    [`TokenRequest`]   → [`TokenResponse`]
//! - `POST /auth/refresh`  [`RefreshRequest`] → [`TokenResponse`]
//! - `GET  /auth/validate` (Bearer access token) → [`ValidateResponse`]

use crate::ids::{AppId, RoomId, TokenId, UserId};
use serde::{Deserialize, Serialize};

/// What a token lets its holder do. Names follow the room-grant vocabulary app developers
/// know from other SFU platforms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Grants {
    /// The one room this token is limited to; `None` means any room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<RoomId>,
    #[serde(default)]
    pub can_publish: bool,
    #[serde(default)]
    pub can_subscribe: bool,
    #[serde(default)]
    pub admin: bool,
}

/// Minting a token for one of the app's users, authenticated by the app's key and secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub app_key: String,
    pub app_secret: String,
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// Free-form application role, e.g. `"user"` (the default) or `"moderator"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default)]
    pub grants: Grants,
    /// Access-token lifetime; the server's default when absent, capped by its maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `"Bearer"`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenType {
    Access,
    Refresh,
}

/// The claims of every Stratus JWT (access and refresh alike; `token_type` tells them apart).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer; the deployment's configured name.
    pub iss: String,
    /// Subject: the user id (duplicated as `user_id` for clients of the earlier services).
    pub sub: String,
    pub user_id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    pub role: String,
    pub grants: Grants,
    /// The app key that minted this token: the tenant everything the holder does belongs to.
    pub app: AppId,
    pub token_type: TokenType,
    pub jti: TokenId,
    /// Seconds since the Unix epoch.
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// The sign-in this token descends from: the first refresh token's id, carried by every
    /// token minted from it by refreshing. Reusing a spent refresh token revokes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<TokenId>,
    /// Refresh tokens: which of the app's secrets minted the sign-in (a keyed digest, not
    /// the secret); once the secret is rotated the refresh token is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sv: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidateResponse {
    pub valid: bool,
    pub claims: Claims,
}

//! A refresh token's record (rotation: used once): `REFRESH#<jti>` / `REFRESH`; and a
//! revoked sign-in (its family of tokens): `REFRESHFAM#<fam>` / `REVOKED`.

use super::codec;
use crate::store::{Item, Key};
use serde::{Deserialize, Serialize};
use stratus_protocol::ids::UserId;

pub fn key(jti: &str) -> Key {
    Key::new(format!("REFRESH#{jti}"), "REFRESH")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refresh {
    pub user_id: UserId,
    /// When it expires (epoch seconds).
    pub ttl: i64,
}

pub fn encode(jti: &str, r: &Refresh) -> Item {
    codec::encode(key(jti), r)
}

pub fn family(fam: &str) -> Key {
    Key::new(format!("REFRESHFAM#{fam}"), "REVOKED")
}

/// A sign-in whose tokens are refused from now on (a spent refresh token came back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    pub user_id: UserId,
    /// Until the last token of the family has expired (epoch seconds).
    pub ttl: i64,
}

pub fn encode_revoked(fam: &str, r: &Revoked) -> Item {
    codec::encode(family(fam), r)
}

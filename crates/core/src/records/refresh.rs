//! A refresh token's record (rotation: used once): `REFRESH#<jti>` / `REFRESH`.

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

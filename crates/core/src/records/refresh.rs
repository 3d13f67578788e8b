//! A refresh token's record (rotation: used once).

use crate::store::Key;

pub fn key(jti: &str) -> Key {
    Key::new(format!("REFRESH#{jti}"), "REFRESH")
}

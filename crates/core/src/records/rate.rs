//! A per-user, per-limit, per-minute counter.

use crate::store::Key;

pub fn key(user: &str, limit: &str, minute: i64) -> Key {
    Key::new(format!("RATE#{user}#{limit}"), format!("M#{minute}"))
}

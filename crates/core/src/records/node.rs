//! A media node's registry record.

use crate::store::Key;

pub fn meta(id: &str) -> Key {
    Key::new(format!("NODE#{id}"), "META")
}

/// The node id of a record's `pk`.
pub fn id_of(pk: &str) -> Option<&str> {
    pk.strip_prefix("NODE#")
}

//! Calls: the call record, each user's history entries and their count, the ringing index.

use crate::store::{Key, Query, SortKey};

fn pk(id: &str) -> String {
    format!("CALL#{id}")
}

pub fn meta(id: &str) -> Key {
    Key::new(pk(id), "META")
}

/// A history entry, ordered by creation time within the user's partition.
pub fn history(user: &str, created_at: i64, id: &str) -> Key {
    Key::new(history_pk(user), format!("{created_at:013}#{id}"))
}

fn history_pk(user: &str) -> String {
    format!("HIST#{user}")
}

/// The user's history, newest first.
pub fn history_newest_first(user: &str) -> Query {
    Query::table(history_pk(user)).backward()
}

pub fn history_count(user: &str) -> Key {
    Key::new(format!("HISTCOUNT#{user}"), "COUNT")
}

/// The ringing-calls index partition (`gsi1pk`) of a shard.
pub fn ringing_partition(shard: u32) -> String {
    format!("RINGING#{shard}")
}

/// Ringing calls of `shard` that rang before `now` (their `gsi1sk` is the ring time).
pub fn ringing_before(shard: u32, now: i64) -> Query {
    Query::index(crate::store::schema::GSI1, ringing_partition(shard)).sk(SortKey::Lt(format!("{now:013}~")))
}

/// The `gsi1sk` of a call ringing since `at`.
pub fn ringing_sk(at: i64, id: &str) -> String {
    format!("{at:013}#{id}")
}

/// The call id of a call record's `pk`.
pub fn id_of(pk: &str) -> Option<&str> {
    pk.strip_prefix("CALL#")
}

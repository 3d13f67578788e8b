//! A group (SFU) room: its record and its participants.

use crate::store::{Key, Query, SortKey};

const PARTICIPANT: &str = "P#";

pub fn meta(room: &str) -> Key {
    Key::new(format!("ROOM#{room}"), "META")
}

pub fn participant(room: &str, participant: &str) -> Key {
    Key::new(format!("ROOM#{room}"), format!("{PARTICIPANT}{participant}"))
}

pub fn participants(room: &str) -> Query {
    Query::table(format!("ROOM#{room}")).sk(SortKey::BeginsWith(PARTICIPANT.into()))
}

/// The room id of a room record's `pk`.
pub fn id_of(pk: &str) -> Option<&str> {
    pk.strip_prefix("ROOM#")
}

/// The participant id of a participant item's `sk`.
pub fn participant_of(sk: &str) -> Option<&str> {
    sk.strip_prefix(PARTICIPANT)
}

//! Named id types. A `UserId` can't be passed where a `RoomId` is expected.
//!
//! Each derefs to `str` (an id is read as text where keys and messages are built) but is made
//! only on purpose, with `From`: a plain string never stands in for an id in a signature.
//! Serialized transparently, so the wire and the stored items keep plain strings.

use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        /// `Default` is the empty id, which no check accepts (it fills a field that a record
        /// takes from its key, until the key is read).
        #[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl From<&$name> for $name {
            fn from(id: &$name) -> Self {
                id.clone()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    };
}

id_type!(
    /// An app of the deployment (a key of the credentials secret's `apps`): the tenant every
    /// stored entity of its users belongs to.
    AppId
);
id_type!(
    /// An application's user, as named by the app that minted the token.
    UserId
);
id_type!(
    /// One HTTP request or WebSocket message, echoed in logs and error bodies.
    RequestId
);
id_type!(
    /// A room's name: a group (SFU) room, or a peer-to-peer signaling room.
    RoomId
);
id_type!(
    /// A 1:1 call.
    CallId
);
id_type!(
    /// A chat session.
    ChatSessionId
);
id_type!(
    /// A chat message: a ULID, so ids sort by creation time.
    MessageId
);
id_type!(
    /// A chat attachment: a ULID.
    AttachmentId
);
id_type!(
    /// A WebSocket connection, as API Gateway (or the local emulator) names it.
    ConnectionId
);
id_type!(
    /// A media node of the fleet.
    NodeId
);
id_type!(
    /// A group-room participant, as others in the room see it: an opaque name derived from
    /// its connection (`sfu::participant_id`), never the connection id itself.
    ParticipantId
);
id_type!(
    /// A connection as the other members of its P2P rooms see it: an opaque name derived from
    /// the connection id (`p2p::peer_id`), never the id itself, which is what the Management
    /// API takes.
    PeerId
);
id_type!(
    /// A JWT's unique id (`jti`).
    TokenId
);

/// The longest id a client may send (user ids, room ids). Keeps keys well under DynamoDB's
/// 2 KB partition-key limit and logs readable.
pub const MAX_ID_LEN: usize = 128;

/// Whether `s` is acceptable as a client-chosen id: 1..=128 chars of `[A-Za-z0-9._@:-]`.
/// `#` is excluded because store keys use it as a separator.
pub fn is_valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b':' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_reject_separators_and_empty() {
        assert!(is_valid_id("alice@example.com"));
        assert!(is_valid_id("user-1_2:3"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("a#b"));
        assert!(!is_valid_id("a b"));
        assert!(!is_valid_id(&"x".repeat(MAX_ID_LEN + 1)));
    }
}

//! Stored records: where each entity lives in the one table and what its items hold. The
//! only place key layouts, sort-key prefixes and attribute names are spelled; domain modules
//! build keys, queries, items, updates and conditions through these, and read typed records
//! back ([`codec`] turns a serde record into an item and back).
//!
//! Every entity of an app's users lives in that app's namespace: its partition keys (the
//! table's and the index's) start with [`tenant_prefix`], `APP#<app>#`, added and taken off by
//! a [`crate::store::scoped::Scoped`] table (`crate::tenant`), so the keys below are written
//! without it. Only the media-node registry and a connection's owner are deployment-wide.
//!
//! | entity | module | pk | sk |
//! |---|---|---|---|
//! | connection owner (deployment-wide) | [`connection`] | `CONN#<c>` | `APP` |
//! | connection | [`connection`] | `CONN#<c>` | `META`, `ROOM#<r>` (its P2P rooms), `SFU` (its group room) |
//! | P2P room member | [`p2p_room`] | `ROOM#<r>` | `MEMBER#<peer id>` |
//! | group (SFU) room | [`room`] | `ROOM#<r>` | `META`, `P#<participant>` |
//! | user | [`user`] | `USER#<u>` | `SLOT#<n>`, `PRESENCE`, `ACTIVECALL` |
//! | call | [`call`] | `CALL#<id>` | `META`; history `HIST#<u>` / `<created_at>#<id>`, `HISTCOUNT#<u>` / `COUNT` |
//! | chat session | [`chat`] | `CHAT#<s>` | `META`, `P#<u>`, `M#<message>`, `C#<u>#<client id>`, `R#<u>#<message>#<emoji>` |
//! | 1:1 chat of two users | [`chat`] | `CHATDM#<a>#<b>` | `DM` |
//! | media node (deployment-wide) | [`node`] | `NODE#<id>` | `META`; marks `UNREACHABLE`, `DRAIN` |
//! | refresh token | [`refresh`] | `REFRESH#<jti>` | `REFRESH` |
//! | revoked sign-in | [`refresh`] | `REFRESHFAM#<fam>` | `REVOKED` |
//! | rate counter | [`rate`] | `RATE#<u>#<limit>` | `M#<minute>` |
//!
//! P2P rooms and group rooms share the `ROOM#` partition of a room name; their sort keys
//! never overlap (`MEMBER#…` against `META` and `P#…`), and the layout is kept as deployed
//! tables have it.

pub mod call;
pub mod chat;
pub mod codec;
pub mod connection;
pub mod node;
pub mod p2p_room;
pub mod rate;
pub mod refresh;
pub mod room;
pub mod user;

use crate::store::{Item, Value};

/// The start of every partition key of app `app`'s entities. App keys are ids, which have no
/// `#`, so one app's namespace is never a prefix of another's.
pub fn tenant_prefix(app: &str) -> String {
    format!("APP#{app}#")
}

/// The id in an item's `pk` after `prefix`.
fn pk_id(it: &Item, prefix: &str) -> Option<String> {
    it.get("pk").and_then(Value::as_str)?.strip_prefix(prefix).map(str::to_owned)
}

/// The rest of an item's `sk` after `prefix`.
fn sk_id(it: &Item, prefix: &str) -> Option<String> {
    it.get("sk").and_then(Value::as_str)?.strip_prefix(prefix).map(str::to_owned)
}

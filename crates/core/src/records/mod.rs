//! Stored records: where each entity lives in the one table. The only place key layouts and
//! sort-key prefixes are spelled; domain modules build keys and queries through these.
//!
//! | entity | module | pk | sk |
//! |---|---|---|---|
//! | connection | [`connection`] | `CONN#<c>` | `META`, `ROOM#<r>` (its P2P rooms), `SFU` (its group room) |
//! | P2P room member | [`p2p_room`] | `ROOM#<r>` | `MEMBER#<c>` |
//! | group (SFU) room | [`room`] | `ROOM#<r>` | `META`, `P#<participant>` |
//! | user | [`user`] | `USER#<u>` | `SLOT#<n>`, `PRESENCE`, `ACTIVECALL` |
//! | call | [`call`] | `CALL#<id>` | `META`; history `HIST#<u>` / `<created_at>#<id>`, `HISTCOUNT#<u>` / `COUNT` |
//! | media node | [`node`] | `NODE#<id>` | `META` |
//! | refresh token | [`refresh`] | `REFRESH#<jti>` | `REFRESH` |
//! | rate counter | [`rate`] | `RATE#<u>#<limit>` | `M#<minute>` |
//!
//! P2P rooms and group rooms share the `ROOM#` partition of a room name; their sort keys
//! never overlap (`MEMBER#…` against `META` and `P#…`), and the layout is kept as deployed
//! tables have it.

pub mod call;
pub mod connection;
pub mod node;
pub mod p2p_room;
pub mod rate;
pub mod refresh;
pub mod room;
pub mod user;

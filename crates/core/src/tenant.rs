//! Tenants. One deployment serves several apps (the keys of the credentials secret's `apps`);
//! an app's back end mints tokens for its own users, and everything those users store —
//! connections and slots, presence, P2P and group rooms and their members, calls, history and
//! counters, rate counters, refresh tokens — lives in that app's namespace of the one table.
//! The app is always the verified token's (`Claims::app`, or a connection's owner record
//! written from it at `$connect`), never a request's body or a room's name.
//!
//! The namespace is a [`Scoped`] table: domain modules are handed one and cannot name a key
//! outside it. Two apps' `bob` are two users, their `standup` two rooms (on a media node too:
//! [`node_room`]), and a call from app A to `bob` looks him up in app A only.
//!
//! Deployment-wide, outside every namespace: the media-node registry and each connection's
//! owner record (`records::connection::owner`).

use crate::records::tenant_prefix;
use crate::store::Table;
use crate::store::schema::MAIN;
use crate::store::scoped::Scoped;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use stratus_protocol::ids::{AppId, RoomId};

/// App `app`'s namespace of the table `root`.
pub fn table(root: &Arc<dyn Table>, app: &AppId) -> Arc<dyn Table> {
    Arc::new(Scoped::new(root.clone(), &MAIN, tenant_prefix(app)))
}

/// An app and its namespace, made once per request or message and handed to every per-app
/// view (`Calls::app`, `SfuRooms::app`) so they share one [`Scoped`] table.
#[derive(Clone)]
pub struct Namespace {
    pub app: AppId,
    pub table: Arc<dyn Table>,
}

impl Namespace {
    pub fn new(root: &Arc<dyn Table>, app: &AppId) -> Self {
        Self { app: app.clone(), table: table(root, app) }
    }
}

/// The id a media node knows app `app`'s room `room` by: nodes are shared by every app, so
/// the id names both (a digest keeps it a valid id of fixed length whatever the two are).
/// Participants still see the room's own name: it goes to the node with the room.
pub fn node_room(app: &AppId, room: &RoomId) -> RoomId {
    let mut h = Sha256::new();
    h.update(app.as_bytes());
    h.update([0u8]);
    h.update(room.as_bytes());
    let hex: String = h.finalize().iter().take(20).map(|b| format!("{b:02x}")).collect();
    RoomId::from(format!("r-{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use stratus_protocol::ids::is_valid_id;

    #[test]
    fn node_rooms_differ_per_app_and_are_valid_ids() {
        let (a, b) = (AppId::from("appA"), AppId::from("appB"));
        let room = RoomId::from("standup");
        assert_ne!(node_room(&a, &room), node_room(&b, &room));
        assert_eq!(node_room(&a, &room), node_room(&a, &room));
        // The separator keeps ("a", "bc") and ("ab", "c") apart.
        assert_ne!(node_room(&"a".into(), &"bc".into()), node_room(&"ab".into(), &"c".into()));
        let long = RoomId::from("x".repeat(128));
        assert!(is_valid_id(&node_room(&AppId::from("k".repeat(128)), &long)));
    }
}

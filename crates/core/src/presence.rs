//! Presence: a user's chosen status (online, away, busy, dnd, offline) and last-seen time,
//! combined with facts the store already has: online means at least one open WebSocket
//! connection (a live connection slot), in a call means a live active-call lock.
//! Connects and disconnects update `last_seen`; calls update `in_call` by their locks.

use crate::clock::{Millis, rfc3339_ms};
use crate::records::user;
use crate::store::{StoreError, Table};
use stratus_protocol::calls::{Availability, PRESENCE_STATUSES, PresenceView};
use stratus_protocol::error::ErrorCode;
use stratus_protocol::ids::{ConnectionId, UserId};

pub const MAX_MESSAGE_CHARS: usize = 140;

/// The user's open connections (their live slots).
pub async fn connections(table: &dyn Table, user: &UserId) -> Result<Vec<ConnectionId>, StoreError> {
    let q = user::slots(user).limit(100);
    let page = table.query(&q).await?;
    Ok(page.items.iter().filter_map(user::decode_slot).map(|(_, s)| s.conn).collect())
}

/// Records activity (connect, disconnect, status change).
pub async fn touch(table: &dyn Table, user: &UserId, now: Millis) -> Result<(), StoreError> {
    table.update(&user::presence(user), user::seen(now), None).await.map(|_| ())
}

pub async fn view(table: &dyn Table, user: &UserId) -> Result<PresenceView, StoreError> {
    let (item, conns, lock) = futures_util::future::join3(
        table.get(&user::presence(user)),
        connections(table, user),
        table.get(&user::active_call(user)),
    )
    .await;
    let p = item?.as_ref().and_then(user::decode_presence).unwrap_or_default();
    let online = !conns?.is_empty();
    Ok(PresenceView {
        user_id: user.to_string(),
        status: if online { p.status.unwrap_or_else(|| "online".to_owned()) } else { "offline".to_owned() },
        message: p.message,
        online,
        in_call: lock?.is_some(),
        last_seen: p.last_seen.map(rfc3339_ms),
    })
}

pub fn availability(v: PresenceView) -> Availability {
    Availability {
        available: v.online && !v.in_call && v.status != "dnd" && v.status != "offline",
        user_id: v.user_id,
        status: v.status,
        in_call: v.in_call,
        last_seen: v.last_seen,
    }
}

/// Presence's errors are the core's one rejection type.
pub type PresenceError = crate::error::Rejection;

/// `PUT /presence/status` for `user`.
pub async fn set(
    table: &dyn Table,
    user: &UserId,
    status: &str,
    message: Option<&str>,
    now: Millis,
) -> Result<PresenceView, PresenceError> {
    if !PRESENCE_STATUSES.contains(&status) {
        return Err(PresenceError::new(
            ErrorCode::ValidationError,
            format!("status must be one of {}", PRESENCE_STATUSES.join(", ")),
        ));
    }
    if message.is_some_and(|m| m.chars().count() > MAX_MESSAGE_CHARS || m.chars().any(char::is_control)) {
        return Err(PresenceError::new(
            ErrorCode::ValidationError,
            format!("message must be at most {MAX_MESSAGE_CHARS} printable characters"),
        ));
    }
    table.update(&user::presence(user), user::chose(status, message, now), None).await?;
    Ok(view(table, user).await?)
}

//! Presence: a user's chosen status (online, away, busy, dnd, offline) and last-seen time,
//! combined with facts the store already has: online means at least one open WebSocket
//! connection (a live connection slot), in a call means a live active-call lock.
//! Connects and disconnects update `last_seen`; calls update `in_call` by their locks.

use crate::clock::{Millis, rfc3339_ms};
use crate::store::{Key, StoreError, Table, Update, Value};
use stratus_protocol::calls::{Availability, PRESENCE_STATUSES, PresenceView};
use stratus_protocol::error::ErrorCode;

pub const MAX_MESSAGE_CHARS: usize = 140;

pub fn presence_key(user: &str) -> Key {
    crate::records::user::presence(user)
}

pub fn active_call_key(user: &str) -> Key {
    crate::records::user::active_call(user)
}

/// The user's open connections (their live slots).
pub async fn connections(table: &dyn Table, user: &str) -> Result<Vec<String>, StoreError> {
    let q = crate::records::user::slots(user).limit(100);
    let page = table.query(&q).await?;
    Ok(page.items.iter().filter_map(|i| crate::records::user::slot_holder(i).map(str::to_owned)).collect())
}

/// Records activity (connect, disconnect, status change).
pub async fn touch(table: &dyn Table, user: &str, now: Millis) -> Result<(), StoreError> {
    table.update(&presence_key(user), Update::default().set("last_seen", now), None).await.map(|_| ())
}

pub async fn view(table: &dyn Table, user: &str) -> Result<PresenceView, StoreError> {
    let (item, conns, lock) = futures_util::future::join3(
        table.get(&presence_key(user)),
        connections(table, user),
        table.get(&active_call_key(user)),
    )
    .await;
    let item = item?;
    let online = !conns?.is_empty();
    let chosen = item.as_ref().and_then(|i| i.get("status")).and_then(Value::as_str).unwrap_or("online");
    Ok(PresenceView {
        user_id: user.to_owned(),
        status: if online { chosen.to_owned() } else { "offline".to_owned() },
        message: item.as_ref().and_then(|i| i.get("message")).and_then(Value::as_str).map(str::to_owned),
        online,
        in_call: lock?.is_some(),
        last_seen: item.as_ref().and_then(|i| i.get("last_seen")).and_then(Value::as_n).map(rfc3339_ms),
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
    user: &str,
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
    let mut update = Update::default().set("status", status).set("last_seen", now).set("updated_at", now);
    match message {
        Some(m) if m.chars().count() > MAX_MESSAGE_CHARS || m.chars().any(char::is_control) => {
            return Err(PresenceError::new(
                ErrorCode::ValidationError,
                format!("message must be at most {MAX_MESSAGE_CHARS} printable characters"),
            ));
        }
        Some(m) => update = update.set("message", m),
        None => update = update.remove("message"),
    }
    table.update(&presence_key(user), update, None).await?;
    Ok(view(table, user).await?)
}

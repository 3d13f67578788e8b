//! Per-user rate limits counted in the store, so they hold across Lambda instances: one
//! counter item per user, limit and minute, incremented with a conditional `ADD` (the
//! request that would pass the limit fails its condition and writes nothing), expiring
//! with the minute.
//!
//! And [`Bucket`]: a token bucket in memory, for what is too frequent to count in the store
//! (every WebSocket message of a connection); time is passed in.

use crate::clock::Millis;
use crate::records::rate;
use crate::store::{StoreError, Table};
use stratus_protocol::ids::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub name: &'static str,
    pub per_minute: i64,
}

impl Limit {
    /// This limit as app `limits` has it (`auth::AppLimits::per_minute`, by name).
    pub fn for_app(self, limits: &crate::auth::AppLimits) -> Limit {
        match limits.per_minute.get(self.name) {
            Some(&n) => Limit { per_minute: n, ..self },
            None => self,
        }
    }
}

pub const CALL_INITIATIONS: Limit = Limit { name: "initiate", per_minute: 10 };
pub const PRESENCE_UPDATES: Limit = Limit { name: "presence", per_minute: 100 };
pub const HISTORY_QUERIES: Limit = Limit { name: "history", per_minute: 100 };
/// Chat writes: new sessions, messages, edits, reactions.
pub const CHAT_SENDS: Limit = Limit { name: "chatsend", per_minute: 120 };
/// Chat upload tickets (each a presigned PUT of up to 25 MiB).
pub const CHAT_UPLOADS: Limit = Limit { name: "chatupload", per_minute: 20 };
/// Chat listings (sessions, message pages, download URLs).
pub const CHAT_READS: Limit = Limit { name: "chatread", per_minute: 300 };
/// A client asks once per peer connection setup and before credentials expire.
pub const ICE_SERVERS: Limit = Limit { name: "ice", per_minute: 30 };
/// Wrong app credentials at `/auth/token`, per app key and source address: past them the
/// address gets 429 for that key, right secret or not, until the minute turns (a back end
/// that mistyped its secret recovers within a minute; guessing gets 10 tries a minute).
pub const CREDENTIAL_FAILURES: Limit = Limit { name: "authfail", per_minute: 10 };

/// Who [`CREDENTIAL_FAILURES`] counts: an app key (as sent, when it is a valid id) from one
/// address. Counted on the whole table: the key may name no app.
pub fn credential_subject(app_key: &str, source: Option<std::net::IpAddr>) -> UserId {
    let key = if stratus_protocol::ids::is_valid_id(app_key) { app_key } else { "~invalid" };
    let from = source.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    UserId::from(format!("{key}@{from}"))
}

/// `Limited` when `who` has already reached `limit` this minute; counts nothing.
pub async fn check(table: &dyn Table, who: &UserId, limit: Limit, now: Millis) -> Result<(), RateError> {
    let secs = now.div_euclid(1000);
    let item = table.get(&rate::key(who, limit.name, secs.div_euclid(60))).await?;
    if item.as_ref().map_or(0, rate::count) >= limit.per_minute {
        return Err(RateError::Limited { retry_after_secs: (60 - secs.rem_euclid(60)) as u64 });
    }
    Ok(())
}

/// Rate limits' errors are the core's one rejection type (`Limited` when over).
pub type RateError = crate::error::Rejection;

/// Counts one request of `user` against `limit` at `now`.
pub async fn hit(table: &dyn Table, user: &UserId, limit: Limit, now: Millis) -> Result<(), RateError> {
    let secs = now.div_euclid(1000);
    let minute = secs.div_euclid(60);
    let key = rate::key(user, limit.name, minute);
    let (under, update) = (rate::below(limit.per_minute), rate::counted((minute + 2) * 60));
    match table.update(&key, update, Some(under)).await {
        Ok(_) => Ok(()),
        Err(StoreError::ConditionFailed) => {
            Err(RateError::Limited { retry_after_secs: (60 - secs.rem_euclid(60)) as u64 })
        }
        Err(e) => Err(e.into()),
    }
}

/// A token bucket's shape: `per_sec` tokens a second, holding at most `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketLimit {
    pub per_sec: f64,
    pub burst: f64,
}

/// Every WebSocket message of a connection: a call's setup sends a few dozen at once
/// (candidates), a chatty client a few a second.
pub const WS_MESSAGES: BucketLimit = BucketLimit { per_sec: 50.0, burst: 200.0 };
/// SFU requests of a connection, on top (each costs a control call to a media node).
pub const SFU_REQUESTS: BucketLimit = BucketLimit { per_sec: 10.0, burst: 40.0 };

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    tokens: f64,
    at: Millis,
}

impl Bucket {
    pub fn full(limit: BucketLimit, now: Millis) -> Bucket {
        Bucket { tokens: limit.burst, at: now }
    }

    /// Takes one token at `now`; when there is none, how many seconds until there is one.
    pub fn take(&mut self, limit: BucketLimit, now: Millis) -> Result<(), u64> {
        let elapsed = (now - self.at).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * limit.per_sec).min(limit.burst);
        self.at = self.at.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        Err((((1.0 - self.tokens) / limit.per_sec).ceil() as u64).max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AppLimits;

    #[test]
    fn a_bucket_lets_a_burst_through_then_its_rate() {
        let limit = BucketLimit { per_sec: 2.0, burst: 3.0 };
        let mut b = Bucket::full(limit, 0);
        assert!((0..3).all(|_| b.take(limit, 0).is_ok()));
        assert_eq!(b.take(limit, 0), Err(1));
        assert!(b.take(limit, 499).is_err(), "under one token after 0.5 s");
        assert!(b.take(limit, 500).is_ok());
        // A long quiet spell refills to the burst, no more.
        assert!((0..3).all(|_| b.take(limit, 60_000).is_ok()));
        assert!(b.take(limit, 60_000).is_err());
        // A clock that steps back takes nothing extra.
        assert!(b.take(limit, 59_000).is_err());
    }

    #[test]
    fn an_apps_own_rate_replaces_the_deployments_and_only_for_that_limit() {
        let limits = AppLimits { per_minute: [("initiate".to_owned(), 2)].into(), ..Default::default() };
        assert_eq!(CALL_INITIATIONS.for_app(&limits).per_minute, 2);
        assert_eq!(HISTORY_QUERIES.for_app(&limits), HISTORY_QUERIES);
    }
}

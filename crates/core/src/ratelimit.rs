//! Per-user rate limits counted in the store, so they hold across Lambda instances: one
//! counter item per user, limit and minute, incremented with a conditional `ADD` (the
//! request that would pass the limit fails its condition and writes nothing), expiring
//! with the minute.

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
/// A client asks once per peer connection setup and before credentials expire.
pub const ICE_SERVERS: Limit = Limit { name: "ice", per_minute: 30 };

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AppLimits;

    #[test]
    fn an_apps_own_rate_replaces_the_deployments_and_only_for_that_limit() {
        let limits = AppLimits { per_minute: [("initiate".to_owned(), 2)].into(), ..Default::default() };
        assert_eq!(CALL_INITIATIONS.for_app(&limits).per_minute, 2);
        assert_eq!(HISTORY_QUERIES.for_app(&limits), HISTORY_QUERIES);
    }
}

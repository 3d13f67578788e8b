//! The one rejection type: why an operation did not happen, as every domain module reports
//! it. It is mapped to the HTTP error shape in one place (`stratus_api::ApiError`) and to
//! WebSocket `error` messages in one place (the front door, [`crate::signaling`]).

use crate::store::StoreError;
use stratus_protocol::error::ErrorCode;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejection {
    /// Refused by a rule; the client sees the code and the message.
    #[error("{1}")]
    Rejected(ErrorCode, String),
    /// Over a rate limit; retry after this many seconds (when the minute turns).
    #[error("rate limited")]
    Limited { retry_after_secs: u64 },
    /// The store failed (its message is logged, never shown).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Rejection {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Rejection {
        Rejection::Rejected(code, message.into())
    }

    /// The code a client sees.
    pub fn code(&self) -> ErrorCode {
        match self {
            Rejection::Rejected(code, _) => *code,
            Rejection::Limited { .. } => ErrorCode::RateLimited,
            Rejection::Store(StoreError::Unavailable(_) | StoreError::TransactionConflict) => {
                ErrorCode::ServiceUnavailable
            }
            Rejection::Store(_) => ErrorCode::InternalError,
        }
    }
}

impl From<crate::auth::AuthError> for Rejection {
    fn from(e: crate::auth::AuthError) -> Rejection {
        match e {
            crate::auth::AuthError::Store(s) => Rejection::Store(s),
            other => Rejection::Rejected(other.code(), other.to_string()),
        }
    }
}

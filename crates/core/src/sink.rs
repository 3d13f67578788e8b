//! The port messages to WebSocket connections go through: API Gateway's PostToConnection in
//! production, the local stack's emulator locally. A leaf: posting reports which
//! connections are gone and never cleans up (only the front door, `signaling`, does that).

use async_trait::async_trait;
use futures_util::future::join_all;
use stratus_protocol::ids::ConnectionId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The connection no longer exists (API Gateway's 410 Gone).
    #[error("connection gone")]
    Gone,
    #[error("post failed: {0}")]
    Failed(String),
}

/// Where messages to connections go.
#[async_trait]
pub trait ConnectionSink: Send + Sync + 'static {
    async fn post(&self, connection: &ConnectionId, message: &str) -> Result<(), SinkError>;
    /// Whether the connection still exists (`GET @connections/{id}`).
    async fn alive(&self, connection: &ConnectionId) -> Result<bool, SinkError>;
    /// Closes the connection (`DELETE @connections/{id}`).
    async fn close(&self, connection: &ConnectionId) -> Result<(), SinkError>;
}

/// Posts `message` to every connection at once; returns those that are gone.
pub async fn post_all(sink: &dyn ConnectionSink, conns: &[ConnectionId], message: &str) -> Vec<ConnectionId> {
    let results = join_all(conns.iter().map(|c| sink.post(c, message))).await;
    conns.iter().zip(results).filter(|(_, r)| matches!(r, Err(SinkError::Gone))).map(|(c, _)| c.clone()).collect()
}

/// A message an operation wants sent. Domain modules return these; the front door posts
/// them and cleans up the connections found gone.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub to: Vec<ConnectionId>,
    pub message: String,
    /// Sent to one chosen peer: if it is gone the sender hears `PEER_NOT_FOUND`.
    pub direct: bool,
}

impl Post {
    pub fn to(to: Vec<ConnectionId>, message: String) -> Post {
        Post { to, message, direct: false }
    }

    pub fn direct(to: ConnectionId, message: String) -> Post {
        Post { to: vec![to], message, direct: true }
    }
}

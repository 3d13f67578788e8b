//! Room events to participants' WebSocket connections, through the same `ConnectionSink` the
//! functions use (the API Gateway Management API; the local stack's emulator locally). A
//! connection that is gone is skipped: the participant's leave comes from the functions.
//! Each event goes to its recipients concurrently.

use crate::sfu::Outbound;
use std::sync::Arc;
use stratus_core::sink::{ConnectionSink, SinkError};
use stratus_protocol::ids::ConnectionId;
use stratus_protocol::ws::envelope;
use tokio::sync::mpsc;

/// The wire form: the signaling envelope, `{"type": "<event>", "data": {...fields}}`.
pub fn render(event: &stratus_protocol::media::RoomEvent) -> String {
    let mut v = serde_json::to_value(event).expect("events serialize");
    let kind = v.as_object_mut().and_then(|o| o.remove("type")).and_then(|t| t.as_str().map(str::to_owned));
    envelope(kind.as_deref().unwrap_or("event"), None, v)
}

pub async fn push(mut rx: mpsc::UnboundedReceiver<Outbound>, sink: Option<Arc<dyn ConnectionSink>>) {
    while let Some(out) = rx.recv().await {
        let Some(sink) = &sink else { continue };
        let text = render(&out.event);
        // To every participant at once: one slow recipient does not hold up the others. Events
        // stay in order per connection (the next event goes out once this one has).
        let conns: Vec<ConnectionId> = out.connection_ids.iter().map(|c| ConnectionId::from(c.as_str())).collect();
        let results = futures_util::future::join_all(conns.iter().map(|c| sink.post(c, &text))).await;
        for (c, r) in conns.iter().zip(results) {
            match r {
                Ok(()) | Err(SinkError::Gone) => {}
                Err(e) => tracing::warn!(connection = %c, error = %e, "event not delivered"),
            }
        }
    }
}

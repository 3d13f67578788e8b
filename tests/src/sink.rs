//! `RecordingSink`: an in-process `ConnectionSink` for router tests, recording what each
//! connection was sent. (End-to-end tests use the real paths: the local stack's emulator and
//! the Management API.)

use async_trait::async_trait;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use stratus_core::sink::{ConnectionSink, SinkError};
use stratus_protocol::ids::ConnectionId;

#[derive(Default)]
pub struct RecordingSink {
    posts: Mutex<HashMap<String, Vec<Value>>>,
}

impl RecordingSink {
    /// Takes what was posted to `conn` so far.
    pub fn take(&self, conn: &str) -> Vec<Value> {
        self.posts.lock().unwrap().remove(conn).unwrap_or_default()
    }
}

#[async_trait]
impl ConnectionSink for RecordingSink {
    async fn post(&self, connection: &ConnectionId, message: &str) -> Result<(), SinkError> {
        let v = serde_json::from_str(message).unwrap_or(Value::String(message.to_owned()));
        self.posts.lock().unwrap().entry(connection.to_string()).or_default().push(v);
        Ok(())
    }

    async fn alive(&self, _connection: &ConnectionId) -> Result<bool, SinkError> {
        Ok(true)
    }

    async fn close(&self, _connection: &ConnectionId) -> Result<(), SinkError> {
        Ok(())
    }
}

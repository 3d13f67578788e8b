//! `ControlClient`: the functions' side of the control API. Signs every request with the
//! current key and sends it to one node. [`NodeControl`] is the same client behind the
//! domain's `MediaControl` trait.

use crate::{Key, sign};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub struct ControlClient {
    http: reqwest::Client,
    key: Key,
}

#[derive(Debug)]
pub struct ControlError {
    pub status: u16,
    /// The node's error body (the shared shape), or the transport error text.
    pub body: serde_json::Value,
}

impl ControlClient {
    pub fn new(key: Key) -> Self {
        Self { http: reqwest::Client::new(), key }
    }

    /// Sends `method` `url` (e.g. `http://10.0.3.7:7880/v1/node`) with an optional JSON body.
    pub async fn send<B: Serialize, R: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&B>,
        now_secs: i64,
    ) -> Result<R, ControlError> {
        let transport = |e: String| ControlError { status: 0, body: serde_json::Value::String(e) };
        let parsed = reqwest::Url::parse(url).map_err(|e| transport(e.to_string()))?;
        let authority = match parsed.port() {
            Some(p) => format!("{}:{p}", parsed.host_str().unwrap_or_default()),
            None => parsed.host_str().unwrap_or_default().to_owned(),
        };
        let path = match parsed.query() {
            Some(q) => format!("{}?{q}", parsed.path()),
            None => parsed.path().to_owned(),
        };
        let bytes = match body {
            Some(b) => serde_json::to_vec(b).map_err(|e| transport(e.to_string()))?,
            None => Vec::new(),
        };
        let mut req = self.http.request(method.clone(), parsed.clone());
        for (h, v) in sign(method.as_str(), &authority, &path, &bytes, &self.key, now_secs) {
            req = req.header(h, v);
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let res = req.body(bytes).send().await.map_err(|e| transport(e.to_string()))?;
        let status = res.status().as_u16();
        let text = res.bytes().await.map_err(|e| transport(e.to_string()))?;
        if (200..300).contains(&status) {
            // An empty reply (204) reads as JSON `null`.
            let text: &[u8] = if text.is_empty() { b"null" } else { &text };
            serde_json::from_slice(text)
                .map_err(|e| ControlError { status, body: serde_json::Value::String(e.to_string()) })
        } else {
            Err(ControlError { status, body: serde_json::from_slice(&text).unwrap_or(serde_json::Value::Null) })
        }
    }
}

/// `stratus_core::sfu::MediaControl` over signed HTTP, signing with the system clock.
pub struct NodeControl {
    client: ControlClient,
}

impl NodeControl {
    pub fn new(key: Key) -> Self {
        NodeControl { client: ControlClient::new(key) }
    }
}

#[async_trait::async_trait]
impl stratus_core::sfu::MediaControl for NodeControl {
    async fn call(
        &self,
        node: &stratus_core::nodes::NodeRecord,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, stratus_core::sfu::ControlFailure> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let url = format!("{}{path}", node.control_url.trim_end_matches('/'));
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        match self.client.send::<serde_json::Value, serde_json::Value>(method, &url, body.as_ref(), now as i64).await {
            Ok(v) => Ok(v),
            Err(e) => {
                let err: Option<stratus_protocol::error::ErrorBody> = serde_json::from_value(e.body.clone()).ok();
                Err(stratus_core::sfu::ControlFailure {
                    status: e.status,
                    code: err.as_ref().map(|b| b.error.code),
                    message: match err {
                        Some(b) => b.error.message,
                        None => e.body.as_str().unwrap_or("unexpected reply").chars().take(200).collect(),
                    },
                })
            }
        }
    }
}

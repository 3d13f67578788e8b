//! `ControlClient`: the functions' side of the control API. Signs every request with the
//! current key and sends it to one node, over TLS pinned to the node's registered
//! certificate when the node serves one (`crate::tls`). [`NodeControl`] is the same client
//! behind the domain's `MediaControl` trait.
//!
//! Timeouts are short on purpose: a node that cannot be connected to within
//! [`Timeouts::connect`], or that does not answer within [`Timeouts::request`], is reported
//! unreachable (the domain then moves its room), so a dead or hung node costs a caller
//! half a second to two seconds, not a Lambda timeout. Both count: a killed task's address
//! blackholes packets, and a kept-alive connection to it fails only by the request timeout.

use crate::{Key, sign};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP connect plus the TLS handshake.
    pub connect: Duration,
    /// The whole request, reply included.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        // In-region round trips are ~1 ms; a node's slowest control call (a transport with
        // its offer) takes a few ms. Generous against jitter, short against a dead node.
        Timeouts { connect: Duration::from_millis(500), request: Duration::from_secs(2) }
    }
}

/// Clients per pinned certificate: one per node, each keeping its connections alive.
const MAX_PINNED_CLIENTS: usize = 256;

pub struct ControlClient {
    key: Key,
    timeouts: Timeouts,
    /// For `http://` nodes (loopback) and `https://` ones with a publicly trusted certificate.
    plain: reqwest::Client,
    pinned: Mutex<HashMap<String, reqwest::Client>>,
}

#[derive(Debug)]
pub struct ControlError {
    /// The node's HTTP status; 0 when no reply came.
    pub status: u16,
    /// The node did not answer: no connection could be made (refused, timed out, or a
    /// certificate other than the pinned one), or no reply came within the request timeout.
    pub unreachable: bool,
    /// The node's error body (the shared shape), or the transport error text.
    pub body: serde_json::Value,
}

impl ControlError {
    fn transport(e: impl ToString) -> Self {
        ControlError { status: 0, unreachable: false, body: serde_json::Value::String(e.to_string()) }
    }
}

fn builder(t: Timeouts) -> reqwest::ClientBuilder {
    reqwest::Client::builder().connect_timeout(t.connect).timeout(t.request).pool_idle_timeout(Duration::from_secs(60))
}

impl ControlClient {
    pub fn new(key: Key) -> Self {
        Self::with_timeouts(key, Timeouts::default())
    }

    pub fn with_timeouts(key: Key, timeouts: Timeouts) -> Self {
        let plain = builder(timeouts).build().expect("an HTTP client builds with the default TLS backend");
        ControlClient { key, timeouts, plain, pinned: Mutex::new(HashMap::new()) }
    }

    fn http(&self, pin: Option<&str>) -> reqwest::Client {
        let Some(pin) = pin else { return self.plain.clone() };
        let mut map = self.pinned.lock().unwrap();
        if let Some(c) = map.get(pin) {
            return c.clone();
        }
        if map.len() >= MAX_PINNED_CLIENTS {
            map.clear();
        }
        let client = builder(self.timeouts)
            .tls_backend_preconfigured(crate::tls::pinned(pin))
            .build()
            .expect("a rustls client configuration is accepted by reqwest");
        map.insert(pin.to_owned(), client.clone());
        client
    }

    /// Sends `method` `url` (e.g. `http://10.0.3.7:7880/v1/node`) with an optional JSON body.
    pub async fn send<B: Serialize, R: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&B>,
        now_secs: i64,
    ) -> Result<R, ControlError> {
        self.send_pinned(method, url, None, body, now_secs).await
    }

    /// [`Self::send`] to a node whose certificate's SHA-256 fingerprint is `pin` (required for
    /// an `https://` node with a self-signed certificate; ignored for `http://`).
    pub async fn send_pinned<B: Serialize, R: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        url: &str,
        pin: Option<&str>,
        body: Option<&B>,
        now_secs: i64,
    ) -> Result<R, ControlError> {
        let parsed = reqwest::Url::parse(url).map_err(ControlError::transport)?;
        let authority = match parsed.port() {
            Some(p) => format!("{}:{p}", parsed.host_str().unwrap_or_default()),
            None => parsed.host_str().unwrap_or_default().to_owned(),
        };
        let path = match parsed.query() {
            Some(q) => format!("{}?{q}", parsed.path()),
            None => parsed.path().to_owned(),
        };
        let bytes = match body {
            Some(b) => serde_json::to_vec(b).map_err(ControlError::transport)?,
            None => Vec::new(),
        };
        let pin = if parsed.scheme() == "https" { pin } else { None };
        let mut req = self.http(pin).request(method.clone(), parsed.clone());
        for (h, v) in sign(method.as_str(), &authority, &path, &bytes, &self.key, now_secs) {
            req = req.header(h, v);
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let res = req.body(bytes).send().await.map_err(|e| ControlError {
            status: 0,
            unreachable: e.is_connect() || e.is_timeout(),
            body: serde_json::Value::String(error_chain(&e)),
        })?;
        let status = res.status().as_u16();
        let text = res.bytes().await.map_err(ControlError::transport)?;
        if (200..300).contains(&status) {
            // An empty reply (204) reads as JSON `null`.
            let text: &[u8] = if text.is_empty() { b"null" } else { &text };
            serde_json::from_slice(text).map_err(|e| ControlError {
                status,
                unreachable: false,
                body: serde_json::Value::String(e.to_string()),
            })
        } else {
            Err(ControlError {
                status,
                unreachable: false,
                body: serde_json::from_slice(&text).unwrap_or(serde_json::Value::Null),
            })
        }
    }
}

/// reqwest's message plus its sources ("error sending request" alone says little).
fn error_chain(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

/// `stratus_core::sfu::MediaControl` over signed HTTP, signing with the system clock.
pub struct NodeControl {
    client: ControlClient,
}

impl NodeControl {
    pub fn new(key: Key) -> Self {
        NodeControl { client: ControlClient::new(key) }
    }

    pub fn with_timeouts(key: Key, timeouts: Timeouts) -> Self {
        NodeControl { client: ControlClient::with_timeouts(key, timeouts) }
    }
}

#[async_trait::async_trait]
impl stratus_core::sfu::MediaControl for NodeControl {
    async fn call(
        &self,
        node: &stratus_core::nodes::NodeRecord,
        route: stratus_protocol::control::Route,
        args: &[&str],
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, stratus_core::sfu::ControlFailure> {
        let method = reqwest::Method::from_bytes(route.method.as_bytes()).expect("control routes use standard methods");
        let url = format!("{}{}", node.control_url.trim_end_matches('/'), route.path(args));
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let pin = node.control_cert_sha256.as_deref();
        match self
            .client
            .send_pinned::<serde_json::Value, serde_json::Value>(method, &url, pin, body.as_ref(), now as i64)
            .await
        {
            Ok(v) => Ok(v),
            Err(e) => {
                let err: Option<stratus_protocol::error::ErrorBody> = serde_json::from_value(e.body.clone()).ok();
                Err(stratus_core::sfu::ControlFailure {
                    status: e.status,
                    unreachable: e.unreachable,
                    code: err.as_ref().map(|b| b.error.code),
                    message: match err {
                        Some(b) => b.error.message,
                        None => e.body.as_str().unwrap_or("unexpected reply").chars().take(300).collect(),
                    },
                })
            }
        }
    }
}

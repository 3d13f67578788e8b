//! A Lambda Runtime API emulator, so a real function binary runs its real `main` (init,
//! SDK clients, the `lambda_runtime` loop) and the test hands it events and reads its
//! responses, as the Lambda service would.
//!
//! Implements the parts of the Runtime API (2018-06-01) a function uses: `GET
//! invocation/next`, `POST invocation/{id}/response`, `POST invocation/{id}/error`, and
//! `POST init/error`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

type Outcome = Result<Value, Value>;

struct Shared {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, Value)>>,
    pending: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<Value>>,
}

pub struct RuntimeApi {
    pub addr: SocketAddr,
    tx: mpsc::UnboundedSender<(String, Value)>,
    shared: Arc<Shared>,
    seq: std::sync::atomic::AtomicU64,
}

impl RuntimeApi {
    pub async fn start() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queue: tokio::sync::Mutex::new(rx),
            pending: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind runtime api");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, tx, shared, seq: 0.into() }
    }

    /// Environment a function process needs to talk to this emulator.
    pub fn env(&self, function_name: &str) -> Vec<(String, String)> {
        [
            ("AWS_LAMBDA_RUNTIME_API", self.addr.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", function_name.to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "test-stream".to_owned()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function_name}")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Delivers `event` to the function and waits (up to 30 s) for its response
    /// (`Ok`) or its reported error (`Err`).
    pub async fn invoke(&self, event: Value) -> Outcome {
        let n = self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("8476a536-e9f4-11e8-9739-{n:012}");
        let (done_tx, done_rx) = oneshot::channel();
        self.shared.pending.lock().unwrap().insert(id.clone(), done_tx);
        self.tx.send((id, event)).expect("runtime api alive");
        match tokio::time::timeout(Duration::from_secs(30), done_rx).await {
            Ok(Ok(outcome)) => outcome,
            _ => panic!("the function did not answer within 30 s (init error: {:?})", self.init_error()),
        }
    }

    pub fn init_error(&self) -> Option<Value> {
        self.shared.init_error.lock().unwrap().clone()
    }
}

async fn next(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    let (id, event) = s.queue.lock().await.recv().await.expect("sender lives with RuntimeApi");
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() + 30_000)
        .unwrap_or_default();
    let mut h = HeaderMap::new();
    let mut put = |k: &'static str, v: String| {
        h.insert(k, HeaderValue::from_str(&v).expect("header value"));
    };
    put("lambda-runtime-aws-request-id", id);
    put("lambda-runtime-deadline-ms", deadline.to_string());
    put("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:test".into());
    put("lambda-runtime-trace-id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1".into());
    put("content-type", "application/json".into());
    (h, event.to_string())
}

fn finish(s: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    match s.pending.lock().unwrap().remove(id) {
        Some(tx) => {
            let _ = tx.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::NOT_FOUND,
    }
}

fn json_or_text(body: &Bytes) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&s, &id, Ok(json_or_text(&body)))
}

async fn error(State(s): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&s, &id, Err(json_or_text(&body)))
}

async fn init_error(State(s): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    *s.init_error.lock().unwrap() = Some(json_or_text(&body));
    StatusCode::ACCEPTED
}

/// Reads a fixture from `tests/fixtures/`.
pub fn fixture(rel: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

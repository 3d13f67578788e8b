//! A stand-in for API Gateway's Management API (`@connections`) for handler tests that run
//! without the local stack: it records what is posted to which connection, and answers
//! 410 Gone for connections the test has not marked live (or has since marked gone).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct St {
    live: HashSet<String>,
    posts: HashMap<String, Vec<Value>>,
}

pub struct ManagementApiRecorder {
    /// The endpoint to give the Management API client.
    pub url: String,
    st: Arc<Mutex<St>>,
}

fn gone() -> Response {
    let mut res = (StatusCode::GONE, r#"{"message":"Gone"}"#).into_response();
    res.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static("GoneException"));
    res
}

async fn post(State(st): State<Arc<Mutex<St>>>, Path(id): Path<String>, body: Bytes) -> Response {
    let mut st = st.lock().unwrap();
    if !st.live.contains(&id) {
        return gone();
    }
    let v = serde_json::from_slice(&body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
    st.posts.entry(id).or_default().push(v);
    StatusCode::OK.into_response()
}

async fn describe(State(st): State<Arc<Mutex<St>>>, Path(id): Path<String>) -> Response {
    if st.lock().unwrap().live.contains(&id) {
        axum::Json(
            serde_json::json!({"connectedAt": "2026-11-21T10:00:00.000Z", "identity": {"sourceIp": "203.0.113.7"}}),
        )
        .into_response()
    } else {
        gone()
    }
}

async fn delete(State(st): State<Arc<Mutex<St>>>, Path(id): Path<String>) -> Response {
    if st.lock().unwrap().live.remove(&id) { StatusCode::NO_CONTENT.into_response() } else { gone() }
}

impl ManagementApiRecorder {
    pub async fn start() -> Self {
        let st = Arc::new(Mutex::new(St::default()));
        let app = Router::new()
            .route("/prod/@connections/{id}", get(describe).post(post).delete(delete))
            .with_state(st.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url: format!("http://{addr}/prod"), st }
    }

    /// Marks a connection as open (`true`) or vanished (`false`).
    pub fn set_live(&self, id: &str, live: bool) {
        let mut st = self.st.lock().unwrap();
        if live {
            st.live.insert(id.to_owned());
        } else {
            st.live.remove(id);
        }
    }

    /// Takes everything posted to `id` so far.
    pub fn take(&self, id: &str) -> Vec<Value> {
        self.st.lock().unwrap().posts.remove(id).unwrap_or_default()
    }
}

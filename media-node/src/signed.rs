//! Verifies the RFC 9421 signature of every control request before any handler runs. A
//! refused request gets 401 with the error shape and a `SIGNATURE_*` code, and does nothing.

use crate::state::NodeState;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use stratus_control::{CONTENT_DIGEST, SIGNATURE, SIGNATURE_INPUT};
use stratus_protocol::error::ErrorCode;

/// Control bodies are small JSON documents (SDP included).
const MAX_CONTROL_BODY: usize = 256 * 1024;

fn refuse(st: &NodeState, status: StatusCode, code: ErrorCode, message: &str) -> Response {
    crate::routes::error_response(st.clock.now_ms(), status, code, message.to_owned())
}

pub async fn verify(State(st): State<Arc<NodeState>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_CONTROL_BODY).await else {
        return refuse(&st, StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, "control body too large");
    };
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok());
    let authority = header("host").unwrap_or_default();
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let signed = stratus_control::Request {
        method: parts.method.as_str(),
        authority,
        path,
        content_digest: header(CONTENT_DIGEST),
        signature_input: header(SIGNATURE_INPUT),
        signature: header(SIGNATURE),
        body: &bytes,
    };
    match st.verifier.verify(&signed, st.clock.now_secs()) {
        Ok(keyid) => {
            tracing::debug!(keyid, path, "signed control request");
            next.run(Request::from_parts(parts, Body::from(bytes))).await
        }
        Err(e) => {
            tracing::warn!(reason = %e, path, "control request refused");
            refuse(&st, StatusCode::UNAUTHORIZED, e.code(), &e.to_string())
        }
    }
}

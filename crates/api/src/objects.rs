//! The embedded object store over HTTP (`/_objects/<key>`): the presigned PUTs and GETs
//! that [`MemoryObjects`] signs, answered as S3 answers them (its XML error shape and codes),
//! with CORS as the bucket in template.yaml sets it, so a browser uploads to the local stack
//! the way it uploads to S3. Served by the local stack and the test harness, never by the
//! functions (S3 is the store there).

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::collections::HashMap;
use std::sync::Arc;
use stratus_core::clock::Clock;
use stratus_core::objects::memory::{MemoryObjects, Refused};

/// Where the local stack serves the embedded store.
pub const PATH: &str = "/_objects";

#[derive(Clone)]
struct Objects {
    store: Arc<MemoryObjects>,
    clock: Arc<dyn Clock>,
}

pub fn routes(store: Arc<MemoryObjects>, clock: Arc<dyn Clock>) -> Router {
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::any())
        .allow_methods([http::Method::GET, http::Method::PUT, http::Method::HEAD])
        .allow_headers([header::CONTENT_TYPE])
        .expose_headers([header::ETAG])
        .max_age(std::time::Duration::from_secs(3000));
    Router::new()
        .route(&format!("{PATH}/{{*key}}"), get(download).put(upload))
        .with_state(Objects { store, clock })
        .layer(cors)
}

fn s3_error(r: Refused) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message></Error>",
        r.code,
        r.message.replace('&', "&amp;").replace('<', "&lt;")
    );
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::FORBIDDEN);
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

async fn upload(
    State(o): State<Objects>,
    Path(key): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let text = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok());
    let length = text(header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    let content_type = text(header::CONTENT_TYPE);
    let now = o.clock.now_ms();
    let len = match o.store.check_put(&key, &params, content_type, length, now) {
        Ok(len) => len,
        Err(r) => return s3_error(r),
    };
    // Read no more than was signed for.
    let bytes = match axum::body::to_bytes(body, len as usize).await {
        Ok(b) => b.to_vec(),
        Err(_) => return s3_error(Refused { status: 400, code: "IncompleteBody", message: "body too long".into() }),
    };
    match o.store.put(&key, content_type.unwrap_or(""), len, bytes, now) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(r) => s3_error(r),
    }
}

async fn download(
    State(o): State<Objects>,
    Path(key): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match o.store.get(&key, &params, o.clock.now_ms()) {
        Ok(s) => {
            let mut res = Response::new(Body::from(s.bytes.as_ref().clone()));
            let h = res.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&s.content_type) {
                h.insert(header::CONTENT_TYPE, v);
            }
            if let Some(name) = s.file_name {
                let v = format!("attachment; filename*=UTF-8''{}", stratus_core::objects::percent_encode(&name, false));
                if let Ok(v) = HeaderValue::from_str(&v) {
                    h.insert(header::CONTENT_DISPOSITION, v);
                }
            }
            res
        }
        Err(r) => s3_error(r),
    }
}

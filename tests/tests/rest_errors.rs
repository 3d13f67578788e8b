//! Malformed input through the real router: each gets its status and code in the shared
//! shape, never a panic or a plain-text error.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use stratus_tests::rest::TestApi;

fn raw(method: Method, path: &str, content_type: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    b.body(body.into()).unwrap()
}

#[tokio::test]
async fn malformed_json_is_invalid_request() {
    let api = TestApi::memory();
    for body in ["{", "not json", "", "{\"user_id\": }", "[1,2"] {
        let r = api.send(raw(Method::POST, "/auth/token", Some("application/json"), body)).await;
        r.assert_error(400, "INVALID_REQUEST");
    }
}

#[tokio::test]
async fn missing_fields_wrong_types_and_unknown_fields_are_validation_errors() {
    let api = TestApi::memory();
    let mut missing = api.token_request("alice");
    missing.as_object_mut().unwrap().remove("user_id");
    let msg = api.post("/auth/token", missing).await.assert_error(400, "VALIDATION_ERROR");
    assert!(msg.contains("missing field `user_id`"), "{msg}");

    let mut wrong_type = api.token_request("alice");
    wrong_type["ttl_seconds"] = json!("soon");
    let r = api.post("/auth/token", wrong_type).await;
    let msg = r.assert_error(400, "VALIDATION_ERROR");
    assert!(msg.contains("invalid type"), "{msg}");
    assert!(r.body["error"]["details"]["position"]["column"].as_u64().unwrap() > 0);

    let mut grants_type = api.token_request("alice");
    grants_type["grants"]["canPublish"] = json!("yes");
    api.post("/auth/token", grants_type).await.assert_error(400, "VALIDATION_ERROR");

    let mut unknown = api.token_request("alice");
    unknown["is_admin"] = json!(true);
    let msg = api.post("/auth/token", unknown).await.assert_error(400, "VALIDATION_ERROR");
    assert!(msg.contains("unknown field"), "{msg}");

    api.post("/auth/token", json!([1, 2, 3])).await.assert_error(400, "VALIDATION_ERROR");
    api.post("/auth/refresh", json!({})).await.assert_error(400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn oversized_bodies_are_413_whether_declared_or_streamed() {
    let api = TestApi::memory();
    let big = format!("{{\"refresh_token\":\"{}\"}}", "x".repeat(stratus_api::MAX_BODY_BYTES));
    let declared = api.send(raw(Method::POST, "/auth/refresh", Some("application/json"), big.clone())).await;
    declared.assert_error(413, "PAYLOAD_TOO_LARGE");
    // No Content-Length: a streamed body is cut off at the limit.
    let chunks: Vec<Result<String, std::io::Error>> =
        big.as_bytes().chunks(4096).map(|c| Ok(String::from_utf8_lossy(c).into_owned())).collect();
    let streamed = Body::from_stream(futures_stream(chunks));
    let r = api.send(raw(Method::POST, "/auth/refresh", Some("application/json"), streamed)).await;
    r.assert_error(413, "PAYLOAD_TOO_LARGE");
    // Just under the limit is parsed (and refused for what it says, not its size).
    let fits = format!("{{\"refresh_token\":\"{}\"}}", "x".repeat(stratus_api::MAX_BODY_BYTES - 100));
    let r = api.send(raw(Method::POST, "/auth/refresh", Some("application/json"), fits)).await;
    r.assert_error(401, "AUTH_TOKEN_INVALID");
}

fn futures_stream(
    chunks: Vec<Result<String, std::io::Error>>,
) -> impl futures_core::Stream<Item = Result<String, std::io::Error>> + Send + 'static {
    struct Iter(std::vec::IntoIter<Result<String, std::io::Error>>);
    impl futures_core::Stream for Iter {
        type Item = Result<String, std::io::Error>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    Iter(chunks.into_iter())
}

#[tokio::test]
async fn non_json_content_types_are_415() {
    let api = TestApi::memory();
    let body = api.token_request("alice").to_string();
    for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let r = api.send(raw(Method::POST, "/auth/token", Some(ct), body.clone())).await;
        r.assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    }
    let charset =
        api.send(raw(Method::POST, "/auth/token", Some("application/json; charset=utf-8"), body.clone())).await;
    assert_eq!(charset.status, StatusCode::OK);
    let absent = api.send(raw(Method::POST, "/auth/token", None, body)).await;
    assert_eq!(absent.status, StatusCode::OK, "an absent content type is taken as JSON");
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let api = TestApi::memory();
    let msg = api.get("/no/such/route", None).await.assert_error(404, "NOT_FOUND");
    assert!(msg.contains("/no/such/route"));
    api.get("/auth/tokens", None).await.assert_error(404, "NOT_FOUND");
    let r = api.call(Method::DELETE, "/health", None, None).await;
    r.assert_error(405, "METHOD_NOT_ALLOWED");
    let r = api.get("/auth/token", None).await;
    r.assert_error(405, "METHOD_NOT_ALLOWED");
}

#[tokio::test]
async fn a_client_request_id_is_used_and_echoed() {
    let api = TestApi::memory();
    let req = Request::get("/nope").header("x-request-id", "trace-abc-123").body(Body::empty()).unwrap();
    let r = api.send(req).await;
    r.assert_error(404, "NOT_FOUND");
    assert_eq!(r.body["request_id"], "trace-abc-123");
    // An unusable id (too long) is replaced, not echoed.
    let long = "x".repeat(300);
    let req = Request::get("/health").header("x-request-id", long.as_str()).body(Body::empty()).unwrap();
    let r = api.send(req).await;
    let got = r.headers.get("x-request-id").unwrap().to_str().unwrap();
    assert_ne!(got, long);
    assert_eq!(got.len(), 36, "a fresh UUID");
}

#[tokio::test]
async fn a_panicking_handler_answers_500_in_the_shape_and_the_router_keeps_serving() {
    use axum::routing::get;
    use tower::ServiceExt;
    async fn boom() -> &'static str {
        let v: Vec<u8> = Vec::new();
        if v.is_empty() {
            panic!("boom");
        }
        "unreachable"
    }
    // The API's own middleware around a route that panics and one that does not.
    let routes = axum::Router::new().route("/boom", get(boom)).route("/ok", get(|| async { "ok" }));
    let app = stratus_api::middleware::wrap(routes, test_state());
    let res = app.clone().oneshot(Request::get("/boom").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let rid = res.headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
    let bytes = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["error"]["code"], "INTERNAL_ERROR");
    assert_eq!(v["request_id"], rid.as_str());
    assert!(!v.to_string().contains("boom"), "panic text stays in the logs");
    let ok = app.oneshot(Request::get("/ok").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

fn test_state() -> stratus_api::AppState {
    use std::sync::Arc;
    use stratus_core::auth::{AuthConfig, Authority, Secret};
    use stratus_core::clock::SystemClock;
    use stratus_core::store::memory::MemoryTable;
    use stratus_core::store::schema::MAIN;
    let table = Arc::new(MemoryTable::new(&MAIN, Arc::new(SystemClock)));
    let auth = Authority::new(AuthConfig::new("t", Secret::random_hex()));
    let sink = Arc::new(stratus_tests::sink::RecordingSink::default());
    let calls = stratus_core::calls::CallsConfig::default();
    stratus_api::AppState::new(table, auth, Arc::new(SystemClock), stratus_api::ServiceInfo::new("test"), sink, calls)
}

//! Health, readiness and version through the real router, on both stores, and with a
//! store that does not answer.

use axum::http::StatusCode;
use std::sync::Arc;
use stratus_core::clock::ManualClock;
use stratus_core::store::schema::MAIN;
use stratus_tests::rest::TestApi;

#[tokio::test]
async fn liveness_and_version_answer() {
    let api = TestApi::memory();
    for path in ["/health", "/health/live"] {
        let r = api.get(path, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["status"], "ok");
        assert_eq!(r.body["service"], "stratus");
    }
    let v = api.get("/api/version", None).await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(v.body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v.body["protocol_version"], stratus_protocol::PROTOCOL_VERSION);
    assert_eq!(v.body["runtime"], "test");
}

#[tokio::test]
async fn detailed_health_times_the_dynamodb_check() {
    let api = TestApi::dynamodb().await;
    let r = api.get("/health/detailed", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let check = &r.body["checks"]["dynamodb"];
    assert_eq!(check["status"], "ok");
    assert!(check["duration_ms"].as_f64().unwrap() > 0.0, "a real round trip takes time");
    assert!(check["target"].as_str().unwrap().starts_with("dynamodb:api-"));
    assert_eq!(api.get("/health/ready", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unreachable_store_makes_readiness_fail_but_not_liveness() {
    // A DynamoDB client pointed at a loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = stratus_dynamo::client(Some(&format!("http://127.0.0.1:{port}"))).await;
    let clock = ManualClock::at_system_time();
    let table = Arc::new(stratus_dynamo::DynamoTable::new(client, "gone", &MAIN, Arc::new(clock.clone())));
    let api = TestApi::on(table, clock);
    assert_eq!(api.get("/health/live", None).await.status, StatusCode::OK);
    let ready = api.get("/health/ready", None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    let detailed = api.get("/health/detailed", None).await;
    assert_eq!(detailed.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(detailed.body["status"], "down");
    assert_eq!(detailed.body["checks"]["dynamodb"]["status"], "down");
    assert!(!detailed.text.contains(&port.to_string()), "no endpoint details leak");
    // A route that needs the store answers 503 in the error shape.
    let r = api.post("/auth/token", api.token_request("alice")).await;
    r.assert_error(503, "SERVICE_UNAVAILABLE");
    assert_eq!(r.headers.get("retry-after").unwrap(), "1");
}

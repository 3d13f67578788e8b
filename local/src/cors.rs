//! The HTTP API's CORS configuration, emulated: what API Gateway answers browsers from other
//! origins on AWS (`CorsConfiguration` of `HttpApi` in template.yaml, which
//! `local/tests/cors.rs` compares with this), so an app served from elsewhere (a Vite dev
//! server, the demo pointed at a deployment) calls the local REST API as it would the real one.

use axum::http::{HeaderName, Method};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub const ALLOW_HEADERS: &[&str] = &["authorization", "content-type", "x-request-id"];
pub const ALLOW_METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "OPTIONS"];
pub const EXPOSE_HEADERS: &[&str] = &["x-request-id", "retry-after"];
pub const MAX_AGE_SECS: u64 = 600;

pub fn layer() -> CorsLayer {
    let names = |v: &[&'static str]| v.iter().map(|h| HeaderName::from_static(h)).collect::<Vec<_>>();
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_headers(names(ALLOW_HEADERS))
        .allow_methods(ALLOW_METHODS.iter().map(|m| m.parse::<Method>().expect("a method name")).collect::<Vec<_>>())
        .expose_headers(names(EXPOSE_HEADERS))
        .max_age(Duration::from_secs(MAX_AGE_SECS))
}

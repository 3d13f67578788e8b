//! The REST API as a Lambda function behind the API Gateway HTTP API.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

/// API Gateway's request id becomes ours (unless the client sent one), so a log line and
/// the API Gateway access log can be joined; its `sourceIp` is the client's address
/// (`SourceIp`: per-address limits).
async fn apigw_context(mut req: Request, next: Next) -> Response {
    let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else { return next.run(req).await };
    let id = ctx.request_id.as_deref().and_then(|id| HeaderValue::from_str(id).ok());
    let ip = ctx.http.source_ip.as_deref().and_then(|ip| ip.parse().ok());
    if let Some(v) = id
        && !req.headers().contains_key(stratus_api::middleware::REQUEST_ID)
    {
        req.headers_mut().insert(stratus_api::middleware::REQUEST_ID, v);
    }
    if let Some(ip) = ip {
        req.extensions_mut().insert(stratus_api::extract::SourceIp(ip));
    }
    next.run(req).await
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    stratus_api::telemetry::init();
    let state = stratus_functions::config::logged(stratus_functions::config::graph().await)?.state;
    let app = stratus_api::router(state).layer(from_fn(apigw_context));
    lambda_http::run(app).await
}

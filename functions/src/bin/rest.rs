//! The REST API as a Lambda function behind the API Gateway HTTP API.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::{Next, from_fn};
use axum::response::Response;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

/// API Gateway's request id becomes ours (unless the client sent one), so a log line and
/// the API Gateway access log can be joined.
async fn apigw_request_id(mut req: Request, next: Next) -> Response {
    if !req.headers().contains_key(stratus_api::middleware::REQUEST_ID)
        && let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref()
        && let Some(v) = ctx.request_id.as_deref().and_then(|id| HeaderValue::from_str(id).ok())
    {
        req.headers_mut().insert(stratus_api::middleware::REQUEST_ID, v);
    }
    next.run(req).await
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    stratus_api::telemetry::init();
    let state = stratus_functions::config::logged(stratus_functions::config::graph().await)?.state;
    let app = stratus_api::router(state).layer(from_fn(apigw_request_id));
    lambda_http::run(app).await
}

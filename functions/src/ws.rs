//! The WebSocket dispatcher: one API Gateway WebSocket event in, one proxy response out.
//! The `stratus-ws` Lambda and the local stack's gateway emulator both call [`handle`], so
//! the same code serves `$connect`, `$disconnect`, `$default` and every message route.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use base64::Engine;
use stratus_core::clock::{Millis, rfc3339_ms};
use stratus_core::signaling::Signaling;
use stratus_protocol::error::{ErrorBody, ErrorDetail};
use stratus_protocol::ids::ConnectionId;

/// What an event is, by `requestContext.eventType` (or its route key when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Connect,
    Disconnect,
    Message,
}

pub fn kind(event: &ApiGatewayWebsocketProxyRequest) -> EventKind {
    let ctx = &event.request_context;
    match (ctx.event_type.as_deref(), ctx.route_key.as_deref()) {
        (Some("CONNECT"), _) | (None, Some("$connect")) => EventKind::Connect,
        (Some("DISCONNECT"), _) | (None, Some("$disconnect")) => EventKind::Disconnect,
        _ => EventKind::Message,
    }
}

fn response(status: i64, body: Option<String>) -> ApiGatewayProxyResponse {
    let mut res = ApiGatewayProxyResponse::default();
    res.status_code = status;
    res.body = body.map(Body::Text);
    if res.body.is_some() {
        res.headers.insert("content-type", "application/json".parse().expect("static header value"));
    }
    res
}

pub async fn handle(sig: &Signaling, event: &ApiGatewayWebsocketProxyRequest, now: Millis) -> ApiGatewayProxyResponse {
    let ctx = &event.request_context;
    let Some(conn) = ctx.connection_id.as_deref().map(ConnectionId::from) else {
        tracing::warn!("websocket event without a connection id");
        return response(400, None);
    };
    let conn = &conn;
    match kind(event) {
        EventKind::Connect => {
            let token = event.query_string_parameters.first("token");
            match sig.connect(conn, token, now).await {
                Ok(claims) => {
                    tracing::info!(connection_id = %conn, user_id = %claims.user_id, "connected");
                    response(200, None)
                }
                Err(refusal) => {
                    tracing::info!(connection_id = %conn, code = refusal.code.as_str(), "connect refused");
                    let body = ErrorBody {
                        error: ErrorDetail { code: refusal.code, message: refusal.message, details: None },
                        timestamp: rfc3339_ms(now),
                        request_id: ctx.request_id.clone().unwrap_or_default(),
                    };
                    response(i64::from(refusal.status), serde_json::to_string(&body).ok())
                }
            }
        }
        EventKind::Disconnect => {
            sig.disconnect(conn, now).await;
            tracing::info!(connection_id = %conn, "disconnected");
            response(200, None)
        }
        EventKind::Message => {
            let raw = event.body.as_deref().unwrap_or("");
            let decoded;
            let body = if event.is_base64_encoded {
                decoded = base64::engine::general_purpose::STANDARD
                    .decode(raw)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .unwrap_or_default();
                decoded.as_str()
            } else {
                raw
            };
            sig.message(conn, body, now).await;
            response(200, None)
        }
    }
}

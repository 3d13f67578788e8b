//! The demo app at `/`: a page for group rooms and one for 1:1 calls, on the browser SDK
//! (`clients/js`, served from its committed build at `/sdk/`), plus `POST /demo/token`,
//! which mints a token for a name with the development app. That route exists only in the
//! local stack (`--no-demo` removes it with the pages): the Lambda functions never serve it,
//! and apps mint tokens on their own backends with their app secret.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;
use stratus_api::ApiError;
use stratus_core::auth::{Authority, TableRefreshTokens};
use stratus_core::clock::Clock;
use stratus_core::store::Table;
use stratus_protocol::auth::{Grants, TokenRequest};
use stratus_protocol::error::ErrorCode;

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

const PAGES: &[(&str, &str, &str)] = &[
    ("index.html", HTML, include_str!("../static/index.html")),
    ("call.html", HTML, include_str!("../static/call.html")),
    ("demo.css", CSS, include_str!("../static/demo.css")),
    ("room.js", JS, include_str!("../static/room.js")),
    ("call.js", JS, include_str!("../static/call.js")),
    ("common.js", JS, include_str!("../static/common.js")),
    ("chat.js", JS, include_str!("../static/chat.js")),
];

/// The SDK's compiled modules (`npm run build` in clients/js; the build is committed so the
/// local stack needs no Node.js, and the test script checks it matches the sources).
const SDK: &[(&str, &str, &str)] = &[
    ("index.js", JS, include_str!("../../clients/js/dist/index.js")),
    ("client.js", JS, include_str!("../../clients/js/dist/client.js")),
    ("signaling.js", JS, include_str!("../../clients/js/dist/signaling.js")),
    ("room.js", JS, include_str!("../../clients/js/dist/room.js")),
    ("call.js", JS, include_str!("../../clients/js/dist/call.js")),
    ("chat.js", JS, include_str!("../../clients/js/dist/chat.js")),
    ("api.js", JS, include_str!("../../clients/js/dist/api.js")),
    ("errors.js", JS, include_str!("../../clients/js/dist/errors.js")),
    ("emitter.js", JS, include_str!("../../clients/js/dist/emitter.js")),
    ("queue.js", JS, include_str!("../../clients/js/dist/queue.js")),
    ("protocol.js", JS, include_str!("../../clients/js/dist/protocol.js")),
    ("ice.js", JS, include_str!("../../clients/js/dist/ice.js")),
    ("wire.js", JS, include_str!("../../clients/js/dist/wire.js")),
];

#[derive(Clone)]
struct Demo {
    auth: Arc<Authority>,
    table: Arc<dyn Table>,
    clock: Arc<dyn Clock>,
    app_key: String,
    app_secret: String,
}

pub fn routes(
    auth: Arc<Authority>,
    table: Arc<dyn Table>,
    clock: Arc<dyn Clock>,
    app_key: String,
    app_secret: String,
    token_route: bool,
) -> Router {
    let pages = Router::new()
        .route("/", get(|| async { serve(PAGES, "index.html") }))
        .route("/demo/{file}", get(|Path(f): Path<String>| async move { serve(PAGES, &f) }))
        .route("/sdk/{file}", get(|Path(f): Path<String>| async move { serve(SDK, &f) }));
    let token_route = if token_route {
        Router::new().route("/demo/token", post(token)).with_state(Demo { auth, table, clock, app_key, app_secret })
    } else {
        Router::new().route("/demo/token", post(beyond_loopback))
    };
    pages.merge(token_route)
}

/// The token route on a stack that listens beyond loopback: it would mint a publishing token
/// for anyone who can reach the port, so it is refused unless asked for.
async fn beyond_loopback() -> Response {
    ApiError::new(
        ErrorCode::Forbidden,
        "the development token route is served on a loopback address only; start the stack with \
         --public-demo-token to serve it to everyone who can reach this port",
    )
    .into_response()
}

/// One embedded file (name, content type, body) of `files`, or 404 in the error shape.
fn serve(files: &[(&str, &str, &'static str)], name: &str) -> Response {
    match files.iter().find(|(n, _, _)| *n == name) {
        Some((_, ty, body)) => {
            ([(header::CONTENT_TYPE, *ty), (header::CACHE_CONTROL, "no-cache")], *body).into_response()
        }
        None => ApiError::not_found(format!("no file {name}")).into_response(),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoTokenRequest {
    name: String,
}

/// A token for `name` (the user id), allowed to publish and subscribe.
async fn token(State(d): State<Demo>, body: Result<Json<DemoTokenRequest>, JsonRejection>) -> Response {
    let Ok(Json(req)) = body else {
        return ApiError::new(ErrorCode::ValidationError, "the body must be {\"name\": \"…\"}").into_response();
    };
    let req = TokenRequest {
        app_key: d.app_key.clone(),
        app_secret: d.app_secret.clone(),
        user_id: req.name,
        email: None,
        full_name: None,
        role: None,
        grants: Grants { room: None, can_publish: true, can_subscribe: true, admin: false },
        ttl_seconds: None,
    };
    match d.auth.issue(&TableRefreshTokens(d.table.clone()), &req, d.clock.now_secs()).await {
        Ok(t) => (StatusCode::OK, Json(t)).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

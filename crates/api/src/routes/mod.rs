//! Route table. Each module holds its handlers; this file says which path goes where.

pub mod auth;
pub mod calls;
pub mod chat;
pub mod health;
pub mod ice;
pub mod presence;
pub mod rooms;
pub mod seed_chat;

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::http::{Method, Uri};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use stratus_protocol::error::ErrorCode;

/// Who may call a route. The authorization matrix (local/tests/auth_matrix.rs) drives every
/// route of [`list`] with every kind of bad token and expects this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No bearer token: health, version, minting with app credentials, refreshing with a
    /// refresh token in the body.
    Public,
    /// A valid access token of a configured app; what it reaches is its app's and its user's.
    Token,
}

/// One route of the API: the router is built from these, so nothing is served that is not
/// listed with its access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

fn table() -> Vec<(Route, MethodRouter<AppState>)> {
    use Access::{Public, Token};
    let r = |method: Method, path, access, handler| (Route { method, path, access }, handler);
    vec![
        r(Method::GET, "/health", Public, get(health::health)),
        r(Method::GET, "/health/live", Public, get(health::live)),
        r(Method::GET, "/health/ready", Public, get(health::ready)),
        r(Method::GET, "/health/detailed", Public, get(health::detailed)),
        r(Method::GET, "/api/version", Public, get(health::version)),
        r(Method::POST, "/auth/token", Public, post(auth::token)),
        r(Method::POST, "/auth/refresh", Public, post(auth::refresh)),
        r(Method::GET, "/auth/validate", Token, get(auth::validate)),
        r(Method::POST, "/api/v1/calls/initiate", Token, post(calls::initiate)),
        r(Method::PUT, "/api/v1/calls/{id}/answer", Token, put(calls::answer)),
        r(Method::DELETE, "/api/v1/calls/{id}", Token, delete(calls::end)),
        r(Method::GET, "/api/v1/calls/{id}/status", Token, get(calls::status)),
        r(Method::GET, "/api/v1/calls/user/{user_id}/active", Token, get(calls::active)),
        r(Method::GET, "/api/v1/calls/user/{user_id}/history", Token, get(calls::history)),
        r(Method::PUT, "/api/v1/presence/status", Token, put(presence::update)),
        r(Method::GET, "/api/v1/presence/status/{user_id}", Token, get(presence::status)),
        r(Method::GET, "/api/v1/presence/check/{user_id}", Token, get(presence::check)),
        r(Method::GET, "/api/v1/ice-servers", Token, get(ice::get)),
        r(Method::POST, "/api/v1/rooms", Token, post(rooms::create)),
        r(Method::GET, "/api/v1/rooms", Token, get(rooms::list)),
        r(Method::POST, "/api/v1/rooms/join", Token, post(rooms::join)),
        r(Method::GET, "/api/v1/rooms/{id}", Token, get(rooms::get)),
        r(Method::POST, "/api/v1/rooms/{id}/leave", Token, post(rooms::leave)),
        r(Method::PUT, "/api/v1/rooms/{id}/quality", Token, put(rooms::quality)),
        // Seed 003's call quality, its body and envelope.
        r(Method::POST, "/call/quality", Token, post(rooms::seed_quality)),
        r(Method::POST, "/api/v1/chat/sessions", Token, post(chat::create)),
        r(Method::GET, "/api/v1/chat/sessions", Token, get(chat::list)),
        r(Method::GET, "/api/v1/chat/sessions/{id}", Token, get(chat::get)),
        r(Method::POST, "/api/v1/chat/sessions/{id}/participants", Token, post(chat::add_participant)),
        r(Method::PUT, "/api/v1/chat/sessions/{id}/participants/{user_id}", Token, put(chat::set_role)),
        r(Method::DELETE, "/api/v1/chat/sessions/{id}/participants/{user_id}", Token, delete(chat::remove_participant)),
        r(Method::POST, "/api/v1/chat/sessions/{id}/messages", Token, post(chat::send)),
        r(Method::GET, "/api/v1/chat/sessions/{id}/messages", Token, get(chat::messages)),
        r(Method::PATCH, "/api/v1/chat/sessions/{id}/messages/{message_id}", Token, patch(chat::edit)),
        r(Method::DELETE, "/api/v1/chat/sessions/{id}/messages/{message_id}", Token, delete(chat::delete)),
        r(
            Method::PUT,
            "/api/v1/chat/sessions/{id}/messages/{message_id}/reactions/{emoji}",
            Token,
            put(chat::add_reaction),
        ),
        r(
            Method::DELETE,
            "/api/v1/chat/sessions/{id}/messages/{message_id}/reactions/{emoji}",
            Token,
            delete(chat::remove_reaction),
        ),
        r(Method::PUT, "/api/v1/chat/sessions/{id}/read", Token, put(chat::read)),
        r(Method::GET, "/api/v1/chat/sessions/{id}/usage", Token, get(chat::usage)),
        r(Method::POST, "/api/v1/chat/sessions/{id}/attachments", Token, post(chat::request_upload)),
        r(Method::GET, "/api/v1/chat/sessions/{id}/attachments/{attachment_id}", Token, get(chat::attachment)),
        // Seed 003's chat routes, its bodies and envelope.
        r(Method::POST, "/chat/session", Token, post(seed_chat::create)),
        r(Method::POST, "/chat/message", Token, post(seed_chat::message)),
        r(Method::POST, "/chat/attachment", Token, post(seed_chat::attachment)),
        r(Method::POST, "/chat/reaction", Token, post(seed_chat::reaction)),
        r(Method::GET, "/chat/messages/{id}", Token, get(seed_chat::messages)),
        r(Method::GET, "/chat/usage/{id}", Token, get(seed_chat::usage)),
    ]
}

/// Every route the router serves.
pub fn list() -> Vec<Route> {
    table().into_iter().map(|(r, _)| r).collect()
}

pub fn routes() -> Router<AppState> {
    // Two methods on one path merge into one method router.
    table().into_iter().fold(Router::new(), |router, (r, handler)| router.route(r.path, handler))
}

pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route for {method} {}", uri.path()))
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, format!("{method} is not allowed on {}", uri.path()))
}

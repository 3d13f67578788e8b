//! Shared state of the REST API. Cloning is cheap (one `Arc`).

use std::sync::Arc;
use stratus_core::auth::{AppLimits, Authority, TableRefreshTokens};
use stratus_core::calls::{AppCalls, Calls, CallsConfig};
use stratus_core::chat::{AppChats, ChatConfig, Chats};
use stratus_core::clock::{Clock, Millis};
use stratus_core::ratelimit::Limit;
use stratus_core::sink::ConnectionSink;
use stratus_core::store::Table;
use stratus_protocol::auth::Claims;

/// What `/api/version` and health bodies say about this build.
#[derive(Debug, Clone)]
pub struct ServiceInfo {
    pub service: String,
    pub version: String,
    /// `"lambda"` or `"local"`.
    pub runtime: String,
}

impl ServiceInfo {
    pub fn new(runtime: &str) -> Self {
        Self { service: "stratus".into(), version: env!("CARGO_PKG_VERSION").into(), runtime: runtime.into() }
    }
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// The whole table. Routes work in the caller's app's namespace ([`AppState::app`]);
    /// only the health check touches this.
    pub root: Arc<dyn Table>,
    pub refresh_tokens: TableRefreshTokens,
    pub auth: Arc<Authority>,
    pub calls: Calls,
    pub chat: Chats,
    pub clock: Arc<dyn Clock>,
    pub info: ServiceInfo,
    pub started_ms: Millis,
    /// Group rooms on the media fleet; room routes answer 503 without it.
    pub sfu: Option<Arc<stratus_core::sfu::SfuRooms>>,
    /// The public WebSocket URL clients connect to.
    pub signaling_url: String,
    /// STUN/TURN handed to clients (`GET /api/v1/ice-servers`); none by default.
    pub ice: stratus_core::ice::IceConfig,
}

impl AppState {
    /// `sink` reaches WebSocket connections (call events); `calls` sets the ring timeout and
    /// the signaling URL handed to callers.
    pub fn new(
        table: Arc<dyn Table>,
        auth: impl Into<Arc<Authority>>,
        clock: Arc<dyn Clock>,
        info: ServiceInfo,
        sink: Arc<dyn ConnectionSink>,
        calls: CallsConfig,
    ) -> Self {
        let started_ms = clock.now_ms();
        let auth = auth.into();
        let signaling_url = calls.signaling_url.clone();
        let chat = Chats::new(sink.clone(), ChatConfig::default());
        let calls = Calls::new(table.clone(), sink, calls);
        Self(Arc::new(Inner {
            refresh_tokens: TableRefreshTokens(table.clone()),
            root: table,
            auth,
            calls,
            chat,
            clock,
            info,
            started_ms,
            sfu: None,
            signaling_url,
            ice: stratus_core::ice::IceConfig::default(),
        }))
    }

    /// Hands out these ICE servers. Call before the state is cloned.
    pub fn with_ice(mut self, ice: stratus_core::ice::IceConfig) -> Self {
        Arc::get_mut(&mut self.0).expect("with_ice before the state is shared").ice = ice;
        self
    }

    /// Keeps chat attachments in `objects` (without it, uploads answer 503). Call before the
    /// state is cloned.
    pub fn with_objects(mut self, objects: Option<Arc<dyn stratus_core::objects::ObjectStore>>) -> Self {
        Arc::get_mut(&mut self.0).expect("with_objects before the state is shared").chat.set_objects(objects);
        self
    }

    /// Serves the room routes with these rooms. Call before the state is cloned.
    pub fn with_sfu(mut self, sfu: Arc<stratus_core::sfu::SfuRooms>) -> Self {
        Arc::get_mut(&mut self.0).expect("with_sfu before the state is shared").sfu = Some(sfu);
        self
    }
}

/// What a route serves one caller with: everything in the caller's app's namespace.
pub struct InApp<'a> {
    pub table: Arc<dyn Table>,
    pub calls: AppCalls<'a>,
    pub chat: AppChats<'a>,
    pub sfu: Option<stratus_core::sfu::AppRooms<'a>>,
    /// The app's own limits (rate limits go through [`InApp::rate`]).
    pub limits: AppLimits,
}

impl InApp<'_> {
    /// `limit` as the app has it.
    pub fn rate(&self, limit: Limit) -> Limit {
        limit.for_app(&self.limits)
    }
}

impl AppState {
    /// The namespace of the app whose token `claims` are (verified by `AuthUser`).
    pub fn app(&self, claims: &Claims) -> InApp<'_> {
        let limits = self.auth.limits(&claims.app);
        let ns = stratus_core::tenant::Namespace::new(&self.root, &claims.app);
        InApp {
            calls: self.calls.app(&ns),
            chat: self.chat.app(&ns),
            sfu: self.sfu.as_ref().map(|s| s.app(&ns).limited(&limits)),
            table: ns.table,
            limits,
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

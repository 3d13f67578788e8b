//! `TestApi`: the real `stratus_api::router` (all middleware included) on the embedded store
//! or on DynamoDB at the harness endpoint, with a manual clock, called in-process.

use crate::aws;
use crate::sink::RecordingSink;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use stratus_api::graph::{Graph, Parts};
use stratus_api::{AppState, ServiceInfo};
use stratus_core::auth::{AuthConfig, Authority, Secret};
use stratus_core::calls::CallsConfig;
use stratus_core::clock::{Clock, ManualClock};
use stratus_core::objects::ObjectStore;
use stratus_core::objects::memory::MemoryObjects;
use stratus_core::signaling::Signaling;
use stratus_core::store::Table;
use stratus_core::store::memory::MemoryTable;
use stratus_core::store::schema::MAIN;
use tower::ServiceExt;

pub const APP_KEY: &str = "test-app";
/// A second app of the same deployment (same table, same signing key), for tenancy tests.
pub const OTHER_APP_KEY: &str = "other-app";

/// [`OTHER_APP_KEY`]'s own limits: two connections per user, three presence updates a minute.
pub fn other_app_limits() -> stratus_core::auth::AppLimits {
    stratus_core::auth::AppLimits {
        max_connections_per_user: Some(2),
        per_minute: [("presence".to_owned(), 3)].into(),
        ..Default::default()
    }
}
pub const ISSUER: &str = "stratus-test";

pub struct TestApi {
    pub router: Router,
    /// What call events were pushed to which connection.
    pub sink: Arc<RecordingSink>,
    /// Signaling on the same table and sink, to open WebSocket connections (presence).
    pub signaling: Arc<Signaling>,
    pub auth: Arc<Authority>,
    pub clock: ManualClock,
    pub table: Arc<dyn Table>,
    /// Random per instance.
    pub app_secret: String,
    /// [`OTHER_APP_KEY`]'s secret.
    pub other_app_secret: String,
    pub jwt_secret: String,
    /// Where chat attachments go: the embedded store on a loopback listener (memory), or a
    /// fresh bucket on the harness's S3 (dynamodb).
    pub objects: Arc<dyn ObjectStore>,
}

/// The embedded object store served on a loopback port of its own (as the local stack serves
/// it), on `clock`. Needs a Tokio runtime.
pub fn embedded_objects(clock: Arc<dyn Clock>) -> Arc<MemoryObjects> {
    let std = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    std.set_nonblocking(true).expect("nonblocking");
    let addr = std.local_addr().expect("local addr");
    let store = Arc::new(MemoryObjects::new(format!("http://{addr}{}", stratus_api::objects::PATH)));
    let listener = tokio::net::TcpListener::from_std(std).expect("a Tokio listener (inside a runtime)");
    let app = stratus_api::objects::routes(store.clone(), clock);
    tokio::spawn(async move { axum::serve(listener, app).await });
    store
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

/// 64 random hex characters (secrets for tests).
pub fn random_hex() -> String {
    String::from_utf8(Secret::random_hex().expose().to_vec()).expect("hex is utf-8")
}

impl TestApi {
    pub fn on(table: Arc<dyn Table>, clock: ManualClock) -> Self {
        Self::on_with(table, clock, |s| s)
    }

    /// [`Self::on`] with the state adjusted by `f` (e.g. `|s| s.with_ice(cfg)`), attachments
    /// in the embedded store.
    pub fn on_with(table: Arc<dyn Table>, clock: ManualClock, f: impl FnOnce(AppState) -> AppState) -> Self {
        let objects = embedded_objects(Arc::new(clock.clone()));
        Self::on_objects(table, clock, objects, f)
    }

    pub fn on_objects(
        table: Arc<dyn Table>,
        clock: ManualClock,
        objects: Arc<dyn ObjectStore>,
        f: impl FnOnce(AppState) -> AppState,
    ) -> Self {
        let (app_secret, other_app_secret) = (random_hex(), random_hex());
        let jwt_secret = random_hex();
        let cfg = AuthConfig::new(ISSUER, Secret::new(jwt_secret.clone()))
            .with_app(APP_KEY, Secret::new(app_secret.clone()))
            .with_app(OTHER_APP_KEY, Secret::new(other_app_secret.clone()))
            .with_limits(OTHER_APP_KEY, other_app_limits());
        let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
        let auth = Arc::new(Authority::new(cfg));
        let sink = Arc::new(RecordingSink::default());
        let calls = CallsConfig { signaling_url: "ws://test/ws".into(), ..CallsConfig::default() };
        // The same wiring as the functions and the local stack, on a recording sink.
        let parts = Parts::new(table.clone(), sink.clone(), auth.clone(), clock_dyn, ServiceInfo::new("test"), calls)
            .with_objects(Some(objects.clone()));
        let graph = Graph::build(parts);
        let (state, signaling) = (f(graph.state), graph.signaling);
        Self {
            router: stratus_api::router(state),
            sink,
            signaling,
            auth,
            clock,
            table,
            app_secret,
            other_app_secret,
            jwt_secret,
            objects,
        }
    }

    pub fn memory() -> Self {
        Self::memory_with(|s| s)
    }

    pub fn memory_with(f: impl FnOnce(AppState) -> AppState) -> Self {
        let clock = ManualClock::at_system_time();
        let table = Arc::new(MemoryTable::new(&MAIN, Arc::new(clock.clone())));
        Self::on_with(table, clock, f)
    }

    /// On a fresh table at the harness endpoint (moto unless told otherwise).
    pub async fn dynamodb() -> Self {
        Self::dynamodb_with(|s| s).await
    }

    pub async fn dynamodb_with(f: impl FnOnce(AppState) -> AppState) -> Self {
        let clock = ManualClock::at_system_time();
        let client = aws::dynamodb().await;
        let name = aws::unique_name("api");
        stratus_dynamo::create_table(&client, &MAIN, &name).await.expect("create table");
        let table = Arc::new(stratus_dynamo::DynamoTable::new(client, name, &MAIN, Arc::new(clock.clone())));
        Self::on_objects(table, clock, aws::s3_objects().await, f)
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let res = self.router.clone().oneshot(req).await.expect("router is infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp { status, headers, body, text }
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b.header("content-type", "application/json").body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        };
        self.send(req.expect("request")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(Method::POST, path, None, Some(body)).await
    }

    /// A valid token request body for `user`.
    pub fn token_request(&self, user: &str) -> Value {
        json!({
            "app_key": APP_KEY,
            "app_secret": self.app_secret,
            "user_id": user,
            "grants": { "canPublish": true, "canSubscribe": true },
        })
    }

    /// An access token for `user`.
    pub async fn token(&self, user: &str) -> String {
        self.mint(user).await["access_token"].as_str().expect("access token").to_owned()
    }

    /// An access token for `user` of app `app` ([`APP_KEY`] or [`OTHER_APP_KEY`]).
    pub async fn token_in(&self, app: &str, user: &str) -> String {
        let secret = if app == OTHER_APP_KEY { &self.other_app_secret } else { &self.app_secret };
        let mut req = self.token_request(user);
        req["app_key"] = json!(app);
        req["app_secret"] = json!(secret);
        let r = self.post("/auth/token", req).await;
        assert_eq!(r.status, StatusCode::OK, "mint failed: {}", r.text);
        r.body["access_token"].as_str().expect("access token").to_owned()
    }

    /// Opens a WebSocket connection `conn` for `user` (as `$connect` would), making them online.
    pub async fn connect_ws(&self, conn: &str, user: &str) {
        self.connect_ws_in(APP_KEY, conn, user).await
    }

    /// [`Self::connect_ws`] for a user of app `app`.
    pub async fn connect_ws_in(&self, app: &str, conn: &str, user: &str) {
        let t = self.token_in(app, user).await;
        self.signaling.connect(&conn.into(), Some(&t), self.clock.now_ms()).await.expect("ws connect");
    }

    /// Mints tokens for `user`; returns the whole response body.
    pub async fn mint(&self, user: &str) -> Value {
        let r = self.post("/auth/token", self.token_request(user)).await;
        assert_eq!(r.status, StatusCode::OK, "mint failed: {}", r.text);
        r.body
    }
}

impl Resp {
    /// Asserts the shared error shape with `status` and `code`; returns the message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text);
        assert_eq!(self.headers.get("content-type").map(|v| v.to_str().unwrap()), Some("application/json"));
        let e = &self.body["error"];
        assert_eq!(e["code"], code, "code; body: {}", self.text);
        let msg = e["message"].as_str().expect("error.message is a string");
        assert!(!msg.is_empty());
        let ts = self.body["timestamp"].as_str().expect("timestamp");
        assert!(ts.len() == 24 && ts.ends_with('Z'), "RFC 3339 ms timestamp, got {ts}");
        let rid = self.body["request_id"].as_str().expect("request_id");
        assert_eq!(Some(rid), self.headers.get("x-request-id").and_then(|v| v.to_str().ok()), "id echoed");
        let keys: Vec<&String> = self.body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["error", "request_id", "timestamp"], "no other top-level fields");
        msg.to_owned()
    }
}

/// Turns `async fn $body(api: TestApi)` into two tests, `$name::on_the_embedded_store` and
/// `$name::on_dynamodb`, so every route test runs on both stores.
#[macro_export]
macro_rules! on_both_stores {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_the_embedded_store() {
                super::$body($crate::rest::TestApi::memory()).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_dynamodb() {
                super::$body($crate::rest::TestApi::dynamodb().await).await;
            }
        }
    };
}

/// [`on_both_stores!`] with the router's state adjusted by `$state` (`fn(AppState) -> AppState`).
#[macro_export]
macro_rules! on_both_stores_with {
    ($name:ident, $state:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_the_embedded_store() {
                super::$body($crate::rest::TestApi::memory_with(super::$state)).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_dynamodb() {
                super::$body($crate::rest::TestApi::dynamodb_with(super::$state).await).await;
            }
        }
    };
}

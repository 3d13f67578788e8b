//! # stratus-local
//!
//! The local stack: one process that serves the platform on loopback with no AWS account
//! and no Docker: the REST API (the same `stratus_api::router` the Lambda runs) and an API
//! Gateway WebSocket API emulator running the same WebSocket handlers, on the embedded store
//! or on any DynamoDB endpoint (`--dynamodb-endpoint`), and a media node registered in the
//! same store, so group rooms work with nothing else running.
//!
//! Layout:
//! - [`Options`] — command-line flags / environment.
//! - [`start`]  — builds the store and authority, binds, returns the running server
//!   ([`start_on`] on a given store).
//! - [`gateway`] — the WebSocket API emulator (events, `@connections`, API Gateway limits).
//! - [`sigv4`]  — the Management API's SigV4 check (the credentials only the back end holds).
//! - [`media`]  — the in-process media node (engine, signed control API, registry heartbeats).
//! - [`cors`]   — the HTTP API's CORS configuration, emulated on the REST routes.
//! - [`demo`]   — the demo app at `/` on the browser SDK, and its development token route
//!   (its pages can also be pointed at another deployment: `common.js`).
//! - `main.rs`  — parses options, prints the banner, runs until Ctrl-C.
//!
//! Development credentials: an app key (`dev` by default) and a random app secret and JWT
//! secret per start, unless given. They exist in this mode only; the Lambda functions read
//! theirs from Secrets Manager.

use axum::serve::ListenerExt;
use clap::Parser;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use stratus_api::ServiceInfo;
use stratus_api::graph::{Graph, Parts};
use stratus_core::auth::{AuthConfig, Authority, MIN_JWT_SECRET, Secret};
use stratus_core::calls::CallsConfig;
use stratus_core::clock::{Clock, SystemClock};
use stratus_core::sfu::MediaControl;
use stratus_core::sink::ConnectionSink;
use stratus_core::store::Table;
use stratus_dynamo::management::ManagementApiSink;

pub mod cors;
pub mod demo;
pub mod gateway;
pub mod media;
pub mod sigv4;
use stratus_core::store::memory::MemoryTable;
use stratus_core::store::schema::MAIN;

#[derive(Debug, Clone, Parser)]
#[command(name = "stratus-local", about = "Run the Stratus platform locally on loopback")]
pub struct Options {
    /// Address to listen on (loopback by default; port 0 picks a free port).
    #[arg(long, env = "STRATUS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Use this DynamoDB endpoint (moto, LocalStack, DynamoDB Local) instead of the
    /// embedded store. The table is created if missing.
    #[arg(long, env = "STRATUS_DYNAMODB_ENDPOINT")]
    pub dynamodb_endpoint: Option<String>,
    /// Table name on that endpoint.
    #[arg(long, env = "STRATUS_TABLE", default_value = MAIN.default_name)]
    pub table: String,
    /// Development app key.
    #[arg(long, env = "STRATUS_DEV_APP_KEY", default_value = "dev")]
    pub app_key: String,
    /// Development app secret (random per start when not given).
    #[arg(long, env = "STRATUS_DEV_APP_SECRET", hide_env_values = true)]
    pub app_secret: Option<String>,
    /// More apps of this deployment, each a tenant of its own (`KEY=SECRET`, repeatable;
    /// secrets of at least 16 bytes).
    #[arg(long = "app", value_name = "KEY=SECRET")]
    pub apps: Vec<String>,
    /// JWT signing secret, at least 32 bytes (random per start when not given).
    #[arg(long, env = "STRATUS_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// How the WebSocket handlers reach connections: through the emulated Management API
    /// over HTTP with the AWS SDK, exactly as in Lambda (`management-api`), or in-process
    /// (`direct`, faster; same handler code).
    #[arg(long, env = "STRATUS_WS_SINK", value_enum, default_value = "management-api")]
    pub ws_sink: WsSink,
    /// The access key and secret (`ACCESS_KEY:SECRET`) that requests to the emulated Management
    /// API (`/ws/@connections`) must be SigV4-signed with, as API Gateway requires IAM
    /// credentials; give them to media nodes of other processes (random per start when not
    /// given).
    #[arg(long, env = "STRATUS_WS_MANAGEMENT_CREDENTIALS", hide_env_values = true)]
    pub ws_management_credentials: Option<String>,
    /// API Gateway's idle timeout.
    #[arg(long, env = "STRATUS_WS_IDLE_SECS", default_value_t = 600)]
    pub ws_idle_secs: u64,
    /// API Gateway's maximum connection duration.
    #[arg(long, env = "STRATUS_WS_MAX_LIFETIME_SECS", default_value_t = 7200)]
    pub ws_max_lifetime_secs: u64,
    /// How much may wait for one connection that is not reading before it is dropped as gone
    /// (its room hears `user-left`); a post never waits for its recipient.
    #[arg(long, env = "STRATUS_WS_MAX_QUEUE_BYTES", default_value_t = gateway::DEFAULT_MAX_QUEUE_BYTES)]
    pub ws_max_queue_bytes: usize,
    /// Messages a connection may send a second, sustained (a token bucket per connection;
    /// over it a message answers RATE_LIMITED). Raise it for load tests that push one
    /// connection hard.
    #[arg(long, env = "STRATUS_WS_MESSAGE_RATE", default_value_t = stratus_core::ratelimit::WS_MESSAGES.per_sec)]
    pub ws_message_rate: f64,
    /// Messages a connection may send at once before that rate applies.
    #[arg(long, env = "STRATUS_WS_MESSAGE_BURST", default_value_t = stratus_core::ratelimit::WS_MESSAGES.burst)]
    pub ws_message_burst: f64,
    /// API Gateway's message size limit.
    #[arg(long, env = "STRATUS_WS_MAX_MESSAGE_BYTES", default_value_t = 128 * 1024)]
    pub ws_max_message_bytes: usize,
    /// How long a call rings before it becomes missed.
    #[arg(long, env = "STRATUS_RING_TIMEOUT_SECS", default_value_t = 45)]
    pub ring_timeout_secs: u64,
    /// How often the sweeper runs (stale connections, calls that rang out).
    #[arg(long, env = "STRATUS_WS_SWEEP_SECS", default_value_t = 60)]
    pub ws_sweep_secs: u64,
    /// Media nodes to run in this process (0: rely on `stratus-media-node` processes
    /// registered in the same DynamoDB table, signed with `--control-keys`).
    #[arg(long, env = "STRATUS_LOCAL_MEDIA_NODES", default_value_t = 1)]
    pub media_nodes: usize,
    /// Keys that sign control requests to media nodes, `id:secret[,id:secret]` (random per
    /// start when not given; give them to share nodes with other processes).
    #[arg(long, env = "STRATUS_CONTROL_KEYS", hide_env_values = true)]
    pub control_keys: Option<String>,
    /// Heartbeat period of the in-process media nodes (their registry entry lives three).
    #[arg(long, env = "STRATUS_HEARTBEAT_SECS", default_value_t = 2)]
    pub heartbeat_secs: u64,
    /// How often rooms on media nodes that stopped heartbeating are moved.
    #[arg(long, env = "STRATUS_ROOM_SWEEP_SECS", default_value_t = 2)]
    pub room_sweep_secs: u64,
    /// A TURN URL handed to clients (repeatable, or comma-separated in the variable), e.g.
    /// `turn:192.0.2.1:3478?transport=udp`; needs `--turn-secret`.
    #[arg(long = "turn-url", env = "STRATUS_TURN_URLS", value_delimiter = ',')]
    pub turn_urls: Vec<String>,
    /// The TURN server's shared secret (coturn `static-auth-secret`).
    #[arg(long, env = "STRATUS_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<String>,
    /// A STUN URL handed to clients (repeatable, or comma-separated in the variable).
    #[arg(long = "stun-url", env = "STRATUS_STUN_URLS", value_delimiter = ',')]
    pub stun_urls: Vec<String>,
    /// How long the TURN credentials handed out stay valid.
    #[arg(long, env = "STRATUS_ICE_TTL_SECS", default_value_t = stratus_core::ice::DEFAULT_TTL_SECS)]
    pub ice_ttl_secs: i64,
    /// Do not serve the demo app at `/` nor its development token route `/demo/token`.
    #[arg(long, env = "STRATUS_NO_DEMO")]
    pub no_demo: bool,
    /// Serve `/demo/token` even though `--listen` is not a loopback address: anyone who can
    /// reach the port can then mint a token that publishes (refused with 403 otherwise).
    #[arg(long, env = "STRATUS_PUBLIC_DEMO_TOKEN")]
    pub public_demo_token: bool,
    /// The address the in-process media nodes announce in their ICE candidates (and bind),
    /// e.g. this machine's LAN address so a phone on the LAN can connect (127.0.0.1 when not
    /// given: reachable from this machine only).
    #[arg(long, env = "STRATUS_MEDIA_PUBLIC_IP")]
    pub media_public_ip: Option<std::net::IpAddr>,
    /// Log the runtime's live task count every this many seconds (0: never), for soaks
    /// (bench/soak.sh): a line `runtime` at INFO with `tasks`.
    #[arg(long, env = "STRATUS_RUNTIME_STATS_SECS", default_value_t = 0)]
    pub runtime_stats_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WsSink {
    ManagementApi,
    Direct,
}

pub struct Running {
    pub addr: SocketAddr,
    pub store: String,
    pub app_key: String,
    pub app_secret: String,
    /// What `@connections` requests must be signed with.
    pub management: sigv4::Credential,
    pub media_nodes: Vec<media::MediaNode>,
    /// Whether `/demo/token` mints tokens (a loopback listener, or `--public-demo-token`).
    pub demo_token: bool,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// The peer's address as the REST routes' `SourceIp` (API Gateway's `sourceIp` in Lambda).
async fn source_ip(
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    req.extensions_mut().insert(stratus_api::extract::SourceIp(peer.ip()));
    next.run(req).await
}

pub async fn start(opts: Options) -> Result<Running, String> {
    let table = open_table(&opts).await?;
    start_on(opts, table).await
}

/// The store `opts` name: DynamoDB at `--dynamodb-endpoint` (the table created if missing),
/// else the embedded one.
pub async fn open_table(opts: &Options) -> Result<Arc<dyn Table>, String> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Ok(match &opts.dynamodb_endpoint {
        Some(ep) => {
            let client = stratus_dynamo::client(Some(ep)).await;
            stratus_dynamo::create_table(&client, &MAIN, &opts.table).await?;
            Arc::new(stratus_dynamo::DynamoTable::new(client, opts.table.clone(), &MAIN, clock.clone()))
        }
        None => {
            let mem = Arc::new(MemoryTable::new(&MAIN, clock.clone()));
            let purge = mem.clone();
            // Reads already skip expired items; this only bounds memory, like DynamoDB's TTL.
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    purge.purge_expired();
                }
            });
            mem
        }
    })
}

/// [`start`] on a store of the caller's (the fault tests wrap the embedded one).
pub async fn start_on(opts: Options, table: Arc<dyn Table>) -> Result<Running, String> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let app_secret =
        opts.app_secret.clone().unwrap_or_else(|| String::from_utf8_lossy(Secret::random_hex().expose()).into());
    let jwt_secret = match &opts.jwt_secret {
        Some(s) if s.len() < MIN_JWT_SECRET => {
            return Err(format!("--jwt-secret must be at least {MIN_JWT_SECRET} bytes"));
        }
        Some(s) => Secret::new(s.clone()),
        None => Secret::random_hex(),
    };
    let ice = stratus_core::ice::IceConfig::new(
        opts.stun_urls.clone(),
        opts.turn_urls.clone(),
        opts.turn_secret.clone().map(Secret::new),
        opts.ice_ttl_secs,
    )?;
    let mut cfg =
        AuthConfig::new("stratus-local", jwt_secret).with_app(opts.app_key.clone(), Secret::new(app_secret.clone()));
    for a in &opts.apps {
        let (key, secret) = a.split_once('=').ok_or_else(|| format!("--app {a}: expected KEY=SECRET"))?;
        if !stratus_protocol::ids::is_valid_id(key) || secret.len() < 16 {
            return Err(format!("--app {key}: the key must be an id and the secret at least 16 bytes"));
        }
        cfg = cfg.with_app(key, Secret::new(secret));
    }
    let auth = Arc::new(Authority::new(cfg));
    let listener =
        tokio::net::TcpListener::bind(opts.listen).await.map_err(|e| format!("bind {}: {e}", opts.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;

    let management = match &opts.ws_management_credentials {
        Some(c) => sigv4::Credential::parse(c).map_err(|e| format!("--ws-management-credentials: {e}"))?,
        None => sigv4::Credential::random(),
    };
    let registry = Arc::new(gateway::Registry::new(opts.ws_max_queue_bytes.max(opts.ws_max_message_bytes)));
    let sink: Arc<dyn ConnectionSink> = match opts.ws_sink {
        WsSink::ManagementApi => Arc::new(ManagementApiSink::local(
            &format!("http://{addr}/ws"),
            &management.access_key,
            management.secret(),
        )),
        WsSink::Direct => registry.clone(),
    };
    let calls = CallsConfig {
        signaling_url: format!("ws://{addr}/ws"),
        ring_timeout_ms: (opts.ring_timeout_secs * 1000) as i64,
        ..CallsConfig::default()
    };
    let keys = match &opts.control_keys {
        Some(k) => stratus_control::parse_keys(k)?,
        None => vec![stratus_control::Key::new("local", Secret::random_hex().expose().to_vec())?],
    };
    let media: Arc<dyn MediaControl> = Arc::new(stratus_control::client::NodeControl::new(keys[0].clone()));
    let mut media_nodes = Vec::new();
    for _ in 0..opts.media_nodes {
        let heartbeat = Duration::from_secs(opts.heartbeat_secs.max(1));
        let ip = opts.media_public_ip.unwrap_or([127, 0, 0, 1].into());
        media_nodes.push(media::start(table.clone(), sink.clone(), keys.clone(), clock.clone(), heartbeat, ip).await?);
    }
    if !(opts.ws_message_rate > 0.0 && opts.ws_message_burst >= 1.0) {
        return Err("--ws-message-rate must be above 0 and --ws-message-burst at least 1".into());
    }
    // Chat attachments in the embedded object store, served on this listener.
    let objects = Arc::new(stratus_core::objects::memory::MemoryObjects::new(format!(
        "http://{addr}{}",
        stratus_api::objects::PATH
    )));
    let mut parts = Parts::new(table.clone(), sink, auth.clone(), clock.clone(), ServiceInfo::new("local"), calls)
        .with_media(Some(media))
        .with_ice(ice)
        .with_objects(Some(objects.clone()));
    parts.signaling.messages =
        stratus_core::ratelimit::BucketLimit { per_sec: opts.ws_message_rate, burst: opts.ws_message_burst };
    let Graph { state, signaling: sig, sfu } = Graph::build(parts);
    let sfu = sfu.expect("the local stack always has a fleet");
    let room_sweep_every = Duration::from_secs(opts.room_sweep_secs.max(1));
    let room_clock = clock.clone();
    let room_apps = auth.apps();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(room_sweep_every).await;
            match sfu.sweep(&room_apps, room_clock.now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rooms_moved = n, "rooms moved off lost media nodes"),
                Err(e) => tracing::warn!(error = %e, "room sweep failed"),
            }
        }
    });
    if opts.runtime_stats_secs > 0 {
        let every = Duration::from_secs(opts.runtime_stats_secs);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let tasks = tokio::runtime::Handle::current().metrics().num_alive_tasks();
                tracing::info!(tasks, "runtime");
            }
        });
    }
    let limits = gateway::Limits {
        max_message_bytes: opts.ws_max_message_bytes,
        idle: Duration::from_secs(opts.ws_idle_secs),
        max_lifetime: Duration::from_secs(opts.ws_max_lifetime_secs),
    };
    let gw = gateway::Gateway::new(registry, sig.clone(), clock.clone(), limits, addr.to_string(), management.clone());
    let sweep_every = Duration::from_secs(opts.ws_sweep_secs.max(1));
    let sweep_clock = clock.clone();
    let sweep_state = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(sweep_every).await;
            if let Err(e) = sweep_state.calls.expire_due(&sweep_state.auth.apps(), sweep_clock.now_ms()).await {
                tracing::warn!(error = %e, "missed-call sweep failed");
            }
            match sig.sweep(sweep_clock.now_ms()).await {
                Ok(r) if r.removed > 0 => {
                    tracing::info!(checked = r.checked, removed = r.removed, "sweeper removed stale connections")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "sweeper failed"),
            }
        }
    });

    let mut app =
        stratus_api::router(state).layer(axum::middleware::from_fn(source_ip)).layer(cors::layer()).merge(gw.routes());
    app = app.merge(stratus_api::objects::routes(objects, clock.clone()));
    let demo_token = !opts.no_demo && (addr.ip().is_loopback() || opts.public_demo_token);
    if !opts.no_demo {
        app = app.merge(demo::routes(
            auth.clone(),
            table.clone(),
            clock.clone(),
            opts.app_key.clone(),
            app_secret.clone(),
            demo_token,
        ));
    }
    // Signaling messages are small and latency-bound: send each at once (no Nagle).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
    });
    Ok(Running {
        addr,
        store: table.describe(),
        app_key: opts.app_key,
        app_secret,
        management,
        media_nodes,
        demo_token,
        server,
    })
}

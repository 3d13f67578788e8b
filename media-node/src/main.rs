//! `stratus-media-node` (serve) and `stratus-media-node healthcheck` (exit 0 when the node
//! on this host answers `/healthz`: the container health check, for images without a shell).
//!
//! Environment:
//! - `STRATUS_MEDIA_ADDR` — listen address (default `127.0.0.1:7880`).
//! - `STRATUS_CONTROL_KEYS` — the keys control requests are signed with: `id:secret[,id:secret]`
//!   (two while rotating) or the control-keys secret's JSON (`{"id", "secret", "next_id"?,
//!   "next_secret"?}`). Required.
//! - `STRATUS_CONTROL_TLS` — `off` (default) or `self-signed`: serve the control port over TLS
//!   with a certificate made at start, whose SHA-256 goes in the registry for callers to pin.
//! - `STRATUS_PUBLIC_IP` — the announced address: an IP (default `127.0.0.1`), `ecs` or
//!   `imds` (discovered; see `address`).
//! - `STRATUS_NODE_ID` (default: a new UUID), `STRATUS_REGION` (default `local`).
//! - `STRATUS_TABLE` — the table to register in (DynamoDB; `STRATUS_DYNAMODB_ENDPOINT` or
//!   `AWS_ENDPOINT_URL` for a compatible endpoint). Without it the node runs unregistered.
//! - `STRATUS_CONTROL_URL` (default `https://<public ip>:<port>` with TLS, else
//!   `http://<listen address>`), `STRATUS_MAX_PARTICIPANTS` (500), `STRATUS_HEARTBEAT_SECS` (5),
//!   `STRATUS_DRAIN_SECS` (300: how long rooms may take to end after SIGTERM),
//!   `STRATUS_DRAIN_LINGER_SECS` (60: forwarding after handing the rest over).
//! - Media: `STRATUS_MEDIA_UDP_PORT` (first worker's UDP port; worker `i` uses port + i; 0
//!   picks free ports; default 0), `STRATUS_MEDIA_WORKERS` (default: the number of CPUs),
//!   `STRATUS_MEDIA_BIND_IP` (default `0.0.0.0`), `STRATUS_ROOM_MAX_PARTICIPANTS` (100).
//! - Events: `STRATUS_WS_MANAGEMENT_ENDPOINT`, the API Gateway Management API endpoint the
//!   node pushes room events to, signed with the task role's credentials; an `http://`
//!   endpoint (the local stack's emulator) is signed with `STRATUS_WS_MANAGEMENT_CREDENTIALS`
//!   (`ACCESS_KEY:SECRET`, the stack's `--ws-management-credentials`). Without it events are
//!   not pushed.
//! - ECS: `ECS_AGENT_URI` (injected by ECS) turns on task scale-in protection while rooms
//!   are hosted. CloudWatch: `STRATUS_METRICS_SERVICE` turns on load metrics
//!   (`cloudwatch`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use stratus_core::clock::{Clock, SystemClock};
use stratus_core::sink::ConnectionSink;
use stratus_core::store::Table;
use stratus_core::store::schema::MAIN;
use stratus_dynamo::management::ManagementApiSink;
use stratus_media_node::address::{self, Source};
use stratus_media_node::env;
use stratus_media_node::protection::Protection;
use stratus_media_node::registry::{self, Drain, Registration};
use stratus_media_node::sfu::{Sfu, SfuConfig};

fn fail(msg: String) -> ! {
    eprintln!("stratus-media-node: {msg}");
    std::process::exit(2);
}

fn num(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.parse().unwrap_or_else(|_| fail(format!("{name} must be a number"))),
        Err(_) => default,
    }
}

fn var(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.into())
}

fn listen_addr() -> String {
    var(env::MEDIA_ADDR, "127.0.0.1:7880")
}

fn tls_on() -> bool {
    match var(env::CONTROL_TLS, "off").as_str() {
        "off" => false,
        "self-signed" => true,
        other => fail(format!("STRATUS_CONTROL_TLS must be `off` or `self-signed`, not {other:?}")),
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap_or_else(|e| fail(e.to_string()));
    match std::env::args().nth(1).as_deref() {
        None => rt.block_on(serve()),
        Some("healthcheck") => std::process::exit(rt.block_on(healthcheck())),
        Some(other) => fail(format!("unknown command {other:?} (commands: healthcheck)")),
    }
}

/// GET `/healthz` on this host's node: 0 when it answers 200 within 3 s, else 1.
async fn healthcheck() -> i32 {
    let addr: SocketAddr =
        listen_addr().parse().unwrap_or_else(|_| fail("STRATUS_MEDIA_ADDR must be host:port".into()));
    let scheme = if tls_on() { "https" } else { "http" };
    let mut b = reqwest::Client::builder().timeout(Duration::from_secs(3));
    if scheme == "https" {
        b = b.tls_backend_preconfigured(stratus_control::tls::any_certificate());
    }
    let client = b.build().unwrap_or_else(|e| fail(e.to_string()));
    let url = format!("{scheme}://127.0.0.1:{}/healthz", addr.port());
    match client.get(&url).send().await {
        Ok(r) if r.status().is_success() => 0,
        Ok(r) => {
            eprintln!("stratus-media-node healthcheck: {url} answered {}", r.status());
            1
        }
        Err(e) => {
            eprintln!("stratus-media-node healthcheck: {url}: {e}");
            1
        }
    }
}

async fn serve() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt().json().with_env_filter(filter).with_target(false).try_init();
    let addr = listen_addr();
    let keys = std::env::var(env::CONTROL_KEYS)
        .map_err(|_| "STRATUS_CONTROL_KEYS is not set".to_owned())
        .and_then(|k| stratus_control::parse_keys(&k))
        .unwrap_or_else(|e| fail(e));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let bind_ip: IpAddr = var(env::MEDIA_BIND_IP, "0.0.0.0")
        .parse()
        .unwrap_or_else(|_| fail("STRATUS_MEDIA_BIND_IP must be an IP address".into()));
    let source: Source = var(env::PUBLIC_IP, "127.0.0.1").parse().unwrap_or_else(|e| fail(e));
    let found = address::discover(&source).await.unwrap_or_else(|e| fail(format!("public address: {e}")));
    let public_ip = found.public;
    let cpus = std::thread::available_parallelism().map(|n| n.get() as u64).unwrap_or(1);
    let config = SfuConfig {
        public_ip,
        bind_ip,
        udp_port: num(env::MEDIA_UDP_PORT, 0) as u16,
        workers: num(env::MEDIA_WORKERS, cpus).max(1) as usize,
        max_participants_per_room: num(env::ROOM_MAX_PARTICIPANTS, 100) as u32,
    };
    let (events_tx, events_rx) = tokio::sync::mpsc::unbounded_channel();
    let sfu = Arc::new(Sfu::start(config, events_tx).unwrap_or_else(|e| fail(format!("media sockets: {e}"))));
    let sdk = aws_config::load_from_env().await;
    let sink: Option<Arc<dyn ConnectionSink>> = match std::env::var(env::WS_MANAGEMENT_ENDPOINT) {
        Ok(ep) if ep.starts_with("http://") => {
            let creds = std::env::var(env::WS_MANAGEMENT_CREDENTIALS).unwrap_or_default();
            let Some((key, secret)) = creds.split_once(':') else {
                fail(format!(
                    "{}: an http:// endpoint needs {}",
                    env::WS_MANAGEMENT_ENDPOINT,
                    env::WS_MANAGEMENT_CREDENTIALS
                ))
            };
            Some(Arc::new(ManagementApiSink::local(&ep, key, secret)))
        }
        Ok(ep) => Some(Arc::new(ManagementApiSink::new(&sdk, &ep))),
        Err(_) => None,
    };
    tokio::spawn(stratus_media_node::events::push(events_rx, sink));
    let state = Arc::new(stratus_media_node::NodeState::new(
        var(env::NODE_ID, &uuid::Uuid::new_v4().to_string()),
        var(env::REGION, "local"),
        stratus_control::Verifier::new(keys),
        clock.clone(),
        sfu.clone(),
    ));
    let listener = std::net::TcpListener::bind(&addr).unwrap_or_else(|e| fail(format!("bind {addr}: {e}")));
    let local = listener.local_addr().unwrap_or_else(|e| fail(e.to_string()));
    let tls = tls_on().then(|| {
        let mut names = vec![public_ip.to_string(), "127.0.0.1".to_owned(), "localhost".to_owned()];
        names.extend(found.private.map(|p| p.to_string()));
        names.dedup();
        stratus_control::tls::self_signed(names).unwrap_or_else(|e| fail(e))
    });
    let default_url = match &tls {
        Some(_) => format!("https://{}", SocketAddr::new(public_ip, local.port())),
        None => format!("http://{local}"),
    };
    let mut reg = Registration::new(
        var(env::CONTROL_URL, &default_url),
        public_ip.to_string(),
        num(env::MAX_PARTICIPANTS, 500) as i64,
        Duration::from_secs(num(env::HEARTBEAT_SECS, 5).max(1)),
    );
    reg.control_cert_sha256 = tls.as_ref().map(|(_, fp)| fp.clone());
    let reg = Arc::new(reg);
    let table: Option<Arc<dyn Table>> = match std::env::var(MAIN.name_env) {
        Ok(name) => {
            let endpoint = std::env::var(env::DYNAMODB_ENDPOINT).ok();
            let client = stratus_dynamo::client(endpoint.as_deref()).await;
            Some(Arc::new(stratus_dynamo::DynamoTable::new(client, name, &MAIN, clock.clone())))
        }
        Err(_) => {
            eprintln!("stratus-media-node: {} not set; running unregistered", MAIN.name_env);
            None
        }
    };
    let protection = Protection::from_env().map(Arc::new);
    tokio::spawn(registry::heartbeats(table.clone(), state.clone(), reg.clone(), protection.clone()));
    if let Ok(service) = std::env::var(env::METRICS_SERVICE) {
        let namespace = var(env::METRICS_NAMESPACE, stratus_media_node::cloudwatch::DEFAULT_NAMESPACE);
        let every = Duration::from_secs(num(env::METRICS_SECS, 60).max(1));
        let publisher = stratus_media_node::cloudwatch::Publisher::new(&sdk, namespace, service);
        tokio::spawn(stratus_media_node::cloudwatch::publish_every(publisher, state.clone(), every));
    }
    let media: Vec<String> = sfu.media_addrs().iter().map(|a| a.to_string()).collect();
    println!(
        "stratus-media-node {} control {} (listening on {local}), announcing {public_ip}, media on udp {}",
        state.id,
        reg.control_url,
        media.join(",")
    );
    let drain = Drain {
        wait: Duration::from_secs(num(env::DRAIN_SECS, 300)),
        linger: Duration::from_secs(num(env::DRAIN_LINGER_SECS, 60)),
    };
    let handle = axum_server::Handle::new();
    {
        let (state, reg, handle) = (state.clone(), reg.clone(), handle.clone());
        tokio::spawn(async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .unwrap_or_else(|e| fail(format!("SIGTERM handler: {e}")));
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
                _ = reg.drain_asked.notified() => {}
            }
            registry::drain(table, state, reg, protection, drain).await;
            handle.graceful_shutdown(Some(Duration::from_secs(5)));
        });
    }
    let app = stratus_media_node::app(state).into_make_service();
    let served = match tls {
        Some((cfg, _)) => {
            let cfg = axum_server::tls_rustls::RustlsConfig::from_config(cfg);
            match axum_server::from_tcp_rustls(listener, cfg) {
                Ok(s) => s.handle(handle).serve(app).await,
                Err(e) => Err(e),
            }
        }
        None => match axum_server::from_tcp(listener) {
            Ok(s) => s.handle(handle).serve(app).await,
            Err(e) => Err(e),
        },
    };
    if let Err(e) = served {
        fail(e.to_string());
    }
}

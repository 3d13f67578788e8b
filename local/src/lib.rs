//! # stratus-local
//!
//! The local stack: one process that serves the platform on loopback with no AWS account
//! and no Docker. Today it serves the REST API (the same `stratus_api::router` the Lambda
//! runs) on the embedded store, or on any DynamoDB endpoint (`--dynamodb-endpoint`).
//! Later issues add the WebSocket gateway emulator, a media node and the demo page here.
//!
//! Layout:
//! - [`Options`] — command-line flags / environment.
//! - [`start`]  — builds the store and authority, binds, returns the running server.
//! - `main.rs`  — parses options, prints the banner, runs until Ctrl-C.
//!
//! Development credentials: an app key (`dev` by default) and a random app secret and JWT
//! secret per start, unless given. They exist in this mode only; the Lambda functions read
//! theirs from Secrets Manager.

use clap::Parser;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use stratus_api::{AppState, ServiceInfo};
use stratus_core::auth::{AuthConfig, Authority, MIN_JWT_SECRET, Secret};
use stratus_core::clock::{Clock, SystemClock};
use stratus_core::store::Table;
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
    /// JWT signing secret, at least 32 bytes (random per start when not given).
    #[arg(long, env = "STRATUS_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
}

pub struct Running {
    pub addr: SocketAddr,
    pub store: String,
    pub app_key: String,
    pub app_secret: String,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub async fn start(opts: Options) -> Result<Running, String> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let table: Arc<dyn Table> = match &opts.dynamodb_endpoint {
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
    };
    let app_secret =
        opts.app_secret.clone().unwrap_or_else(|| String::from_utf8_lossy(Secret::random_hex().expose()).into());
    let jwt_secret = match &opts.jwt_secret {
        Some(s) if s.len() < MIN_JWT_SECRET => {
            return Err(format!("--jwt-secret must be at least {MIN_JWT_SECRET} bytes"));
        }
        Some(s) => Secret::new(s.clone()),
        None => Secret::random_hex(),
    };
    let cfg =
        AuthConfig::new("stratus-local", jwt_secret).with_app(opts.app_key.clone(), Secret::new(app_secret.clone()));
    let state = AppState::new(table.clone(), Authority::new(cfg), clock, ServiceInfo::new("local"));
    let listener =
        tokio::net::TcpListener::bind(opts.listen).await.map_err(|e| format!("bind {}: {e}", opts.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = stratus_api::router(state);
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
    });
    Ok(Running { addr, store: table.describe(), app_key: opts.app_key, app_secret, server })
}

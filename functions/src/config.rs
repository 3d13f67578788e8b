//! Environment → the pieces a function needs. Errors name the missing setting, never a
//! secret's value.

use aws_config::BehaviorVersion;
use std::sync::Arc;
use stratus_api::ServiceInfo;
use stratus_api::graph::{Graph, Parts};
use stratus_core::auth::{AuthConfig, Authority, CredentialsDoc, Secret};
use stratus_core::calls::CallsConfig;
use stratus_core::clock::{Clock, SystemClock};
use stratus_core::ice::IceConfig;
use stratus_core::objects::ObjectStore;
use stratus_core::sfu::MediaControl;
use stratus_core::store::Table;
use stratus_core::store::schema::MAIN;
use stratus_dynamo::DynamoTable;
use stratus_dynamo::management::ManagementApiSink;

pub const CREDENTIALS_SECRET_ENV: &str = "STRATUS_CREDENTIALS_SECRET";
pub const CONTROL_SECRET_ENV: &str = "STRATUS_CONTROL_SECRET";
/// The WebSocket API's management endpoint, `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`.
pub const WS_ENDPOINT_ENV: &str = "STRATUS_WS_MANAGEMENT_ENDPOINT";
pub const SIGNALING_URL_ENV: &str = "STRATUS_SIGNALING_URL";
pub const RING_TIMEOUT_ENV: &str = "STRATUS_RING_TIMEOUT_SECS";
pub const ISSUER_ENV: &str = "STRATUS_ISSUER";
/// Comma-separated STUN and TURN URLs handed to clients; the TURN secret is the credentials
/// document's `turn_secret`.
pub const STUN_URLS_ENV: &str = "STRATUS_STUN_URLS";
pub const TURN_URLS_ENV: &str = "STRATUS_TURN_URLS";
pub const ICE_TTL_ENV: &str = "STRATUS_ICE_TTL_SECS";
/// The bucket chat attachments go to (uploads answer 503 without it).
pub const ATTACHMENTS_BUCKET_ENV: &str = "STRATUS_ATTACHMENTS_BUCKET";

/// Every variable a function reads (besides the SDK's own), for the template check.
pub const ENV: &[&str] = &[
    MAIN.name_env,
    CREDENTIALS_SECRET_ENV,
    CONTROL_SECRET_ENV,
    WS_ENDPOINT_ENV,
    SIGNALING_URL_ENV,
    RING_TIMEOUT_ENV,
    ISSUER_ENV,
    STUN_URLS_ENV,
    TURN_URLS_ENV,
    ICE_TTL_ENV,
    ATTACHMENTS_BUCKET_ENV,
];

/// Logs an init failure and passes it on (messages name settings, never secret values).
pub fn logged<T>(res: Result<T, String>) -> Result<T, String> {
    if let Err(e) = &res {
        tracing::error!(error = %e, "init failed");
    }
    res
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).ok().filter(|v| !v.is_empty()).ok_or_else(|| format!("environment variable {name} is not set"))
}

async fn secret_string(client: &aws_sdk_secretsmanager::Client, secret_id: &str) -> Result<String, String> {
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| format!("reading secret {secret_id}: {}", e.into_service_error()))?;
    out.secret_string().map(str::to_owned).ok_or_else(|| format!("secret {secret_id} has no string value"))
}

/// Reads the credentials document from Secrets Manager and builds the token authority.
pub async fn authority(sdk: &aws_config::SdkConfig) -> Result<Authority, String> {
    Ok(credentials(sdk).await?.authority)
}

/// What the secrets hold for a function.
pub struct Credentials {
    pub authority: Authority,
    /// The media control keys, when `STRATUS_CONTROL_SECRET` is set.
    pub control_keys: Option<Vec<stratus_control::Key>>,
    /// The TURN shared secret, when the credentials document has one.
    pub turn_secret: Option<Secret>,
}

/// The token authority, the TURN secret and, when `STRATUS_CONTROL_SECRET` is set (a
/// deployment with a media fleet), the media control keys from that secret. Both secrets are
/// read concurrently.
pub async fn credentials(sdk: &aws_config::SdkConfig) -> Result<Credentials, String> {
    let secret_id = env(CREDENTIALS_SECRET_ENV)?;
    let issuer = std::env::var(ISSUER_ENV).unwrap_or_else(|_| "stratus".into());
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let control_id = std::env::var(CONTROL_SECRET_ENV).ok().filter(|v| !v.is_empty());
    let (doc, control) = tokio::join!(secret_string(&client, &secret_id), async {
        match &control_id {
            Some(id) => secret_string(&client, id).await.map(Some),
            None => Ok(None),
        }
    });
    let control_keys = control?
        .map(|k| stratus_control::parse_keys(&k).map_err(|e| format!("{CONTROL_SECRET_ENV}: {e}")))
        .transpose()?;
    let doc = doc?;
    let authority = AuthConfig::from_credentials_json(issuer, &doc).map(Authority::new)?;
    let turn_secret = serde_json::from_str::<CredentialsDoc>(&doc)
        .map_err(|_| "credentials document".to_owned())?
        .turn_secret
        .map(Secret::new);
    Ok(Credentials { authority, control_keys, turn_secret })
}

fn list(name: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// STUN/TURN for clients: URLs from the environment, the secret from the credentials.
pub fn ice_config(turn_secret: Option<Secret>) -> Result<IceConfig, String> {
    let ttl = match std::env::var(ICE_TTL_ENV) {
        Ok(v) => v.parse().map_err(|_| format!("{ICE_TTL_ENV} must be a number of seconds"))?,
        Err(_) => stratus_core::ice::DEFAULT_TTL_SECS,
    };
    IceConfig::new(list(STUN_URLS_ENV), list(TURN_URLS_ENV), turn_secret, ttl)
}

/// Media nodes driven over signed HTTPS with the first control key (the signing one; the
/// second is only accepted by nodes while a rotation is staged), or `None` without keys.
pub fn media_control(keys: Option<Vec<stratus_control::Key>>) -> Option<Arc<dyn MediaControl>> {
    let key = keys?.into_iter().next()?;
    Some(Arc::new(stratus_control::client::NodeControl::new(key)))
}

/// The main table on DynamoDB.
pub fn table(sdk: &aws_config::SdkConfig, clock: Arc<dyn Clock>) -> Result<Arc<dyn Table>, String> {
    let name = env(MAIN.name_env)?;
    Ok(Arc::new(DynamoTable::new(stratus_dynamo::client_from(sdk), name, &MAIN, clock)))
}

/// Chat attachments on S3, when the bucket is set. An endpoint in the SDK's environment
/// (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`: LocalStack, moto) makes requests path-style.
pub fn objects(sdk: &aws_config::SdkConfig) -> Option<Arc<dyn ObjectStore>> {
    let bucket = std::env::var(ATTACHMENTS_BUCKET_ENV).ok().filter(|b| !b.is_empty())?;
    let endpoint = std::env::var("AWS_ENDPOINT_URL_S3").ok().or_else(|| sdk.endpoint_url().map(str::to_owned));
    Some(Arc::new(stratus_dynamo::s3::S3Objects::new(sdk, bucket, endpoint.as_deref())))
}

/// Call settings: `STRATUS_SIGNALING_URL` (the public WebSocket URL handed to callers) and
/// `STRATUS_RING_TIMEOUT_SECS` (default 45).
pub fn calls_config() -> Result<CallsConfig, String> {
    let mut cfg = CallsConfig { signaling_url: env(SIGNALING_URL_ENV)?, ..CallsConfig::default() };
    if let Ok(v) = std::env::var(RING_TIMEOUT_ENV) {
        let secs: i64 = v.parse().map_err(|_| format!("{RING_TIMEOUT_ENV} must be a number of seconds"))?;
        cfg.ring_timeout_ms = secs * 1000;
    }
    Ok(cfg)
}

/// The service graph on AWS: DynamoDB, the Management API, keys and secrets from Secrets
/// Manager, the settings from the environment. Every function serves from it.
pub async fn graph() -> Result<Graph, String> {
    let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let table = table(&sdk, clock.clone())?;
    let c = credentials(&sdk).await?;
    let sink: Arc<dyn stratus_core::sink::ConnectionSink> =
        Arc::new(ManagementApiSink::new(&sdk, &env(WS_ENDPOINT_ENV)?));
    let ice = ice_config(c.turn_secret).unwrap_or_else(|e| {
        // The rest of the API stays up; the route says no relay is offered.
        tracing::error!(error = %e, "ICE servers misconfigured; handing out none");
        IceConfig::default()
    });
    let parts = Parts::new(table, sink, Arc::new(c.authority), clock, ServiceInfo::new("lambda"), calls_config()?)
        .with_media(media_control(c.control_keys))
        .with_ice(ice)
        .with_objects(objects(&sdk));
    Ok(Graph::build(parts))
}

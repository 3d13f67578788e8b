//! The AWS endpoint every AWS-backed test uses.
//!
//! Order of choice:
//! 1. `STRATUS_TEST_AWS_ENDPOINT` or `AWS_ENDPOINT_URL`: an endpoint someone already runs
//!    (LocalStack, moto, anything LocalStack-compatible).
//! 2. With feature `localstack` and `STRATUS_TEST_LOCALSTACK=1`: a LocalStack container
//!    through testcontainers (needs a Docker engine).
//! 3. Otherwise moto's server on a free loopback port, one per test process, handling one
//!    request at a time (`tests/moto_server.py` says why). It is started behind a small
//!    shell watchdog that kills it when our end of its stdin closes, i.e. when the test
//!    process exits, however it exits.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointKind {
    /// Given in the environment.
    External,
    /// A moto server this process started.
    Moto,
    /// A LocalStack container this process started.
    LocalStack,
}

#[derive(Debug)]
pub struct AwsEndpoint {
    pub url: String,
    pub kind: EndpointKind,
    /// moto's request log, when this process started moto.
    pub log: Option<std::path::PathBuf>,
}

struct Moto {
    // Held so the watchdog's stdin stays open for the life of the process; it closes (and
    // moto stops) when the process exits.
    _child: Child,
}

static ENDPOINT: OnceLock<AwsEndpoint> = OnceLock::new();
static MOTO: OnceLock<Moto> = OnceLock::new();

/// The shared endpoint, started on first use. Panics with a helpful message if moto is
/// missing (the README's test command installs it).
pub fn endpoint() -> &'static AwsEndpoint {
    ENDPOINT.get_or_init(|| {
        for var in ["STRATUS_TEST_AWS_ENDPOINT", "AWS_ENDPOINT_URL"] {
            if let Ok(url) = std::env::var(var)
                && !url.is_empty()
            {
                eprintln!("[aws-harness] using {url} from ${var}");
                return AwsEndpoint { url, kind: EndpointKind::External, log: None };
            }
        }
        #[cfg(feature = "localstack")]
        if std::env::var("STRATUS_TEST_LOCALSTACK").as_deref() == Ok("1") {
            return localstack::start();
        }
        start_moto()
    })
}

fn free_port() -> u16 {
    // Binding port 0 asks the kernel for a free port; the listener closes before moto binds.
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free loopback port")
}

fn start_moto() -> AwsEndpoint {
    let python = std::env::var("STRATUS_PYTHON").unwrap_or_else(|_| "python3".into());
    let port = free_port();
    let log = std::env::temp_dir().join(format!("stratus-moto-{port}.log"));
    let script = format!(
        "{python} -c \"$STRATUS_MOTO_SERVER\" 127.0.0.1 {port} >'{}' 2>&1 & pid=$!; read _; kill $pid",
        log.display()
    );
    let child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("STRATUS_MOTO_SERVER", include_str!("../moto_server.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn sh for moto");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if Instant::now() > deadline {
            let out = std::fs::read_to_string(&log).unwrap_or_default();
            panic!(
                "moto server did not start on {addr} within 30 s (is `moto[server]` installed? \
                 run ./scripts/test.sh, which installs it). Its output:\n{out}"
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let url = format!("http://{addr}");
    eprintln!("[aws-harness] started moto server at {url} (log: {})", log.display());
    let _ = MOTO.set(Moto { _child: child });
    AwsEndpoint { url, kind: EndpointKind::Moto, log: Some(log) }
}

/// The environment a child process (a function binary) needs to use the shared endpoint
/// with the SDK's default configuration.
pub fn sdk_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint().url.clone()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
    ]
}

/// A table name no other test in any process uses.
pub fn unique_name(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Creates a Secrets Manager secret holding `doc` at the shared endpoint; returns its ARN.
pub async fn create_secret(doc: &serde_json::Value) -> String {
    use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
    let conf = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&endpoint().url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .build();
    let out = aws_sdk_secretsmanager::Client::from_conf(conf)
        .create_secret()
        .name(unique_name("stratus-credentials"))
        .secret_string(doc.to_string())
        .send()
        .await
        .expect("create secret");
    out.arn().expect("secret arn").to_owned()
}

/// A DynamoDB client for the shared endpoint.
pub async fn dynamodb() -> aws_sdk_dynamodb::Client {
    stratus_dynamo::client(Some(&endpoint().url)).await
}

/// The SDK configuration for the shared endpoint (dummy credentials, us-east-1).
pub async fn sdk_config() -> aws_config::SdkConfig {
    use aws_config::{BehaviorVersion, Region};
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(&endpoint().url)
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new("test", "test", None, None, "test"))
        .load()
        .await
}

/// A fresh bucket at the shared endpoint as an object store (what the functions use).
pub async fn s3_objects() -> std::sync::Arc<stratus_dynamo::s3::S3Objects> {
    let url = &endpoint().url;
    let objects = stratus_dynamo::s3::S3Objects::new(&sdk_config().await, unique_name("stratus-objects"), Some(url));
    objects.client().create_bucket().bucket(objects.bucket()).send().await.expect("create bucket");
    std::sync::Arc::new(objects)
}

/// Table `name` of the main schema on the harness's endpoint, on the system clock: how a test
/// reads and writes what a stack or node process stored there.
pub async fn main_table(name: &str) -> stratus_dynamo::DynamoTable {
    let clock = std::sync::Arc::new(stratus_core::clock::SystemClock);
    stratus_dynamo::DynamoTable::new(dynamodb().await, name, &stratus_core::store::schema::MAIN, clock)
}

#[cfg(feature = "localstack")]
mod localstack {
    use super::{AwsEndpoint, EndpointKind};
    use std::sync::OnceLock;
    use testcontainers::ContainerAsync;
    use testcontainers::runners::AsyncRunner;
    use testcontainers_modules::localstack::LocalStack;

    static CONTAINER: OnceLock<ContainerAsync<LocalStack>> = OnceLock::new();

    pub fn start() -> AwsEndpoint {
        // Called from inside a test's runtime: start the container on a runtime of its own.
        let (container, url) = std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                let c = LocalStack::default().start().await.expect("start LocalStack (is Docker running?)");
                let port = c.get_host_port_ipv4(4566).await.expect("LocalStack port");
                let host = c.get_host().await.expect("LocalStack host");
                (c, format!("http://{host}:{port}"))
            })
        })
        .join()
        .expect("LocalStack start thread");
        eprintln!("[aws-harness] started LocalStack at {url}");
        let _ = CONTAINER.set(container);
        AwsEndpoint { url, kind: EndpointKind::LocalStack, log: None }
    }
}

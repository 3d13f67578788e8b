//! The environment the `stratus-media-node` binary reads (its `main.rs` says what each
//! means). One list, so the deployment's task definition is checked against what the
//! binary reads (tests/tests/template.rs).

pub const MEDIA_ADDR: &str = "STRATUS_MEDIA_ADDR";
pub const CONTROL_KEYS: &str = "STRATUS_CONTROL_KEYS";
pub const CONTROL_TLS: &str = "STRATUS_CONTROL_TLS";
pub const CONTROL_URL: &str = "STRATUS_CONTROL_URL";
pub const PUBLIC_IP: &str = "STRATUS_PUBLIC_IP";
pub const NODE_ID: &str = "STRATUS_NODE_ID";
pub const REGION: &str = "STRATUS_REGION";
pub const TABLE: &str = "STRATUS_TABLE";
pub const DYNAMODB_ENDPOINT: &str = "STRATUS_DYNAMODB_ENDPOINT";
pub const MAX_PARTICIPANTS: &str = "STRATUS_MAX_PARTICIPANTS";
pub const HEARTBEAT_SECS: &str = "STRATUS_HEARTBEAT_SECS";
pub const DRAIN_SECS: &str = "STRATUS_DRAIN_SECS";
pub const DRAIN_LINGER_SECS: &str = "STRATUS_DRAIN_LINGER_SECS";
pub const MEDIA_UDP_PORT: &str = "STRATUS_MEDIA_UDP_PORT";
pub const MEDIA_WORKERS: &str = "STRATUS_MEDIA_WORKERS";
pub const MEDIA_BIND_IP: &str = "STRATUS_MEDIA_BIND_IP";
pub const ROOM_MAX_PARTICIPANTS: &str = "STRATUS_ROOM_MAX_PARTICIPANTS";
pub const WS_MANAGEMENT_ENDPOINT: &str = "STRATUS_WS_MANAGEMENT_ENDPOINT";
pub const WS_MANAGEMENT_CREDENTIALS: &str = "STRATUS_WS_MANAGEMENT_CREDENTIALS";
pub const METRICS_SERVICE: &str = "STRATUS_METRICS_SERVICE";
pub const METRICS_NAMESPACE: &str = "STRATUS_METRICS_NAMESPACE";
pub const METRICS_SECS: &str = "STRATUS_METRICS_SECS";

pub const ALL: &[&str] = &[
    MEDIA_ADDR,
    CONTROL_KEYS,
    CONTROL_TLS,
    CONTROL_URL,
    PUBLIC_IP,
    NODE_ID,
    REGION,
    TABLE,
    DYNAMODB_ENDPOINT,
    MAX_PARTICIPANTS,
    HEARTBEAT_SECS,
    DRAIN_SECS,
    DRAIN_LINGER_SECS,
    MEDIA_UDP_PORT,
    MEDIA_WORKERS,
    MEDIA_BIND_IP,
    ROOM_MAX_PARTICIPANTS,
    WS_MANAGEMENT_ENDPOINT,
    WS_MANAGEMENT_CREDENTIALS,
    METRICS_SERVICE,
    METRICS_NAMESPACE,
    METRICS_SECS,
];

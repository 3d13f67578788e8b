//! Health and version bodies.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Degraded,
    Down,
}

/// `GET /health`, `/health/live`, `/health/ready`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub status: Status,
    pub service: String,
    pub version: String,
    pub timestamp: String,
}

/// One dependency check in `/health/detailed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub status: Status,
    /// How long the check took, in milliseconds (fractional).
    pub duration_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What was checked, e.g. `"dynamodb:stratus-main"` or `"memory"`.
    pub target: String,
}

/// `GET /health/detailed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetailedHealth {
    pub status: Status,
    pub service: String,
    pub version: String,
    pub timestamp: String,
    pub uptime_seconds: u64,
    pub checks: BTreeMap<String, Check>,
}

/// `GET /api/version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionInfo {
    pub service: String,
    pub version: String,
    pub protocol_version: u32,
    /// Where this build runs: `"lambda"` or `"local"`.
    pub runtime: String,
}

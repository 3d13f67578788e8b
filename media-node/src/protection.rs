//! ECS task scale-in protection: while the node hosts a room, the ECS agent is asked to keep
//! its task out of scale-in (and out of deployments), so autoscaling only ever stops empty
//! nodes. The protection is taken for [`PROTECT_MINUTES`] and renewed while rooms remain
//! (a node that dies without clearing it loses it at expiry), and cleared when the last room
//! goes. Endpoint: `$ECS_AGENT_URI/task-protection/v1/state`, which ECS injects.

use std::time::{Duration, Instant};
use tokio::sync::Mutex;

pub const PROTECT_MINUTES: u64 = 60;
/// Renewed when less than this is left.
const RENEW_BEFORE: Duration = Duration::from_secs(30 * 60);

pub struct Protection {
    url: String,
    http: reqwest::Client,
    /// Until when the agent protects the task, as far as we know (`None`: unprotected).
    until: Mutex<Option<Instant>>,
}

impl Protection {
    /// From `ECS_AGENT_URI`; `None` outside ECS.
    pub fn from_env() -> Option<Protection> {
        let agent = std::env::var("ECS_AGENT_URI").ok().filter(|v| !v.is_empty())?;
        Some(Protection::new(&agent))
    }

    pub fn new(agent_uri: &str) -> Protection {
        Protection {
            url: format!("{}/task-protection/v1/state", agent_uri.trim_end_matches('/')),
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(2))
                .timeout(Duration::from_secs(5))
                .build()
                .expect("an HTTP client builds"),
            until: Mutex::new(None),
        }
    }

    /// Whether the task is protected now, as last set.
    pub async fn is_protected(&self) -> bool {
        self.until.lock().await.is_some_and(|u| u > Instant::now())
    }

    /// Brings the protection in line with whether the node hosts rooms. Failures are
    /// logged and retried on the next call; the state changes only on the agent's success.
    pub async fn sync(&self, hosting: bool) {
        let mut until = self.until.lock().await;
        let now = Instant::now();
        let body = match (*until, hosting) {
            (Some(u), true) if u > now + RENEW_BEFORE => return,
            (_, true) => serde_json::json!({ "ProtectionEnabled": true, "ExpiresInMinutes": PROTECT_MINUTES }),
            (None, false) => return,
            (Some(_), false) => serde_json::json!({ "ProtectionEnabled": false }),
        };
        match self.put(&body).await {
            Ok(()) => {
                *until = hosting.then(|| now + Duration::from_secs(PROTECT_MINUTES * 60));
                tracing::info!(protected = hosting, "task scale-in protection set");
            }
            Err(e) => tracing::warn!(error = %e, protected = hosting, "task scale-in protection not set"),
        }
    }

    async fn put(&self, body: &serde_json::Value) -> Result<(), String> {
        let res = self.http.put(&self.url).json(body).send().await.map_err(|e| e.to_string())?;
        let status = res.status();
        let reply: serde_json::Value = res.json().await.unwrap_or_default();
        // The agent answers `protection`, or an `error` / `failure` (which can come with a 200).
        let refusal = reply.get("error").or_else(|| reply.get("failure"));
        match (status.is_success(), reply.get("protection"), refusal) {
            (true, Some(_), None) => Ok(()),
            _ => Err(format!("agent answered {status}: {}", refusal.unwrap_or(&reply))),
        }
    }
}

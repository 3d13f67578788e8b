//! The scheduled sweeper: removes WebSocket connections whose `$disconnect` never came, and
//! turns calls that rang past their timeout into missed calls, and moves group rooms off
//! media nodes that stopped heartbeating (their members get `roomMoved`).

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};
use std::sync::Arc;
use stratus_core::clock::{Clock, SystemClock};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    stratus_api::telemetry::init();
    let s = stratus_functions::config::logged(stratus_functions::config::ws_services().await)?;
    let (sig, calls, sfu) = (Arc::new(s.signaling), Arc::new(s.calls), s.sfu);
    lambda_runtime::run(service_fn(move |_ev: LambdaEvent<Value>| {
        let (sig, calls, sfu) = (sig.clone(), calls.clone(), sfu.clone());
        async move {
            let now = SystemClock.now_ms();
            let report = sig.sweep(now).await?;
            let missed = calls.expire_due(now).await?;
            let moved = match &sfu {
                Some(sfu) => sfu.sweep(now).await?,
                None => 0,
            };
            tracing::info!(
                checked = report.checked,
                removed = report.removed,
                missed_calls = missed,
                rooms_moved = moved,
                "sweep done"
            );
            Ok::<_, lambda_runtime::Error>(
                json!({ "checked": report.checked, "removed": report.removed, "missed_calls": missed, "rooms_moved": moved }),
            )
        }
    }))
    .await
}

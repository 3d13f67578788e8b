//! The scheduled sweeper: removes WebSocket connections whose `$disconnect` never came, and
//! turns calls that rang past their timeout into missed calls.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};
use std::sync::Arc;
use stratus_core::clock::{Clock, SystemClock};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    stratus_api::telemetry::init();
    let (sig, calls) = stratus_functions::config::logged(stratus_functions::config::ws_services().await)?;
    let (sig, calls) = (Arc::new(sig), Arc::new(calls));
    lambda_runtime::run(service_fn(move |_ev: LambdaEvent<Value>| {
        let (sig, calls) = (sig.clone(), calls.clone());
        async move {
            let now = SystemClock.now_ms();
            let report = sig.sweep(now).await?;
            let missed = calls.expire_due(now).await?;
            tracing::info!(checked = report.checked, removed = report.removed, missed_calls = missed, "sweep done");
            Ok::<_, lambda_runtime::Error>(
                json!({ "checked": report.checked, "removed": report.removed, "missed_calls": missed }),
            )
        }
    }))
    .await
}

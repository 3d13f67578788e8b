//! The scheduled sweeper: removes WebSocket connections whose `$disconnect` never came.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};
use std::sync::Arc;
use stratus_core::clock::{Clock, SystemClock};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    stratus_api::telemetry::init();
    let sig = Arc::new(stratus_functions::config::logged(stratus_functions::config::ws_signaling().await)?);
    lambda_runtime::run(service_fn(move |_ev: LambdaEvent<Value>| {
        let sig = sig.clone();
        async move {
            let report = sig.sweep(SystemClock.now_ms()).await?;
            tracing::info!(checked = report.checked, removed = report.removed, "sweep done");
            Ok::<_, lambda_runtime::Error>(json!({ "checked": report.checked, "removed": report.removed }))
        }
    }))
    .await
}

//! The scheduled sweeper: removes WebSocket connections whose `$disconnect` never came, and
//! turns calls that rang past their timeout into missed calls, and moves group rooms off
//! media nodes that stopped heartbeating (their members get `roomMoved`).

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};
use stratus_core::clock::{Clock, SystemClock};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    stratus_api::telemetry::init();
    let g = stratus_functions::config::logged(stratus_functions::config::graph().await)?;
    let (sig, state, sfu) = (g.signaling, g.state, g.sfu);
    lambda_runtime::run(service_fn(move |_ev: LambdaEvent<Value>| {
        let (sig, state, sfu) = (sig.clone(), state.clone(), sfu.clone());
        async move {
            let now = SystemClock.now_ms();
            let report = sig.sweep(now).await?;
            // Calls and rooms live in each app's namespace: sweep every configured app's.
            let apps = state.auth.apps();
            let missed = state.calls.expire_due(&apps, now).await?;
            let moved = match &sfu {
                Some(sfu) => sfu.sweep(&apps, now).await?,
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

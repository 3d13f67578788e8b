//! The WebSocket API's routes (`$connect`, `$disconnect`, `$default` and the message
//! routes) as one Lambda function.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use lambda_runtime::{LambdaEvent, service_fn};
use stratus_core::clock::{Clock, SystemClock};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    stratus_api::telemetry::init();
    let graph = stratus_functions::config::logged(stratus_functions::config::graph().await)?;
    let sig = graph.signaling;
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<ApiGatewayWebsocketProxyRequest>| {
        let sig = sig.clone();
        async move {
            let res: ApiGatewayProxyResponse =
                stratus_functions::ws::handle(&sig, &ev.payload, SystemClock.now_ms()).await;
            Ok::<_, lambda_runtime::Error>(res)
        }
    }))
    .await
}

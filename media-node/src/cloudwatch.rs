//! The node's load in CloudWatch, for the fleet's autoscaling (target tracking on the average
//! participants per node) and its alarms (how many nodes report). One `PutMetricData` per
//! period with the node's figures under one dimension, `Service`, so CloudWatch averages
//! across nodes without per-node metrics (which would cost a custom metric each).
//!
//! Enabled by `STRATUS_METRICS_SERVICE` (the dimension's value); `STRATUS_METRICS_NAMESPACE`
//! (default `Stratus/MediaNodes`), `STRATUS_METRICS_SECS` (default 60).

use crate::aws_query;
use std::time::Duration;
use stratus_core::nodes::Load;

pub const DEFAULT_NAMESPACE: &str = "Stratus/MediaNodes";
/// What the fleet's target tracking averages over nodes.
pub const PARTICIPANTS: &str = "Participants";
/// 1 per node per period: the sum counts the nodes reporting.
pub const NODES: &str = "Nodes";

pub struct Publisher {
    client: aws_query::Client,
    namespace: String,
    service: String,
}

impl Publisher {
    pub fn new(sdk: &aws_config::SdkConfig, namespace: String, service: String) -> Publisher {
        Publisher { client: aws_query::Client::new(sdk.clone()), namespace, service }
    }

    /// The figures of one period: `Participants`, `Rooms`, `Draining` (0/1) and `Nodes` (1,
    /// so the sum over the service counts the nodes reporting).
    pub async fn publish(&self, load: &Load, draining: bool) -> Result<(), String> {
        let figures = [
            (PARTICIPANTS, load.participants as f64),
            ("Rooms", load.rooms as f64),
            ("Draining", if draining { 1.0 } else { 0.0 }),
            (NODES, 1.0),
        ];
        let mut params = vec![("Namespace".to_owned(), self.namespace.clone())];
        for (i, (name, value)) in figures.iter().enumerate() {
            let m = format!("MetricData.member.{}", i + 1);
            params.extend([
                (format!("{m}.MetricName"), (*name).to_owned()),
                (format!("{m}.Value"), value.to_string()),
                (format!("{m}.Unit"), "Count".to_owned()),
                (format!("{m}.Dimensions.member.1.Name"), "Service".to_owned()),
                (format!("{m}.Dimensions.member.1.Value"), self.service.clone()),
            ]);
        }
        self.client.call(&aws_query::CLOUDWATCH, "PutMetricData", &params).await.map(|_| ())
    }
}

/// Publishes `state`'s load every `every` until the process ends.
pub async fn publish_every(p: Publisher, state: std::sync::Arc<crate::state::NodeState>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if let Err(e) = p.publish(&state.load(), state.is_draining()).await {
            tracing::warn!(error = %e, "load not published to CloudWatch");
        }
    }
}

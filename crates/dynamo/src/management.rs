//! `ConnectionSink` on the API Gateway Management API (`@connections`): PostToConnection,
//! GetConnection, DeleteConnection. A 410 Gone becomes `SinkError::Gone`, so the caller
//! cleans up exactly that connection. The local stack's emulator serves the same API, so
//! this client works unchanged against it.

use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_apigatewaymanagement::primitives::Blob;
use stratus_core::sink::{ConnectionSink, SinkError};
use stratus_protocol::ids::ConnectionId;

pub struct ManagementApiSink {
    client: Client,
}

impl ManagementApiSink {
    /// From the SDK config, with `endpoint` = `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`.
    pub fn new(sdk: &aws_config::SdkConfig, endpoint: &str) -> Self {
        let conf = aws_sdk_apigatewaymanagement::config::Builder::from(sdk).endpoint_url(endpoint).build();
        Self { client: Client::from_conf(conf) }
    }

    /// For a local endpoint (the local stack's emulator, which checks the signature as API
    /// Gateway does, or a test's stand-in): requests signed with this access key and secret.
    pub fn local(endpoint: &str, access_key: &str, secret: &str) -> Self {
        let conf = aws_sdk_apigatewaymanagement::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(access_key, secret, None, None, "stratus-local"))
            .build();
        Self { client: Client::from_conf(conf) }
    }
}

#[async_trait]
impl ConnectionSink for ManagementApiSink {
    async fn post(&self, connection: &ConnectionId, message: &str) -> Result<(), SinkError> {
        let res =
            self.client.post_to_connection().connection_id(connection.as_str()).data(Blob::new(message)).send().await;
        match res {
            Ok(_) => Ok(()),
            Err(e) => {
                let se = e.into_service_error();
                if se.is_gone_exception() { Err(SinkError::Gone) } else { Err(SinkError::Failed(se.to_string())) }
            }
        }
    }

    async fn alive(&self, connection: &ConnectionId) -> Result<bool, SinkError> {
        match self.client.get_connection().connection_id(connection.as_str()).send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let se = e.into_service_error();
                if se.is_gone_exception() { Ok(false) } else { Err(SinkError::Failed(se.to_string())) }
            }
        }
    }

    async fn close(&self, connection: &ConnectionId) -> Result<(), SinkError> {
        match self.client.delete_connection().connection_id(connection.as_str()).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let se = e.into_service_error();
                if se.is_gone_exception() { Err(SinkError::Gone) } else { Err(SinkError::Failed(se.to_string())) }
            }
        }
    }
}

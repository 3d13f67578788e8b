//! SDK client construction and table creation from the schema.

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use std::time::Duration;
use stratus_core::store::schema::TableSpec;

/// How long one attempt and a whole operation (retries included) may take. The SDK's
/// default has no timeout, so a store that hangs rather than refuses would hold a request
/// until the Lambda (10 s) or the client gives up; with these it is a `StoreError` and the
/// caller's 503 within seconds. DynamoDB answers in milliseconds; moto under a loaded test
/// run in well under a second.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// The store's timeouts, for every DynamoDB client of the platform.
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// A DynamoDB client on the shared SDK configuration, with the store's timeouts.
pub fn client_from(sdk: &aws_config::SdkConfig) -> Client {
    Client::from_conf(aws_sdk_dynamodb::config::Builder::from(sdk).timeout_config(timeouts()).build())
}

/// A DynamoDB client. With `endpoint` (moto, LocalStack, DynamoDB Local) and no credentials
/// in the environment, it signs with static dummy credentials, which such servers accept.
pub async fn client(endpoint: Option<&str>) -> Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts());
    if let Some(ep) = endpoint {
        loader = loader.endpoint_url(ep);
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader.credentials_provider(Credentials::new("test", "test", None, None, "stratus-static"));
        }
    }
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
        loader = loader.region(aws_config::Region::new("us-east-1"));
    }
    Client::new(&loader.load().await)
}

/// Creates `name` from `spec` (on-demand billing, TTL on) unless it exists already.
pub async fn create_table(client: &Client, spec: &TableSpec, name: &str) -> Result<(), String> {
    let key = |attr: &str, kt: KeyType| {
        KeySchemaElement::builder().attribute_name(attr).key_type(kt).build().map_err(|e| e.to_string())
    };
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(spec.pk, KeyType::Hash)?)
        .key_schema(key(spec.sk, KeyType::Range)?);
    for attr in spec.key_attrs() {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attr)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    for ix in spec.indexes {
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(ix.name)
                .key_schema(key(ix.pk, KeyType::Hash)?)
                .key_schema(key(ix.sk, KeyType::Range)?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .map_err(|e| e.to_string())?,
        );
    }
    match req.send().await {
        Ok(_) => {}
        Err(e) => {
            let se = e.into_service_error();
            if !se.is_resource_in_use_exception() {
                return Err(format!("create table {name}: {se}"));
            }
            return Ok(());
        }
    }
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(spec.ttl_attr)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .send()
        .await
        .map_err(|e| format!("enable TTL on {name}: {}", e.into_service_error()))?;
    Ok(())
}

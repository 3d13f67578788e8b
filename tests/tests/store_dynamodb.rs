//! The conformance suite on DynamoDB, against the harness endpoint (moto unless told
//! otherwise), plus proof that the writes really reach that server.

use std::sync::Arc;
use stratus_core::clock::ManualClock;
use stratus_core::store::schema::MAIN;
use stratus_core::store::value::item;
use stratus_core::store::{Key, Table};
use stratus_dynamo::DynamoTable;
use stratus_tests::aws;

async fn dynamo_table(clock: ManualClock) -> Arc<dyn Table> {
    let client = aws::dynamodb().await;
    let name = aws::unique_name("conformance");
    stratus_dynamo::create_table(&client, &MAIN, &name).await.expect("create table");
    Arc::new(DynamoTable::new(client, name, &MAIN, Arc::new(clock)))
}

stratus_tests::conformance_suite!(dynamo_table);

#[tokio::test]
async fn writes_land_on_the_harness_server() {
    let ep = aws::endpoint();
    let client = aws::dynamodb().await;
    let name = aws::unique_name("proof");
    stratus_dynamo::create_table(&client, &MAIN, &name).await.unwrap();
    let table = DynamoTable::new(client.clone(), &name, &MAIN, Arc::new(ManualClock::at_system_time()));
    table.put(item([("pk", "PROOF#1".into()), ("sk", "S".into())]), None).await.unwrap();
    assert!(table.get(&Key::new("PROOF#1", "S")).await.unwrap().is_some());

    // A separate client sees the table and the item on the server itself.
    let tables = client.list_tables().send().await.unwrap();
    assert!(tables.table_names().contains(&name), "table {name} is on {}", ep.url);
    let ttl = client.describe_time_to_live().table_name(&name).send().await.unwrap();
    let ttl_attr = ttl.time_to_live_description().and_then(|d| d.attribute_name()).map(str::to_owned);
    assert_eq!(ttl_attr.as_deref(), Some(MAIN.ttl_attr));

    let raw = client
        .get_item()
        .table_name(&name)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("PROOF#1".into()))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("S".into()))
        .send()
        .await
        .unwrap();
    assert!(raw.item().is_some(), "a plain SDK client reads the item from {}", ep.url);

    if ep.kind == aws::EndpointKind::Moto {
        // The server is moto (its dashboard answers) and its request log has our calls.
        let dash = reqwest::get(format!("{}/moto-api/", ep.url)).await.unwrap();
        assert!(dash.status().is_success());
        let log = std::fs::read_to_string(ep.log.as_ref().unwrap()).unwrap();
        assert!(log.matches("\"POST / HTTP/1.1\" 200").count() >= 4, "moto logged the DynamoDB calls:\n{log}");
        eprintln!("[proof] item PROOF#1 in {name} was written to and read from moto at {}", ep.url);
    }
}

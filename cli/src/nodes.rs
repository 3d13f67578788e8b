//! The media-node registry, read and marked through the deployment's table: the operator's
//! view of the fleet, with AWS credentials rather than an app's (nodes serve every app).

use crate::Store;
use crate::report::Table;
use std::sync::Arc;
use stratus_core::clock::{Clock, SystemClock, rfc3339_ms};
use stratus_core::nodes::{self, Mark};
use stratus_core::store::schema::MAIN;
use stratus_protocol::ids::{NodeId, is_valid_id};

async fn table(s: &Store) -> stratus_dynamo::DynamoTable {
    let client = stratus_dynamo::client(s.dynamodb_endpoint.as_deref()).await;
    stratus_dynamo::DynamoTable::new(client, &s.table, &MAIN, Arc::new(SystemClock))
}

pub async fn list(s: &Store, json: bool) -> Result<(), String> {
    let t = table(s).await;
    let fleet = nodes::fleet(&t).await.map_err(|e| format!("reading the registry in {}: {e}", s.table))?;
    let now = SystemClock.now_ms();
    let state = |n: &nodes::NodeRecord| {
        if fleet.marked(&n.id, Mark::Unreachable).is_some() {
            "unreachable"
        } else if n.draining {
            "draining"
        } else if fleet.marked(&n.id, Mark::Drain).is_some() {
            "drain requested"
        } else {
            "ready"
        }
    };
    if json {
        let out: Vec<serde_json::Value> = fleet
            .nodes
            .iter()
            .map(|n| {
                serde_json::json!({
                    "nodeId": n.id, "state": state(n), "region": n.region, "controlUrl": n.control_url,
                    "publicIp": n.public_ip, "rooms": n.load.rooms, "participants": n.load.participants,
                    "maxParticipants": n.max_participants, "producers": n.load.producers,
                    "consumers": n.load.consumers, "bitrateBps": n.load.bitrate_bps,
                    "heartbeatAt": rfc3339_ms(n.heartbeat_at),
                    "unreachable": fleet.marked(&n.id, Mark::Unreachable).map(|m| &m.reason),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out).expect("serializes"));
        return Ok(());
    }
    let mut table = Table::new(["node", "state", "rooms", "participants", "max", "kbps", "heartbeat", "control"]);
    for n in &fleet.nodes {
        table.row([
            n.id.to_string(),
            state(n).into(),
            n.load.rooms.to_string(),
            n.load.participants.to_string(),
            n.max_participants.to_string(),
            (n.load.bitrate_bps / 1000).to_string(),
            format!("{:.1} s ago", (now - n.heartbeat_at) as f64 / 1000.0),
            n.control_url.clone(),
        ]);
    }
    print!("{table}");
    println!("{} nodes", fleet.nodes.len());
    Ok(())
}

pub async fn drain(s: &Store, node: &str) -> Result<(), String> {
    if !is_valid_id(node) {
        return Err(format!("{node:?} is not a node id"));
    }
    let t = table(s).await;
    let id = NodeId::from(node);
    match nodes::request_drain(&t, &id, SystemClock.now_ms(), "stratus nodes drain").await {
        Ok(true) => {
            println!("drain requested: {node} drains at its next heartbeat (its rooms move, then it exits)");
            Ok(())
        }
        Ok(false) => Err(format!("no node {node} in the registry of {} (`stratus nodes list`)", s.table)),
        Err(e) => Err(format!("writing the drain request: {e}")),
    }
}

//! Room placement and membership races, settled by the store: the same scenarios on the
//! embedded table and on DynamoDB (moto), with the callers running at once.

use std::sync::Arc;
use stratus_core::clock::ManualClock;
use stratus_core::nodes::{Load, NodeRecord};
use stratus_core::rooms::{self, Member, RoomError};
use stratus_core::store::memory::MemoryTable;
use stratus_core::store::schema::MAIN;
use stratus_core::store::{StoreError, Table};
use stratus_dynamo::DynamoTable;
use stratus_protocol::error::ErrorCode;
use stratus_tests::aws;

fn node(id: &str, participants: i64) -> NodeRecord {
    NodeRecord {
        id: id.into(),
        control_url: format!("http://{id}:7880"),
        control_cert_sha256: None,
        public_ip: "127.0.0.1".into(),
        region: "local".into(),
        max_participants: 100,
        load: Load { rooms: 0, participants, producers: 0, consumers: 0, bitrate_bps: 0 },
        draining: false,
        heartbeat_at: 0,
    }
}

/// What each spawned caller returned, in spawn order.
async fn all<T>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = vec![];
    for t in tasks {
        out.push(t.await.expect("caller panicked"));
    }
    out
}

async fn first_joins_at_once_end_on_one_node_and_a_dead_node_is_left_once(t: Arc<dyn Table>) {
    rooms::create(t.as_ref(), &"race".into(), &"alice".into(), 50, 1).await.unwrap();
    // Eight callers, each seeing a different node as least loaded.
    let views: Vec<Vec<NodeRecord>> =
        (0..8).map(|i| (0..4).map(|j| node(&format!("n{j}"), if j == i % 4 { 0 } else { 10 })).collect()).collect();
    let tasks: Vec<_> = views
        .into_iter()
        .map(|v| {
            let t = t.clone();
            tokio::spawn(async move { rooms::place(t.as_ref(), &"race".into(), &v, 2).await.unwrap() })
        })
        .collect();
    let placed = all(tasks).await;
    let first = placed[0].node.id.clone();
    assert!(placed.iter().all(|p| p.node.id == first && p.epoch == 1), "{placed:?}");
    assert_eq!(rooms::get(t.as_ref(), &"race".into()).await.unwrap().epoch, 1, "pinned once");

    // That node dies; four callers notice at once: the room moves once, to one node.
    let survivors: Vec<NodeRecord> =
        (0..4).map(|j| format!("n{j}")).filter(|id| first != *id).map(|id| node(&id, 0)).collect();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (t, v) = (t.clone(), survivors.clone());
            tokio::spawn(async move { rooms::place(t.as_ref(), &"race".into(), &v, 3).await.unwrap() })
        })
        .collect();
    let moved = all(tasks).await;
    let to = moved[0].node.id.clone();
    assert_ne!(to, first);
    assert!(moved.iter().all(|p| p.node.id == to && p.epoch == 2), "{moved:?}");
    assert_eq!(moved.iter().filter(|p| p.moved_from.as_deref() == Some(first.as_str())).count(), 1, "one mover");
}

async fn joins_at_once_never_overfill_a_room(t: Arc<dyn Table>) {
    rooms::create(t.as_ref(), &"small".into(), &"alice".into(), 3, 1).await.unwrap();
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let t = t.clone();
            tokio::spawn(async move {
                let m = Member {
                    participant_id: format!("p{i}").into(),
                    user_id: format!("u{i}").into(),
                    connection_id: None,
                    joined_at: 1,
                    epoch: 0,
                };
                // A transaction that collided with another is retried, as a caller would.
                loop {
                    match rooms::join(t.as_ref(), &"small".into(), &m, None, vec![]).await {
                        Err(RoomError::Store(StoreError::TransactionConflict)) => continue,
                        r => return r,
                    }
                }
            })
        })
        .collect();
    let mut ok = 0;
    for r in all(tasks).await {
        match r {
            Ok(_) => ok += 1,
            Err(RoomError::Rejected(ErrorCode::RoomFull, _)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    let r = rooms::get(t.as_ref(), &"small".into()).await.unwrap();
    let members = rooms::members(t.as_ref(), &"small".into()).await.unwrap();
    assert_eq!(ok, 3, "exactly the capacity got in");
    assert_eq!((r.participants, members.len()), (3, 3), "count and members agree");
}

fn memory() -> Arc<dyn Table> {
    Arc::new(MemoryTable::new(&MAIN, Arc::new(ManualClock::at_system_time())))
}

async fn dynamo() -> Arc<dyn Table> {
    let client = aws::dynamodb().await;
    let name = aws::unique_name("rooms");
    stratus_dynamo::create_table(&client, &MAIN, &name).await.expect("create table");
    Arc::new(DynamoTable::new(client, name, &MAIN, Arc::new(ManualClock::at_system_time())))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn placement_races_on_the_embedded_store() {
    first_joins_at_once_end_on_one_node_and_a_dead_node_is_left_once(memory()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn placement_races_on_dynamodb() {
    first_joins_at_once_end_on_one_node_and_a_dead_node_is_left_once(dynamo().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn capacity_races_on_the_embedded_store() {
    joins_at_once_never_overfill_a_room(memory()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn capacity_races_on_dynamodb() {
    joins_at_once_never_overfill_a_room(dynamo().await).await;
}

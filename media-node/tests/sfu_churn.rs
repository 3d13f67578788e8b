//! Subscribers joining and leaving 50 times leave nothing behind, in the node (its maps) or
//! the process (sockets, tasks, memory). Alone in its own test binary, so the process-wide
//! figures are this test's.

mod common;

use common::*;
use std::time::Duration;
use stratus_protocol::media::*;
use stratus_tests::peer::{PublishOptions, Publisher, Subscriber};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_join_leave_cycles_leave_no_transports_sockets_tasks_or_memory_behind() {
    let t = start_node(1).await;
    let n = &t.node;
    let _: RoomInfo = n.put("/v1/rooms/churn", &serde_json::json!({})).await.unwrap();
    join(&t, "churn", "pub", "c-pub").await;
    let publisher = Publisher::start(n, "churn", "pub", PublishOptions::default()).await;
    let video = publisher.producer(MediaKind::Video).producer_id.clone();
    let audio = publisher.producer(MediaKind::Audio).producer_id.clone();
    let baseline = t.state.sfu.footprint().await.unwrap();
    let mut samples = vec![];
    for i in 0..50 {
        let pid = format!("v{i}");
        join(&t, "churn", &pid, &format!("c-{pid}")).await;
        let sub = Subscriber::start(n, "churn", &pid).await;
        let cv = sub.subscribe(n, &video, None).await;
        sub.subscribe(n, &audio, None).await;
        sub.connected().await;
        eventually("media to the new subscriber", Duration::from_secs(10), || !sub.got(cv.ssrc).is_empty()).await;
        n.delete(&format!("/v1/rooms/churn/participants/{pid}")).await.unwrap();
        sub.pc.close().await.unwrap();
        drop(sub);
        if i == 9 || i == 29 || i == 49 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            samples.push((open_fds(), tokio::runtime::Handle::current().metrics().num_alive_tasks(), rss_kib()));
        }
    }
    // The node keeps nothing of the 50 subscribers: no transport, consumer, ufrag, address or participant.
    assert_eq!(t.state.sfu.footprint().await.unwrap(), baseline);
    let stats: NodeStats = n.get("/v1/stats").await.unwrap();
    assert_eq!((stats.participants, stats.transports, stats.consumers), (1, 1, 0));
    // The process (node and clients) holds no more sockets or tasks after cycle 50 than after
    // cycle 10, and its memory has not grown by more than 16 MiB over those 40 cycles.
    println!("{samples:?}");
    let ((fds10, tasks10, rss10), (fds50, tasks50, rss50)) = (samples[0], samples[2]);
    assert!(fds50 <= fds10 + 2, "open fds grew: {fds10} -> {fds50}");
    assert!(tasks50 <= tasks10 + 2, "tasks grew: {tasks10} -> {tasks50}");
    assert!(rss50 < rss10 + 16 * 1024, "rss grew: {rss10} KiB -> {rss50} KiB");
    println!(
        "after 10 cycles: {fds10} fds, {tasks10} tasks, {rss10} KiB; after 50: {fds50} fds, {tasks50} tasks, {rss50} KiB"
    );
    publisher.stop().await;
}

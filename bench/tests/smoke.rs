//! A short run of every load tool, so none of them rots between the long runs whose figures
//! are in docs/benchmarks.md: each runs to the end at a tiny size and reports what it
//! measured. (Figures here mean nothing; timing targets are for the real runs.)

use serde_json::Value;
use std::process::Command;

fn run(bin: &str, args: &[&str], envs: &[(&str, &str)]) -> String {
    let out = Command::new(bin).args(args).envs(envs.iter().copied()).output().expect("spawn");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{bin} {args:?}: {}\n{text}", String::from_utf8_lossy(&out.stderr));
    text
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

#[test]
fn calls_bench_counts_a_flows_store_operations_and_pages_history() {
    let out = json_lines(&run(env!("CARGO_BIN_EXE_calls-bench"), &["300"], &[]));
    let flow = out.iter().find(|l| l["bench"] == "call_flow_store_operations").expect("flow line");
    assert!(flow["initiate"]["write_requests"].as_u64() >= Some(1), "{flow}");
    let queries = out.iter().filter(|l| l["bench"] == "history_query").count();
    assert_eq!(queries, 5, "every history case ran");
}

#[test]
fn chat_bench_counts_operations_pages_history_and_times_delivery() {
    let out = json_lines(&run(env!("CARGO_BIN_EXE_chat-bench"), &["2000", "3"], &[]));
    let ops = out.iter().find(|l| l["bench"] == "chat_store_operations").expect("operations line");
    assert_eq!(ops["send"]["of_which_transactions"], 1, "{ops}");
    let pages: Vec<&Value> = out.iter().filter(|l| l["bench"] == "chat_history_page").collect();
    assert_eq!(pages.len(), 3, "every page case ran");
    assert!(pages.iter().all(|p| p["returned"] == 50), "{pages:?}");
    let d = out.iter().find(|l| l["bench"] == "chat_delivery").expect("delivery line");
    assert_eq!(d["receipts"], d["expected"], "every participant got every message: {d}");
}

#[test]
fn sfu_fanout_forwards_to_every_subscriber() {
    let out = run(env!("CARGO_BIN_EXE_sfu-fanout"), &["2"], &[]);
    let row = out.lines().find(|l| l.starts_with("| 2 ")).expect("a row for 2 subscribers");
    assert!(row.starts_with("| 2 (2) |"), "both subscribers connected: {row}");
}

#[test]
fn room_join_reaches_a_first_packet() {
    let out = run(env!("CARGO_BIN_EXE_room-join"), &["1"], &[]);
    assert!(out.contains("joinRoom → first packet"), "{out}");
}

#[test]
fn lambda_cost_invokes_the_functions_and_counts_their_calls() {
    let out: Value = serde_json::from_str(&run(env!("CARGO_BIN_EXE_lambda-cost"), &["1"], &[])).expect("json");
    let ops = out.to_string();
    assert!(ops.contains("stratus-ws") && ops.contains("stratus-rest"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_relay_relays_through_the_local_stack() {
    let secret = stratus_tests::rest::random_hex();
    let opts = <stratus_local::Options as clap::Parser>::parse_from([
        "stratus-local",
        "--listen",
        "127.0.0.1:0",
        "--ws-sink",
        "direct",
        "--app-secret",
        &secret,
    ]);
    let running = stratus_local::start(opts).await.expect("local stack");
    let url = format!("http://{}", running.addr);
    let out = tokio::task::spawn_blocking(move || {
        let args = ["--target", "stratus", "--url", &url, "--rate", "200", "--secs", "1", "--pairs", "2"];
        run(env!("CARGO_BIN_EXE_ws-relay"), &args, &[("STRATUS_DEV_APP_SECRET", &secret)])
    })
    .await
    .unwrap();
    let line: Value = serde_json::from_str(out.lines().last().unwrap_or("")).expect("one json line");
    assert!(line["relayed_per_sec"].as_f64() > Some(0.0), "{line}");
}

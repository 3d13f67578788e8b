//! The emulator with a WebSocket client this project did not write: Python's `websockets`
//! (installed by the test command), running `tests/clients/ws_peers.py`.

use serde_json::Value;
use stratus_tests::local::LocalStack;

#[tokio::test]
async fn python_websockets_peers_join_and_exchange_offer_and_answer() {
    let local = LocalStack::start(env!("CARGO_BIN_EXE_stratus-local"), &[], &[]).await;
    let (ta, tb) = (local.token("py-alice").await, local.token("py-bob").await);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/clients/ws_peers.py");
    let python = std::env::var("STRATUS_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = tokio::process::Command::new(python)
        .arg(script)
        .arg(local.ws_url(&ta))
        .arg(local.ws_url(&tb))
        .output()
        .await
        .expect("run python");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "ws_peers.py failed (is `websockets` installed? ./scripts/test.sh installs it):\n{stderr}"
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(r["offer_from"], r["peer_a"]);
    assert_eq!(r["offer_sdp"], "v=0 from python");
    assert_eq!(r["answer_from"], r["peer_b"]);
    assert_eq!(r["error_code"], "INVALID_MESSAGE");
    assert_eq!(r["left_peer"], r["peer_b"]);
}

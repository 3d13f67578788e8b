//! The workspace's binaries as processes: where `cargo` put them, and the media node started
//! as a fleet node on loopback.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::process::Command;

/// A binary of the workspace built next to the running executable (a test in
/// `target/<profile>/deps/`, or a bench binary in `target/<profile>/`). Panics with what to
/// build when it is missing.
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the running executable");
    let mut dir = exe.parent().expect("a directory").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let bin = dir.join(name);
    assert!(bin.exists(), "{} is missing: build it (`cargo build` with the package that has it)", bin.display());
    bin
}

/// `stratus-media-node` at `bin` as node `id` signing with `keys`: control and one media
/// worker on loopback (free ports), 1 s heartbeats, the AWS endpoint of the harness, quiet.
/// Callers add the table, events endpoint, TLS and what else they test (a later `env` wins).
pub fn media_node(bin: &Path, id: &str, keys: &str) -> Command {
    let mut cmd = Command::new(bin);
    cmd.envs(crate::aws::sdk_env())
        .env("STRATUS_NODE_ID", id)
        .env("STRATUS_DYNAMODB_ENDPOINT", &crate::aws::endpoint().url)
        .env("STRATUS_CONTROL_KEYS", keys)
        .env("STRATUS_MEDIA_ADDR", "127.0.0.1:0")
        .env("STRATUS_MEDIA_BIND_IP", "127.0.0.1")
        .env("STRATUS_MEDIA_WORKERS", "1")
        .env("STRATUS_HEARTBEAT_SECS", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// The environment that runs a process with its wall clock moved by `offset` (libfaketime's
/// relative form: `"+5s"`, `"-5s"`), monotonic time left alone so its timers keep real
/// pace. Panics with what to install when libfaketime is missing (scripts/test.sh installs
/// Debian's `faketime`).
pub fn skewed_clock(offset: &str) -> Vec<(&'static str, String)> {
    let lib = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"]
        .iter()
        .map(|d| Path::new(d).join("faketime/libfaketimeMT.so.1"))
        .find(|p| p.exists())
        .expect("libfaketime is missing: install Debian's `faketime` (scripts/test.sh does)");
    vec![
        ("LD_PRELOAD", lib.display().to_string()),
        ("FAKETIME", offset.to_owned()),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1".to_owned()),
    ]
}

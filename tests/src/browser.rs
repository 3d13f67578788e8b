//! Headless Chromium scenarios (`clients/js/test/scenarios.mjs`, Playwright) run from a
//! Rust test: started as `node scenarios.mjs <name> <base url>`, optionally inside a
//! network namespace, their one-line JSON summary read at the end.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The scenario `name` against `base`, in `cmd` (a `node` command: plain, or
/// `Lab::command(host, "node")` for a host in a namespace).
pub fn scenario_in(mut cmd: Command, name: &str, base: &str, envs: &[(&str, String)]) -> Command {
    let js = root().join("clients/js");
    assert!(
        js.join("node_modules/playwright-core").exists(),
        "clients/js/node_modules is missing: run `npm ci` in clients/js (scripts/test.sh does, and installs Chromium)"
    );
    cmd.arg(js.join("test/scenarios.mjs"))
        .args([name, base])
        .env("STRATUS_SCREENSHOT_DIR", root().join("target/browser-screenshots"))
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

pub fn scenario(name: &str, base: &str, envs: &[(&str, String)]) -> Command {
    scenario_in(Command::new("node"), name, base, envs)
}

/// Waits for a started scenario (draining its output as it goes); its summary when it passed.
pub async fn finish(name: &str, child: tokio::process::Child, within_secs: u64) -> Value {
    let out = tokio::time::timeout(Duration::from_secs(within_secs), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("scenario {name} within {within_secs} s"))
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "scenario {name} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.lines().last().expect("a summary line")).expect("JSON summary")
}

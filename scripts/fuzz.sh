#!/usr/bin/env bash
# libFuzzer over every parser that meets the internet (fuzz/fuzz_targets/*.rs).
#   scripts/fuzz.sh smoke [SECS]        every target for SECS seconds (default 15): the test command's run
#   scripts/fuzz.sh run TARGET [SECS]   one target for SECS seconds (default 1800), printing libFuzzer's figures
#   scripts/fuzz.sh list
# Installs cargo-fuzz when missing. Builds with the stable toolchain (RUSTC_BOOTSTRAP lets
# cargo-fuzz pass its flags) and no sanitizer: the code under test is safe Rust, so what the
# fuzzer looks for is panics, failed assertions (a forged token or signature accepted, a
# 500 from the router), hangs and runaway memory. Seeds are fuzz/corpus/<target>; what a run
# finds new goes to a scratch directory, a crash to fuzz/artifacts/<target>/ (replay it with
# `cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-…` and make it a regression test).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz (crates.io)"
  cargo install --quiet --locked cargo-fuzz
fi
export RUSTC_BOOTSTRAP=1
# Its own target directory: coverage-instrumented builds share nothing with the workspace's.
export CARGO_TARGET_DIR="${STRATUS_FUZZ_TARGET_DIR:-$PWD/target/fuzz}"
targets() { sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^stratus-fuzz$'; }

run() {
  local t=$1 secs=$2 scratch
  scratch="$(mktemp -d)"
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  # -rss_limit_mb: a target that grows without bound fails; -timeout: one input over 10 s is a hang.
  local status=0
  cargo fuzz run --sanitizer none --release "$t" "$scratch" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="fuzz/artifacts/$t/" >"$scratch.log" 2>&1 || status=$?
  grep -E "^(#[0-9]+.*DONE|stat::(number_of_executed_units|peak_rss_mb))|panicked|ERROR|Test unit written" "$scratch.log" || true
  local execs; execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch.log")
  echo "fuzz $t: ${execs:-?} executions in ${secs} s, corpus $(ls "$scratch" | wc -l) new + $(ls "fuzz/corpus/$t" | wc -l) seeds, exit $status"
  rm -rf "$scratch" "$scratch.log"
  return "$status"
}

case "${1:-smoke}" in
  list) targets ;;
  build) cargo fuzz build --sanitizer none --release ;;
  run) run "$2" "${3:-1800}" ;;
  smoke)
    cargo fuzz build --sanitizer none --release
    failed=0
    for t in $(targets); do run "$t" "${2:-15}" || failed=1; done
    exit "$failed"
    ;;
  *) echo "usage: $0 smoke [SECS] | run TARGET [SECS] | list" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Relay throughput and latency through the local stack's WebSocket emulator, side by side
# with the PeerJS server (npm `peer`) under the same load, in the same run.
#
# The server under test is pinned to CPU 0, the load client (bench/src/ws_relay.rs) to CPU 1.
# Each target is swept up in offered rate until its p99 passes 200 ms or it loses over 1%.
# Targets:
#   stratus-direct  the emulator with --ws-sink direct (handlers push in-process)
#   stratus-mgmtapi the emulator's default: handlers push through the emulated Management
#                   API with the AWS SDK, exactly as the Lambda does
#   peerjs          PeerJS server 1.0.2 on Node.js
#
# Usage: bench/ws_relay.sh [SECS_PER_STEP] [PAIRS]   → results in bench/results/ws_relay-*.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-5}"
PAIRS="${2:-50}"
export STRATUS_DEV_APP_SECRET="bench-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"

cargo build --release -q -p stratus-local -p stratus-bench
if [ ! -d bench/peerjs/node_modules/peer ]; then (cd bench/peerjs && npm install --no-audit --no-fund --silent); fi

mkdir -p bench/results
out="bench/results/ws_relay-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_port() { for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

sweep() { # name port target rates...
  local name=$1 port=$2 target=$3; shift 3
  for rate in "$@"; do
    line=$(taskset -c 1 ./target/release/ws-relay --target "$target" --url "http://127.0.0.1:$port" \
      --rate "$rate" --secs "$SECS" --pairs "$PAIRS" | sed "s/^{/{\"server\":\"$name\",/")
    echo "$line" | tee -a "$out"
    if python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if r["p99_ms"] > 200 or r["loss_pct"] > 1 else 1)' "$line"; then
      break
    fi
    sleep 1
  done
}

# Each sender pushes hundreds of messages a second: lift the per-connection message budget
# (50/s by default), which would otherwise be what is measured.
unlimited=(--ws-message-rate 1000000 --ws-message-burst 1000000)
taskset -c 0 ./target/release/stratus-local --listen 127.0.0.1:18601 --ws-sink direct "${unlimited[@]}" >/dev/null 2>&1 & pids+=($!)
taskset -c 0 ./target/release/stratus-local --listen 127.0.0.1:18602 "${unlimited[@]}" >/dev/null 2>&1 & pids+=($!)
(cd bench/peerjs && exec taskset -c 0 node server.js 18603 >/dev/null 2>&1) & pids+=($!)
wait_port 18601; wait_port 18602; wait_port 18603

sweep stratus-direct 18601 stratus 10000 20000 40000 60000 80000 100000 120000 140000 160000 180000 200000
sweep peerjs 18603 peerjs 10000 20000 40000 60000 80000 100000 120000 140000 160000 180000 200000
sweep stratus-mgmtapi 18602 stratus 2000 4000 6000 8000 10000 12000

echo "results: $out"

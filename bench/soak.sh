#!/usr/bin/env bash
# The soak: `stratus load-test` against the local stack (release builds, embedded store, its
# in-process media node) for a while, the stack's RSS, file descriptors, threads and media
# worker CPU sampled every 10 s. Figures go in docs/reliability.md ("Soak").
#
#   bench/soak.sh [DURATION] [more load-test arguments…]
#   bench/soak.sh 10m                             # the documented run
#   CALLS=20 ROOMS=1 PARTICIPANTS=3 bench/soak.sh 20s  # a smoke
#
# Defaults: CALLS=1000 concurrent calls (each held HOLD=30s, then dialled again), PAIRS=50 relay
# pairs at 10 messages/s, and ROOMS=6 rooms of PARTICIPANTS=50 (one publisher, 49 light
# subscribers each: about 70% of the media worker's core on this machine). The report (JSON)
# is kept in bench/results/soak-<UTC time>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10m}"
shift || true
# Two thousand WebSocket clients and their server ends in one machine.
ulimit -n "$(ulimit -Hn)"
cargo build --profile load --quiet -p stratus-local -p stratus-cli
secret="soak-$(date +%s)-secret"
log="$(mktemp)"
STRATUS_DEV_APP_SECRET="$secret" RUST_LOG=warn,stratus_local=info ./target/load/stratus-local \
  --listen 127.0.0.1:0 --no-demo --runtime-stats-secs 10 >"$log" 2>&1 &
stack=$!
trap 'kill $stack 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  url="$(grep -o 'listening on http://[0-9.:]*' "$log" | head -1 | cut -d' ' -f3 || true)"
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$log"; echo "the stack did not start" >&2; exit 1; }
mkdir -p bench/results
out="bench/results/soak-$(date -u +%Y%m%dT%H%M%SZ).json"
set +e
STRATUS_URL="$url" STRATUS_API_SECRET="$secret" ./target/load/stratus load-test \
  --calls "${CALLS:-1000}" --call-hold "${HOLD:-30s}" --p2p-pairs "${PAIRS:-50}" --p2p-rate 10 \
  --rooms "${ROOMS:-6}" --participants "${PARTICIPANTS:-50}" \
  --duration "$duration" --watch-pid "$stack" --json "$@" >"$out"
status=$?
set -e
# The stack's live tasks, every 10 s (its `runtime` log lines), into the report.
python3 - "$out" "$log" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
tasks = []
for line in open(sys.argv[2], errors="replace"):
    try:
        v = json.loads(line)
    except ValueError:
        continue
    f = v.get("fields", v)  # the stack's JSON logs flatten an event's fields
    if f.get("message") == "runtime" and "tasks" in f:
        tasks.append(f["tasks"])
r["stackTasksEvery10s"] = tasks
json.dump(r, open(sys.argv[1], "w"), indent=1)
PY
echo "report: $out (exit $status)"
python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("stack tasks every 10 s:", r.get("stackTasksEvery10s"))
p = r.get("process") or {}
print(json.dumps({k: r[k] for k in ("setupSecs", "rooms", "relay", "calls", "errorsTotal", "errors")}, indent=1))
print("process:", {k: v for k, v in p.items() if k != "samples"})
for s in p.get("samples", []):
    print("  t=%6.0f s  rss %7.1f MiB  fds %5d  threads %3d  media cpu %7.1f s" % (s["at_s"], s["rss_kib"] / 1024, s["fds"], s["threads"], s["media_cpu_s"]))
PY
exit $status

#!/usr/bin/env bash
# Runs every check and test of the project. On a fresh machine it first installs what the
# tests need and the project does not vendor:
#   - moto[server] (PyPI): the DynamoDB/Secrets Manager-compatible server tests talk to;
#   - cfn-lint (PyPI): lints template.yaml;
#   - websockets (PyPI): a WebSocket client this project did not write, for one e2e test;
#   - Chromium (Debian's `chromium`) and the npm packages of clients/js (typescript,
#     playwright-core): the browser SDK's build check and the real-browser tests;
#   - coturn and iproute2 (Debian): a real TURN server, and the network namespaces the relay
#     tests build hosts from (they need root);
#   - faketime (Debian): libfaketime, to run a media node or a stack process with its clock
#     skewed (local/tests/clock_skew.rs);
#   - aws-sam-cli, cargo-lambda and ziglang (PyPI, pinned, in their own virtualenv:
#     scripts/sam-build.sh): `sam validate --lint` and a real `sam build`;
#   - cargo-fuzz (crates.io, scripts/fuzz.sh): a short run of every fuzz target.
# The tests start and stop moto themselves (tests/src/aws.rs). To test against another
# LocalStack-compatible endpoint instead, set STRATUS_TEST_AWS_ENDPOINT=http://host:port.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${STRATUS_PYTHON:-python3}"

pip_install() {
  echo "== installing $* (PyPI)"
  "$PY" -m pip install --quiet --disable-pip-version-check "$@" ||
    "$PY" -m pip install --quiet --disable-pip-version-check --break-system-packages "$@"
}

missing=()
"$PY" -c 'import moto.server, flask, flask_cors' 2>/dev/null || missing+=("moto[server]")
"$PY" -c 'import cfnlint' 2>/dev/null || missing+=("cfn-lint")
"$PY" -c 'import websockets' 2>/dev/null || missing+=("websockets")
if [ ${#missing[@]} -gt 0 ]; then pip_install "${missing[@]}"; fi

CHROMIUM="${STRATUS_CHROMIUM:-/usr/bin/chromium}"
debs=()
[ -x "$CHROMIUM" ] || debs+=(chromium)
[ -x /usr/bin/turnserver ] || debs+=(coturn)
command -v ip >/dev/null 2>&1 || debs+=(iproute2)
ls /usr/lib/*/faketime/libfaketimeMT.so.1 >/dev/null 2>&1 || debs+=(faketime)
if [ ${#debs[@]} -gt 0 ]; then
  echo "== installing ${debs[*]} (Debian)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${debs[@]}" >/dev/null
fi
if [ ! -d clients/js/node_modules/playwright-core ] || [ ! -d clients/js/node_modules/typescript ]; then
  echo "== npm ci (clients/js)"
  (cd clients/js && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "== the SDK's wire types (clients/js/src/wire.ts) are the Rust protocol types"
cargo test --quiet -p stratus-protocol --test typescript

echo "== the committed SDK build (clients/js/dist, served by the local stack) matches its sources"
sdk_out="$(mktemp -d)"
(cd clients/js && npx --no-install tsc -p . --outDir "$sdk_out")
if ! diff -r clients/js/dist "$sdk_out" >/dev/null; then
  diff -r clients/js/dist "$sdk_out" | head -20
  echo "clients/js/dist is stale: run 'npm run build' in clients/js and commit it" >&2
  rm -rf "$sdk_out"
  exit 1
fi
rm -rf "$sdk_out"

echo "== cfn-lint template.yaml"
"$PY" -c 'import sys; from cfnlint.runner import main; sys.argv = ["cfn-lint", "template.yaml"]; sys.exit(main())'

./scripts/sam-build.sh

if command -v rustfmt >/dev/null 2>&1; then
  echo "== cargo fmt --check"
  cargo fmt --all --check
fi

echo "== the LocalStack (testcontainers) harness path compiles"
cargo check --quiet -p stratus-tests --features localstack

echo "== fuzz smoke: every target of fuzz/ for 10 s (scripts/fuzz.sh; long runs: docs/reliability.md)"
./scripts/fuzz.sh smoke "${STRATUS_FUZZ_SMOKE_SECS:-10}"

echo "== cargo test --workspace"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"

#!/usr/bin/env bash
# `sam validate --lint` and a real `sam build` of template.yaml, with the SAM CLI, cargo-lambda
# and zig (cargo-lambda's cross linker) from PyPI, pinned to versions that build together, in
# a virtualenv of their own (target/tools/sam) so they cannot disturb moto's dependencies.
#
#   scripts/sam-build.sh [ARCH]     ARCH: arm64 (the template's default) or x86_64
#
# Without ARCH it builds arm64 when the Rust target aarch64-unknown-linux-gnu is installed or
# can be (`rustup target add`), else x86_64, and says so. Checks that every function has a
# `bootstrap` for that architecture. The build goes to target/sam/build.
set -euo pipefail
cd "$(dirname "$0")/.."

SAM_CLI=1.170.0
CARGO_LAMBDA=1.9.2
ZIGLANG=0.17.1

PY="${STRATUS_PYTHON:-python3}"
venv=target/tools/sam
if [ ! -x "$venv/bin/sam" ] || ! "$venv/bin/sam" --version | grep -q "$SAM_CLI" ||
  ! "$venv/bin/cargo-lambda" lambda --version 2>/dev/null | grep -q "$CARGO_LAMBDA"; then
  echo "== installing aws-sam-cli $SAM_CLI, cargo-lambda $CARGO_LAMBDA, ziglang $ZIGLANG (PyPI, $venv)"
  "$PY" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "aws-sam-cli==$SAM_CLI" "cargo-lambda==$CARGO_LAMBDA" "ziglang==$ZIGLANG"
fi
export PATH="$PWD/$venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0

arch="${1:-}"
if [ -z "$arch" ]; then
  if rustup target list --installed 2>/dev/null | grep -q aarch64-unknown-linux-gnu ||
    rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1; then
    arch=arm64
  else
    arch=x86_64
    echo "== the aarch64 Rust target cannot be installed here: building x86_64 instead of the default arm64"
  fi
fi

echo "== sam validate --lint"
sam validate --lint --template-file template.yaml --region us-east-1

echo "== sam build ($arch)"
mkdir -p target/sam
start=$(date +%s)
sam build --template-file template.yaml --build-dir target/sam/build \
  --parameter-overrides "Architecture=$arch" >target/sam/build.log 2>&1 || {
  tail -40 target/sam/build.log
  echo "sam build failed (full log: target/sam/build.log)" >&2
  exit 1
}
echo "   built in $(($(date +%s) - start)) s"

# ELF e_machine: 0xB7 aarch64, 0x3E x86_64.
want=$([ "$arch" = arm64 ] && echo 183 || echo 62)
for fn in $("$PY" -c '
import sys
from cfnlint.decode import decode
t, _ = decode("template.yaml")
print(" ".join(k for k, v in t["Resources"].items() if v["Type"] == "AWS::Serverless::Function"))'); do
  bin="target/sam/build/$fn/bootstrap"
  [ -x "$bin" ] || { echo "sam build made no $bin" >&2; exit 1; }
  machine=$("$PY" -c 'import sys; d = open(sys.argv[1], "rb").read(20); print(int.from_bytes(d[18:20], "little") if d[:4] == b"\x7fELF" else -1)' "$bin")
  [ "$machine" = "$want" ] || { echo "$bin is not an $arch executable (e_machine $machine)" >&2; exit 1; }
  echo "   $bin: $arch, $(($(stat -c %s "$bin") / 1024)) KiB"
done

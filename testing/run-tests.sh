#!/usr/bin/env bash
# The whole test suite, on a fresh machine with only the Rust toolchain:
#   1. installs the external S3 servers the tests judge against (once; skipped when present):
#      the Ceph RADOS Gateway (Debian packages) and Garage (cargo install, ~13 min the first time),
#   2. starts them on 127.0.0.1 with fixed test keys and exports where they are (SOS_TEST_*),
#   3. runs every test of the workspace (the embedded s3s-fs server starts inside the tests),
#   4. stops the servers when the run ends, even on failure.
# Extra arguments go to `cargo test` (e.g. `bash testing/run-tests.sh -p sos-auth`).
set -euo pipefail
cd "$(dirname "$0")/.."

STATE_DIR=${SOS_TEST_STATE_DIR:-$PWD/target/test-servers}
export SOS_RGW_DIR="$STATE_DIR/radosgw"
export SOS_GARAGE_DIR="$STATE_DIR/garage"

stop_servers() {
    bash testing/servers/garage.sh down || true
    bash testing/servers/radosgw.sh down || true
}
trap stop_servers EXIT INT TERM

step() { printf '\n==> %s\n' "$*"; }

step "checking the client tools the tests call (curl)"
if ! command -v curl >/dev/null; then
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
    else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
    fi
fi
curl --version | head -n 1

step "installing the Ceph RADOS Gateway (skipped when installed)"
bash testing/servers/radosgw.sh install

step "starting the RADOS Gateway on 127.0.0.1"
bash testing/servers/radosgw.sh up
# shellcheck disable=SC1091
source "$SOS_RGW_DIR/env"
echo "radosgw: $SOS_TEST_RGW_ENDPOINT (region $SOS_TEST_RGW_REGION)"

step "installing Garage (skipped when installed; a first build takes about 13 minutes)"
bash testing/servers/garage.sh install

step "starting Garage on 127.0.0.1"
bash testing/servers/garage.sh up
# shellcheck disable=SC1091
source "$SOS_GARAGE_DIR/env"
echo "garage: $SOS_TEST_GARAGE_ENDPOINT (region $SOS_TEST_GARAGE_REGION)"

step "cargo test --workspace $*"
# The servers are shared by every test binary: each test uses a bucket of its own.
cargo test --workspace "$@"

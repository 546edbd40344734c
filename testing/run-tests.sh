#!/usr/bin/env bash
# The whole test suite, on a fresh machine with only the Rust toolchain and Python 3 (with pip):
#   1. installs the reference S3 clients the tests compare against (once; skipped when present
#      at the pinned version): the aws CLI v1 and s3cmd, into a venv at target/test-tools/venv,
#   2. installs the external S3 servers the tests judge against (once; skipped when present):
#      the Ceph RADOS Gateway (Debian packages) and Garage (cargo install, ~13 min the first time),
#   3. starts them on 127.0.0.1 with fixed test keys and exports where they are (SOS_TEST_*),
#   4. runs every test of the workspace (the embedded s3s-fs server starts inside the tests),
#   5. stops the servers when the run ends, even on failure.
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

step "checking the client tools the tests call (curl, fusermount3)"
apt_install() {
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    fi
}
command -v curl >/dev/null || apt_install curl
curl --version | head -n 1
# sos-mount's test mounts for real: FUSE 3's fusermount3 (the old `fuse` package, which
# ceph-fuse would bring, conflicts with it; the Ceph packages are installed without it).
command -v fusermount3 >/dev/null || apt_install fuse3
fusermount3 --version
[ -e /dev/fuse ] || echo "warning: /dev/fuse is missing: the sos-mount test will fail and say so" >&2

# The reference S3 clients the tests compare against (sos-testing's `cli` module). They go into
# a venv of their own (works as root and with an externally-managed system pip); a tool already
# on PATH at exactly the pinned version is used as is. Nothing touches the network when both
# are present. Keep the versions in step with testing/src/cli.rs.
AWSCLI_VERSION=1.45.11
S3CMD_VERSION=2.4.0
TOOLS_VENV=${SOS_TEST_TOOLS_VENV:-$PWD/target/test-tools/venv}
step "installing the reference S3 clients: aws CLI $AWSCLI_VERSION and s3cmd $S3CMD_VERSION (skipped when installed)"
aws_ok() { [[ "$("$1" --version 2>&1)" == "aws-cli/$AWSCLI_VERSION "* ]]; }
s3cmd_ok() { [ "$("$1" --version 2>&1)" = "s3cmd version $S3CMD_VERSION" ]; }
# find_tool CHECK NAME: the first of the venv's NAME and NAME on PATH that passes CHECK.
find_tool() {
    local bin
    for bin in "$TOOLS_VENV/bin/$2" "$(command -v "$2" || true)"; do
        if [ -n "$bin" ] && [ -x "$bin" ] && "$1" "$bin"; then echo "$bin"; return 0; fi
    done
    return 1
}
ensure_tools_venv() {
    [ -x "$TOOLS_VENV/bin/python" ] && "$TOOLS_VENV/bin/python" -m pip --version >/dev/null 2>&1 && return 0
    command -v python3 >/dev/null || { echo "python3 (with pip and venv) is needed for the aws CLI and s3cmd" >&2; exit 1; }
    rm -rf "$TOOLS_VENV"
    mkdir -p "$(dirname "$TOOLS_VENV")"
    if python3 -m venv "$TOOLS_VENV" >/dev/null 2>&1; then return 0; fi
    # Debian/Ubuntu split ensurepip into python3-venv (python3.X-venv).
    rm -rf "$TOOLS_VENV"
    local pkg; pkg="python$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-venv"
    echo "python3 -m venv failed (no ensurepip?): installing $pkg"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
    else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
    fi
    python3 -m venv "$TOOLS_VENV"
}
SOS_TEST_AWS_CLI=$(find_tool aws_ok aws) || SOS_TEST_AWS_CLI=
SOS_TEST_S3CMD=$(find_tool s3cmd_ok s3cmd) || SOS_TEST_S3CMD=
missing=()
[ -n "$SOS_TEST_AWS_CLI" ] || missing+=("awscli==$AWSCLI_VERSION")
[ -n "$SOS_TEST_S3CMD" ] || missing+=("s3cmd==$S3CMD_VERSION")
if [ ${#missing[@]} -gt 0 ]; then
    ensure_tools_venv
    echo "pip install ${missing[*]} into $TOOLS_VENV"
    "$TOOLS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${missing[@]}"
    SOS_TEST_AWS_CLI=$(find_tool aws_ok aws) || { echo "awscli $AWSCLI_VERSION did not install" >&2; exit 1; }
    SOS_TEST_S3CMD=$(find_tool s3cmd_ok s3cmd) || { echo "s3cmd $S3CMD_VERSION did not install" >&2; exit 1; }
fi
export SOS_TEST_AWS_CLI SOS_TEST_S3CMD
echo "aws: $SOS_TEST_AWS_CLI (awscli $AWSCLI_VERSION)"
echo "s3cmd: $SOS_TEST_S3CMD (s3cmd $S3CMD_VERSION)"

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

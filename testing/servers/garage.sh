#!/usr/bin/env bash
# A one-node Garage (a distributed object store, https://garagehq.deuxfleurs.fr) on 127.0.0.1.
#
#   garage.sh install   cargo install garage 2.5.0 (about 13 minutes on 2 cores; skipped when present)
#   garage.sh up        start it, lay out the node, import the test key, write $DIR/env
#   garage.sh down      stop it (by pid file); `down --purge` removes $DIR
#   garage.sh status    exit 0 when the S3 API answers
#
# Settings: SOS_GARAGE_DIR (default target/test-servers/garage), SOS_GARAGE_PORT (3900, S3 API),
# SOS_GARAGE_RPC_PORT (3901).
set -euo pipefail

VERSION=2.5.0
DIR=${SOS_GARAGE_DIR:-$PWD/target/test-servers/garage}
PORT=${SOS_GARAGE_PORT:-3900}
RPC_PORT=${SOS_GARAGE_RPC_PORT:-3901}
REGION=garage
DOMAIN=s3.garage.localhost
# Garage key ids are GK + 24 hex digits, secrets 64 hex digits.
ACCESS_KEY=GK0123456789abcdef01234567
SECRET_KEY=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

log() { printf 'garage.sh: %s\n' "$*" >&2; }

garage_bin() {
    if command -v garage >/dev/null; then command -v garage
    elif [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/garage" ]; then echo "${CARGO_HOME:-$HOME/.cargo}/bin/garage"
    else return 1
    fi
}

installed() {
    local bin
    bin=$(garage_bin) || return 1
    "$bin" --version 2>/dev/null | grep -qE "[^0-9.]$VERSION( |$|\[)"
}

cmd_install() {
    if installed; then
        log "garage $VERSION already installed ($(garage_bin))"
        return 0
    fi
    log "building garage $VERSION from crates.io (cargo install --locked; about 13 minutes on 2 cores)"
    cargo install garage --version "$VERSION" --locked --quiet
    installed || { log "cargo install finished but garage $VERSION is not on PATH"; exit 1; }
}

g() { "$(garage_bin)" -c "$DIR/garage.toml" "$@"; }

cmd_down() {
    local f="$DIR/garage.pid"
    if [ -f "$f" ]; then
        local pid; pid=$(cat "$f")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$f"
    fi
    if [ "${1:-}" = "--purge" ]; then rm -rf "$DIR"; fi
    return 0
}

cmd_status() {
    if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; then echo "http://127.0.0.1:$PORT"; else return 1; fi
}

fail() {
    log "$1; last lines of $DIR/garage.log:"
    tail -n 30 "$DIR/garage.log" >&2 2>/dev/null || true
    cmd_down
    exit 1
}

cmd_up() {
    installed || { log "garage $VERSION is not installed: run '$0 install' first"; exit 1; }
    local t0; t0=$(date +%s)
    cmd_down
    rm -rf "$DIR"
    mkdir -p "$DIR/meta" "$DIR/data"
    cat > "$DIR/garage.toml" <<CONF
metadata_dir = "$DIR/meta"
data_dir = "$DIR/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$RPC_PORT"
rpc_public_addr = "127.0.0.1:$RPC_PORT"
rpc_secret = "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"

[s3_api]
s3_region = "$REGION"
api_bind_addr = "127.0.0.1:$PORT"
root_domain = ".$DOMAIN"
CONF
    # The binary itself in the background (not through `g`): `$!` must be Garage's pid, or
    # `down` would stop a subshell and leave the server running.
    # Appended to (not truncated by) the server, so the commands' own lines below survive.
    : >"$DIR/garage.log"
    "$(garage_bin)" -c "$DIR/garage.toml" server >>"$DIR/garage.log" 2>&1 &
    echo $! > "$DIR/garage.pid"
    local node=""
    for _ in $(seq 120); do
        node=$(g node id -q 2>/dev/null | cut -d@ -f1) && [ -n "$node" ] && break
        kill -0 "$(cat "$DIR/garage.pid")" 2>/dev/null || fail "garage exited"
        sleep 0.5
    done
    [ -n "$node" ] || fail "garage did not answer on its RPC port in 60 s"
    # The RPC port answers `node id` a moment before the node takes layout changes: retry.
    local assigned=0
    for _ in $(seq 40); do
        if g layout assign -z dc1 -c 1G "$node" >>"$DIR/garage.log" 2>&1; then assigned=1; break; fi
        kill -0 "$(cat "$DIR/garage.pid")" 2>/dev/null || fail "garage exited"
        sleep 0.25
    done
    [ "$assigned" = 1 ] || fail "layout assign failed"
    g layout apply --version 1 >>"$DIR/garage.log" 2>&1 || fail "layout apply failed"
    g key import --yes -n test "$ACCESS_KEY" "$SECRET_KEY" >>"$DIR/garage.log" 2>&1 || fail "key import failed"
    g key allow --create-bucket "$ACCESS_KEY" >>"$DIR/garage.log" 2>&1 || fail "key allow failed"
    # Buckets made through the S3 API are aliases local to the key that made them, which an
    # anonymous request (a CORS preflight, a public read) cannot name: Garage then answers
    # every preflight with a blanket `*`. These buckets have global aliases, as buckets made
    # with the CLI do, so the CORS tests see Garage apply the bucket's rules.
    local cors_buckets=""
    for i in 0 1 2 3 4 5 6 7; do
        g bucket create "sos-cors-$i" >>"$DIR/garage.log" 2>&1 || fail "bucket create failed"
        g bucket allow --read --write --owner "sos-cors-$i" --key "$ACCESS_KEY" >>"$DIR/garage.log" 2>&1 || fail "bucket allow failed"
        cors_buckets="$cors_buckets${cors_buckets:+,}sos-cors-$i"
    done
    local answered=0
    for _ in $(seq 60); do
        if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; then answered=1; break; fi
        sleep 0.5
    done
    [ "$answered" = 1 ] || fail "the S3 API did not answer on port $PORT"
    cat > "$DIR/env" <<ENV
export SOS_TEST_GARAGE_ENDPOINT=http://127.0.0.1:$PORT
export SOS_TEST_GARAGE_ACCESS_KEY=$ACCESS_KEY
export SOS_TEST_GARAGE_SECRET_KEY=$SECRET_KEY
export SOS_TEST_GARAGE_REGION=$REGION
export SOS_TEST_GARAGE_DNS_NAME=$DOMAIN
export SOS_TEST_GARAGE_CORS_BUCKETS=$cors_buckets
ENV
    log "up in $(( $(date +%s) - t0 )) s: http://127.0.0.1:$PORT (virtual host: BUCKET.$DOMAIN:$PORT); env in $DIR/env"
}

case "${1:-}" in
    install) cmd_install ;;
    up) cmd_up ;;
    down) shift; cmd_down "${1:-}" ;;
    status) cmd_status ;;
    *) echo "usage: $0 install|up|down [--purge]|status" >&2; exit 2 ;;
esac

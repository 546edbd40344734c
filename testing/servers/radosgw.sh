#!/usr/bin/env bash
# A throwaway one-node Ceph cluster with a RADOS Gateway on 127.0.0.1, for the tests.
#
#   radosgw.sh install   install the Debian packages (skipped when present)
#   radosgw.sh up        start mon + memstore osd + radosgw, create the test users, write $DIR/env
#   radosgw.sh down      stop the daemons started by `up` (by pid file); `down --purge` removes $DIR
#   radosgw.sh status    exit 0 when the gateway answers
#
# Settings (environment): SOS_RGW_DIR (state, default target/test-servers/radosgw),
# SOS_RGW_PORT (7480), SOS_RGW_MON_PORT (3300), SOS_RGW_MON_V1_PORT (6789).
# The recipe and why each setting matters are in the project's design notes (Ceph RADOS
# Gateway): auth none needs the crc messenger modes; the v1 mon address avoids a 5-minute
# wait; memstore keeps data in memory; pool size 1 fits one OSD.
set -euo pipefail

DIR=${SOS_RGW_DIR:-$PWD/target/test-servers/radosgw}
PORT=${SOS_RGW_PORT:-7480}
MON_PORT=${SOS_RGW_MON_PORT:-3300}
MON_V1_PORT=${SOS_RGW_MON_V1_PORT:-6789}
ACCESS_KEY=SOSTESTACCESSKEY0001
SECRET_KEY=sosTestSecretKey0001sosTestSecretKey0001
ACCESS_KEY2=SOSTESTACCESSKEY0002
SECRET_KEY2=sosTestSecretKey0002sosTestSecretKey0002
DNS_NAME=s3.localhost
PACKAGES="radosgw ceph-mon ceph-osd ceph-common"

log() { printf 'radosgw.sh: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else log "need root (or sudo) to run: $*"; exit 1
    fi
}

installed() {
    for cmd in radosgw ceph-mon ceph-osd ceph radosgw-admin; do
        command -v "$cmd" >/dev/null || return 1
    done
}

cmd_install() {
    if installed; then
        log "Ceph $(ceph --version 2>/dev/null | awk '{print $3}') already installed"
        return 0
    fi
    log "installing $PACKAGES (Debian packages)"
    as_root apt-get update -qq
    # --no-install-recommends: ceph-fuse (a recommendation) pulls the old `fuse` package,
    # which conflicts with the `fuse3` the sos-mount tests need.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
    installed || { log "install finished but the Ceph commands are missing"; exit 1; }
}

cmd_down() {
    [ -d "$DIR/pids" ] || return 0
    for d in rgw osd mon; do
        f="$DIR/pids/$d.pid"
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$f"
    done
    if [ "${1:-}" = "--purge" ]; then rm -rf "$DIR"; fi
    return 0
}

cmd_status() {
    if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; then
        echo "http://127.0.0.1:$PORT"
    else
        return 1
    fi
}

fail_with_log() {
    log "$1; last lines of $2:"
    tail -n 30 "$2" >&2 2>/dev/null || true
    cmd_down
    exit 1
}

cmd_up() {
    installed || { log "Ceph is not installed: run '$0 install' first"; exit 1; }
    command -v curl >/dev/null || { log "curl is needed"; exit 1; }
    local t0; t0=$(date +%s)
    cmd_down
    rm -rf "$DIR"
    mkdir -p "$DIR"/{mon.a,osd.0,rgw,log,run,pids}
    export CEPH_CONF="$DIR/ceph.conf"
    cat > "$CEPH_CONF" <<CONF
[global]
fsid = $(cat /proc/sys/kernel/random/uuid)
mon host = [v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_V1_PORT]
mon initial members = a
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
ms mon client mode = crc
ms client mode = crc
ms cluster mode = crc
ms service mode = crc
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
keyring = /dev/null
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon warn on insecure global id reclaim allowed = false
mon max pg per osd = 1000
mon data avail crit = 0
mon data avail warn = 0
osd objectstore = memstore
memstore device bytes = 2147483648
osd class load list = *
osd class default list = *
[mon]
mon data = $DIR/mon.\$id
[mon.a]
# Without explicit ports the monitor binds 3300/6789 whatever \`mon host\` says.
public addrv = [v2:127.0.0.1:$MON_PORT,v1:127.0.0.1:$MON_V1_PORT]
mon cluster log file = $DIR/log/mon-cluster.log
[osd]
osd data = $DIR/osd.\$id
osd journal = $DIR/osd.\$id/journal
osd journal size = 100
[client.rgw.a]
rgw data = $DIR/rgw
rgw frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
rgw dns name = $DNS_NAME
auth client required = none
ms mon client mode = crc
rgw enable usage log = false
rgw cors rules max num = 100
# The store is 2 GiB of memory, and the gateway frees what was deleted or overwritten only in
# its garbage collection, two hours later by default: a long session of test runs filled it
# (a full OSD then leaves every request hanging). Collect every 30 s what has been garbage
# for a minute (the wait lets reads in flight finish).
rgw gc obj min wait = 60
rgw gc processor period = 30
rgw gc processor max time = 30
CONF

    ceph-mon -i a --mkfs --keyring /dev/null >"$DIR/log/mkfs-mon.out" 2>&1 || fail_with_log "ceph-mon --mkfs failed" "$DIR/log/mkfs-mon.out"
    touch "$DIR/mon.a/keyring"
    ceph-mon -i a --pid-file "$DIR/pids/mon.pid" 2>>"$DIR/log/daemons.err" || fail_with_log "ceph-mon did not start" "$DIR/log/daemons.err"
    timeout 60 ceph --connect-timeout 30 mon stat >/dev/null 2>>"$DIR/log/daemons.err" || fail_with_log "the monitor does not answer" "$DIR/log/mon.a.log"

    local osd_id
    osd_id=$(timeout 60 ceph osd create 2>>"$DIR/log/daemons.err") || fail_with_log "ceph osd create failed" "$DIR/log/daemons.err"
    timeout 60 ceph osd crush add "osd.$osd_id" 1 root=default >/dev/null 2>&1 || true
    ceph-osd -i "$osd_id" --mkfs --mkjournal >"$DIR/log/mkfs-osd.out" 2>&1 || fail_with_log "ceph-osd --mkfs failed" "$DIR/log/mkfs-osd.out"
    ceph-osd -i "$osd_id" --pid-file "$DIR/pids/osd.pid" 2>>"$DIR/log/daemons.err" || fail_with_log "ceph-osd did not start" "$DIR/log/daemons.err"
    local up=0
    for _ in $(seq 120); do
        if timeout 10 ceph osd stat 2>/dev/null | grep -q '1 up'; then up=1; break; fi
        sleep 0.5
    done
    [ "$up" = 1 ] || fail_with_log "the OSD did not come up in 60 s" "$DIR/log/osd.$osd_id.log"

    radosgw -n client.rgw.a --pid-file "$DIR/pids/rgw.pid" 2>>"$DIR/log/daemons.err" || fail_with_log "radosgw did not start" "$DIR/log/daemons.err"
    local answered=0
    for _ in $(seq 240); do
        if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; then answered=1; break; fi
        sleep 0.5
    done
    [ "$answered" = 1 ] || fail_with_log "radosgw did not answer on port $PORT in 120 s" "$DIR/log/client.rgw.a.log"

    timeout 60 radosgw-admin user create --uid test --display-name "test user" \
        --access-key "$ACCESS_KEY" --secret "$SECRET_KEY" >"$DIR/log/user.json" 2>"$DIR/log/user.err" \
        || fail_with_log "radosgw-admin user create failed" "$DIR/log/user.err"
    timeout 60 radosgw-admin user create --uid test2 --display-name "second test user" --email test2@example.com \
        --access-key "$ACCESS_KEY2" --secret "$SECRET_KEY2" >"$DIR/log/user2.json" 2>"$DIR/log/user2.err" \
        || fail_with_log "radosgw-admin user create (test2) failed" "$DIR/log/user2.err"

    cat > "$DIR/env" <<ENV
export SOS_TEST_RGW_ENDPOINT=http://127.0.0.1:$PORT
export SOS_TEST_RGW_ACCESS_KEY=$ACCESS_KEY
export SOS_TEST_RGW_SECRET_KEY=$SECRET_KEY
export SOS_TEST_RGW_ACCESS_KEY2=$ACCESS_KEY2
export SOS_TEST_RGW_SECRET_KEY2=$SECRET_KEY2
export SOS_TEST_RGW_DNS_NAME=$DNS_NAME
export SOS_TEST_RGW_REGION=us-east-1
export CEPH_CONF=$CEPH_CONF
ENV
    log "up in $(( $(date +%s) - t0 )) s: http://127.0.0.1:$PORT (virtual host: BUCKET.$DNS_NAME:$PORT); env in $DIR/env"
}

case "${1:-}" in
    install) cmd_install ;;
    up) cmd_up ;;
    down) shift; cmd_down "${1:-}" ;;
    status) cmd_status ;;
    *) echo "usage: $0 install|up|down [--purge]|status" >&2; exit 2 ;;
esac

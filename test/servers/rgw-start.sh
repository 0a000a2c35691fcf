#!/usr/bin/env bash
# Start a throw-away one-node Ceph cluster (1 monitor, 1 memstore OSD, radosgw) bound to
# 127.0.0.1, entirely inside one folder, and create one S3 user.
#
#   test/servers/rgw-start.sh [DIR]        DIR defaults to a new mktemp folder
#
# Environment (all optional): RGW_PORT, RGW_MON_PORT (default: free ports),
# RGW_ACCESS_KEY, RGW_SECRET_KEY, RGW_MEMSTORE_BYTES (default 2 GiB, RAM used on demand),
# RGW_START_TIMEOUT (seconds, default 90).
#
# On success prints shell-style lines (also written to DIR/rgw.env):
#   RGW_DIR=…  RGW_ENDPOINT=http://127.0.0.1:<port>  RGW_ACCESS_KEY=…  RGW_SECRET_KEY=…
# Daemon pid files: DIR/run/{mon.a,osd.0,client.rgw.a}.pid. Stop with rgw-stop.sh DIR.
#
# The ceph.conf settings are the ones S3-SERVERS.md found necessary: auth "none" alone is
# not enough, radosgw loops on "get_initial_auth_request returned -13" unless every
# messenger mode is crc; msgr1 is off so only the v2 port is needed.
set -euo pipefail

for bin in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool; do
  command -v "$bin" >/dev/null 2>&1 || {
    echo "rgw-start: $bin not found (install: apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd ceph-common)" >&2
    exit 127
  }
done

DIR="${1:-}"
if [[ -z "$DIR" ]]; then DIR="$(mktemp -d "${TMPDIR:-/tmp}/modelctl-rgw.XXXXXX")"; fi
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
if [[ -e "$DIR/ceph.conf" ]]; then
  echo "rgw-start: $DIR already holds a cluster; stop it with rgw-stop.sh $DIR first" >&2
  exit 1
fi

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})'
}

RGW_PORT="${RGW_PORT:-$(free_port)}"
MON_PORT="${RGW_MON_PORT:-$(free_port)}"
ACCESS_KEY="${RGW_ACCESS_KEY:-MODELCTLTEST$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)}"
SECRET_KEY="${RGW_SECRET_KEY:-$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')}"
MEMSTORE_BYTES="${RGW_MEMSTORE_BYTES:-2147483648}"
TIMEOUT="${RGW_START_TIMEOUT:-90}"
FSID="$(cat /proc/sys/kernel/random/uuid)"
OSD_UUID="$(cat /proc/sys/kernel/random/uuid)"
CONF="$DIR/ceph.conf"

mkdir -p "$DIR/run" "$DIR/log" "$DIR/mon/ceph-a" "$DIR/osd/ceph-0" "$DIR/rgw/ceph-rgw.a" "$DIR/crash"

# Quoted heredoc keeps Ceph's own $name/$cluster/$id metavariables; DIR-dependent values
# are substituted afterwards.
cat >"$CONF" <<'EOF'
[global]
fsid = @FSID@
mon_host = v2:127.0.0.1:@MON_PORT@
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_ipv6 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_mon_client_mode = crc
ms_client_mode = crc
ms_mon_service_mode = crc
ms_service_mode = crc
ms_cluster_mode = crc
ms_mon_cluster_mode = crc
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
mon_warn_on_pool_no_redundancy = false
# Each monitor change waits for the next Paxos proposal (1 s by default): radosgw's first
# start makes about a dozen (pools), so a short interval saves ~8 s of start-up.
paxos_propose_interval = 0.05
run_dir = @DIR@/run
admin_socket = @DIR@/run/$name.asok
log_file = @DIR@/log/$name.log
pid_file = @DIR@/run/$name.pid
keyring = @DIR@/keyring
crash_dir = @DIR@/crash
mon_cluster_log_file = default=@DIR@/log/$cluster.$channel.log cluster=@DIR@/log/$cluster.log
mon_data = @DIR@/mon/$cluster-$id
osd_data = @DIR@/osd/$cluster-$id
rgw_data = @DIR@/rgw/$cluster-$id

[osd]
osd_objectstore = memstore
memstore_device_bytes = @MEMSTORE_BYTES@

[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:@RGW_PORT@
rgw_dns_name = 127.0.0.1
EOF
sed -i -e "s|@FSID@|$FSID|g" -e "s|@MON_PORT@|$MON_PORT|g" -e "s|@DIR@|$DIR|g" \
  -e "s|@MEMSTORE_BYTES@|$MEMSTORE_BYTES|g" -e "s|@RGW_PORT@|$RGW_PORT|g" "$CONF"

export CEPH_CONF="$CONF"
deadline=$((SECONDS + TIMEOUT))
fail() {
  echo "rgw-start: $*" >&2
  echo "rgw-start: logs in $DIR/log; stopping what was started" >&2
  "$(dirname "$0")/rgw-stop.sh" --keep "$DIR" >&2 || true
  exit 1
}
log() { echo "rgw-start: [${SECONDS}s] $*" >&2; }

ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$DIR/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
  --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null

log "monitor on 127.0.0.1:$MON_PORT"
ceph-mon --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring" >/dev/null 2>&1 ||
  fail "ceph-mon --mkfs failed"
ceph-mon -i a 2>>"$DIR/log/daemon-start.err" || fail "ceph-mon did not start"

# --connect-timeout keeps a not-yet-listening monitor from hanging the CLI.
ceph_cli() { timeout 20 ceph --connect-timeout 10 "$@"; }

log "OSD (memstore)"
OSD_ID="$(ceph_cli osd new "$OSD_UUID" 2>/dev/null)" || fail "ceph osd new failed"
mkdir -p "$DIR/osd/ceph-$OSD_ID"
ceph-osd -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" >/dev/null 2>&1 || fail "ceph-osd --mkfs failed"
ceph-osd -i "$OSD_ID" 2>>"$DIR/log/daemon-start.err" || fail "ceph-osd did not start"
until ceph_cli osd stat 2>/dev/null | grep -q '1 up'; do
  ((SECONDS < deadline)) || fail "OSD not up after ${TIMEOUT}s"
  sleep 0.5
done

log "radosgw on 127.0.0.1:$RGW_PORT"
radosgw -n client.rgw.a 2>>"$DIR/log/daemon-start.err" || fail "radosgw did not start"
# Any HTTP answer (even 403/404) means beast is serving.
until curl -s -o /dev/null "http://127.0.0.1:$RGW_PORT/" 2>/dev/null; do
  ((SECONDS < deadline)) || fail "radosgw not answering after ${TIMEOUT}s"
  sleep 0.3
done

log "S3 user"
timeout 60 radosgw-admin user create --uid=modelctl-test --display-name=modelctl-test \
  --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null 2>"$DIR/log/user-create.err" ||
  fail "radosgw-admin user create failed: $(cat "$DIR/log/user-create.err")"

log "ready"
{
  echo "RGW_DIR=$DIR"
  echo "RGW_ENDPOINT=http://127.0.0.1:$RGW_PORT"
  echo "RGW_ACCESS_KEY=$ACCESS_KEY"
  echo "RGW_SECRET_KEY=$SECRET_KEY"
} >"$DIR/rgw.env"
cat "$DIR/rgw.env"

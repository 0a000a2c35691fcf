#!/usr/bin/env bash
# Stop a cluster started by rgw-start.sh (radosgw, OSD, monitor), each by the pid in its
# pid file, and remove DIR (unless --keep).
#
#   test/servers/rgw-stop.sh [--keep] DIR
#
# A pid is only signalled if that process's environment still names DIR's ceph.conf, so a
# recycled pid never kills an unrelated process.
set -uo pipefail

KEEP=0
if [[ "${1:-}" == "--keep" ]]; then KEEP=1; shift; fi
DIR="${1:-}"
if [[ -z "$DIR" || ! -d "$DIR" ]]; then
  echo "usage: rgw-stop.sh [--keep] DIR (the folder rgw-start.sh printed as RGW_DIR)" >&2
  exit 2
fi
DIR="$(cd "$DIR" && pwd)"

ours() {
  # Daemons were started with CEPH_CONF in their environment, not on the command line,
  # so check the environment for the conf path.
  local pid="$1"
  [[ -r "/proc/$pid/environ" ]] && tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "CEPH_CONF=$DIR/ceph.conf"
}

# SIGKILL, all at once: the cluster is disposable (memstore: nothing to flush), and a
# graceful stop costs ~2 s per daemon, or minutes for a radosgw whose OSD went first.
pids=()
for file in "$DIR"/run/client.rgw.a.pid "$DIR"/run/osd.*.pid "$DIR"/run/mon.a.pid; do
  [[ -f "$file" ]] || continue
  pid="$(tr -d ' \n' <"$file")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && ours "$pid"; then
    kill -KILL "$pid" 2>/dev/null && pids+=("$pid")
  fi
  rm -f "$file"
done
for _ in $(seq 1 100); do
  alive=()
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
  pids=("${alive[@]}")
  [[ ${#pids[@]} -eq 0 ]] && break
  sleep 0.05
done

if [[ $KEEP -eq 0 ]]; then rm -rf "$DIR"; fi
exit 0

#!/usr/bin/env bash
# Installs Ceph RGW and the daemons test/servers/rgw-start.sh needs (Debian/Ubuntu), unless
# they are already there. Idempotent; CI calls it before the RGW contract tests.
set -euo pipefail

PACKAGES=(radosgw ceph-mon ceph-osd ceph-common)
missing=0
for bin in radosgw radosgw-admin ceph-mon ceph-osd ceph ceph-authtool monmaptool; do
  command -v "$bin" >/dev/null 2>&1 || missing=1
done
if [[ $missing -eq 0 ]]; then
  echo "install-rgw: already installed ($(radosgw --version 2>/dev/null | head -n1))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-rgw: no apt-get here; install ${PACKAGES[*]} by hand" >&2
  exit 1
fi
SUDO=()
if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo -n); fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
echo "install-rgw: installed ($(radosgw --version | head -n1))"

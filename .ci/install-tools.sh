#!/usr/bin/env bash
# Installs the Debian packages the full suite and its servers need, unless already there:
# rclone and restic (baselines), docker-registry and skopeo (OCI remotes), chromium (the web
# UI tests), sqlite3 (holding the index's write lock from a third process), htpasswd and openssl (the
# OCI tests' Basic-auth registry and token server), curl and jq (the README's OCI deploy recipe).
# Idempotent.
set -euo pipefail

declare -A NEED=([rclone]=rclone [restic]=restic [docker-registry]=docker-registry [skopeo]=skopeo [chromium]=chromium [sqlite3]=sqlite3 [htpasswd]=apache2-utils [openssl]=openssl [curl]=curl [jq]=jq)
missing=()
for bin in "${!NEED[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("${NEED[$bin]}")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-tools: all present"
  exit 0
fi
SUDO=()
if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo -n); fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-tools: installed ${missing[*]}"

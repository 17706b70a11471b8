#!/usr/bin/env bash
# Debian packages the console, its tests and the lab need. Idempotent: apt runs only
# when something is missing.
set -euo pipefail
packages=(debootstrap socat iproute2 openssh-client patchelf curl xz-utils gpgv debian-archive-keyring chromium ca-certificates)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

#!/usr/bin/env bash
# Usage: ensure-deps.sh DEBPKG:PKGCONFIG_NAME ...
# Installs the Debian packages whose pkg-config module (or, with an empty
# name, whose package) is missing. Needs root for apt-get; otherwise says
# exactly what to install and fails.
set -euo pipefail
missing=()
for spec in "$@"; do
  deb=${spec%%:*}; pc=${spec#*:}
  if [ -n "$pc" ]; then
    command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$pc" && continue
  else
    dpkg -s "$deb" >/dev/null 2>&1 && continue
  fi
  missing+=("$deb")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing: ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "error: missing system packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi

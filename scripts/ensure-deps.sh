#!/usr/bin/env bash
# Installs what FST needs on a fresh Debian machine (run as root for the apt part): build tools for
# the native modules (sqlite3 compiles from source), then the npm packages when they are missing or
# older than package-lock.json, then the build. Cheap when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for tool in make g++ python3; do command -v "$tool" >/dev/null 2>&1 || need_apt+=("$tool"); done
if [ ${#need_apt[@]} -gt 0 ]; then
  pkgs=()
  for t in "${need_apt[@]}"; do case "$t" in g++) pkgs+=(g++);; *) pkgs+=("$t");; esac; done
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
  else
    echo "missing build tools (${pkgs[*]}): install them as root" >&2; exit 1
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm run --silent build
fi

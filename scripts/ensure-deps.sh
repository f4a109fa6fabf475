#!/usr/bin/env bash
# Installs what FST needs on a fresh Debian machine (run as root for the apt part): build tools for
# the native modules (sqlite3 compiles from source), then the npm packages when they are missing or
# older than package-lock.json, then the build. Cheap when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: build tools for the native modules (sqlite3, fst-mount's FUSE binding), libfuse3
# (headers to build the binding, fuse3 for fusermount3 and /etc/fuse.conf), and the programs the
# tests and benchmarks drive (bindfs, sqlite3, git, curl, chromium for the gateway's dashboard test,
# postgresql-15 for the PostgreSQL metadata engine's tests, pg_auto_failover for its failover test). MooseFS, a target of the mount benchmark, is
# deliberately not installed here: bench/mount/moosefs.ts checks for it, says how to install it,
# and the benchmark skips that target when it is missing.
need_apt=()
for pkg in make g++ python3 pkg-config libfuse3-dev fuse3 bindfs sqlite3 git curl chromium postgresql-15 postgresql-15-auto-failover pg-auto-failover-cli; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "missing Debian packages (${need_apt[*]}): install them as root" >&2; exit 1
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  # The FUSE binding, when its source changed since it was built (npm ci builds it at postinstall).
  addon=native/fuse-ll/build/Release/fst_fuse.node
  if [ ! -f "$addon" ] || [ native/fuse-ll/fst_fuse.c -nt "$addon" ] || [ native/fuse-ll/binding.gyp -nt "$addon" ]; then
    bash scripts/build-native.sh
  fi
  npm run --silent build
fi

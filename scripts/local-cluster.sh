#!/usr/bin/env bash
# The quick-start cluster: installs what is missing, builds, then runs 1 master and 3 chunkservers
# (replication 2) in the foreground with state under .fst-local/ (kept for the next start).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node scripts/local-cluster.mjs "$@"

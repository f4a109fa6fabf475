#!/usr/bin/env bash
# The test command (README quick start, .ci/run): install what is missing, build, run every suite.
# Extra arguments go to vitest (e.g. a file name or -t "pattern").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
node scripts/check-import-cycles.mjs
npx eslint src test bench
exec npx vitest run "$@"

#!/usr/bin/env bash
# The test command (README quick start, .ci/run): install what is missing, build, run every suite,
# then the mount, fault and operations suites' files of test/pg-subset.txt again with every master
# on PostgreSQL (FST_TEST_META=postgres).
# Extra arguments go to vitest (e.g. a file name or -t "pattern") and run that part once, on the
# engine FST_TEST_META names (SQLite by default).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
node scripts/check-import-cycles.mjs
npx eslint src test bench
if [ $# -gt 0 ]; then
  exec npx vitest run "$@"
fi
npx vitest run
mapfile -t pg_files < <(grep -o '^test/[^ ]*' test/pg-subset.txt)
echo "== the PostgreSQL pass: ${#pg_files[@]} files of test/pg-subset.txt with FST_TEST_META=postgres"
FST_TEST_META=postgres exec npx vitest run "${pg_files[@]}"

#!/usr/bin/env bash
# Builds fst-mount's FUSE binding (native/fuse-ll/fst_fuse.c, over libfuse3's low-level API) with
# npm's own node-gyp and the Node headers installed beside node, so nothing is downloaded. Run by
# "postinstall" and by ensure-deps.sh when the source is newer than the build. Needs make, a C
# compiler, python3, pkg-config and libfuse3-dev (scripts/ensure-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=native/fuse-ll
addon="$dir/build/Release/fst_fuse.node"

# npm's own node-gyp: npm_execpath is set inside npm scripts; otherwise find it next to npm.
gyp=''
for cli in "${npm_execpath:-}" "$(readlink -f "$(command -v npm 2>/dev/null || true)" 2>/dev/null || true)"; do
  candidate="$(dirname "$(dirname "$cli")")/node_modules/node-gyp/bin/node-gyp.js"
  if [ -n "$cli" ] && [ -f "$candidate" ]; then gyp="$candidate"; break; fi
done
if [ -z "$gyp" ]; then
  echo "build-native: cannot find npm's bundled node-gyp" >&2
  exit 1
fi
if ! pkg-config --exists fuse3; then
  echo "build-native: libfuse3's headers are missing (Debian: apt-get install libfuse3-dev pkg-config)" >&2
  exit 1
fi

# Node's headers: npm's nodedir setting if any, else the headers installed beside node itself.
nodedir="${npm_config_nodedir:-}"
if [ -z "$nodedir" ]; then
  prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  if [ -f "$prefix/include/node/node_api.h" ]; then nodedir="$prefix"; fi
fi
args=(rebuild)
if [ -n "$nodedir" ]; then args+=("--nodedir=$nodedir"); fi

if ! (cd "$dir" && node "$gyp" "${args[@]}" >build.log 2>&1); then
  cat "$dir/build.log" >&2
  echo "build-native: building the FUSE binding FAILED (needs make, a C compiler, python3, Node's headers and libfuse3-dev)" >&2
  exit 1
fi
rm -f "$dir/build.log"
node -e "const b = require('./$addon'); if (typeof b.mount !== 'function' || typeof b.CAP !== 'object') { console.error('build-native: the built addon is not fst_fuse'); process.exit(1) }"
echo "build-native: built $addon"

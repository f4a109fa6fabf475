#!/usr/bin/env bash
# Rebuilds fuse-native's addon from its (patched) source, run by "postinstall" right after
# patch-package has applied patches/fuse-native+2.2.6.patch. The prebuilt binaries that ship in
# node_modules/fuse-native/prebuilds carry the unpatched stat/utimens encoding; node-gyp-build loads
# build/Release before prebuilds/, so the result of this build is what `require('fuse-native')` gets.
# It compiles against the FUSE 2.9 headers shipped by fuse-shared-library and links the system
# libfuse.so.2 (Debian: libfuse2). Any failure stops the install: a stale prebuild would be loaded
# silently and mis-decode every stat.
set -euo pipefail
cd "$(dirname "$0")/.."

pkg=node_modules/fuse-native
if [ ! -f "$pkg/fuse-native.c" ]; then
  echo "build-fuse-native: $pkg/fuse-native.c is missing (is fuse-native installed?)" >&2
  exit 1
fi
if ! grep -q 'FST patch' "$pkg/fuse-native.c"; then
  echo "build-fuse-native: $pkg is not patched (run patch-package first)" >&2
  exit 1
fi

# npm's own node-gyp: npm_execpath is set inside npm scripts; otherwise find it next to npm.
gyp=''
for cli in "${npm_execpath:-}" "$(readlink -f "$(command -v npm 2>/dev/null || true)" 2>/dev/null || true)"; do
  candidate="$(dirname "$(dirname "$cli")")/node_modules/node-gyp/bin/node-gyp.js"
  if [ -n "$cli" ] && [ -f "$candidate" ]; then gyp="$candidate"; break; fi
done
if [ -z "$gyp" ]; then
  echo "build-fuse-native: cannot find npm's bundled node-gyp" >&2
  exit 1
fi

# Node's headers: npm's nodedir setting if any, else the headers installed beside node itself, so
# node-gyp never has to download them.
nodedir="${npm_config_nodedir:-}"
if [ -z "$nodedir" ]; then
  prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  if [ -f "$prefix/include/node/node_api.h" ]; then nodedir="$prefix"; fi
fi
args=(rebuild)
if [ -n "$nodedir" ]; then args+=("--nodedir=$nodedir"); fi

echo "build-fuse-native: node-gyp ${args[*]} in $pkg"
if ! (cd "$pkg" && node "$gyp" "${args[@]}"); then
  echo "build-fuse-native: node-gyp rebuild of fuse-native FAILED (needs make, a C compiler," >&2
  echo "  python3, Node's headers and libfuse2)" >&2
  exit 1
fi

addon="$pkg/build/Release/fuse.node"
if [ ! -f "$addon" ]; then
  echo "build-fuse-native: $addon was not produced" >&2
  exit 1
fi
# The patched addon exports utime_now and fuse_native_get_context; the stock prebuilds do not.
node -e "
const b = require('node-gyp-build')('$pkg');
if (typeof b.utime_now !== 'number' || typeof b.fuse_native_get_context !== 'function') { console.error('build-fuse-native: loaded addon is not the patched build'); process.exit(1) }
"
echo "build-fuse-native: built $addon"

#!/usr/bin/env node
// fst-mount: mounts FST with FUSE. Not implemented yet: the FUSE layer (src/client/fuse) comes next.
process.stderr.write('fst-mount: not implemented yet\n');
process.exit(1);

#!/usr/bin/env -S node --initial-old-space-size=128
// fst-mount: the FUSE client. The code lives in dist/client/fuse (built by `npm run build`).
import { main } from '../dist/client/fuse/main.js';

main(process.argv).catch((err) => {
  process.stderr.write(`fst-mount: ${err?.message ?? err}\n`);
  process.exit(1);
});

#!/usr/bin/env -S node --initial-old-space-size=128
// fst-chunkserver: the chunkserver daemon. The code lives in src/chunkserver/main.ts (built to
// dist/); this shim only hands it the command line.
import { main } from '../dist/chunkserver/main.js';

main(process.argv).catch((err) => {
  process.stderr.write(`fst-chunkserver: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

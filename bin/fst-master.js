#!/usr/bin/env -S node --initial-old-space-size=128
// fst-master: the metadata daemon. The code lives in dist/master (built by `npm run build`).
import { main } from '../dist/master/main.js';

main(process.argv).catch((err) => {
  process.stderr.write(`fst-master: ${err?.message ?? err}\n`);
  process.exit(1);
});

#!/usr/bin/env -S node --initial-old-space-size=128
// fst-gateway: HTTP access to the cluster (REST, S3, web dashboard). The code lives in dist/gateway.
import { main } from '../dist/gateway/main.js';

main(process.argv).catch((err) => {
  process.stderr.write(`fst-gateway: ${err?.message ?? err}\n`);
  process.exit(1);
});

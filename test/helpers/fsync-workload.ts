/**
 * The small-file workload of the fault tests that kill a master or its database (a separate node
 * process making sync fs calls as a plain program does): for each file, random 1-8 KiB written
 * first to a local reference copy, then to the mount (open, write, fsync, close). The name goes to
 * stdout only after fsync succeeded. A failed attempt is one JSON line on stderr and is retried
 * (up to `attempts` times, 500 ms apart: the program's own backoff, not a test's wait); a file that
 * never succeeds ends the workload with exit code 1. It ends (code 0) after `count` files (0: no
 * limit) or before the next file once `stopFile` exists, and holds while `pauseFile` exists.
 *
 * argv: dir refDir count stopFile pauseFile attempts
 */
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';

export const FSYNC_WORKLOAD = String.raw`
const fs = require('node:fs');
const { join } = require('node:path');
const { randomBytes, randomInt } = require('node:crypto');
const [dir, refDir, count, stopFile, pauseFile, attempts] = process.argv.slice(2).map((a, i) => (i === 2 || i === 5 ? Number(a) : a));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  for (let i = 0; (count === 0 || i < count) && !fs.existsSync(stopFile); i++) {
    while (fs.existsSync(pauseFile)) await sleep(100);
    const name = 'f' + String(i).padStart(4, '0');
    const data = randomBytes(1024 + randomInt(7 * 1024 + 1));
    fs.writeFileSync(join(refDir, name), data);
    let ok = false;
    for (let attempt = 1; attempt <= attempts && !ok; attempt++) {
      let fd;
      try {
        fd = fs.openSync(join(dir, name), 'w');
        for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off, off);
        fs.fsyncSync(fd);
        ok = true;
        process.stdout.write(name + '\n');
      } catch (e) {
        process.stderr.write(JSON.stringify({ name, attempt, op: 'write', code: e.code, message: e.message }) + '\n');
      } finally {
        if (fd !== undefined) {
          try { fs.closeSync(fd); } catch (e) {
            process.stderr.write(JSON.stringify({ name, attempt, op: 'close', code: e.code, message: e.message }) + '\n');
          }
        }
      }
      if (!ok) await sleep(500);
    }
    if (!ok) { process.stderr.write(JSON.stringify({ name, gaveUp: true }) + '\n'); process.exit(1); }
  }
})();
`;

/** One failed attempt (or the end of the workload) as the workload reports it. */
export interface WorkloadFailure {
  name: string;
  attempt?: number;
  op?: string;
  code?: string;
  message?: string;
  gaveUp?: boolean;
}

/** The failures the workload reports on `stderr`, as they come (a line that is not JSON too). */
export function collectFailures(stderr: Readable): WorkloadFailure[] {
  const failures: WorkloadFailure[] = [];
  createInterface({ input: stderr }).on('line', (l) => {
    try {
      failures.push(JSON.parse(l) as WorkloadFailure);
    } catch {
      failures.push({ name: '?', message: l });
    }
  });
  return failures;
}

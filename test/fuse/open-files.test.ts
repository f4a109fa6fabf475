/**
 * Open descriptors and names: an unlinked file stays readable and writable through its descriptor
 * until the last close, and is freed by the master then; renaming over a file that others keep
 * opening and reading is atomic (readers see the old or the new content, never ENOENT, never a mix).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, readdirSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetaClient } from '../../src/client/meta-client.js';
import { toFsError } from '../../src/common/errors/to-errno.js';
import { FuseMount } from '../helpers/fuse-mount.js';
import { waitFor } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';
import { masterTls } from '../helpers/credentials.js';

describe('mount: open files and names', () => {
  let cluster: ProcessCluster;
  let mount: FuseMount;
  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 3, replication: 2 });
    mount = await FuseMount.start(cluster.masterAddress);
  });
  afterAll(async () => {
    await mount?.stop();
    await cluster?.stop();
  });

  it('keeps an unlinked file readable and writable through its descriptor until the last close', async () => {
    const path = mount.path('doomed');
    writeFileSync(path, 'before unlink;');
    const fd = openSync(path, 'r+');
    const ino = fstatSync(fd).ino;
    try {
      unlinkSync(path);
      expect(existsSync(path)).toBe(false);
      writeSync(fd, ' after unlink', 14);
      const buf = Buffer.alloc(64);
      const n = readSync(fd, buf, 0, 64, 0);
      expect(buf.subarray(0, n).toString()).toBe('before unlink; after unlink');
      expect(fstatSync(fd).size).toBe(27);
      expect(fstatSync(fd).nlink).toBe(0);
      // No name stands in for it meanwhile (libfuse2's path API showed `.fuse_hidden*` files).
      expect(readdirSync(mount.dir).filter((n) => n.startsWith('.fuse_hidden') || n === 'doomed')).toEqual([]);
    } finally {
      closeSync(fd);
    }
    // Once closed (the kernel sends the release after close returns), the master frees it.
    const meta = new MetaClient(cluster.masterAddress, { tls: await masterTls(cluster.masterAddress) });
    try {
      const gone = await waitFor('the orphan freed', async () => {
        try {
          await meta.getAttr(ino);
          return undefined;
        } catch (e) {
          return toFsError(e).code;
        }
      });
      expect(gone).toBe('ENOENT');
    } finally {
      meta.close();
    }
  });

  it('renames over a file that others are reading atomically: readers keep the old file, new opens get the new one', async () => {
    const target = mount.path('current');
    writeFileSync(target, 'old '.repeat(50_000));
    const fds = [openSync(target, 'r'), openSync(target, 'r')];
    try {
      const first = Buffer.alloc(1000);
      readSync(fds[0]!, first, 0, 1000, 0);
      writeFileSync(mount.path('replacement'), 'new '.repeat(60_000));
      renameSync(mount.path('replacement'), target);
      // Both descriptors still read the complete old file, from where they were and from the start.
      for (const fd of fds) {
        const all = Buffer.alloc(300_000);
        const n = readSync(fd, all, 0, all.length, 0);
        expect(n).toBe(200_000);
        expect(all.subarray(0, n).toString()).toBe('old '.repeat(50_000));
        expect(fstatSync(fd).size).toBe(200_000);
      }
      expect(readFileSync(target, 'utf8')).toBe('new '.repeat(60_000));
    } finally {
      fds.forEach((fd) => closeSync(fd));
    }
  });

  it('never shows a reader a mix of two versions while versions are renamed into place', async () => {
    const target = mount.path('swapped');
    const versions = Array.from({ length: 30 }, (_, i) => `version ${i} `.repeat(2000));
    writeFileSync(target, versions[0]!);
    // A separate process opens and reads the target in a loop while this one swaps versions in: it
    // prints a dot per attempt, and stops once it has read the last version (or after ten minutes).
    const last = versions.length - 1;
    const reader = spawn(process.execPath, ['-e', `
      const fs = require('fs');
      const deadline = Date.now() + 600000; let reads = 0, mixed = 0, missing = 0, done = false;
      while (!done && Date.now() < deadline) {
        try {
          const words = fs.readFileSync(${JSON.stringify(target)}, 'utf8').trim().split(' ');
          if (words.length !== 4000 || new Set(words.filter((w, i) => i % 2 === 1)).size !== 1) mixed++;
          else done = words[1] === '${last}';
          reads++;
        } catch (e) { missing++; }
        process.stdout.write('.');
      }
      console.log('reads ' + reads + ' mixed ' + mixed + ' missing ' + missing);
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    reader.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const attempts = (): number => out.length - out.replaceAll('.', '').length;
    const done = new Promise<void>((r) => reader.once('exit', () => r()));
    try {
      await waitFor('the reader under way', () => attempts() > 0, undefined, 20);
      for (let i = 1; i < versions.length; i++) {
        writeFileSync(mount.path(`next-${i}`), versions[i]!);
        renameSync(mount.path(`next-${i}`), target);
        // The reader opens the file twice more under this version before the next one comes.
        const seen = attempts();
        await waitFor('the reader to read this version', () => attempts() >= seen + 2, undefined, 20);
      }
      await done;
    } finally {
      if (reader.exitCode === null && reader.signalCode === null) reader.kill('SIGKILL');
    }
    const m = /reads (\d+) mixed (\d+) missing (\d+)/.exec(out);
    expect(Number(m?.[1])).toBeGreaterThan(10);
    expect(Number(m?.[2])).toBe(0);
    // An open that raced the rename is answered ESTALE and the kernel looks the name up again; a
    // read can still fail in the moment between a rename's check for open files and its commit.
    expect(Number(m?.[3])).toBeLessThan(Number(m?.[1]) / 10);
    expect(readFileSync(target, 'utf8')).toBe(versions[versions.length - 1]);
  });
});

/**
 * fst and fstadmin run in-process (main(argv, io) with captured streams) against the fake cluster:
 * commands, output formats, the one-line error form and the exit statuses.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as fstMain } from '../../src/cli/main.js';
import { main as adminMain } from '../../src/admin/main.js';
import type { CliIo } from '../../src/cli/program.js';
import { startFakeCluster, type FakeCluster } from './fake-cluster.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(which: typeof fstMain, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const stdout = new Capture();
  const stderr = new Capture();
  const io: CliIo = { stdout, stderr, env };
  const code = await which(['node', 'fst', ...args], io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('fst and fstadmin on a fake cluster', () => {
  let cluster: FakeCluster;
  let dir: string;
  let m: string[];

  beforeAll(async () => {
    cluster = await startFakeCluster();
    dir = await mkdtemp(join(tmpdir(), 'fst-cli-'));
    m = ['--master', cluster.master.address];
  });
  afterAll(async () => {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('puts and gets a file, keeping its mode', async () => {
    const data = randomBytes(20 * 1024 * 1024 + 17);
    const local = join(dir, 'in.bin');
    await writeFile(local, data, { mode: 0o640 });
    expect(await run(fstMain, [...m, 'mkdir', '-p', '/x/y'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await run(fstMain, [...m, 'put', local, '/x/y/'])).code).toBe(0);
    const st = await run(fstMain, [...m, 'stat', '/x/y/in.bin']);
    expect(st.stdout).toContain(`Size: ${data.length}`);
    expect(st.stdout).toContain('(0640/-rw-r-----)');
    const out = join(dir, 'out.bin');
    expect((await run(fstMain, [...m, 'get', 'x/y/in.bin', out])).code).toBe(0);
    expect(sha(await readFile(out))).toBe(sha(data));
    expect((await stat(out)).size).toBe(data.length);
    // put over an existing file replaces it and takes the new mode.
    await writeFile(local, 'short', { mode: 0o600 });
    await chmod(local, 0o600);
    expect((await run(fstMain, [...m, 'put', local, '/x/y/in.bin'])).code).toBe(0);
    expect((await run(fstMain, [...m, 'cat', '/x/y/in.bin'])).stdout).toBe('short');
    expect((await run(fstMain, [...m, 'stat', '/x/y/in.bin'])).stdout).toContain('(0600/-rw-------)');
  });

  it('lists directories, short and long', async () => {
    await run(fstMain, [...m, 'mkdir', '/l']);
    for (const n of ['b', 'a', 'c']) {
      await writeFile(join(dir, n), n.repeat(3));
      await run(fstMain, [...m, 'put', join(dir, n), `/l/${n}`]);
    }
    await run(fstMain, [...m, 'mkdir', '/l/sub']);
    expect((await run(fstMain, [...m, 'ls', '/l'])).stdout).toBe('a\nb\nc\nsub\n');
    const long = (await run(fstMain, [...m, 'ls', '-l', '/l'])).stdout.trimEnd().split('\n');
    expect(long).toHaveLength(4);
    expect(long[0]).toMatch(/^-rw\S+\s+1\s+\d+\s+\d+\s+3\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+a$/);
    expect(long[3]).toMatch(/^drwxr-xr-x\s+2\s.*\ssub$/);
    expect((await run(fstMain, [...m, 'ls', '/l/a'])).stdout).toBe('/l/a\n');
    expect((await run(fstMain, ['ls', '/l'], { FST_MASTER: cluster.master.address })).stdout).toBe('a\nb\nc\nsub\n');
  });

  it('removes files and trees', async () => {
    await run(fstMain, [...m, 'mkdir', '-p', '/r/s/t']);
    await writeFile(join(dir, 'f'), 'f');
    await run(fstMain, [...m, 'put', join(dir, 'f'), '/r/s/t/f']);
    const noR = await run(fstMain, [...m, 'rm', '/r']);
    expect(noR).toEqual({ code: 1, stdout: '', stderr: 'fst: /r: Is a directory (EISDIR)\n' });
    expect((await run(fstMain, [...m, 'rm', '/r/s/t/f'])).code).toBe(0);
    expect((await run(fstMain, [...m, 'rm', '-r', '/r'])).code).toBe(0);
    expect((await run(fstMain, [...m, 'ls', '/r'])).stderr).toBe('fst: /r: No such file or directory (ENOENT)\n');
  });

  it('reports errors in one line with the right exit status', async () => {
    const cases: Array<[string[], NodeJS.ProcessEnv, number, RegExp]> = [
      [['ls', '/'], {}, 2, /^fst: no master address \(use --master HOST:PORT or set FST_MASTER\): Invalid argument \(EINVAL\)\n$/],
      [[...m, '--bogus', 'ls'], {}, 2, /^fst: unknown option '--bogus': Invalid argument \(EINVAL\)\n$/],
      [[...m, 'put', 'onlyone'], {}, 2, /^fst: missing required argument 'remote': Invalid argument \(EINVAL\)\n$/],
      [[...m, 'frobnicate'], {}, 2, /^fst: unknown command 'frobnicate': Invalid argument \(EINVAL\)\n$/],
      [['--master', 'nonsense', 'ls'], {}, 2, /^fst: invalid master address 'nonsense' \(expected HOST:PORT\): Invalid argument \(EINVAL\)\n$/],
      [[...m, 'cat', '/nope'], {}, 1, /^fst: \/nope: No such file or directory \(ENOENT\)\n$/],
      [[...m, 'get', '/nope', join(dir, 'never')], {}, 1, /^fst: \/nope: No such file or directory \(ENOENT\)\n$/],
      [[...m, 'put', join(dir, 'missing'), '/m'], {}, 1, /^fst: .*missing: No such file or directory \(ENOENT\)\n$/],
      [[...m, 'mkdir', '/x'], {}, 1, /^fst: \/x: File exists \(EEXIST\)\n$/],
    ];
    for (const [args, env, code, stderr] of cases) {
      const r = await run(fstMain, args, env);
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toMatch(stderr);
    }
    expect((await run(fstMain, [])).code).toBe(2);
    expect((await run(fstMain, ['--help'])).code).toBe(0);
  });

  it('gives up on a master that does not answer after about 5 s', async () => {
    const t0 = Date.now();
    const r = await run(fstMain, ['--master', '127.0.0.1:1', 'ls', '/']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('fst: master 127.0.0.1:1: Connection timed out (ETIMEDOUT)\n');
    expect(Date.now() - t0).toBeLessThan(9000);
  });

  it('prints the cluster status, human and JSON', async () => {
    const human = await run(adminMain, [...m, 'status']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ADDRESS\s+STATE\s+USED\s+FREE\s+CAPACITY\s+CHUNKS\s+HEARTBEAT\n/);
    expect(human.stdout).toContain('3 alive, 0 dead');
    expect(human.stdout).toMatch(/health: +\d+ healthy, 0 under-replicated, 0 missing, 0 stale; 0 stale replicas/);
    const json = await run(adminMain, [...m, 'status', '--json']);
    const s = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({ defaultReplication: 2, health: { underReplicated: 0, missing: 0, stale: 0, staleReplicas: 0 } });
    expect((s.servers as Array<Record<string, unknown>>)[0]).toMatchObject({ state: 'alive', capacityBytes: 10 * 2 ** 30 });
    expect(typeof (s.servers as Array<Record<string, unknown>>)[0]!.lastHeartbeatMs).toBe('number');
    expect((await run(adminMain, ['status'])).code).toBe(2);
  });
});

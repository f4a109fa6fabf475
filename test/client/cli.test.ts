/**
 * fst and fstadmin as the real bin/ processes (bin/fst.js, bin/fstadmin.js on dist/, rebuilt first
 * when older than src/) against a real cluster in this process: commands, output formats, the
 * one-line error form `<tool>: <what>: <strerror> (<ERRNO>)` and the exit statuses (1 operational,
 * 2 usage). Independent invocations run side by side to keep process start-up time down.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { ensureBuilt, startRealCluster, type RealCluster } from './real-cluster.js';
import { closedPort } from '../helpers/probes.js';
import { sha256 } from '../helpers/files.js';

const MiB = 1024 * 1024;
/** No master address anywhere: FST_MASTER from the test's own environment is cleared. */
const NO_ENV = { FST_MASTER: '' };


describe('fst and fstadmin processes on a real cluster', () => {
  let cluster: RealCluster;
  let dir: string;
  let m: string[];
  const fst = (args: string[], env: NodeJS.ProcessEnv = NO_ENV): Promise<CliResult> => runCli('fst', args, env);

  beforeAll(async () => {
    await ensureBuilt();
    cluster = await startRealCluster({ chunkservers: 3, replication: 2 });
    dir = await mkdtemp(join(tmpdir(), 'fst-cli-'));
    m = ['--master', cluster.address];
  }, 300_000); // a build of dist/ when it is stale
  afterAll(async () => {
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('puts and gets a file, keeping its mode', async () => {
    const data = randomBytes(5 * MiB + 17);
    const local = join(dir, 'in.bin');
    await writeFile(local, data, { mode: 0o640 });
    expect(await fst([...m, 'mkdir', '-p', '/x/y'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await fst([...m, 'put', local, '/x/y/'])).toMatchObject({ code: 0, stderr: '' });
    const st = await fst([...m, 'stat', '/x/y/in.bin']);
    expect(st.stdout).toContain('  File: /x/y/in.bin\n');
    expect(st.stdout).toContain(`Size: ${data.length}\tType: regular file`);
    expect(st.stdout).toContain('(0640/-rw-r-----)');
    const out = join(dir, 'out.bin');
    expect((await fst([...m, 'get', 'x/y/in.bin', out])).code).toBe(0);
    expect(sha256(await readFile(out))).toBe(sha256(data));
    expect((await stat(out)).size).toBe(data.length);
    // The data really is in the cluster, as another client sees it.
    const c = await cluster.client();
    expect(sha256(await c.readFile('/x/y/in.bin'))).toBe(sha256(data));
    await c.close();
    // put over an existing file replaces it and takes the new mode.
    await writeFile(join(dir, 'short'), 'short', { mode: 0o600 });
    expect((await fst([...m, 'put', join(dir, 'short'), '/x/y/in.bin'])).code).toBe(0);
    const [cat, st2] = await Promise.all([fst([...m, 'cat', '/x/y/in.bin']), fst([...m, 'stat', '/x/y/in.bin'])]);
    expect(cat).toEqual({ code: 0, stdout: 'short', stderr: '' });
    expect(st2.stdout).toContain('(0600/-rw-------)');
    expect(st2.stdout).toContain('Size: 5\t');
  });

  it('lists directories, short and long', async () => {
    await fst([...m, 'mkdir', '/l']);
    await Promise.all(['b', 'a', 'c'].map(async (n) => {
      await writeFile(join(dir, n), n.repeat(3));
      expect((await fst([...m, 'put', join(dir, n), `/l/${n}`])).code).toBe(0);
    }));
    await fst([...m, 'mkdir', '/l/sub']);
    const [short, long, file, fromEnv] = await Promise.all([
      fst([...m, 'ls', '/l']),
      fst([...m, 'ls', '-l', '/l']),
      fst([...m, 'ls', '/l/a']),
      fst(['ls', '/l'], { FST_MASTER: cluster.address }),
    ]);
    expect(short).toEqual({ code: 0, stdout: 'a\nb\nc\nsub\n', stderr: '' });
    const lines = long.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^-rw\S+\s+1\s+\d+\s+\d+\s+3\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+a$/);
    expect(lines[3]).toMatch(/^drwxr-xr-x\s+2\s.*\ssub$/);
    expect(file.stdout).toBe('/l/a\n');
    expect(fromEnv.stdout).toBe('a\nb\nc\nsub\n');
    expect((await fst([...m, 'ls', '-l', '/x/y'])).stdout).toMatch(/^-rw-------\s+1\s+\d+\s+\d+\s+5\s.*\sin\.bin\n$/);
  });

  it('removes files and trees', async () => {
    await fst([...m, 'mkdir', '-p', '/r/s/t']);
    await writeFile(join(dir, 'f'), 'f');
    await fst([...m, 'put', join(dir, 'f'), '/r/s/t/f']);
    expect(await fst([...m, 'rm', '/r'])).toEqual({ code: 1, stdout: '', stderr: 'fst: /r: Is a directory (EISDIR)\n' });
    expect((await fst([...m, 'rm', '/r/s/t/f'])).code).toBe(0);
    expect((await fst([...m, 'ls', '/r/s/t'])).stdout).toBe('');
    expect((await fst([...m, 'rm', '-r', '/r'])).code).toBe(0);
    expect(await fst([...m, 'ls', '/r'])).toEqual({ code: 1, stdout: '', stderr: 'fst: /r: No such file or directory (ENOENT)\n' });
  });

  it('reports errors in one line with the right exit status', async () => {
    const dead = `127.0.0.1:${await closedPort()}`;
    const cases: Array<[string[], number, RegExp]> = [
      [['ls', '/'], 2, /^fst: no master address \(use --master HOST:PORT\[,HOST:PORT\.\.\.\] or set FST_MASTER\): Invalid argument \(EINVAL\)\n$/],
      [[...m, '--bogus', 'ls'], 2, /^fst: unknown option '--bogus': Invalid argument \(EINVAL\)\n$/],
      [[...m, 'ls', '--bogus'], 2, /^fst: unknown option '--bogus': Invalid argument \(EINVAL\)\n$/],
      [[...m, 'put', 'onlyone'], 2, /^fst: missing required argument 'remote': Invalid argument \(EINVAL\)\n$/],
      [[...m, 'get', '/x/y/in.bin'], 2, /^fst: missing required argument 'local': Invalid argument \(EINVAL\)\n$/],
      [[...m, 'frobnicate'], 2, /^fst: unknown command 'frobnicate': Invalid argument \(EINVAL\)\n$/],
      [['--master', 'nonsense', 'ls'], 2, /^fst: invalid master address 'nonsense' \(expected HOST:PORT, or several separated by commas\): Invalid argument \(EINVAL\)\n$/],
      [[...m, 'cat', '/nope'], 1, /^fst: \/nope: No such file or directory \(ENOENT\)\n$/],
      [[...m, 'get', '/nope', join(dir, 'never')], 1, /^fst: \/nope: No such file or directory \(ENOENT\)\n$/],
      [[...m, 'put', join(dir, 'missing'), '/m'], 1, /^fst: .*missing: No such file or directory \(ENOENT\)\n$/],
      [[...m, 'mkdir', '/x'], 1, /^fst: \/x: File exists \(EEXIST\)\n$/],
      // Nothing listens there: the client gives up after its 5 s connect timeout.
      [['--master', dead, 'ls', '/'], 1, new RegExp(`^fst: master ${dead}: Connection timed out \\(ETIMEDOUT\\)\\n$`)],
    ];
    const t0 = Date.now();
    const results = await Promise.all(cases.map(([args]) => fst(args)));
    // Every one returns, the dead master's after its 5 s timeout (not hanging; generous, for ten
    // processes starting at once on a busy machine).
    expect(Date.now() - t0).toBeLessThan(60_000);
    cases.forEach(([args, code, stderr], i) => {
      const r = results[i]!;
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code, stdout: '' });
      expect(r.stderr).toMatch(stderr);
    });
    expect(await codeOfLocal(join(dir, 'never'))).toBe('ENOENT');
    const [none, help] = await Promise.all([fst([]), fst(['--help'])]);
    expect(none.code).toBe(2);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: fst');
  });

  it('prints the cluster status, human and JSON', async () => {
    const [human, json, noMaster] = await Promise.all([
      runCli('fstadmin', [...m, 'status'], NO_ENV),
      runCli('fstadmin', [...m, 'status', '--json'], NO_ENV),
      runCli('fstadmin', ['status'], NO_ENV),
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^ADDRESS\s+STATE\s+USED\s+FREE\s+CAPACITY\s+CHUNKS\s+HEARTBEAT\n/);
    for (const s of cluster.chunkservers) expect(human.stdout).toMatch(new RegExp(`^${s.address}\\s+alive\\s`, 'm'));
    expect(human.stdout).toContain('servers:     3 alive, 0 dead');
    expect(human.stdout).toMatch(/health: +\d+ healthy, 0 under-replicated, 0 missing, 0 stale, 0 over-replicated; \d+ stale replicas/);
    expect(human.stdout).toMatch(/^rebalance idle: 0 replicas moved/m);
    expect(json.code).toBe(0);
    const s = JSON.parse(json.stdout) as {
      servers: Array<{ address: string; state: string; capacityBytes: number; lastHeartbeatMs: number }>;
      files: number; directories: number; chunks: number; defaultReplication: number;
      health: { healthy: number; underReplicated: number; missing: number; stale: number };
    };
    expect(s).toMatchObject({ defaultReplication: 2, health: { underReplicated: 0, missing: 0, stale: 0 } });
    expect(s.servers.map((x) => x.address).sort()).toEqual(cluster.chunkservers.map((c) => c.address).sort());
    for (const x of s.servers) {
      expect(x.state).toBe('alive');
      expect(x.capacityBytes).toBeGreaterThan(0);
      expect(Date.now() - x.lastHeartbeatMs).toBeLessThan(30_000);
    }
    // The files the earlier tests left: /x/y/in.bin, /l/a, /l/b, /l/c.
    expect(s.files).toBe(4);
    // Small files keep their bytes in the metadata, with no chunk: only what they left in chunks counts.
    expect(s.health.healthy).toBe(s.chunks);
    expect(noMaster.code).toBe(2);
    expect(noMaster.stderr).toMatch(/^fstadmin: no master address .*\(EINVAL\)\n$/);
  });
});

async function codeOfLocal(path: string): Promise<string> {
  try {
    await stat(path);
    return 'exists';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'unknown';
  }
}

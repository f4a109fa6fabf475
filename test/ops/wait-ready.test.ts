/**
 * fstadmin wait-ready, the units' ExecStartPost= readiness check: it waits while /health answers
 * 503, returns once it answers 200, finds /health from a daemon's config (the gateway's on its
 * `listen`, over HTTPS with its own certificate when tls-cert is set), and fails with one line and
 * exit 1 on timeout (also for a path that never becomes a FUSE mount) or as soon as the daemon it
 * waits for has exited.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isFuse, mountAt, parseMountinfo } from '../../src/admin/units/mountinfo.js';
import { createCa, issueCertificate } from '../../src/common/security/cluster-ca.js';
import { fstadminInProcess } from '../helpers/admin-in-process.js';
import { ensureBuilt } from '../helpers/build.js';
import type { CliResult } from '../helpers/cli.js';
import { DaemonProcess } from '../helpers/daemon-process.js';
import { newMetaConfigLines } from '../helpers/meta-engine.js';
import { startProcessCluster } from '../helpers/process-cluster.js';

const fstadmin = (...args: string[]): Promise<CliResult> => fstadminInProcess(args);
const fstadminWithEnv = (env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> => fstadminInProcess(args, env);

beforeAll(() => ensureBuilt('gateway/main.js', ['src']), 300_000);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An HTTP server on 127.0.0.1:0 answering 503 to the first `notReadyFor` requests, then 200. */
async function healthServer(notReadyFor: number): Promise<{ port: number; paths: string[] }> {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.statusCode = paths.length > notReadyFor ? 200 : 503;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(() => r())));
  return { port: (server.address() as AddressInfo).port, paths };
}

/** A port nothing listens on right now (bound once on 127.0.0.1:0, then released). */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fst-wait-ready-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('fstadmin wait-ready', () => {
  it('--url waits through 503 answers and exits 0 on the first 200', async () => {
    const s = await healthServer(3);
    const r = await fstadmin('wait-ready', '--url', `http://127.0.0.1:${s.port}/health`, '--timeout', '20');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(s.paths).toHaveLength(4);
    expect(r.stdout).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/health ready after \d+\.\d s \(HTTP 200\)\n$/);
  });

  it('--url exits 1 with the last reason once the timeout passes', async () => {
    const s = await healthServer(Infinity);
    const started = Date.now();
    const r = await fstadmin('wait-ready', '--url', `http://127.0.0.1:${s.port}/health`, '--timeout', '0.8');
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(r.code).toBe(1);
    expect(s.paths.length).toBeGreaterThan(1);
    expect(r.stderr).toMatch(/^fstadmin: http:\/\/127\.0\.0\.1:\d+\/health not ready within 0\.8 s \(last check: HTTP 503\): .*\(ETIMEDOUT\)\n$/);
  });

  it("--daemon polls /health at the config's metrics-listen, on loopback for a wildcard host", async () => {
    const s = await healthServer(1);
    const config = join(await tempDir(), 'master.toml');
    await writeFile(config, `data = "/var/lib/fst/master"\nmetrics-listen = "0.0.0.0:${s.port}"\n`);
    const r = await fstadmin('wait-ready', '--daemon', 'master', '--config', config, '--timeout', '20');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`fst-master (http://127.0.0.1:${s.port}/health) ready`);
    expect(s.paths).toEqual(['/health', '/health']);
  });

  it('--daemon waits for a real fst-master started from the same config, as the unit runs them', async () => {
    const dir = await tempDir();
    const config = join(dir, 'master.toml');
    // wait-ready reads the port from the config, so it must be a real one, not 0.
    const port = await freePort();
    await writeFile(config, `data = "${join(dir, 'data')}"\nlisten = "127.0.0.1:0"\nmetrics-listen = "127.0.0.1:${port}"\n${(await newMetaConfigLines()).map((l) => `${l}\n`).join('')}`);
    const master = await DaemonProcess.start('master', 'fst-master.js', ['--config', config]);
    cleanups.push(async () => void await master.stop());
    const r = await fstadminWithEnv({ MAINPID: String(master.pid) }, 'wait-ready', '--daemon', 'master', '--config', config, '--timeout', '30');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`fst-master (http://127.0.0.1:${port}/health) ready`);
  });

  it('--daemon gateway waits for a real fst-gateway on its listen address, over HTTP and over HTTPS with its own certificate', async () => {
    const dir = await tempDir();
    const cluster = await startProcessCluster({ chunkservers: 1, replication: 1 });
    cleanups.push(() => cluster.stop());
    // A certificate no system trusts, for a name that is not the loopback address polled.
    const tls = await issueCertificate(await createCa('test'), 'gateway.example.net', 'client');
    await writeFile(join(dir, 'gateway.crt'), tls.certPem);
    await writeFile(join(dir, 'gateway.key'), tls.keyPem, { mode: 0o600 });
    for (const scheme of ['http', 'https']) {
      const config = join(dir, `gateway-${scheme}.toml`);
      const port = await freePort();
      const https = scheme === 'https' ? `tls-cert = "${join(dir, 'gateway.crt')}"\ntls-key = "${join(dir, 'gateway.key')}"\n` : '';
      await writeFile(config, `master = "${cluster.masterAddress}"\ncredentials = "${cluster.credentials}"\nlisten = "0.0.0.0:${port}"\nanonymous = "none"\n${https}`);
      const gateway = await DaemonProcess.start('fst-gateway', 'fst-gateway.js', ['--config', config]);
      cleanups.push(async () => void await gateway.stop());
      const r = await fstadminWithEnv({ MAINPID: String(gateway.pid) }, 'wait-ready', '--daemon', 'gateway', '--config', config, '--timeout', '30');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`fst-gateway (${scheme}://127.0.0.1:${port}/health) ready`);
      if (scheme === 'https') {
        // Only wait-ready --daemon accepts the gateway's own certificate: --url verifies it.
        const u = await fstadmin('wait-ready', '--url', `https://127.0.0.1:${port}/health`, '--timeout', '1');
        expect(u.code).toBe(1);
        expect(u.stderr).toMatch(/not ready within 1 s \(last check: [A-Z_]+\)/);
      }
    }
  });

  it('--daemon gateway times out with the reason when nothing listens on its listen address', async () => {
    const config = join(await tempDir(), 'gateway.toml');
    const port = await freePort();
    await writeFile(config, `master = "127.0.0.1:9420"\nlisten = "127.0.0.1:${port}"\n`);
    const r = await fstadmin('wait-ready', '--daemon', 'gateway', '--config', config, '--timeout', '1');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^fstadmin: fst-gateway \\(http://127\\.0\\.0\\.1:${port}/health\\) not ready within 1 s \\(last check: connection refused\\): .*\\(ETIMEDOUT\\)\\n$`));
  });

  it('--daemon fails at once when the config has no metrics-listen', async () => {
    const config = join(await tempDir(), 'master.toml');
    await writeFile(config, 'data = "/var/lib/fst/master"\n');
    const r = await fstadmin('wait-ready', '--daemon', 'master', '--config', config);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^fstadmin: .*master\.toml: no metrics-listen, so no \/health to wait for .*\(EINVAL\)\n$/);
  });

  it('--mount on a directory that is not a mount times out with a clear message', async () => {
    const dir = await tempDir();
    const r = await fstadmin('wait-ready', '--mount', dir, '--timeout', '0.5');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`fstadmin: ${dir} not ready within 0.5 s (last check: not a mount point): Connection timed out (ETIMEDOUT)\n`);
  });

  it('gives up at once when the daemon it waits for has exited (--pid, or $MAINPID from systemd)', async () => {
    const s = await healthServer(Infinity);
    const url = `http://127.0.0.1:${s.port}/health`;
    const daemon = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 300)'], { stdio: 'ignore' });
    const exited = new Promise((r) => daemon.once('exit', r));
    cleanups.push(async () => {
      daemon.kill('SIGKILL');
      await exited;
    });
    const started = Date.now();
    const r = await fstadmin('wait-ready', '--url', url, '--pid', String(daemon.pid), '--timeout', '30');
    expect(Date.now() - started).toBeLessThan(20_000); // not the 30 s of --timeout
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`fstadmin: ${url} not ready: process ${daemon.pid} exited (last check: HTTP 503): Operation canceled (ECANCELED)\n`);

    await exited;
    const viaEnv = await fstadminWithEnv({ MAINPID: String(daemon.pid) }, 'wait-ready', '--url', url, '--timeout', '30');
    expect(viaEnv.code).toBe(1);
    expect(viaEnv.stderr).toContain(`process ${daemon.pid} exited`);
  });

  it('needs exactly one of --daemon, --url, --mount (usage error, exit 2)', async () => {
    expect((await fstadmin('wait-ready')).code).toBe(2);
    expect((await fstadmin('wait-ready', '--url', 'http://x/health', '--mount', '/mnt/fst')).code).toBe(2);
    expect((await fstadmin('wait-ready', '--mount', '/mnt/fst', '--timeout', 'soon')).code).toBe(2);
  });
});

describe('mountinfo', () => {
  const text = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '40 22 0:35 / /mnt/fst rw,nosuid,nodev,relatime shared:20 - ext4 /dev/sdb1 rw',
    '41 40 0:36 / /mnt/fst rw,nosuid,nodev,relatime shared:21 master:3 - fuse fst rw,user_id=0,group_id=0',
    '42 22 0:37 / /mnt/with\\040space rw - fuse.sshfs host:/ rw',
    '',
  ].join('\n');

  it('finds the topmost mount at a path, unescaping octal escapes', () => {
    const entries = parseMountinfo(text);
    expect(mountAt(entries, '/mnt/fst')).toEqual({ mountPoint: '/mnt/fst', fsType: 'fuse', source: 'fst' });
    expect(mountAt(entries, '/mnt/fst/')?.fsType).toBe('fuse');
    expect(mountAt(entries, '/mnt/with space')).toMatchObject({ fsType: 'fuse.sshfs', source: 'host:/' });
    expect(mountAt(entries, '/mnt')).toBeUndefined();
  });

  it('counts fuse and fuse.* as FUSE', () => {
    const entries = parseMountinfo(text);
    expect(entries.map(isFuse)).toEqual([false, false, true, true]);
  });
});

/**
 * A real fst-gateway process over a real process cluster, for the gateway's tests: random ports,
 * temp dirs, the master's admin credential, and an access keys file with a read-write key, a
 * read-only key and (optionally) anonymous access. `stop()` removes everything, whatever happened.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DaemonProcess } from './daemon-process.js';
import { FuseMount } from './fuse-mount.js';
import { startProcessCluster, type ProcessCluster } from './process-cluster.js';

const run = promisify(execFile);

export const KEY = { id: 'AKIDFSTTEST', secret: 'test-secret-0123456789' };
export const READ_ONLY_KEY = { id: 'AKIDREADONLY', secret: 'read-only-secret-98765' };

export interface GatewayClusterOptions {
  /** `--anonymous` (default 'none': requests must sign). */
  anonymous?: 'none' | 'read' | 'write';
  /** Also mount the cluster. */
  mount?: boolean;
  /** Extra gateway flags. */
  gatewayArgs?: string[];
}

export class GatewayCluster {
  private constructor(readonly cluster: ProcessCluster, readonly gateway: DaemonProcess, readonly dir: string, readonly mount: FuseMount | undefined) {}

  static async start(o: GatewayClusterOptions = {}): Promise<GatewayCluster> {
    const cluster = await startProcessCluster({ chunkservers: 3, replication: 2 });
    let dir: string | undefined;
    let gateway: DaemonProcess | undefined;
    try {
      dir = await mkdtemp(join(tmpdir(), 'fst-gw-'));
      const keys = join(dir, 'keys.toml');
      await writeFile(keys, [
        '[[keys]]', `id = "${KEY.id}"`, `secret = "${KEY.secret}"`, '',
        '[[keys]]', `id = "${READ_ONLY_KEY.id}"`, `secret = "${READ_ONLY_KEY.secret}"`, 'read-only = true', '',
      ].join('\n'), { mode: 0o600 });
      gateway = await DaemonProcess.start('fst-gateway', 'fst-gateway.js', [
        '--master', cluster.masterAddress, '--listen', '127.0.0.1:0', '--credentials', cluster.credentials, '--keys', keys,
        '--anonymous', o.anonymous ?? 'none', ...(o.gatewayArgs ?? []),
      ]);
      const mount = o.mount ? await FuseMount.start(cluster.masterAddress) : undefined;
      return new GatewayCluster(cluster, gateway, dir, mount);
    } catch (e) {
      await gateway?.stop().catch(() => undefined);
      await cluster.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  get url(): string {
    return `http://${this.gateway.address}`;
  }

  async stop(): Promise<void> {
    await this.mount?.stop();
    await this.gateway.stop().catch(() => undefined);
    await this.cluster.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

export interface CurlResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Runs curl with `args` (plus -s, and -D to capture headers), resolving with the final status,
 * headers (lower-case names, last response) and body text; `out` writes the body to a file instead.
 */
export async function curl(args: string[], out?: string): Promise<CurlResult> {
  const dir = await mkdtemp(join(tmpdir(), 'fst-curl-'));
  try {
    const headerFile = join(dir, 'headers');
    const bodyFile = out ?? join(dir, 'body');
    await run('curl', ['-s', '-S', '-D', headerFile, '-o', bodyFile, ...args], { maxBuffer: 64 * 1024 * 1024 });
    const raw = await readFile(headerFile, 'utf8');
    const blocks = raw.split(/\r?\n\r?\n/).filter((b) => b.startsWith('HTTP/'));
    const last = blocks[blocks.length - 1] ?? '';
    const [statusLine, ...lines] = last.split(/\r?\n/);
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    // curl writes no file for an empty body (HEAD, 304).
    return { status: Number(statusLine?.split(' ')[1]), headers, body: out ? '' : await readFile(bodyFile, 'utf8').catch(() => '') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temp dir owned by `nobody` (PostgreSQL
 * refuses to run as root), the server started as that user on 127.0.0.1 at a free port and on a
 * Unix socket in the temp dir, trust authentication for the user `fst`. `stop()` stops it
 * (immediate mode) and removes the dir; a process exit stops it too, whatever happened.
 *
 * `usePostgres()` registers beforeAll/afterAll hooks: one cluster per test file, a fresh database
 * per `createDatabase()`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';
const NOBODY = { uid: 65534, gid: 65534 };
const AS_NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export class PgCluster {
  private databases = 0;
  private stopped = false;
  private readonly onExit = (): void => this.stopSync();

  private constructor(readonly dir: string, readonly port: number) {
    process.once('exit', this.onExit);
  }

  /**
   * Starts a cluster. `durable`: fsync as a production server does (default off: tests need no
   * durability across power cuts, and fsync=off keeps a shared machine quiet).
   */
  static async start(opts: { durable?: boolean } = {}): Promise<PgCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'fst-pg-'));
    await chown(dir, NOBODY.uid, NOBODY.gid);
    const port = await freePort();
    const cluster = new PgCluster(dir, port);
    try {
      const data = join(dir, 'data');
      await run('setpriv', [...AS_NOBODY, `${BIN}/initdb`, '-D', data, '-U', 'fst', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], { cwd: dir });
      const settings = [`-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', '-c max_connections=200', opts.durable ? '' : '-c fsync=off -c full_page_writes=off'];
      await run('setpriv', [...AS_NOBODY, `${BIN}/pg_ctl`, '-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', settings.join(' '), 'start'], { cwd: dir });
      return cluster;
    } catch (e) {
      await cluster.stop();
      throw e;
    }
  }

  /** The URL of `database` (as the superuser `fst`). */
  url(database = 'postgres'): string {
    return `postgres://fst@127.0.0.1:${this.port}/${database}`;
  }

  /** A new empty database; its URL. */
  async createDatabase(): Promise<string> {
    const name = `fst_${process.pid}_${++this.databases}`;
    const c = new pg.Client({ connectionString: this.url() });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE ${name}`);
    } finally {
      await c.end();
    }
    return this.url(name);
  }

  async dropDatabase(url: string): Promise<void> {
    const name = new URL(url).pathname.slice(1);
    const c = new pg.Client({ connectionString: this.url() });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    process.removeListener('exit', this.onExit);
    await run('setpriv', [...AS_NOBODY, `${BIN}/pg_ctl`, '-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop'], { cwd: this.dir }).catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  /** At process exit (a test runner killed mid-file): stop the server and remove its files, synchronously. */
  private stopSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      execFileSync('setpriv', [...AS_NOBODY, `${BIN}/pg_ctl`, '-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop'], { cwd: this.dir, stdio: 'ignore' });
    } catch {
      // already stopped
    }
    execFileSync('rm', ['-rf', this.dir]);
  }
}

/** One cluster for the test file (started in beforeAll, stopped in afterAll); `get()` inside tests. */
export function usePostgres(): { get(): PgCluster } {
  let cluster: PgCluster | undefined;
  beforeAll(async () => {
    cluster = await PgCluster.start();
  });
  afterAll(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  return {
    get(): PgCluster {
      if (!cluster) throw new Error('no PostgreSQL cluster: usePostgres() starts one in beforeAll');
      return cluster;
    },
  };
}

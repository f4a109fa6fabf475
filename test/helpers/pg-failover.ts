/**
 * A throwaway pg_auto_failover formation for tests: a monitor and two PostgreSQL 15 nodes (n1
 * primary, n2 its synchronous standby) in one temp dir owned by `nobody` (PostgreSQL refuses root),
 * each a `pg_autoctl` process tree of its own process group, all on 127.0.0.1 at free ports. The
 * monitor's failover timers are shortened (a dead node is noticed in about 3 s, and the new primary
 * takes writes 3 s later instead of 30): what DEPLOY.md says to keep at their defaults in
 * production, where the old primary may be alive but cut off and must be given time to demote
 * itself. fsync is off: the tests kill processes, not the machine.
 *
 * `url` is the libpq multi-host URL (target_session_attrs=read-write) fst-master takes with --meta.
 * `stop()` kills every process group it started (by PID), then every process still running in the
 * temp dir (a PostgreSQL child puts itself in a session of its own, and the monitor's healthcheck
 * worker does not exit when its postmaster is killed), and removes the dir; a process exit does
 * the same, whatever happened.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readlinkSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { closedPort, waitFor } from './probes.js';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';
const NOBODY = { uid: 65534, gid: 65534 };
const AS_NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups'];
/** Generous: initdb, a base backup and the monitor's state machine on a busy 2-core machine. */
const START_MS = 180_000;

/** Monitor settings that make a failover take seconds (defaults: 5 s checks, 20 s unhealthy, 30 s demote). */
const FAST_FAILOVER: Record<string, number> = {
  'pgautofailover.health_check_period': 1000,
  'pgautofailover.health_check_timeout': 1000,
  'pgautofailover.health_check_max_retries': 1,
  'pgautofailover.health_check_retry_delay': 500,
  'pgautofailover.node_considered_unhealthy_timeout': 3000,
  'pgautofailover.primary_demote_timeout': 3000,
};

export type NodeName = 'n1' | 'n2';

interface NodeState {
  name: string;
  reported: string;
  goal: string;
}

export class PgFailoverCluster {
  /** Process-group leaders (pg_autoctl), by name: monitor, n1, n2. */
  private readonly groups = new Map<string, number>();
  private stopped = false;
  private readonly onExit = (): void => this.stopSync();
  readonly ports: Record<'monitor' | NodeName, number>;

  private constructor(readonly dir: string, monitor: number, n1: number, n2: number) {
    this.ports = { monitor, n1, n2 };
    process.once('exit', this.onExit);
  }

  static async start(): Promise<PgFailoverCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'fst-pgaf-'));
    await chown(dir, NOBODY.uid, NOBODY.gid);
    const c = new PgFailoverCluster(dir, await closedPort(), await closedPort(), await closedPort());
    try {
      await c.startMonitor();
      await c.startNode('n1');
      await c.waitForStates('n1 single', (s) => s.some((n) => n.name === 'n1' && n.reported === 'single'));
      await c.startNode('n2');
      await c.waitForStandby('n2', 'n1');
      for (const n of ['n1', 'n2'] as const) await c.sql(n, 'ALTER SYSTEM SET fsync = off').then(() => c.sql(n, 'SELECT pg_reload_conf()'));
      return c;
    } catch (e) {
      const logs = await c.logs().catch(() => '');
      await c.stop();
      throw new Error(`starting pg_auto_failover failed: ${e instanceof Error ? e.message : String(e)}\n${logs}`, { cause: e });
    }
  }

  /** The URL fst-master takes: both nodes, whichever takes writes. */
  get url(): string {
    return `postgres://fst@127.0.0.1:${this.ports.n1},127.0.0.1:${this.ports.n2}/fst?target_session_attrs=read-write`;
  }

  /** The monitor's view: each node's reported and assigned state. */
  async states(): Promise<NodeState[]> {
    const c = new pg.Client({ connectionString: `postgres://autoctl_node@127.0.0.1:${this.ports.monitor}/pg_auto_failover`, connectionTimeoutMillis: 5000 });
    await c.connect();
    try {
      const r = await c.query<NodeState>('SELECT nodename AS name, reportedstate::text AS reported, goalstate::text AS goal FROM pgautofailover.node ORDER BY nodeid');
      return r.rows;
    } finally {
      await c.end();
    }
  }

  /** Whether `node` answers and takes writes (what fst-master's target_session_attrs looks for). */
  async takesWrites(node: NodeName): Promise<boolean> {
    const r = await this.sql(node, "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only')::bool AS ro");
    return r.rows[0]?.ro === false;
  }

  /** One statement on `node`'s fst database, as the superuser fst. */
  async sql(node: NodeName, text: string): Promise<pg.QueryResult> {
    const c = new pg.Client({ connectionString: `postgres://fst@127.0.0.1:${this.ports[node]}/fst`, connectionTimeoutMillis: 5000 });
    c.on('error', () => undefined);
    await c.connect();
    try {
      return await c.query(text);
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  /** kill -9 of `node`'s whole process group (pg_autoctl and its PostgreSQL): the machine is gone. */
  kill(node: NodeName): void {
    const pid = this.groups.get(node);
    if (pid === undefined) throw new Error(`${node} is not running`);
    this.groups.delete(node);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Starts a killed node again on its data directory: pg_autoctl rewinds it and it rejoins as a standby. */
  restart(node: NodeName): void {
    if (this.groups.has(node)) throw new Error(`${node} is running`);
    this.spawnGroup(node, ['run', '--pgdata', join(this.dir, node)]);
  }

  /**
   * Waits until `standby` is the synchronous standby of `primary`. A base backup (a new node, or
   * an old primary pg_rewind could not bring back) waits for a spread checkpoint, minutes by
   * default: the primary is asked for one at once meanwhile.
   */
  async waitForStandby(standby: NodeName, primary: NodeName): Promise<void> {
    await waitFor(`${standby} the synchronous standby of ${primary}`, async () => {
      const states = await this.states();
      const ok = states.some((n) => n.name === primary && n.reported === 'primary') && states.some((n) => n.name === standby && n.reported === 'secondary');
      if (!ok) {
        await this.sql(primary, 'CHECKPOINT').catch(() => undefined);
        throw new Error(JSON.stringify(states));
      }
      return true;
    }, START_MS, 500);
  }

  /** Every log, for a failure message. */
  async logs(): Promise<string> {
    const parts: string[] = [];
    for (const name of ['monitor', 'n1', 'n2']) {
      const text = await readFile(join(this.dir, `${name}.log`), 'utf8').catch(() => '');
      parts.push(`--- ${name}.log (tail) ---\n${text.split('\n').slice(-30).join('\n')}`);
    }
    return parts.join('\n');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    process.removeListener('exit', this.onExit);
    this.killAll();
    // The killed servers may still be exiting: remove what they leave.
    await waitFor('the pg_auto_failover processes to exit', () => [...this.pgids].every((pgid) => !groupAlive(pgid)), 30_000).catch(() => undefined);
    await waitFor('the processes left in the temp dir to exit', () => killStrays(this.dir) === 0, 30_000).catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Every process group started, killed or not (stop waits for each to be empty). */
  private readonly pgids = new Set<number>();

  private killAll(): void {
    for (const [name, pid] of this.groups) {
      this.groups.delete(name);
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  private stopSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.killAll();
    killStrays(this.dir);
    execFileSync('rm', ['-rf', this.dir]);
  }

  /** pg_autoctl as nobody, with its configuration and state in the temp dir. */
  private autoctl(args: string[]): string[] {
    const d = this.dir;
    return [...AS_NOBODY, 'env', `HOME=${d}`, `XDG_CONFIG_HOME=${d}/config`, `XDG_DATA_HOME=${d}/share`, `XDG_RUNTIME_DIR=${d}`, `PG_REGRESS_SOCK_DIR=${d}`, `PGHOST=${d}`, `PATH=${BIN}:/usr/bin:/bin`, 'pg_autoctl', ...args];
  }

  /** Starts a long-running pg_autoctl in a process group of its own, its output in `<name>.log`. */
  private spawnGroup(name: string, args: string[]): void {
    const out = openSync(join(this.dir, `${name}.log`), 'a');
    try {
      const child = spawn('setpriv', this.autoctl(args), { cwd: this.dir, detached: true, stdio: ['ignore', out, out] });
      child.on('error', () => undefined);
      child.unref();
      if (child.pid === undefined) throw new Error(`pg_autoctl for ${name} did not start`);
      this.groups.set(name, child.pid);
      this.pgids.add(child.pid);
    } finally {
      closeSync(out);
    }
  }

  private get monitorUrl(): string {
    return `postgres://autoctl_node@127.0.0.1:${this.ports.monitor}/pg_auto_failover?sslmode=disable`;
  }

  private async startMonitor(): Promise<void> {
    const pgdata = join(this.dir, 'monitor');
    await run('setpriv', this.autoctl(['create', 'monitor', '--pgdata', pgdata, '--pgport', String(this.ports.monitor), '--hostname', '127.0.0.1', '--auth', 'trust', '--no-ssl', '--pgctl', `${BIN}/pg_ctl`]), { cwd: this.dir });
    await run('setpriv', this.autoctl(['config', 'set', '--pgdata', pgdata, 'postgresql.listen_addresses', '127.0.0.1']), { cwd: this.dir });
    this.spawnGroup('monitor', ['run', '--pgdata', pgdata]);
    // The monitor's superuser is nobody, on the Unix socket in the temp dir.
    await waitFor('the pg_auto_failover monitor', async () => {
      const c = new pg.Client({ host: this.dir, port: this.ports.monitor, user: 'nobody', database: 'pg_auto_failover' });
      await c.connect();
      try {
        for (const [name, value] of Object.entries(FAST_FAILOVER)) await c.query(`ALTER SYSTEM SET ${name} = ${value}`);
        await c.query('SELECT pg_reload_conf()');
      } finally {
        await c.end();
      }
      return true;
    }, START_MS, 200);
  }

  private async startNode(name: NodeName): Promise<void> {
    this.spawnGroup(name, [
      'create', 'postgres', '--pgdata', join(this.dir, name), '--pgport', String(this.ports[name]), '--pghost', this.dir, '--hostname', '127.0.0.1',
      '--listen', '127.0.0.1', '--name', name, '--auth', 'trust', '--no-ssl', '--username', 'fst', '--dbname', 'fst', '--monitor', this.monitorUrl,
      '--pgctl', `${BIN}/pg_ctl`, '--run',
    ]);
  }

  /** Waits until the monitor's states satisfy `ok`. */
  async waitForStates(what: string, ok: (s: NodeState[]) => boolean, timeoutMs = START_MS): Promise<NodeState[]> {
    return waitFor(what, async () => {
      const s = await this.states();
      if (!ok(s)) throw new Error(JSON.stringify(s));
      return s;
    }, timeoutMs, 200);
  }
}

/**
 * SIGKILLs every process whose working directory is in `dir` (PostgreSQL's processes run in their
 * data directory, which is in this formation's temp dir: they are this helper's); answers how many
 * were still there.
 */
function killStrays(dir: string): number {
  let found = 0;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isSafeInteger(pid) || pid === process.pid) continue;
    let cwd: string;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      continue; // gone, or not ours to read
    }
    if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
    found++;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return found;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * One fst-master process alone (no chunkserver: metadata needs none) in a temp directory, and what
 * the benchmark reads about it from outside: resident memory and its peak (/proc/PID/status), CPU
 * time of all its threads (/proc/PID/stat: the SQLite work runs on libuv's pool) and the size of
 * its database on disk (the SQLite file, its -wal and -shm).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess } from '../../test/helpers/daemon-process.js';
import { adminCredentialsPath, registerCredentials } from '../../test/helpers/credentials.js';

export interface MasterMemory {
  /** VmRSS and VmHWM (the peak), bytes. */
  rss: number;
  hwm: number;
}

export interface DbSize {
  main: number;
  wal: number;
  shm: number;
  total: number;
}

export interface MasterCpu {
  /** CPU seconds of the main thread and of all the others. */
  main: number;
  other: number;
}

/** USER_HZ: the unit of /proc/PID/stat times on Linux (100 on every architecture Node runs on). */
const CLOCK_TICKS = 100;

/** utime + stime of one /proc stat file, in seconds. */
async function cpuOf(path: string): Promise<number> {
  const stat = await readFile(path, 'utf8');
  // Fields after the command name (which may hold spaces) start with state, field 3; utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export class ScaleMaster {
  private constructor(readonly root: string, readonly daemon: DaemonProcess) {}

  /**
   * Starts fst-master with its data in a new temp directory. With `cpuProfDir`, the master writes
   * a V8 CPU profile there when it stops (bench/cpu-profile.mjs).
   */
  static async start(cpuProfDir?: string): Promise<ScaleMaster> {
    const root = await mkdtemp(join(tmpdir(), 'fst-scale-'));
    try {
      let env: NodeJS.ProcessEnv = {};
      if (cpuProfDir) {
        await mkdir(cpuProfDir, { recursive: true });
        const preload = join(import.meta.dirname, '..', 'cpu-profile.mjs');
        env = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${preload}`.trim(), FST_CPU_PROF_DIR: cpuProfDir };
      }
      const daemon = await DaemonProcess.start('fst-master', 'fst-master.js', [
        '--data', join(root, 'master'), '--listen', '127.0.0.1:0', '--replication', '1',
      ], env);
      registerCredentials(daemon.address, adminCredentialsPath(join(root, 'master')));
      return new ScaleMaster(root, daemon);
    } catch (e) {
      await rm(root, { recursive: true, force: true });
      throw e;
    }
  }

  get address(): string {
    return this.daemon.address;
  }

  get pid(): number {
    return this.daemon.pid;
  }

  get dbPath(): string {
    return join(this.root, 'master', 'meta.sqlite3');
  }

  async memory(): Promise<MasterMemory> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  }

  /**
   * User + system CPU seconds the master has used so far: its main thread (JavaScript, gRPC) and
   * its other threads (SQLite statements on libuv's pool, V8's GC helpers), which a V8 profile
   * does not see.
   */
  async cpuSeconds(): Promise<MasterCpu> {
    const tids = await readdir(`/proc/${this.pid}/task`);
    const cpu: MasterCpu = { main: 0, other: 0 };
    for (const tid of tids) {
      const s = await cpuOf(`/proc/${this.pid}/task/${tid}/stat`).catch(() => 0); // a thread may end meanwhile
      if (Number(tid) === this.pid) cpu.main += s;
      else cpu.other += s;
    }
    return cpu;
  }

  async dbSize(): Promise<DbSize> {
    const size = async (p: string): Promise<number> => (await stat(p).catch(() => undefined))?.size ?? 0;
    const [main, wal, shm] = await Promise.all([size(this.dbPath), size(`${this.dbPath}-wal`), size(`${this.dbPath}-shm`)]);
    return { main, wal, shm, total: main + wal + shm };
  }

  /**
   * SIGTERM and wait (a master writing a long CPU profile on exit gets `graceMs`), then removes
   * the temp directory. Safe to call twice.
   */
  async stop(graceMs = 5_000): Promise<void> {
    await this.daemon.stop(graceMs).catch(() => undefined);
    await rm(this.root, { recursive: true, force: true });
  }
}

/**
 * A writer that goes on in the background while a test does something else (a backup, a kill):
 * files of `size(n)` random bytes written one after another under `dir` through an FstClient,
 * each remembered with its sha256 and when its write began and when it was closed.
 */
import { randomBytes } from 'node:crypto';
import type { FstClient } from '../../src/client/fst-client.js';
import { runCli } from './cli.js';
import { sha256 } from './files.js';
import { waitFor } from './probes.js';

export interface WrittenFile {
  sha: string;
  /** Date.now() when its write began. */
  started: number;
  /** Date.now() when its close returned. */
  at: number;
}

export class BackgroundWriter {
  readonly closed = new Map<string, WrittenFile>();
  private writing = true;
  private readonly done: Promise<void>;

  constructor(client: FstClient, dir: string, size: (n: number) => number) {
    this.done = (async () => {
      for (let n = 0; this.writing; n++) {
        const data = randomBytes(size(n));
        const path = `${dir}/f${n}`;
        const started = Date.now();
        await client.writeFile(path, data);
        this.closed.set(path, { sha: sha256(data), started, at: Date.now() });
      }
    })();
  }

  /** Stops after the file under way; rejects with the first write that failed. */
  async stop(): Promise<void> {
    this.writing = false;
    await this.done;
  }
}

export interface BackupUnderWrites {
  /** What `fstadmin metadata backup --json` printed. */
  backup: { createdMs: number; bytes: number; sha256: string };
  /** Files closed before the backup began: in it, whatever its snapshot's moment. */
  before: Map<string, string>;
  /** Files begun after the backup returned: not in it, whatever its snapshot's moment. */
  after: string[];
  closed: ReadonlyMap<string, WrittenFile>;
}

/**
 * `fstadmin metadata backup FILE` while a BackgroundWriter writes files of `size(n)` bytes under
 * `/w` (made here), with files closed before it and begun after it; the writer is stopped after.
 */
export async function backupUnderWrites(client: FstClient, master: string, file: string, size: (n: number) => number): Promise<BackupUnderWrites> {
  await client.mkdirp('/w');
  const writer = new BackgroundWriter(client, '/w', size);
  const closed = writer.closed;
  try {
    await waitFor('a few files written under way', () => closed.size >= 5);
    const started = Date.now();
    const made = await runCli('fstadmin', ['--master', master, 'metadata', 'backup', file, '--json']);
    const ended = Date.now();
    if (made.code !== 0) throw new Error(`fstadmin metadata backup failed: ${made.stderr}`);
    const countAtBackup = closed.size;
    await waitFor('files written after the backup', () => closed.size >= countAtBackup + 5);
    await writer.stop();
    const before = new Map([...closed].filter(([, f]) => f.at < started).map(([p, f]) => [p, f.sha]));
    const after = [...closed].filter(([, f]) => f.started > ended).map(([p]) => p);
    return { backup: JSON.parse(made.stdout) as BackupUnderWrites['backup'], before, after, closed };
  } finally {
    await writer.stop().catch(() => undefined);
  }
}

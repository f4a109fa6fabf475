/**
 * Whether this master's metadata was restored from a backup and not yet reconciled with the
 * chunkservers. `--restore` leaves a marker (`restored.json`) in the data directory; until an
 * `fstadmin fsck --repair` has checked every live chunkserver, chunk reports at versions the
 * restored metadata never issued are adopted (the master that made them issued them after the
 * backup: a file changed since then comes back with its newest data) instead of being set aside as
 * they are otherwise (chunk-reports.ts). The marker survives restarts until that fsck.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../common/log/logger.js';

export const RESTORED_MARKER = 'restored.json';

export interface RestoredInfo {
  /** The backup file restored from. */
  backup: string;
  /** Unix ms its snapshot was taken. */
  created: number;
  /** Unix ms the restore was made. */
  restoredAt: number;
}

export async function writeRestoredMarker(dataDir: string, info: RestoredInfo): Promise<void> {
  await writeFile(join(dataDir, RESTORED_MARKER), JSON.stringify(info), { mode: 0o600, flush: true });
}

export class RestoreState {
  private constructor(private readonly dataDir: string, private current: RestoredInfo | undefined) {}

  static async load(dataDir: string): Promise<RestoreState> {
    const path = join(dataDir, RESTORED_MARKER);
    if (!existsSync(path)) return new RestoreState(dataDir, undefined);
    return new RestoreState(dataDir, JSON.parse(await readFile(path, 'utf8')) as RestoredInfo);
  }

  /** Restored and not reconciled yet: versions never issued here are adopted. */
  get active(): boolean {
    return this.current !== undefined;
  }

  get info(): RestoredInfo | undefined {
    return this.current;
  }

  /** A complete `fsck --repair` reconciled the metadata with the chunkservers. */
  async finish(log: Logger): Promise<void> {
    if (!this.current) return;
    await rm(join(this.dataDir, RESTORED_MARKER), { force: true });
    log.info('restored metadata reconciled with the chunkservers (fsck --repair): versions never issued are set aside again', { ...this.current });
    this.current = undefined;
  }
}

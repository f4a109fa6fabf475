/**
 * The gateway's own directory in each client's tree, `/.fst-gateway`: `tmp/` holds uploads being
 * written (renamed into place when complete, so readers see the old file or the new one, never a
 * part), `uploads/` holds S3 multipart uploads. Both are sticky and writable by everyone (as /tmp),
 * since the callers of different access keys write there. Several gateways share them: names are
 * random. A gateway removes what it finds there older than a day (a gateway that died mid-upload).
 */
import type { FstClient } from '../../client/fst-client.js';
import { toFsError } from '../../common/errors/to-errno.js';
import type { Logger } from '../../common/log/logger.js';

export const STAGING_DIR = '/.fst-gateway';
export const TMP_DIR = `${STAGING_DIR}/tmp`;
export const UPLOADS_DIR = `${STAGING_DIR}/uploads`;
const STALE_MS = 24 * 3600 * 1000;

async function mkdirShared(client: FstClient, path: string): Promise<void> {
  try {
    await client.mkdir(path, 0o1777);
  } catch (e) {
    if (toFsError(e).code !== 'EEXIST') throw e;
    return;
  }
  // The mode given to mkdir may lose bits to the master's rules; set it as meant.
  await client.chmod(path, 0o1777);
}

/** Makes the staging directories once per client (again after a failure). */
export class Staging {
  private ready: Promise<void> | undefined;
  private tmpIno: Promise<number> | undefined;

  constructor(private readonly client: FstClient) {}

  ensure(): Promise<void> {
    this.ready ??= (async () => {
      await this.client.mkdirp(STAGING_DIR, 0o755);
      await mkdirShared(this.client, TMP_DIR);
      await mkdirShared(this.client, UPLOADS_DIR);
    })().catch((e: unknown) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  /**
   * The inode of `tmp/`, found once: uploads create and rename their files by inode, so the staging
   * path costs no lookups per request. `forgetTmp` after ENOENT/ESTALE (someone removed it).
   */
  tmpDir(): Promise<number> {
    this.tmpIno ??= this.ensure().then(async () => (await this.client.stat(TMP_DIR)).ino).catch((e: unknown) => {
      this.tmpIno = undefined;
      throw e;
    });
    return this.tmpIno;
  }

  forgetTmp(): void {
    this.tmpIno = undefined;
    this.ready = undefined;
  }

  /** Removes uploads left more than a day ago (by gateways that died); errors are only logged. */
  async sweep(log: Logger, now = Date.now()): Promise<number> {
    let removed = 0;
    for (const dir of [TMP_DIR, UPLOADS_DIR]) {
      let entries;
      try {
        entries = await this.client.readdir(dir, { withAttrs: true });
      } catch (e) {
        if (toFsError(e).code !== 'ENOENT') log.warn('listing the staging directory failed', { dir, err: e });
        continue;
      }
      for (const e of entries) {
        // ctime too: a multipart upload records each part on its directory (an attribute), and
        // writes parts in place, neither of which moves the directory's mtime.
        if (!e.stat || now - Math.max(e.stat.mtimeMs, e.stat.ctimeMs) < STALE_MS) continue;
        await this.client.rm(`${dir}/${e.name}`, { recursive: true }).then(() => removed++, (err: unknown) => log.warn('removing a stale upload failed', { name: e.name, err }));
      }
    }
    return removed;
  }
}

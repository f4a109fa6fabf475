/**
 * The chunkserver's identity: a UUID generated on first start and kept in the first data
 * directory, so that a restarted server (even on another address) is the same server to the master.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FsError } from '../common/errors/errno.js';
import { fsyncDir } from './store/layout.js';

export const UUID_FILE = 'chunkserver.uuid';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function loadOrCreateUuid(dataDir: string): Promise<string> {
  const path = join(dataDir, UUID_FILE);
  try {
    const uuid = (await readFile(path, 'utf8')).trim();
    // A damaged identity must stop the server: a new one would make the master see a stranger
    // holding chunks that another (dead) server was known to hold.
    if (!UUID_RE.test(uuid)) throw new FsError('EINVAL', `${path} does not hold a UUID; fix or remove it`);
    return uuid;
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw e;
  }
  const uuid = randomUUID();
  const tmp = `${path}.tmp`;
  await writeFile(tmp, uuid + '\n', { flush: true });
  await rename(tmp, path);
  await fsyncDir(dataDir);
  return uuid;
}

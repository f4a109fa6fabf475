/**
 * CommitWrite: after a client's data is durable on every replica, the file's size grows to the end
 * of what was written and its mtime/ctime move. Only then is the data visible to other readers.
 */
import type { fst } from '../../proto-gen/fst.js';
import { FsError } from '../../common/errors/errno.js';
import type { MasterDb } from '../db/database.js';
import { getInode, nowTimespec, rowToAttr } from '../tree/inode-row.js';
import { MAX_FILE_SIZE } from './allocate.js';
import { dropInline } from '../tree/inline-data.js';

/** `sync` (fsync): answered only once the commit is on the master's disk. */
export async function commitWrite(db: MasterDb, ino: number, end: number, mtime: fst.ITimespec | null | undefined, sync = false): Promise<fst.IAttr> {
  if (!Number.isSafeInteger(end) || end < 0 || end > MAX_FILE_SIZE) throw new FsError('EFBIG', `invalid end offset ${end}`);
  const now = nowTimespec();
  const m = mtime && (mtime.sec ?? 0) > 0 ? { sec: mtime.sec ?? 0, nsec: mtime.nsec ?? 0 } : now;
  return db.write(async (tx) => {
    const inode = await getInode(tx, ino);
    if (inode.type !== 1) throw new FsError(inode.type === 2 ? 'EISDIR' : 'EINVAL', `inode ${ino} is not a regular file`);
    await tx.run(
      'UPDATE inodes SET size = MAX(size, ?), mtime_s = ?, mtime_ns = ?, ctime_s = ?, ctime_ns = ? WHERE ino = ?',
      [end, m.sec, m.nsec, now.sec, now.nsec, ino],
    );
    // The data is in chunks now; a writer moving an inline file to chunks wrote its bytes there.
    await dropInline(tx, ino);
    return rowToAttr(await getInode(tx, ino));
  }, { durable: sync });
}

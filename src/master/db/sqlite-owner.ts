/**
 * One master per SQLite data directory: `master.pid` in the directory names the fst-master
 * process using it. A second master started on the same directory is refused with a clear message
 * (only PostgreSQL metadata, `--meta`, supports several masters: master/ha/). A file left by a
 * master that died (kill -9, power loss) names a process that is gone, or that is not an
 * fst-master any more (its pid reused): it is taken over.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FsError } from '../../common/errors/errno.js';

const FILE = 'master.pid';

/**
 * Whether `pid` is a running fst-master other than this process, on `dataDir` as far as its
 * command line tells (one given another --data is a master elsewhere that reused the pid).
 */
async function isOtherMaster(pid: number, dataDir: string): Promise<boolean> {
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  // Without /proc (not Linux), a live process counts as the master it says it is.
  if (cmdline === undefined) return true;
  const args = cmdline.split('\0');
  if (!args.some((a) => a.includes('fst-master'))) return false;
  const i = args.indexOf('--data');
  return i < 0 || args[i + 1] === undefined || resolve(args[i + 1]!) === resolve(dataDir) || !args[i + 1]!.startsWith('/');
}

/** Claims `dataDir` for this process; resolves with a function that gives it up (at stop). */
export async function claimSqliteDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, FILE);
  await mkdir(dataDir, { recursive: true, mode: 0o750 });
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o644);
      try {
        await fh.writeFile(`${process.pid}\n`);
      } finally {
        await fh.close();
      }
      return () => rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (await isOtherMaster(pid, dataDir)) {
      throw new FsError('EBUSY', `another fst-master (pid ${pid}) uses the SQLite metadata in ${dataDir}: ` +
        'several masters need PostgreSQL metadata (--meta postgres://...), each master with its own --data');
    }
    await rm(path, { force: true });
  }
}

/**
 * The files a MooseFS cluster of 1 master + 3 chunkservers needs, all under one directory of the
 * benchmark's: each daemon's config file, DATA_PATH and (chunkservers) mfshdd.cfg, the master's
 * exports and topology, an empty mfsmount.cfg (so that a host's /etc/mfs/mfsmount.cfg changes
 * nothing) and the mount point. Every setting not written here is MooseFS's default; the ones
 * written are what running several daemons in temp directories needs, plus NICE_LEVEL 0 (the
 * default, -19, would favour MooseFS over the other targets).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The master's ports (MooseFS's defaults); chunkserver i listens on CHUNKSERVER_PORT + i. */
export const MASTER_CLIENT_PORT = 9421;
const CHUNKSERVER_PORT = 9422;

export interface DaemonFiles {
  /** DATA_PATH (lock file, metadata or charts). */
  dir: string;
  cfg: string;
}

export interface ChunkserverFiles extends DaemonFiles {
  /** The one storage directory listed in its mfshdd.cfg. */
  hdd: string;
  port: number;
}

export interface MoosefsLayout {
  root: string;
  master: DaemonFiles;
  chunkservers: ChunkserverFiles[];
  /** mfsmount's config file (empty). */
  mountCfg: string;
  mnt: string;
}

export interface MoosefsSettings {
  /** The address every daemon binds to, and the only one the exports let in. */
  address: string;
  chunkservers: number;
  /** HDD_FSYNC_BEFORE_CLOSE of the chunkservers (MooseFS's default: false). */
  fsyncChunks: boolean;
}

const cfgText = (entries: Record<string, string | number>): string => Object.entries(entries).map(([k, v]) => `${k} = ${v}\n`).join('');

/** Settings common to every daemon: root owns the temp directories; no priority boost. */
const runtime = (ident: string, dir: string): Record<string, string | number> => ({
  WORKING_USER: 'root',
  WORKING_GROUP: 'root',
  NICE_LEVEL: 0,
  SYSLOG_IDENT: `fst-bench-${ident}`,
  DATA_PATH: dir,
});

export async function writeMoosefsConfig(root: string, s: MoosefsSettings): Promise<MoosefsLayout> {
  const master = { dir: join(root, 'master'), cfg: join(root, 'master', 'mfsmaster.cfg') };
  await mkdir(master.dir, { recursive: true });
  await writeFile(master.cfg, cfgText({
    ...runtime('mfsmaster', master.dir),
    EXPORTS_FILENAME: join(master.dir, 'mfsexports.cfg'),
    TOPOLOGY_FILENAME: join(master.dir, 'mfstopology.cfg'),
    MATOML_LISTEN_HOST: s.address,
    MATOCS_LISTEN_HOST: s.address,
    MATOCL_LISTEN_HOST: s.address,
    MATOCL_LISTEN_PORT: MASTER_CLIENT_PORT,
  }));
  // Root stays root (maproot=0), as on the local directory and bindfs.
  await writeFile(join(master.dir, 'mfsexports.cfg'), `${s.address}/32 / rw,alldirs,admin,maproot=0:0\n`);
  await writeFile(join(master.dir, 'mfstopology.cfg'), '');
  // What /var/lib/mfs/metadata.mfs.empty holds: a new, empty filesystem.
  await writeFile(join(master.dir, 'metadata.mfs'), 'MFSM NEW');

  const chunkservers: ChunkserverFiles[] = [];
  for (let i = 0; i < s.chunkservers; i++) {
    const dir = join(root, `chunkserver${i + 1}`);
    const cs = { dir, cfg: join(dir, 'mfschunkserver.cfg'), hdd: join(dir, 'hdd'), port: CHUNKSERVER_PORT + i };
    await mkdir(cs.hdd, { recursive: true });
    await writeFile(join(dir, 'mfshdd.cfg'), `${cs.hdd}\n`);
    await writeFile(cs.cfg, cfgText({
      ...runtime(`mfschunkserver${i + 1}`, dir),
      HDD_CONF_FILENAME: join(dir, 'mfshdd.cfg'),
      BIND_HOST: s.address,
      MASTER_HOST: s.address,
      CSSERV_LISTEN_HOST: s.address,
      CSSERV_LISTEN_PORT: cs.port,
      ...(s.fsyncChunks ? { HDD_FSYNC_BEFORE_CLOSE: 1 } : {}),
    }));
    chunkservers.push(cs);
  }

  const mountCfg = join(root, 'mfsmount.cfg');
  await writeFile(mountCfg, '');
  const mnt = join(root, 'mnt');
  await mkdir(mnt);
  return { root, master, chunkservers, mountCfg, mnt };
}

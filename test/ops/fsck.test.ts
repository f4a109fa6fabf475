/**
 * fstadmin fsck on a real cluster (bin/ daemons, fstadmin run in-process): a healthy cluster is
 * clean (exit 0); a replica whose files are removed behind its chunkserver's back is reported as
 * lost with its file's path (exit 1), `fsck --repair` forgets it and has it copied back, and the
 * file reads back intact; a chunk no file uses, never issued by this metadata, survives the
 * chunkserver's full report (kept for an operator) and is reported as an orphan, then deleted from
 * disk by `fsck --repair`.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fstadminInProcess } from '../helpers/admin-in-process.js';
import type { CliResult } from '../helpers/cli.js';
import { ensureBuilt } from '../helpers/build.js';
import { chunkPaths } from '../../src/chunkserver/store/layout.js';
import { FstClient } from '../../src/client/fst-client.js';
import { RpcClient } from '../../src/common/rpc/client.js';
import { ChunkserverMethods } from '../../src/common/rpc/services.js';
import { adminStatus } from '../helpers/cli.js';
import { Cleanup } from '../helpers/cleanup.js';
import { chunkIdsOnDisk, sha256 } from '../helpers/files.js';
import { waitFor } from '../helpers/probes.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';
import { chunkserverTlsAsMaster, loadCredentialsFor } from '../helpers/credentials.js';

const MiB = 1024 * 1024;
/** An id this metadata never issued (its next chunk id is a handful). */
const FOREIGN_CHUNK = 10 ** 9;

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

beforeAll(() => ensureBuilt('chunkserver/rpc/list-chunks.js', ['src/master', 'src/chunkserver', 'src/common']), 300_000);

interface Problem {
  kind: string;
  chunkId: number;
  server: string;
  path: string;
  detail: string;
  repaired: boolean;
}
interface FsckJson {
  chunksChecked: number;
  serversChecked: number;
  serversUnreachable: string[];
  problems: Problem[];
  repaired: number;
  chunksBusy: number;
}

/** Runs `fstadmin --master M fsck ARGS` in this process; its exit status and output. */
const fstadmin = (master: string, ...args: string[]): Promise<CliResult> => fstadminInProcess(['--master', master, 'fsck', ...args]);

async function fsckJson(master: string, ...args: string[]): Promise<{ code: number; res: FsckJson }> {
  const r = await fstadmin(master, '--json', ...args);
  return { code: r.code, res: JSON.parse(r.stdout) as FsckJson };
}

/** Waits until fsck finds nothing, with every chunk judged (no write lease left running). */
async function clean(c: ProcessCluster, what: string): Promise<FsckJson> {
  return waitFor(what, async () => {
    const { code, res } = await fsckJson(c.masterAddress);
    return code === 0 && res.problems.length === 0 && res.chunksBusy === 0 ? res : undefined;
  }, 90_000, 500);
}

describe('fstadmin fsck', () => {
  it('finds and repairs a deleted replica and an orphan chunk', async () => {
    const c = cleanup.stops(await startProcessCluster({
      chunkservers: 3, replication: 2,
      masterArgs: ['--lease-ms', '2000', '--replication-interval-ms', '300'],
      // No scrubber: it would find the removed files by itself.
      chunkserverArgs: () => ['--scrub-rate-mib', '0'],
    }));
    const client = new FstClient({ credentials: await loadCredentialsFor(c.masterAddress), master: c.masterAddress });
    await client.connect();
    cleanup.add(() => client.close());
    const files = new Map<string, Buffer>([['/a', randomBytes(3 * MiB)], ['/dir/b', randomBytes(5 * MiB + 17)], ['/dir/c', randomBytes(100_000)]]);
    await client.mkdir('/dir');
    for (const [path, data] of files) await client.writeFile(path, data);

    // (a) A healthy cluster: no problem, exit 0.
    const healthy = await clean(c, 'a clean fsck of the new files');
    expect(healthy).toMatchObject({ chunksChecked: 3, serversChecked: 3, serversUnreachable: [] });
    const human = await fstadmin(c.masterAddress);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^fsck: 3 chunks checked on 3 servers; no problem; 0 repaired$/m);

    // (b) One replica of /dir/b removed from a chunkserver's disk behind its back.
    const ino = (await client.stat('/dir/b')).ino;
    const chunk = (await client.meta.locateChunks(ino, 0, 1)).chunks[0]!;
    const victim = c.chunkservers.find((cs) => cs.process.address === chunk.replicas[0]!.address)!;
    const paths = chunkPaths(victim.dataDir, chunk.chunkId);
    await rm(paths.data);
    await rm(paths.meta);

    const found = await fstadmin(c.masterAddress);
    expect(found.code).toBe(1);
    const line = found.stdout.split('\n').find((l) => l.startsWith('lost-replica'));
    expect(line).toContain(`chunk ${chunk.chunkId} v${chunk.version}`);
    expect(line).toContain(`server ${victim.process.address}`);
    expect(line).toContain('/dir/b');
    expect(found.stdout).toMatch(/under-replicated/);
    expect(found.stderr).toMatch(/fsck: \d+ problems? left unrepaired/);

    const repaired = await fsckJson(c.masterAddress, '--repair');
    const lost = repaired.res.problems.find((p) => p.kind === 'lost-replica');
    expect(lost).toMatchObject({ chunkId: chunk.chunkId, server: victim.process.address, path: '/dir/b', repaired: true });
    expect(repaired.res.problems.every((p) => p.repaired)).toBe(true);
    expect(repaired.code).toBe(0);

    // Re-replication copies the chunk back: two live replicas again, and the bytes intact.
    await clean(c, 'fsck clean after the repair');
    const st = await adminStatus(c.masterAddress);
    expect(st.health).toMatchObject({ healthy: 3, underReplicated: 0, missing: 0 });
    const again = (await client.meta.locateChunks(ino, 0, 1)).chunks[0]!;
    expect(again.replicas).toHaveLength(2);
    const reader = new FstClient({ credentials: await loadCredentialsFor(c.masterAddress), master: c.masterAddress });
    await reader.connect();
    cleanup.add(() => reader.close());
    for (const [path, data] of files) expect(sha256(await reader.readFile(path)), path).toBe(sha256(data));

    // (c) A chunk this metadata never issued (as after restoring the master from an older backup).
    const holder = c.chunkservers[0]!;
    const cs = new RpcClient(holder.process.address, { tls: await chunkserverTlsAsMaster(c.masterAddress) });
    await cs.unary(ChunkserverMethods.SetChunkVersion, { chunkId: FOREIGN_CHUNK, version: 0, newVersion: 1, create: true, truncate: true, truncateLength: 4096 });
    cs.close();
    // Its full report does not get it deleted: kept, with a warning, for an operator to decide.
    await c.restartChunkserver(0);
    await c.waitForChunkservers(3);
    await waitFor('the warning about the chunk never issued', async () => (/never issued/.test(c.master.logTail()) ? true : undefined));
    expect(await chunkIdsOnDisk(holder.dataDir)).toContain(FOREIGN_CHUNK);

    const orphan = await fstadmin(c.masterAddress);
    expect(orphan.code).toBe(1);
    const orphanLine = orphan.stdout.split('\n').find((l) => l.startsWith('orphan'));
    expect(orphanLine).toContain(`chunk ${FOREIGN_CHUNK} v1`);
    expect(orphanLine).toContain(`server ${holder.process.address}`);
    expect(orphanLine).toContain('never issued');

    const deleted = await fsckJson(c.masterAddress, '--repair');
    expect(deleted.res.problems).toEqual([expect.objectContaining({ kind: 'orphan', chunkId: FOREIGN_CHUNK, path: '', repaired: true })]);
    expect(deleted.code).toBe(0);
    expect(await chunkIdsOnDisk(holder.dataDir)).not.toContain(FOREIGN_CHUNK);
    await clean(c, 'fsck clean after deleting the orphan');
    for (const [path, data] of files) expect(sha256(await reader.readFile(path)), path).toBe(sha256(data));
  });

  it("lists a chunkserver's chunks (ListChunks) and refuses bad requests with EINVAL", async () => {
    const c = cleanup.stops(await startProcessCluster({ chunkservers: 1, replication: 1 }));
    const client = new FstClient({ credentials: await loadCredentialsFor(c.masterAddress), master: c.masterAddress });
    await client.connect();
    cleanup.add(() => client.close());
    await client.writeFile('/f', randomBytes(100_000));
    const cs = new RpcClient(c.chunkservers[0]!.process.address, { tls: await chunkserverTlsAsMaster(c.masterAddress) });
    cleanup.add(() => cs.close());
    const list = async (req: Parameters<typeof ChunkserverMethods.ListChunks.serializeRequest>[0]): Promise<unknown[]> => {
      const out: unknown[] = [];
      for await (const page of cs.serverStream(ChunkserverMethods.ListChunks, req, { timeoutMs: 10_000 })) out.push(...page.chunks);
      return out;
    };
    const [chunkId] = await chunkIdsOnDisk(c.chunkservers[0]!.dataDir);
    const entry = { chunkId, version: 1, length: 100_000, filesMissing: false };
    expect(await list({})).toEqual([expect.objectContaining(entry)]);
    expect(await list({ verifyFiles: true, chunkIds: [chunkId!, 424242] })).toEqual([expect.objectContaining(entry)]);
    for (const bad of [{ chunkIds: [0] }, { chunkIds: [2 ** 60] }, { quarantineMissing: true }]) {
      await expect(list(bad), JSON.stringify(bad)).rejects.toMatchObject({ code: 'EINVAL' });
    }
    // Still serving.
    expect(await list({ verifyFiles: true })).toHaveLength(1);
    expect(c.chunkservers[0]!.process.running).toBe(true);
  });
});

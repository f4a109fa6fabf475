/**
 * A partition, not a crash: three chunkservers run as separate hosts in network namespaces made by
 * the test (NetLab: veth pairs on a bridge, addresses the test assigns); the master and a client run
 * in the root namespace. The primary of a chunk under writes is cut off while it holds the lease and
 * a write is in flight. Inside the cut-off host, a probe keeps writing to that primary directly.
 *
 * - The old primary accepts the probe's writes only while its lease runs, then refuses them for good.
 * - The client's writes resume on a new primary only after the old primary's last acknowledgement:
 *   no write is acknowledged by two primaries at once.
 * - Every write the client had acknowledged is in the file, and after the link returns the old
 *   primary's stale replica is removed from its disk.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { FstClient } from '../../src/client/fst-client.js';
import { adminStatus } from '../helpers/cli.js';
import { newMetaArgs } from '../helpers/meta-engine.js';
import { DaemonProcess, REPO_ROOT } from '../helpers/daemon-process.js';
import { chunkIdsOnDisk } from '../helpers/files.js';
import { NetLab } from '../helpers/netns.js';
import { waitFor } from '../helpers/probes.js';
import { adminCredentialsPath, loadCredentialsFor, registerCredentials } from '../helpers/credentials.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const LEASE_MS = 4_000;

/** Runs inside the cut-off host: a WriteChunk to the old primary every 100 ms, one JSON line each. */
const PROBE = `
import { ChunkClient } from ${JSON.stringify(join(REPO_ROOT, 'dist/client/chunk-client.js'))};
import { readCredentials } from ${JSON.stringify(join(REPO_ROOT, 'dist/common/security/credentials-file.js'))};
const [address, chunkId, version, credentialsFile, token] = process.argv.slice(1);
const credentials = await readCredentials(credentialsFile);
const chunks = new ChunkClient({ retryForMs: 0, writeTimeoutMs: 2000, tls: { credentials, server: 'chunkserver' } });
const loc = { index: 0, chunkId: Number(chunkId), version: Number(version), replicas: [{ serverId: 0, address }], token: Buffer.from(token, 'hex') };
for (;;) {
  try {
    await chunks.writeStream(loc, [{ offset: 48 * 1024 * 1024, data: Buffer.alloc(4096, 7) }]);
    console.log(JSON.stringify({ t: Date.now(), ok: true }));
  } catch (e) {
    console.log(JSON.stringify({ t: Date.now(), ok: false, code: e.code, msg: e.message }));
  }
  await new Promise((r) => setTimeout(r, 100));
}
`;

interface ProbeResult { t: number; ok: boolean; code?: string; msg?: string }

describe('a partitioned primary', () => {
  let lab: NetLab | undefined;
  const daemons: DaemonProcess[] = [];
  let client: FstClient | undefined;
  let root: string | undefined;
  afterEach(async () => {
    await client?.close().catch(() => undefined);
    for (const d of daemons.splice(0)) await d.stop(3_000).catch(() => undefined);
    await lab?.dispose();
    if (root) await rm(root, { recursive: true, force: true });
    client = lab = root = undefined;
  });

  it('stops accepting writes when its lease ends, is never primary alongside its successor, and loses its stale replica', async () => {
    lab = await NetLab.create(3);
    root = await mkdtemp(join(tmpdir(), 'fst-partition-'));
    const master = await DaemonProcess.start('fst-master', 'fst-master.js', [
      '--data', join(root, 'master'), '--listen', `${lab.rootAddress}:0`, '--replication', '2',
      '--heartbeat-interval-ms', '500', '--dead-after-ms', '3000', '--lease-ms', String(LEASE_MS),
      '--replication-interval-ms', '500', '--gc-interval-ms', '1000', ...(await newMetaArgs()),
    ]);
    daemons.push(master);
    const credentials = adminCredentialsPath(join(root, 'master'));
    registerCredentials(master.address, credentials);
    const dataDirs: string[] = [];
    for (const h of lab.hosts) {
      const dir = join(root, `cs${h.index}`);
      dataDirs.push(dir);
      daemons.push(await DaemonProcess.start(`cs${h.index}`, 'fst-chunkserver.js',
        ['--master', master.address, '--data', dir, '--listen', `${h.address}:0`, '--credentials', credentials], {}, 'listening', ['ip', 'netns', 'exec', h.ns]));
    }
    await waitFor('three live chunkservers', async () => ((await adminStatus(master.address)).servers.filter((s) => s.state === 'alive').length === 3 ? true : undefined));

    client = new FstClient({ credentials: await loadCredentialsFor(master.address), master: master.address, writeTimeoutMs: 8_000, readTimeoutMs: 8_000 });
    await client.connect();
    const expected = randomBytes(MiB);
    const h = await client.open('/p', { create: true, write: true });
    await h.write(0, expected);
    await h.fsync();
    const first = await client.meta.allocateChunk(h.ino, 0);
    const primaryAddress = first.loc.replicas[0]!.address;
    const victim = lab.hosts.findIndex((x) => primaryAddress.startsWith(`${x.address}:`));
    expect(victim).toBeGreaterThanOrEqual(0);

    // The client writes and fsyncs 64 KiB pieces after the first MiB, noting when each was acknowledged.
    const acks: number[] = [];
    const written: Buffer[] = [expected];
    let stop = false;
    let writerError: unknown;
    // The test holds the writer between two writes while it cuts the link, so that every
    // acknowledgement after the cut is for a write sent after it.
    let gate: Promise<void> | undefined;
    let openGate = (): void => {};
    let atGate = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        if (gate) {
          atGate = true;
          await gate;
        }
        const piece = randomBytes(64 * KiB);
        await h.write(MiB + i * piece.length, piece);
        await h.fsync();
        written.push(piece);
        acks.push(Date.now());
      }
    })().catch((e: unknown) => (writerError = e));
    await waitFor('the writer under way', async () => (acks.length >= 5 ? true : undefined));

    gate = new Promise<void>((resolve) => (openGate = resolve));
    await waitFor('the writer between two writes', async () => (atGate ? true : undefined));
    const cutAt = Date.now();
    await lab.cut(victim);
    const probe = lab.exec(victim, process.execPath, ['--input-type=module', '-e', PROBE, primaryAddress, String(first.loc.chunkId), String(first.loc.version), credentials,
      Buffer.from(first.loc.token ?? []).toString('hex')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const results: ProbeResult[] = [];
    createInterface({ input: probe.stdout! }).on('line', (l) => results.push(JSON.parse(l) as ProbeResult));
    gate = undefined;
    openGate();

    // Wait until the client has written again after the cut, and the old primary refused a while.
    await waitFor('writes resumed after the cut', async () => (acks.some((t) => t > cutAt) ? true : undefined), 120_000, 200);
    await waitFor('the old primary refusing', async () => (results.filter((r) => !r.ok).length >= 5 ? true : undefined), 60_000, 200);
    stop = true;
    await writer;
    probe.kill('SIGKILL');
    expect(writerError).toBeUndefined();

    const accepted = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    // It kept its lease for a while after the cut, then refused because the lease had ended, and
    // never accepted a write again.
    expect(accepted.length).toBeGreaterThan(0);
    expect(refused.every((r) => r.code === 'ESTALE')).toBe(true);
    expect(refused.some((r) => /lease/.test(r.msg ?? ''))).toBe(true);
    const lastAccepted = Math.max(...accepted.map((r) => r.t));
    expect(refused.filter((r) => r.t > lastAccepted).length).toBe(refused.length);
    // The successor acknowledged nothing before the old primary's last acknowledgement.
    const firstAfterCut = Math.min(...acks.filter((t) => t > cutAt));
    expect(firstAfterCut).toBeGreaterThan(lastAccepted);

    // Every acknowledged write is there, read from the new replica set.
    const want = Buffer.concat(written);
    const got = await client.readFile('/p');
    expect(got.subarray(0, want.length).equals(want)).toBe(true);
    const now = await client.meta.locateChunks(h.ino, 0, 1);
    expect(now.chunks[0]!.replicas.map((r) => r.address)).not.toContain(primaryAddress);
    expect(now.chunks[0]!.version).toBeGreaterThan(first.loc.version);

    // The link returns: the old primary comes back with a stale replica, which is deleted.
    await lab.heal(victim);
    await waitFor('the stale replica removed from the old primary', async () =>
      ((await chunkIdsOnDisk(dataDirs[victim]!)).includes(first.loc.chunkId) ? undefined : true), 60_000, 500);
    await h.close();
  }, 240_000);
});

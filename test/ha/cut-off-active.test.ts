/**
 * The active master cut off by the network (test/helpers/netns.ts): two masters, each in its own
 * network namespace, reach PostgreSQL through the lab; chunkservers and a mount (given both
 * addresses) run in the root namespace. Under the copy and the 500 MiB write of
 * test/helpers/ha-workload.ts, the active master's host is cut from everything, the database
 * included. It must stop serving (fence itself by its own clock) BEFORE the other master takes the
 * lease, by the log times of both on this one machine; the other is active within 10 s; the
 * workload finishes without an error and its data matches; plugged back in, the same process comes
 * back as a standby.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup } from '../helpers/cleanup.js';
import { FuseMount } from '../helpers/fuse-mount.js';
import { HaCluster } from '../helpers/ha-cluster.js';
import { CopyAndWrite } from '../helpers/ha-workload.js';
import { NetLab } from '../helpers/netns.js';
import { usePostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/probes.js';
import { forwardTcp } from '../helpers/tcp-forward.js';
import type { DaemonProcess } from '../helpers/daemon-process.js';

const pg = usePostgres();

/** The time (ms) of the first log line of `d` whose msg is `msg`. */
function loggedAt(d: DaemonProcess, msg: string): number {
  for (const line of d.tail) {
    try {
      const rec = JSON.parse(line) as { msg?: string; time?: string };
      if (rec.msg === msg && rec.time) return Date.parse(rec.time);
    } catch {
      // not JSON
    }
  }
  throw new Error(`${d.name} never logged '${msg}':\n${d.logTail()}`);
}

describe('several masters: the active one cut off by the network', () => {
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('stops serving before the other master takes over; the workload finishes without an error', async () => {
    const lab = await NetLab.create(2);
    cleanup.add(() => lab.dispose());
    const db = new URL(await pg.get().createDatabase());
    const forward = await forwardTcp(lab.rootAddress, { host: '127.0.0.1', port: pg.get().port });
    cleanup.add(() => forward.close());
    const meta = `postgres://fst@${lab.rootAddress}:${forward.port}${db.pathname}`;
    const cluster = cleanup.stops(await HaCluster.start({
      meta,
      masterListen: (i) => `${lab.host(i).address}:0`,
      masterPrefix: (i) => ['ip', 'netns', 'exec', lab.host(i).ns],
      chunkserverListen: `${lab.rootAddress}:0`,
    }));
    const [first, second] = cluster.masters.map((m) => m.address);
    const before = await cluster.waitForActive(first!);
    const epochBefore = before.masters.find((m) => m.role === 'active')!.epoch;

    const mount = cleanup.stops(await FuseMount.start(cluster.masterList));
    const scratch = await mkdtemp(join(tmpdir(), 'fst-ha-src-'));
    cleanup.add(() => rm(scratch, { recursive: true, force: true }));
    const work = await CopyAndWrite.start(mount.dir, scratch);
    expect(work.running, `both jobs running at the cut (${work.describe()})`).toBe(true);

    const old = cluster.masters[0]!;
    await lab.cut(0);
    const after = await cluster.waitForActive(second!, 10_000);
    expect(after.masters.find((m) => m.role === 'active')!.epoch).toBeGreaterThan(epochBefore);
    expect(work.anyRunning, `the workload still running at the takeover (${work.describe()})`).toBe(true);

    // The cut-off master fenced itself (stopped serving) before the other took the lease.
    const fencedAt = loggedAt(old, 'lost the master lease: this master stops serving');
    const tookOverAt = loggedAt(cluster.masters[1]!, 'took the master lease: this master is active');
    expect(fencedAt, 'fenced before the takeover').toBeLessThan(tookOverAt);

    await work.finish();

    // Plugged back in, the same process comes back as a standby of the new active master.
    await lab.heal(0);
    await waitFor('the old master back as a standby', async () => {
      const roles = (await cluster.status()).masters.map((m) => `${m.address} ${m.role}`);
      return roles.includes(`${first!} standby`) && roles.includes(`${second!} active`);
    }, 60_000, 200);
    expect(old.running).toBe(true);
  });
});

/**
 * /metrics and /health of a real mount: a cluster and an fst-mount (startMount, metricsListen on
 * port 0) in this process, files made and read by shell commands (child processes, so that this
 * process stays free to answer their FUSE requests). The scrape counts the FUSE ops by op and
 * result, the bytes applications moved, a second read served by the kernel's pages, and read cache
 * misses then hits when those pages are dropped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMount, type Mount } from '../../src/client/fuse/mount.js';
import { MAX_IO } from '../../src/client/fuse/mount-options.js';
import { silentLogger } from '../../src/common/log/logger.js';
import { startRealCluster, type RealCluster } from '../client/real-cluster.js';
import { isMounted, sh } from '../helpers/fuse-mount.js';

const SIZE = 3 * 1024 * 1024 + 77;

/** Sum of the samples of `name` whose labels include `labels`, from a scrape the parser accepts. */
async function scrape(address: string | undefined): Promise<(name: string, labels?: Record<string, string>) => number> {
  const res = await fetch(`http://${address}/metrics`);
  expect(res.status).toBe(200);
  const families = new Map<string, PromFamily>(parsePrometheusTextFormat(await res.text()).map((f) => [f.name, f]));
  return (name, labels = {}) => {
    const f = families.get(name);
    if (!f) throw new Error(`no metric ${name} in the scrape`);
    return f.metrics
      .filter((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v))
      .reduce((n, s) => n + Number(s.value), 0);
  };
}

describe('mount metrics and health', () => {
  let cluster: RealCluster | undefined;
  let dir: string | undefined;
  let mount: Mount | undefined;

  beforeAll(async () => {
    cluster = await startRealCluster({ chunkservers: 2, replication: 2 });
    dir = await mkdtemp(join(tmpdir(), 'fst-mnt-metrics-'));
    mount = await startMount({ master: cluster.address, mountpoint: dir, metricsListen: '127.0.0.1:0', log: silentLogger, credentials: cluster.credentials });
  });

  afterAll(async () => {
    await mount?.stop().catch(() => undefined);
    if (dir && (await isMounted(dir))) await sh(`fusermount -u -z ${dir}`).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
    await cluster?.stop();
  });

  it('answers /health with 200 and the mountpoint while mounted', async () => {
    expect(mount?.metricsAddress).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    const res = await fetch(`http://${mount?.metricsAddress}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', daemon: 'fst-mount', state: 'running', mountpoint: dir });
  });

  it('counts FUSE ops by op and result, and the bytes applications wrote and read', async () => {
    await sh(`head -c ${SIZE} /dev/urandom > ${dir}/f.bin && mkdir ${dir}/d && ls -l ${dir} > /dev/null`);
    await sh(`stat ${dir}/nope 2> /dev/null || true`);
    const m = await scrape(mount?.metricsAddress);
    expect(m('fst_fuse_ops_total', { op: 'create', result: 'OK' })).toBeGreaterThanOrEqual(1);
    expect(m('fst_fuse_ops_total', { op: 'write', result: 'OK' })).toBeGreaterThanOrEqual(SIZE / MAX_IO);
    // stat of a missing name: the kernel's lookup finds nothing.
    expect(m('fst_fuse_ops_total', { op: 'lookup', result: 'ENOENT' })).toBeGreaterThanOrEqual(1);
    expect(m('fst_fuse_ops_total', { op: 'mkdir', result: 'OK' })).toBe(1);
    // ls -l lists with attributes in one kind of request.
    expect(m('fst_fuse_ops_total', { op: 'readdirplus', result: 'OK' })).toBeGreaterThanOrEqual(1);
    expect(m('fst_mount_bytes_written_total')).toBe(SIZE);
    expect(m('fst_daemon_info', { daemon: 'fst-mount' })).toBe(1);
  });

  it('counts read cache misses on the first read of a file and hits on the second', async () => {
    const before = await scrape(mount?.metricsAddress);
    const readsBefore = before('fst_fuse_ops_total', { op: 'read', result: 'OK' });
    const sum = await sh(`md5sum < ${dir}/f.bin`);
    const first = await scrape(mount?.metricsAddress);
    expect(first('fst_fuse_ops_total', { op: 'read', result: 'OK' })).toBeGreaterThan(readsBefore);
    expect(first('fst_mount_cache_misses_total')).toBeGreaterThanOrEqual(1);
    expect(first('fst_mount_bytes_read_total')).toBe(SIZE);

    // The file did not change: the next open keeps the kernel's pages, and no read reaches fst-mount.
    expect(await sh(`md5sum < ${dir}/f.bin`)).toBe(sum);
    const kept = await scrape(mount?.metricsAddress);
    expect(kept('fst_mount_bytes_read_total')).toBe(SIZE);
    expect(kept('fst_fuse_ops_total', { op: 'read', result: 'OK' })).toBe(first('fst_fuse_ops_total', { op: 'read', result: 'OK' }));

    // With the kernel's pages of the file dropped (fadvise DONTNEED), the reads reach fst-mount
    // again and find the blocks in its own cache.
    await sh(`dd if=${dir}/f.bin iflag=nocache count=0 status=none`);
    expect(await sh(`md5sum < ${dir}/f.bin`)).toBe(sum);
    const second = await scrape(mount?.metricsAddress);
    expect(second('fst_mount_bytes_read_total')).toBe(2 * SIZE);
    expect(second('fst_mount_cache_misses_total')).toBe(first('fst_mount_cache_misses_total'));
    expect(second('fst_mount_cache_hits_total')).toBeGreaterThan(first('fst_mount_cache_hits_total'));
    const hits = second('fst_mount_cache_hits_total');
    const misses = second('fst_mount_cache_misses_total');
    expect(second('fst_mount_cache_hit_ratio')).toBeCloseTo(hits / (hits + misses), 6);
    expect(second('fst_mount_cache_bytes')).toBeGreaterThanOrEqual(SIZE);
  });

  it('closes the HTTP port when the mount stops', async () => {
    const address = mount?.metricsAddress;
    await mount?.stop();
    expect(await isMounted(dir!)).toBe(false);
    await expect(fetch(`http://${address}/health`)).rejects.toThrow();
  });
});

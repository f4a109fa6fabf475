/**
 * /metrics and /health on real daemons: a master and three chunkservers in this process, each with
 * its HTTP port on 127.0.0.1:0. After a file is written and read through the client library, every
 * scrape parses as Prometheus text and shows the calls made (by method and outcome), the bytes
 * moved, the chunks held, and latency histograms; /health is 200 while a daemon serves and 503 with
 * a reason when it does not (a chunkserver whose master is unreachable).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat, { type PromFamily, type PromSample } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChunkserver, type Chunkserver } from '../../src/chunkserver/chunkserver.js';
import { FstClient } from '../../src/client/fst-client.js';
import { silentLogger } from '../../src/common/log/logger.js';
import { RpcClient } from '../../src/common/rpc/client.js';
import { ChunkserverMethods } from '../../src/common/rpc/services.js';
import { startMaster, type Master } from '../../src/master/master.js';
import { closedPort, codeOf, waitFor } from '../helpers/probes.js';
import { chunkserverTls, loadCredentialsFor, registerCredentials } from '../helpers/credentials.js';

/** A scrape parsed by parse-prometheus-text-format (which must accept it), by family name; `text` as served. */
type Families = Map<string, PromFamily> & { text?: string };

async function scrape(address: string | undefined): Promise<Families> {
  const res = await fetch(`http://${address}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return Object.assign(new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f])), { text });
}

/**
 * The buckets (le -> count) and count of one labeled histogram series, read from the text: the
 * parser folds the series of a labeled histogram into one and drops their labels.
 */
function histogram(f: Families, name: string, labels: Record<string, string>): { buckets: Record<string, number>; count?: number } {
  const out: { buckets: Record<string, number>; count?: number } = { buckets: {} };
  for (const line of (f.text ?? '').split('\n')) {
    const m = /^(\w+)_(bucket|count)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (!Object.entries(labels).every(([k, v]) => ls[k] === v)) continue;
    if (m[2] === 'count') out.count = Number(m[4]);
    else out.buckets[ls.le ?? '?'] = Number(m[4]);
  }
  return out;
}

function matches(s: PromSample, labels: Record<string, string>): boolean {
  return Object.entries(labels).every(([k, v]) => s.labels?.[k] === v);
}

/** Sum of the samples of `name` whose labels include `labels` (undefined when there is no such family). */
function value(f: Families, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = f.get(name);
  if (!family) return undefined;
  return family.metrics.filter((s) => matches(s, labels)).reduce((n, s) => n + Number(s.value), 0);
}

async function health(address: string | undefined): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://${address}/health`);
  expect(res.headers.get('content-type')).toBe('application/json');
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('daemon metrics and health endpoints', () => {
  let root: string;
  let master: Master | undefined;
  const chunkservers: Chunkserver[] = [];
  let client: FstClient | undefined;
  const data = randomBytes(5 * 1024 * 1024 + 123);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fst-metrics-'));
    master = await startMaster({
      dataDir: join(root, 'master'), listen: '127.0.0.1:0', metricsListen: '127.0.0.1:0', replication: 2,
      heartbeatIntervalMs: 300, log: silentLogger,
    });
    registerCredentials(master.address, master.adminCredentials!);
    for (let i = 0; i < 3; i++) {
      chunkservers.push(await startChunkserver({
        master: master.address, dataDirs: [join(root, `cs${i}`)], listen: '127.0.0.1:0', metricsListen: '127.0.0.1:0',
        logger: silentLogger, shutdownGraceMs: 1_000, credentials: master.adminCredentials,
      }));
    }
    // The master's own gauge says when every chunkserver is alive.
    await waitFor('3 chunkservers alive', async () =>
      (value(await scrape(master?.metricsAddress), 'fst_master_chunkservers', { state: 'alive' }) === 3 ? true : undefined));
    client = new FstClient({ credentials: await loadCredentialsFor(master.address), master: master.address });
    await client.connect();
    await client.writeFile('/metrics.bin', data);
    // Read twice, by two clients: a client keeps the blocks it read (the client core's block cache),
    // so its own second read would not reach the chunkservers.
    expect((await client.readFile('/metrics.bin')).equals(data)).toBe(true);
    const second = new FstClient({ credentials: await loadCredentialsFor(master.address), master: master.address });
    try {
      await second.connect();
      expect((await second.readFile('/metrics.bin')).equals(data)).toBe(true);
    } finally {
      await second.close();
    }
    expect(await codeOf(client.stat('/missing'))).toBe('ENOENT');
  });

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await Promise.allSettled(chunkservers.map((c) => c.stop()));
    await master?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('binds port 0 to a real port and reports it', () => {
    for (const d of [master, ...chunkservers]) expect(d?.metricsAddress).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    expect(new Set([master, ...chunkservers].map((d) => d?.metricsAddress)).size).toBe(4);
  });

  it('counts and times the master RPCs the client made, by method and outcome', async () => {
    const m = await scrape(master?.metricsAddress);
    const handled = (method: string, code = 'OK'): number | undefined =>
      value(m, 'fst_rpc_server_handled_total', { service: 'fst.MasterService', method, code });
    expect(handled('AllocateChunk')).toBeGreaterThanOrEqual(1);
    expect(handled('CommitWrite')).toBeGreaterThanOrEqual(1);
    expect(handled('LocateChunks')).toBeGreaterThanOrEqual(1);
    // A method never called is there at 0, so that rate() sees its first call.
    expect(handled('Rename')).toBe(0);
    // The failed lookup of /missing carries its errno.
    expect(value(m, 'fst_rpc_server_handled_total', { service: 'fst.MasterService', code: 'ENOENT' })).toBeGreaterThanOrEqual(1);
    expect(value(m, 'fst_rpc_server_handled_total', { service: 'fst.ChunkserverRegistryService', method: 'RegisterChunkserver', code: 'OK' }))
      .toBeGreaterThanOrEqual(3);

    expect(m.get('fst_rpc_server_handling_seconds')?.type).toBe('HISTOGRAM');
    const alloc = histogram(m, 'fst_rpc_server_handling_seconds', { service: 'fst.MasterService', method: 'AllocateChunk' });
    expect(Object.keys(alloc.buckets)).toEqual(expect.arrayContaining(['0.0001', '0.001', '1', '60', '+Inf']));
    expect(alloc.count).toBeGreaterThanOrEqual(1);
    expect(alloc.buckets['+Inf']).toBe(alloc.count);
    expect(alloc.buckets['0.0001']).toBeLessThanOrEqual(alloc.count ?? 0);
  });

  it('shows the namespace, the chunkservers and re-replication on the master', async () => {
    const m = await scrape(master?.metricsAddress);
    expect(value(m, 'fst_master_chunks')).toBeGreaterThanOrEqual(1);
    expect(value(m, 'fst_master_files')).toBeGreaterThanOrEqual(1);
    expect(value(m, 'fst_master_directories')).toBeGreaterThanOrEqual(1);
    expect(value(m, 'fst_master_chunkservers', { state: 'dead' })).toBe(0);
    expect(value(m, 'fst_master_capacity_bytes')).toBeGreaterThan(0);
    expect(value(m, 'fst_master_replication_queue')).toBe(0);
    expect(m.get('fst_master_replication_copied_total')?.type).toBe('COUNTER');
    expect(value(m, 'fst_daemon_info', { daemon: 'fst-master' })).toBe(1);
    // Process metrics, under their standard names.
    expect(value(m, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(m.get('nodejs_heap_size_used_bytes')?.type).toBe('GAUGE');
  });

  it('counts the bytes each chunkserver wrote and sent, and the chunks it holds', async () => {
    const scrapes = await Promise.all(chunkservers.map((c) => scrape(c.metricsAddress)));
    const total = (name: string, labels: Record<string, string> = {}): number => scrapes.reduce((n, s) => n + (value(s, name, labels) ?? NaN), 0);
    // Two replicas: the primary's bytes came from the client, the other's down the chain.
    expect(total('fst_chunkserver_bytes_written_total', { source: 'client' })).toBeGreaterThanOrEqual(data.length);
    expect(total('fst_chunkserver_bytes_written_total', { source: 'chain' })).toBeGreaterThanOrEqual(data.length);
    expect(total('fst_chunkserver_bytes_written_total')).toBeGreaterThanOrEqual(2 * data.length);
    // Read twice, by two clients.
    expect(total('fst_chunkserver_bytes_read_total')).toBeGreaterThanOrEqual(2 * data.length);
    expect(total('fst_chunkserver_chunks')).toBeGreaterThanOrEqual(2);
    expect(total('fst_chunkserver_used_bytes')).toBeGreaterThanOrEqual(2 * data.length);
    expect(total('fst_chunkserver_master_connected')).toBe(3);
    expect(total('fst_rpc_server_handled_total', { method: 'WriteRange', code: 'OK' })).toBeGreaterThanOrEqual(2);
    // Clients read in ReadRange calls of at most 1 MiB (ReadChunk streams are for copies).
    expect(total('fst_rpc_server_handled_total', { method: 'ReadRange', code: 'OK' })).toBeGreaterThanOrEqual(2);
    for (const s of scrapes) expect(s.get('fst_rpc_server_handling_seconds')?.type).toBe('HISTOGRAM');
  });

  it('records the errno a streaming handler ends its stream with', async () => {
    const cs = chunkservers[0]!;
    const rpc = new RpcClient(cs.address, { retryForMs: 0, timeoutMs: 5_000, tls: await chunkserverTls(master!.address) });
    try {
      const read = async (): Promise<void> => {
        for await (const _ of rpc.serverStream(ChunkserverMethods.ReadChunk, { chunkId: 987654321, version: 1, offset: 0, length: 10 })) {
          // nothing: the chunk does not exist
        }
      };
      expect(await codeOf(read())).toBe('ENOENT');
    } finally {
      rpc.close();
    }
    const s = await scrape(cs.metricsAddress);
    expect(value(s, 'fst_rpc_server_handled_total', { method: 'ReadChunk', code: 'ENOENT' })).toBe(1);
  });

  it('answers /health with 200 and JSON while serving, 404 elsewhere and 405 for other methods', async () => {
    const m = await health(master?.metricsAddress);
    expect(m.status).toBe(200);
    expect(m.body).toMatchObject({ status: 'ok', daemon: 'fst-master', state: 'running', chunkserversAlive: 3 });
    for (const c of chunkservers) {
      expect((await health(c.metricsAddress)).body).toMatchObject({ status: 'ok', daemon: 'fst-chunkserver' });
    }
    expect((await fetch(`http://${master?.metricsAddress}/nope`)).status).toBe(404);
    const post = await fetch(`http://${master?.metricsAddress}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers /health with 200 while a chunkserver serves without its master (the link in the details), and closes the port on stop', async () => {
    const lonely = await startChunkserver({
      master: `127.0.0.1:${await closedPort()}`, dataDirs: [join(root, 'lonely')], listen: '127.0.0.1:0', metricsListen: '127.0.0.1:0',
      logger: silentLogger, shutdownGraceMs: 200,
    });
    const address = lonely.metricsAddress;
    try {
      const h = await health(address);
      expect(h.status).toBe(200);
      expect(h.body).toMatchObject({ status: 'ok', daemon: 'fst-chunkserver', state: 'running' });
      expect(['connecting', 'disconnected']).toContain((h.body as { masterLink: string }).masterLink);
      expect(value(await scrape(address), 'fst_chunkserver_master_connected')).toBe(0);
    } finally {
      await lonely.stop();
    }
    await expect(fetch(`http://${address}/health`)).rejects.toThrow();
  });
});

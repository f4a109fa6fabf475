/**
 * The scrubber: it finds a damaged chunk nobody reads, quarantines it and has the heartbeat report
 * it corrupt; it leaves chunks being written alone; it keeps to its byte rate; it stops promptly.
 */
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/common/log/logger.js';
import { ChunkStore } from '../../src/chunkserver/store/chunk-store.js';
import { chunkPaths } from '../../src/chunkserver/store/layout.js';
import { Scrubber } from '../../src/chunkserver/store/scrubber.js';
import { createLogger } from '../../src/common/log/logger.js';
import { waitFor, WAIT_MS } from '../helpers/probes.js';
import { FakeRegistry } from './fake-registry.js';
import {
  Cleanup, MiB, checksums, clientFor, createChunk, expectErrno, pattern, readChunk, startTestServer, tempDir, writeChunk,
} from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function damage(path: string, at: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.write(Buffer.from([0x5a, 0xa5]), 0, 2, at);
  } finally {
    await fh.close();
  }
}

describe('scrubber', () => {
  it('finds and quarantines a damaged chunk nobody reads, and the heartbeat reports it corrupt', async () => {
    const registry = await FakeRegistry.start(cleanup);
    const dir = join(await tempDir(cleanup), 'd0');
    const cs = await startTestServer(cleanup, {
      master: registry.address, dataDirs: [dir], scrubRateBytes: 256 * MiB, scrubIntervalMs: 200,
    });
    const c = clientFor(cleanup, cs.address);
    await createChunk(c, 70);
    await createChunk(c, 71);
    const data = pattern(3 * MiB, 70);
    await writeChunk(c, { chunkId: 70, version: 1 }, [{ offset: 0, data }]);
    // Chunk 71 is written all along: the scrubber must never take fresh writes for damage.
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await writeChunk(c, { chunkId: 71, version: 1 }, [{ offset: (i * 70_001) % (2 * MiB), data: pattern(100_000, i) }]);
      }
    })();
    cleanup.add(() => {
      writing = false;
      return writer.catch(() => undefined);
    });
    await waitFor('the chunks reported', () => registry.beats.some((b) => b.chunks.includes(70)));

    await damage(chunkPaths(dir, 70).data, 2 * MiB + 12_345);
    await waitFor('the damage found', async () => (await checksums(c, 70).then(() => undefined, () => true)), WAIT_MS, 50);
    await expectErrno(readChunk(c, 70, 1, 0, 10), 'ENOENT');
    expect(existsSync(chunkPaths(dir, 70).data + '.corrupt')).toBe(true);
    await waitFor('the corrupt report', () => registry.corrupt.includes(70), WAIT_MS, 50);
    expect(registry.removed).toContain(70);

    writing = false;
    await writer;
    expect(registry.corrupt).not.toContain(71);
    expect((await checksums(c, 71)).version).toBe(1);
  });

  it('keeps to its rate and counts what it verified', async () => {
    const dir = join(await tempDir(cleanup), 'd0');
    const store = await ChunkStore.open({ dataDirs: [dir], reserveBytes: 0, log: silentLogger });
    cleanup.add(() => store.close());
    for (const id of [1, 2, 3]) {
      await store.create(id, 1);
      await store.write(id, 1, 0, pattern(MiB + 1000 * id, id));
    }
    await store.create(4, 1); // empty
    const scrubber = new Scrubber(store, { rateBytes: 8 * MiB, intervalMs: 60_000 }, silentLogger);
    const ac = new AbortController();
    const s = await scrubber.pass(ac.signal);
    expect(s).toMatchObject({ chunks: 4, bytes: 3 * MiB + 6000, corrupt: 0 });
    // 3 MiB at 8 MiB/s.
    expect(s.ms).toBeGreaterThanOrEqual(350);

    await damage(chunkPaths(dir, 2).data, 500);
    expect(await scrubber.pass(ac.signal)).toMatchObject({ chunks: 3, corrupt: 1 });
    expect([...store.index.ids()].sort()).toEqual([1, 3, 4]);
  });

  it('stops promptly in the middle of a slow pass', async () => {
    // The chunk is written by a server that does not scrub, then found by one that does: a pass
    // covers the chunks held when it starts, so that server's first pass begins, with this chunk,
    // before startTestServer returns.
    const dir = join(await tempDir(cleanup), 'd0');
    const writer = await startTestServer(cleanup, { dataDirs: [dir], scrubRateBytes: 0 });
    const w = clientFor(cleanup, writer.address);
    await createChunk(w, 80);
    await writeChunk(w, { chunkId: 80, version: 1 }, [{ offset: 0, data: pattern(4 * MiB, 80) }]);
    await writer.stop();
    const lines: string[] = [];
    const cs = await startTestServer(cleanup, {
      dataDirs: [dir], scrubRateBytes: 16 * 1024, scrubIntervalMs: 0, logger: createLogger('chunkserver', 'info', {}, (l) => lines.push(l)),
    });
    // 4 MiB at 16 KiB/s is four minutes; after its first MiB the pass rests for about a minute.
    // Stopping ends that rest at once (a stop that waited for it would take a minute).
    const t0 = performance.now();
    await cs.stop();
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(cs.state).toBe('stopped');
    expect(lines.filter((l) => l.includes('scrub pass done'))).toEqual([]);
  });
});

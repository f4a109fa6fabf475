/**
 * Small files kept inline in the metadata, on real daemons: written and read without a chunk,
 * moved to chunks when they outgrow the limit (bytes intact), truncated, written by two clients at
 * once (both writes kept), kept through kill -9 of the master, and never inline when the master
 * keeps none (--inline-max 0).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FstClient } from '../../src/client/fst-client.js';
import { INLINE_LIMIT } from '../../src/common/ids.js';
import { openDb } from '../helpers/master-db.js';
import { startProcessCluster, type ProcessCluster } from '../helpers/process-cluster.js';
import { loadCredentialsFor } from '../helpers/credentials.js';

describe('small files inline in the metadata', () => {
  let cluster: ProcessCluster;
  let client: FstClient;
  beforeAll(async () => {
    cluster = await startProcessCluster({ chunkservers: 2, replication: 2 });
    client = new FstClient({ credentials: await loadCredentialsFor(cluster.masterAddress), master: cluster.masterAddress });
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    await cluster?.stop();
  });

  /** The chunks the master records for `path`, and whether it keeps inline bytes for it. */
  async function storage(path: string): Promise<{ chunks: number; inline: number | undefined }> {
    const ino = (await client.stat(path)).ino;
    const db = await openDb(cluster);
    try {
      const chunks = (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM chunks WHERE ino = ?', [ino]))?.n ?? 0;
      const row = await db.get<{ n: number }>('SELECT length(data) AS n FROM inline_data WHERE ino = ?', [ino]);
      return { chunks, inline: row?.n };
    } finally {
      await db.close();
    }
  }

  it('writes and reads a small file with no chunk at all', async () => {
    const data = randomBytes(4096);
    await client.writeFile('/small', data);
    expect(await storage('/small')).toEqual({ chunks: 0, inline: 4096 });
    expect((await client.readFile('/small')).equals(data)).toBe(true);
    expect((await client.stat('/small')).size).toBe(4096);
    // An empty file is neither.
    await client.writeFile('/empty', Buffer.alloc(0));
    expect(await storage('/empty')).toEqual({ chunks: 0, inline: undefined });
    expect((await client.readFile('/empty')).length).toBe(0);
  });

  it('moves a file that outgrows the limit to chunks, its first bytes intact', async () => {
    const head = randomBytes(INLINE_LIMIT - 100);
    await client.writeFile('/grows', head);
    expect(await storage('/grows')).toMatchObject({ chunks: 0, inline: head.length });
    const tail = randomBytes(3 * INLINE_LIMIT);
    const h = await client.open('/grows', { write: true });
    await h.write(head.length, tail);
    await h.close();
    expect(await storage('/grows')).toEqual({ chunks: 1, inline: undefined });
    expect((await client.readFile('/grows')).equals(Buffer.concat([head, tail]))).toBe(true);
    // Overwriting the middle of a small file keeps the rest; a hole past the data reads as zeros.
    await client.writeFile('/patched', Buffer.from('0123456789'));
    const p = await client.open('/patched', { write: true });
    await p.write(3, Buffer.from('abc'));
    await p.write(20, Buffer.from('z'));
    await p.close();
    expect((await client.readFile('/patched')).toString('latin1')).toBe(`012abc6789${'\0'.repeat(10)}z`);
  });

  it('truncates inline bytes down, and up with zeros; cut to nothing, a chunked file goes inline again', async () => {
    await client.writeFile('/cut', Buffer.from('hello world'));
    await client.truncate('/cut', 5);
    expect((await client.readFile('/cut')).toString()).toBe('hello');
    await client.truncate('/cut', 8);
    expect((await client.readFile('/cut')).toString('latin1')).toBe('hello\0\0\0');
    expect(await storage('/cut')).toEqual({ chunks: 0, inline: 5 });
    await client.writeFile('/big', randomBytes(2 * INLINE_LIMIT));
    expect((await storage('/big')).chunks).toBe(1);
    const h = await client.open('/big', { write: true, truncate: true });
    await h.write(0, Buffer.from('small again'));
    await h.close();
    expect(await storage('/big')).toEqual({ chunks: 0, inline: 11 });
    expect((await client.readFile('/big')).toString()).toBe('small again');
  });

  it('keeps both writes of two clients writing different parts of one small file', async () => {
    await client.writeFile('/shared', Buffer.alloc(100, '.'));
    const other = new FstClient({ credentials: await loadCredentialsFor(cluster.masterAddress), master: cluster.masterAddress });
    await other.connect();
    try {
      const a = await client.open('/shared', { write: true });
      const b = await other.open('/shared', { write: true });
      await b.write(50, Buffer.from('BBBB'));
      await b.fsync();
      await a.write(0, Buffer.from('AAAA'));
      await a.close();
      // b last saw the file before a's write: its next commit finds the file changed, reads it
      // again and lays its own write over a's instead of writing back its old copy.
      await b.write(60, Buffer.from('CCCC'));
      await b.close();
      const got = (await client.readFile('/shared')).toString();
      expect(got.slice(0, 4)).toBe('AAAA');
      expect(got.slice(50, 54)).toBe('BBBB');
      expect(got.slice(60, 64)).toBe('CCCC');
      expect(got.length).toBe(100);
    } finally {
      await other.close();
    }
  });

  it('keeps what close and fsync acknowledged through kill -9 of the master', async () => {
    const closed = randomBytes(3000);
    await client.writeFile('/closed', closed);
    const synced = randomBytes(2000);
    const h = await client.open('/synced', { create: true, write: true });
    await h.write(0, synced);
    await h.fsync();
    await cluster.restartMaster('kill');
    const again = new FstClient({ credentials: await loadCredentialsFor(cluster.masterAddress), master: cluster.masterAddress });
    await again.connect();
    try {
      expect((await again.readFile('/closed')).equals(closed)).toBe(true);
      expect((await again.readFile('/synced')).equals(synced)).toBe(true);
      await h.close();
    } finally {
      await again.close();
    }
  });
});

describe('a master that keeps no file inline (--inline-max 0)', () => {
  it('puts small files in chunks', async () => {
    await using cluster = await startProcessCluster({ chunkservers: 1, replication: 1, masterArgs: ['--inline-max', '0'] });
    const client = new FstClient({ credentials: await loadCredentialsFor(cluster.masterAddress), master: cluster.masterAddress });
    await client.connect();
    try {
      await client.writeFile('/tiny', Buffer.from('tiny'));
      const ino = (await client.stat('/tiny')).ino;
      const located = await client.meta.locateChunks(ino, 0, 4);
      expect(located.inline).toBeUndefined();
      expect(located.chunks).toHaveLength(1);
      expect((await client.readFile('/tiny')).toString()).toBe('tiny');
    } finally {
      await client.close();
    }
  });
});

/**
 * The PostgreSQL reader: a few connections in node-pg's pipeline mode, each read sent on the one
 * with the fewest reads under way. A pool (one read per connection at a time) left the 64 reads
 * in flight of a busy master queued behind 4 round trips; pipelined, a connection's backend
 * answers its queued reads back to back, and the reads of one turn of the event loop go out in
 * one write (pg-write-batch.ts). A connection that failed is dropped and made again by the next
 * read sent to it; the reads under way on it fail, as they would have in a pool.
 */
import pg from 'pg';
import { WriteBatch } from './pg-write-batch.js';

interface Slot {
  client: Promise<{ client: pg.Client; batch: WriteBatch }> | undefined;
  busy: number;
}

export class PipelinedReaders {
  private readonly slots: Slot[];
  private ended = false;

  constructor(private readonly config: pg.ClientConfig, count: number) {
    this.slots = Array.from({ length: count }, () => ({ client: undefined, busy: 0 }));
  }

  async query(config: pg.QueryConfig): Promise<pg.QueryResult> {
    if (this.ended) throw new Error('the metadata reader is closed');
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.busy < slot.busy) slot = s;
    slot.busy++;
    try {
      const { client, batch } = await (slot.client ??= this.connect(slot));
      batch.hold();
      return await client.query(config);
    } finally {
      slot.busy--;
    }
  }

  /** Not async: `drop` compares the slot with this very promise. */
  private connect(slot: Slot): Promise<{ client: pg.Client; batch: WriteBatch }> {
    const client = new pg.Client({ ...this.config, pipeline: true });
    const drop = (): void => {
      if (slot.client === made) slot.client = undefined;
    };
    client.on('error', drop); // the reads under way fail; the next one connects again
    client.on('end', drop);
    const made = client.connect().then(() => ({ client, batch: new WriteBatch(client.connection.stream) }));
    made.catch(drop); // a failed connect is tried again by the next read
    return made;
  }

  async end(): Promise<void> {
    this.ended = true;
    const clients = this.slots.map((s) => s.client);
    for (const s of this.slots) s.client = undefined;
    await Promise.all(clients.map(async (c) => (await c?.catch(() => undefined))?.client.end().catch(() => undefined)));
  }
}

/**
 * The master's reader connections on PostgreSQL: a few connections in node-pg's pipeline mode,
 * each read sent on the one with the fewest reads under way, and the reads of one turn of the
 * event loop sent in one write (pg-write-batch.ts). A pool (one read per connection at a time)
 * left the 64 reads in flight of a busy master queued behind 4 round trips; pipelined, a
 * connection's backend answers its queued reads back to back.
 *
 * The connections follow the primary: each is made to the server the locator last found taking
 * writes (reads must see every commit the master made, which a standby may not have applied yet)
 * and is refused when that server turned out read-only. A read that lost its server (a failover,
 * or no answer within the answer timeout, which destroys the connection) fails with
 * MetaUnavailableError, UNAVAILABLE, which clients retry; its connection is dropped and made again
 * by the next read sent to it, and the locator looks for the new primary meanwhile.
 */
import pg from 'pg';
import { connectionLost, MetaUnavailableError } from './pg-errors.js';
import type { PrimaryLocator } from './pg-primary.js';
import { WriteBatch } from './pg-write-batch.js';

const APPLICATION_NAME = 'fst-master-reader';

interface Reader {
  client: pg.Client;
  batch: WriteBatch;
}

interface Slot {
  reader: Promise<Reader> | undefined;
  busy: number;
}

export class PrimaryReaders {
  private readonly slots: Slot[];
  private ended = false;

  /** `answerTimeoutMs`: a read unanswered this long fails and its connection is dropped. */
  constructor(private readonly locator: PrimaryLocator, count: number, private readonly answerTimeoutMs: number) {
    this.slots = Array.from({ length: count }, () => ({ reader: undefined, busy: 0 }));
  }

  /** node-pg's query, with a lost server reported as MetaUnavailableError. */
  async query(config: pg.QueryConfig): Promise<pg.QueryResult> {
    if (this.ended) throw new MetaUnavailableError('the metadata reader is closed');
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.busy < slot.busy) slot = s;
    slot.busy++;
    try {
      const { client, batch } = await (slot.reader ??= this.connect(slot));
      batch.hold();
      return await client.query(config);
    } catch (e) {
      if (e instanceof MetaUnavailableError) throw e;
      // Whatever is not PostgreSQL's answer is the connection's failure (node-pg's "Connection
      // terminated" and "Query read timeout" errors carry no code).
      if (e instanceof pg.DatabaseError && !connectionLost(e)) throw e;
      this.locator.relocate();
      throw new MetaUnavailableError(`a metadata read lost its PostgreSQL server: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    } finally {
      slot.busy--;
    }
  }

  /** Not async: `drop` compares the slot with this very promise. */
  private connect(slot: Slot): Promise<Reader> {
    // Each new connection reads the locator's choice now, so a failover moves the readers along.
    const client = new pg.Client({ ...this.locator.clientConfig(APPLICATION_NAME, this.answerTimeoutMs), pipeline: true });
    const drop = (): void => {
      if (slot.reader !== made) return;
      slot.reader = undefined;
      void client.end().catch(() => undefined);
    };
    client.on('error', drop); // the reads under way fail; the next one connects again
    client.on('end', drop);
    const made = (async (): Promise<Reader> => {
      await client.connect();
      if (!(await this.locator.usable(client))) {
        this.locator.relocate();
        throw new MetaUnavailableError('the PostgreSQL server the metadata readers reached is read-only (a standby): a failover is under way');
      }
      return { client, batch: new WriteBatch(client.connection.stream) };
    })();
    made.catch(drop); // a failed connect is tried again by the next read
    return made;
  }

  async end(): Promise<void> {
    this.ended = true;
    const readers = this.slots.map((s) => s.reader);
    for (const s of this.slots) s.reader = undefined;
    await Promise.all(readers.map(async (r) => (await r?.catch(() => undefined))?.client.end().catch(() => undefined)));
  }
}

/**
 * The master's reader connections on PostgreSQL: a node-pg pool whose new connections go to the
 * server the locator last found taking writes (reads must see every commit the master made, which
 * a standby may not have applied yet), and are refused when that server turned out read-only. A
 * reader that lost its server (a failover) fails with MetaUnavailableError, UNAVAILABLE, which clients
 * retry; the pool drops the dead connection, and the locator looks for the new primary meanwhile.
 */
import pg from 'pg';
import { connectionLost, MetaUnavailableError } from './pg-errors.js';
import type { PrimaryLocator } from './pg-primary.js';

const APPLICATION_NAME = 'fst-master-reader';

export class PrimaryReaders {
  private readonly pool: pg.Pool;

  /** `answerTimeoutMs`: a read unanswered this long fails and its connection is dropped. */
  constructor(private readonly locator: PrimaryLocator, max: number, answerTimeoutMs: number) {
    // Each new client reads the locator's choice at creation, so a failover moves the pool along.
    const PrimaryClient = class extends pg.Client {
      constructor() {
        super(locator.clientConfig(APPLICATION_NAME, answerTimeoutMs));
      }
    };
    this.pool = new pg.Pool({
      max,
      Client: PrimaryClient,
      onConnect: async (client) => {
        if (!(await locator.usable(client))) {
          locator.relocate();
          throw new MetaUnavailableError('the PostgreSQL server the metadata readers reached is read-only (a standby): a failover is under way');
        }
      },
    });
    this.pool.on('error', () => undefined); // an idle reader that lost its server is dropped by the pool
  }

  /** node-pg's query, with a lost server reported as MetaUnavailableError. */
  async query(config: pg.QueryConfig): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(config);
    } catch (e) {
      if (e instanceof MetaUnavailableError) throw e;
      // Whatever is not PostgreSQL's answer is the connection's failure (node-pg's "Connection
      // terminated" errors carry no code).
      if (e instanceof pg.DatabaseError && !connectionLost(e)) throw e;
      this.locator.relocate();
      throw new MetaUnavailableError(`a metadata read lost its PostgreSQL server: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}

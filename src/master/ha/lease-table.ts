/**
 * The tables through which several masters on one PostgreSQL database agree on which one is
 * active (docs/ARCHITECTURE.md "Several masters, one active"):
 *
 * - `fst_master_lease`, one row: the holder (a random id per master process), its address, the
 *   epoch (moved by one at every takeover), and when the lease was taken, last renewed, and expires,
 *   all by the DATABASE's clock (now()), so that the masters' clocks need not agree. `epoch` has a
 *   unique index so that PostgreSQL locks the row FOR UPDATE when a takeover changes it: a metadata
 *   transaction of the holder locks the row FOR KEY SHARE, which a takeover waits for and a renewal
 *   (which leaves `epoch`) does not.
 * - `fst_masters`: every master process that is running, with its address, when it started and
 *   when it was last seen (renewing or polling), for `fstadmin status`.
 */
import type pg from 'pg';

/** Key of the advisory lock under which the tables are made (two masters starting at once). */
const TABLES_LOCK = 0x4653_5402;

export async function ensureLeaseTables(client: pg.Client): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [TABLES_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS fst_master_lease (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      holder TEXT NOT NULL,
      address TEXT NOT NULL,
      epoch BIGINT NOT NULL,
      acquired_at TIMESTAMPTZ NOT NULL,
      renewed_at TIMESTAMPTZ NOT NULL,
      expires_at TIMESTAMPTZ NOT NULL)`);
    await client.query('CREATE UNIQUE INDEX IF NOT EXISTS fst_master_lease_epoch ON fst_master_lease (epoch)');
    await client.query("INSERT INTO fst_master_lease VALUES (1, '', '', 0, now(), now(), '-infinity') ON CONFLICT (id) DO NOTHING");
    await client.query(`CREATE TABLE IF NOT EXISTS fst_masters (
      holder TEXT PRIMARY KEY,
      address TEXT NOT NULL,
      started_at TIMESTAMPTZ NOT NULL,
      seen_at TIMESTAMPTZ NOT NULL)`);
    // Raises (SQLSTATE LEASE_LOST) unless `ok`: a guard inside a transaction sent as one query.
    await client.query(`CREATE OR REPLACE FUNCTION fst_require_lease(ok BOOLEAN) RETURNS VOID LANGUAGE plpgsql AS
      $$BEGIN IF NOT ok THEN RAISE EXCEPTION 'the master lease is held by another master' USING ERRCODE = '${LEASE_LOST}'; END IF; END$$`);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** SQLSTATE of fst_require_lease's refusal (a class of its own, as PostgreSQL leaves to applications). */
export const LEASE_LOST = 'F0L01';

/** Takes the lease when it has expired; answers the new epoch, or undefined when another holds it. */
export const TAKE_OVER = `UPDATE fst_master_lease
  SET holder = $1, address = $2, epoch = epoch + 1, acquired_at = now(), renewed_at = now(), expires_at = now() + $3 * interval '1 millisecond'
  WHERE id = 1 AND expires_at <= now() RETURNING epoch`;

/**
 * Takes the lease from a holder at this master's own address $2 (this process has just bound that
 * address, so the holder, a previous process of this master that died, serves there no more;
 * any transaction it still has open is waited for, and then refused by the epoch).
 */
export const TAKE_OVER_OWN = `UPDATE fst_master_lease
  SET holder = $1, address = $2, epoch = epoch + 1, acquired_at = now(), renewed_at = now(), expires_at = now() + $3 * interval '1 millisecond'
  WHERE id = 1 AND address = $2 AND holder <> $1 RETURNING epoch`;

/** Extends the lease of holder $1 at epoch $2; no row: it is not ours any more. */
export const RENEW = `UPDATE fst_master_lease SET renewed_at = now(), expires_at = now() + $3 * interval '1 millisecond', address = $4
  WHERE id = 1 AND holder = $1 AND epoch = $2`;

/** Who holds the lease, if anyone (for a standby's answers). */
export const HOLDER = 'SELECT address, epoch, expires_at > now() AS running FROM fst_master_lease WHERE id = 1';

/** Ends the lease at once (a clean stop), so that a standby takes over without waiting it out. */
export const RELEASE = "UPDATE fst_master_lease SET expires_at = now() - interval '1 millisecond' WHERE id = 1 AND holder = $1 AND epoch = $2";

/** This master is running (and when it was seen last). */
export const SEEN = `INSERT INTO fst_masters (holder, address, started_at, seen_at) VALUES ($1, $2, now(), now())
  ON CONFLICT (holder) DO UPDATE SET address = EXCLUDED.address, seen_at = now()`;

export const FORGET = 'DELETE FROM fst_masters WHERE holder = $1';

/** Earlier processes of this master ($2: its address, which this process has bound) are gone. */
export const FORGET_PREDECESSORS = 'DELETE FROM fst_masters WHERE address = $2 AND holder <> $1';

/**
 * Masters not seen for $1 ms (twice the lease: every master writes its row at least every lease)
 * died without a clean stop: dropped from fst_masters, and not shown meanwhile.
 */
export const FORGET_STALE = "DELETE FROM fst_masters WHERE seen_at < now() - $1 * interval '1 millisecond'";

/**
 * What a holder's metadata transaction runs first (it is sent whole, BEGIN to COMMIT, in one query:
 * db/pg-write-behind.ts): it finds the lease row only while the row still names this holder and
 * epoch, and raises SQLSTATE LEASE_LOST otherwise, which aborts the transaction before its COMMIT;
 * the lock it takes on the row holds a takeover back until that COMMIT. `holder` is a UUID and
 * `epoch` an integer, inlined (a simple query has no parameters).
 */
export function holderRequiredSql(holder: string, epoch: number): string {
  if (!/^[0-9a-f-]{36}$/.test(holder) || !Number.isSafeInteger(epoch)) throw new Error('invalid lease holder or epoch');
  return `SELECT fst_require_lease(EXISTS (SELECT 1 FROM fst_master_lease WHERE id = 1 AND holder = '${holder}' AND epoch = ${epoch} FOR KEY SHARE))`;
}

/** Every running master (seen within $1 ms), the active one first (for status). */
export const MASTERS = `SELECT m.address, (m.holder = l.holder AND l.expires_at > now()) AS active, l.epoch,
    (EXTRACT(EPOCH FROM now() - CASE WHEN m.holder = l.holder THEN l.renewed_at ELSE m.seen_at END) * 1000)::bigint AS age_ms
  FROM fst_masters m CROSS JOIN fst_master_lease l WHERE l.id = 1 AND m.seen_at > now() - $1 * interval '1 millisecond'
  ORDER BY (m.holder = l.holder AND l.expires_at > now()) DESC, m.started_at`;

/**
 * Orphans: files whose last name was removed while a client had them open. POSIX keeps such a file
 * until its last descriptor closes; FST keeps it (nlink 0, no entry, chunks intact) while the
 * client that asked (UnlinkRequest.keep_ino) renews its lease, and frees it when that client
 * releases it or stops renewing (it died). Other clients find it by inode number only.
 *
 * A file replaced by a rename is also kept, for REPLACED_GRACE_MS: an open that looked the name up
 * just before the rename (a kernel's cached entry, another mount's lookup) then opens the version
 * it found, as on a local filesystem, instead of failing on a gone inode; an open of it renews it
 * like any orphan's.
 */
import type { Tx } from '../db/engine.js';
import { freeInode } from './free-inode.js';
import { getInode } from './inode-row.js';

/** How long an orphan survives without a renewal from its client. */
export const ORPHAN_LEASE_MS = 10 * 60 * 1000;

/** How long a file replaced by a rename outlives its name (see above). */
export const REPLACED_GRACE_MS = 2_000;

/** The last link of `ino` (now nlink 0) is gone but its client keeps it open: kept for a lease (or `forMs`). */
export async function recordOrphan(tx: Tx, ino: number, forMs = ORPHAN_LEASE_MS): Promise<void> {
  await tx.run('INSERT OR REPLACE INTO orphans (ino, expires_ms) VALUES (?, ?)', [ino, Date.now() + forMs]);
}

/** Renews the leases of `inos`; returns those that are no orphans any more. */
export async function renewOrphans(tx: Tx, inos: readonly number[], nowMs: number): Promise<number[]> {
  const gone: number[] = [];
  for (const ino of inos) {
    const { changes } = await tx.run('UPDATE orphans SET expires_ms = ? WHERE ino = ?', [nowMs + ORPHAN_LEASE_MS, ino]);
    if (changes === 0) gone.push(ino);
  }
  return gone;
}

/** Frees orphan `ino` (its last descriptor closed); an inode linked again meanwhile is kept. */
export async function releaseOrphan(tx: Tx, ino: number): Promise<void> {
  const { changes } = await tx.run('DELETE FROM orphans WHERE ino = ?', [ino]);
  if (changes === 0) return;
  const row = await getInode(tx, ino).catch(() => undefined);
  if (row && row.nlink <= 0) await freeInode(tx, row);
}

/** Frees the orphans whose lease ran out before `nowMs` (at most `limit`); returns how many. */
export async function expireOrphans(tx: Tx, nowMs: number, limit = 1000): Promise<number> {
  const rows = await tx.all<{ ino: number }>('SELECT ino FROM orphans WHERE expires_ms < ? LIMIT ?', [nowMs, limit]);
  for (const r of rows) await releaseOrphan(tx, r.ino);
  return rows.length;
}

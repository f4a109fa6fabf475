/**
 * How the PostgreSQL engine tells a lost database from a failed statement. A lost connection (the
 * server stopped, crashed, was demoted to a standby, or the network broke) is not the caller's
 * fault and passes once a primary answers again: it is reported as MetaUnavailableError, an
 * UnavailableError (UNAVAILABLE on the wire, which clients retry; EIO once they give up). It is
 * raised only when the mutation certainly did not commit. A statement PostgreSQL refused for what
 * it says (a constraint, a syntax error) keeps its own error.
 */
import pg from 'pg';
import { UnavailableError } from '../../common/errors/rpc-status.js';

/** No PostgreSQL server that takes writes answers (or one stopped answering mid-transaction). */
export class MetaUnavailableError extends UnavailableError {}

/**
 * COMMIT answered ROLLBACK: a statement of the transaction failed (one sent without waiting for
 * its answer, in pipeline mode), so nothing of it committed. The writer gives that statement's
 * error as the reason when it has it.
 */
export class TransactionAbortedError extends Error {
  constructor() {
    super('the metadata transaction was aborted by an earlier error and rolled back');
  }
}

/**
 * SQLSTATEs that mean "this connection is of no more use": class 08 (connection exception),
 * 57P01-57P03 (the server shuts down, crashed, or is starting up), 25006 (a read-only server:
 * this host is a standby now).
 */
function lostState(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '25006';
}

/** Socket errors of a connection that broke or could not be made. */
const SOCKET_ERRORS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether `e` means the connection it came from is lost. node-pg's own errors for a closed
 * connection carry no code, so a caller that saw its client emit 'error' or 'end' (`clientLost`)
 * knows more than the error does.
 */
export function connectionLost(e: unknown, clientLost = false): boolean {
  if (clientLost) return true;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (e instanceof pg.DatabaseError) return lostState(code);
  return SOCKET_ERRORS.has(code);
}

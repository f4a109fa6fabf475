/**
 * How the PostgreSQL engine reports a lost database: a connection lost or refused (the server
 * stopped, crashed, was demoted to a standby, or the network broke) is not the caller's fault and
 * passes once a primary answers again (the master starts again from it: pg-working-copy.ts). It
 * is MetaUnavailableError, an UnavailableError (UNAVAILABLE on the wire, which clients retry; EIO
 * once they give up).
 */
import { UnavailableError } from '../../common/errors/rpc-status.js';

/** No PostgreSQL server that takes writes answers, or one stopped answering or refused a write. */
export class MetaUnavailableError extends UnavailableError {}

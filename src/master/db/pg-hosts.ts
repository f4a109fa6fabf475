/**
 * libpq's multi-host URLs for node-pg. PostgreSQL's own clients take
 * `postgres://user@host1:port1,host2:port2/db?target_session_attrs=read-write` and connect to the
 * first host that answers (and, with read-write, takes writes): the URL pg_auto_failover's
 * `pg_autoctl show uri` prints, and what Patroni's docs recommend. node-pg 8 knows neither the
 * host list nor target_session_attrs, so the URL is split here into one single-host URL per host,
 * each of which node-pg parses as usual (user, password, database, sslmode...); pg-primary.ts tries
 * them in turn.
 */
import { FsError } from '../../common/errors/errno.js';

export interface PgTargets {
  /** One single-host URL per host, in the URL's order, without target_session_attrs. */
  urls: string[];
  /** The hosts as written (host:port), for logs and errors. */
  hosts: string[];
  /** target_session_attrs=read-write (or primary): only a server that takes writes will do. */
  readWrite: boolean;
}

/** scheme, user info (with its @), the host list, and the rest (path, query, fragment). */
const URL_PARTS = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)(.*)$/;

/** Splits a postgres:// URL with one or more hosts; throws EINVAL for what it cannot use. */
export function parsePgTargets(url: string): PgTargets {
  const m = URL_PARTS.exec(url);
  if (!m) throw new FsError('EINVAL', 'the metadata URL must look like postgres://user@host[:port][,host[:port]...]/database');
  const [, scheme = '', userInfo = '', hostList = '', rest = ''] = m;
  const query = rest.indexOf('?');
  const params = new URLSearchParams(query < 0 ? '' : rest.slice(query + 1).replace(/#.*$/, ''));
  const attrs = params.get('target_session_attrs') ?? 'any';
  if (attrs !== 'any' && attrs !== 'read-write' && attrs !== 'primary') {
    throw new FsError('EINVAL', `target_session_attrs=${attrs} in the metadata URL: the master writes, so only read-write (or primary, or any) makes sense`);
  }
  params.delete('target_session_attrs');
  const path = query < 0 ? rest : rest.slice(0, query);
  const search = params.size > 0 ? `?${params.toString()}` : '';
  const hosts = hostList.split(',');
  if (hosts.length > 1 && hosts.some((h) => h === '')) throw new FsError('EINVAL', `an empty host in the metadata URL's host list "${hostList}"`);
  // With any server good enough, a standby listed first would take the master's writes and refuse them all.
  if (hosts.length > 1 && attrs === 'any') throw new FsError('EINVAL', 'a metadata URL with several hosts needs ?target_session_attrs=read-write (the master must find the one that takes writes)');
  return {
    urls: hosts.map((h) => `${scheme}${userInfo}${h}${path}${search}`),
    hosts: hosts.map((h) => h || '(socket)'),
    readWrite: attrs !== 'any',
  };
}

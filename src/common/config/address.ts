/** host:port parsing shared by every command line. */
import { FsError } from '../errors/errno.js';

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(value: string, what = 'address'): HostPort {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || port > 65535) throw new FsError('EINVAL', `invalid ${what} '${value}': expected HOST:PORT`);
  return { host: m[1], port };
}

export function formatHostPort(hp: HostPort): string {
  return `${hp.host}:${hp.port}`;
}

/**
 * A list of master addresses, comma-separated (`a:9420,b:9420`): the masters sharing one
 * PostgreSQL database, of which one is active (docs/ARCHITECTURE.md "Several masters"). A single
 * address is a list of one.
 */
export function parseHostPortList(value: string, what = 'master address'): HostPort[] {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw new FsError('EINVAL', `invalid ${what} list '${value}': expected HOST:PORT[,HOST:PORT...]`);
  const list = parts.map((p) => parseHostPort(p, what));
  if (new Set(parts).size !== parts.length) throw new FsError('EINVAL', `invalid ${what} list '${value}': an address is given twice`);
  return list;
}

/** The addresses of a comma-separated list, each checked (see parseHostPortList). */
export function splitAddressList(value: string, what = 'master address'): string[] {
  parseHostPortList(value, what);
  return value.split(',').map((p) => p.trim());
}

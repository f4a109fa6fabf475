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

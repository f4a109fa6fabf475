/**
 * A small structured logger: one JSON object per line on stderr (journald keeps it as is). Daemons
 * and the client take a Logger so that tests can silence or capture it.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /** The lowest level this logger writes (to skip building debug-only records). */
  readonly level: LogLevel;
}

function serializeError(e: unknown): unknown {
  if (e instanceof Error) return { message: e.message, stack: e.stack, code: (e as { code?: unknown }).code };
  return e;
}

export function createLogger(
  name: string,
  level: LogLevel = (process.env.FST_LOG_LEVEL as LogLevel | undefined) ?? 'info',
  base: Record<string, unknown> = {},
  out: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Logger {
  const min = rank[level] ?? rank.info;
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (rank[lvl] < min) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, name, msg, ...base };
    if (fields) for (const [k, v] of Object.entries(fields)) record[k] = k === 'err' ? serializeError(v) : v;
    out(JSON.stringify(record));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(name, level, { ...base, ...fields }, out),
    level,
  };
}

export const silentLogger: Logger = createLogger('silent', 'silent');

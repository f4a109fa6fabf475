/**
 * FST's structured logger, on pino: one JSON object per line on stderr, which journald stores as
 * one entry per line. Daemons and the client take a Logger so that tests can silence or capture it.
 *
 * A line looks like
 *   {"level":"info","time":"2026-11-21T10:00:00.000Z","name":"fst-master","address":"0.0.0.0:9420","msg":"listening"}
 * with the caller's fields flattened at the top level (test helpers read `msg`, `address` and
 * `mountpoint` from these lines) and an `err` field expanded to {type, message, stack, code...}.
 *
 * Call sites keep the `log.info(msg, fields)` order; only this file knows pino's `(fields, msg)`.
 */
import { pino, type Logger as PinoLogger } from 'pino';
import { callbackLines, discardLines, stderrLines, type LineDestination } from './destinations.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v);
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /** The lowest level this logger writes (to skip building debug-only records). */
  readonly level: LogLevel;
}

/**
 * A logger named `name` (the `name` key of every line) writing records at `level` and above.
 * `level` defaults to $FST_LOG_LEVEL, then 'info'; an unknown level also means 'info', as it did
 * before pino, rather than an exception at startup. `base` fields go on every line. `out` receives
 * each line without its newline instead of stderr.
 */
export function createLogger(
  name: string,
  level: LogLevel = (process.env.FST_LOG_LEVEL as LogLevel | undefined) ?? 'info',
  base: Record<string, unknown> = {},
  out?: (line: string) => void,
): Logger {
  const effective: LogLevel = isLogLevel(level) ? level : 'info';
  const destination: LineDestination = out ? callbackLines(out) : effective === 'silent' ? discardLines : stderrLines();
  const logger = pino(
    {
      level: effective,
      // `name` first, then the caller's base fields. No pid or hostname: journald records both
      // (_PID, _HOSTNAME) for every entry, and tests do not need them.
      base: { name, ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
  return wrap(logger, effective);
}

function wrap(p: PinoLogger, level: LogLevel): Logger {
  return {
    debug: (msg, fields) => (fields ? p.debug(fields, msg) : p.debug(msg)),
    info: (msg, fields) => (fields ? p.info(fields, msg) : p.info(msg)),
    warn: (msg, fields) => (fields ? p.warn(fields, msg) : p.warn(msg)),
    error: (msg, fields) => (fields ? p.error(fields, msg) : p.error(msg)),
    child: (fields) => wrap(p.child(fields), level),
    level,
  };
}

export const silentLogger: Logger = createLogger('silent', 'silent');

/**
 * The logger's line format, which journald, jq and the test helpers that read daemon logs rely on:
 * one JSON object per line, level as a label, ISO time, name, msg, flattened fields.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { createLogger, silentLogger, type LogLevel } from '../../src/common/log/logger.js';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

function capture(level: LogLevel = 'debug', base: Record<string, unknown> = {}) {
  const lines: string[] = [];
  const log = createLogger('test', level, base, (l) => lines.push(l));
  const records = (): Record<string, unknown>[] => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, records };
}

describe('logger', () => {
  it('writes one parseable JSON object per line with level label, ISO time, name and msg', () => {
    const { log, lines, records } = capture('info');
    log.info('listening', { address: '127.0.0.1:9420' });
    log.warn('100% full: %s stays as written');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain('\n');
    const [first, second] = records();
    expect(first).toEqual({ level: 'info', time: expect.any(String), name: 'test', msg: 'listening', address: '127.0.0.1:9420' });
    expect(new Date(first!.time as string).toISOString()).toBe(first!.time);
    expect(second).toMatchObject({ level: 'warn', msg: '100% full: %s stays as written' });
    expect(first).not.toHaveProperty('pid');
    expect(first).not.toHaveProperty('hostname');
  });

  it('filters by level', () => {
    const { log, records } = capture('warn');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(records().map((r) => r.level)).toEqual(['warn', 'error']);
    expect(log.level).toBe('warn');

    const silent = capture('silent');
    silent.log.error('never');
    expect(silent.lines).toEqual([]);
  });

  it('adds base and child fields to every line, nesting children', () => {
    const { log, records } = capture('debug', { node: 'n1' });
    const child = log.child({ chunk: 7 }).child({ replica: 'a' });
    child.debug('copy', { bytes: 10 });
    log.info('parent');
    const [c, p] = records();
    expect(c).toMatchObject({ name: 'test', node: 'n1', chunk: 7, replica: 'a', bytes: 10, msg: 'copy', level: 'debug' });
    expect(p).not.toHaveProperty('chunk');
    expect(child.level).toBe('debug');
  });

  it('serializes err with message, stack and code', () => {
    const { log, records } = capture();
    const err = Object.assign(new Error('disk gone'), { code: 'EIO' });
    log.error('read failed', { err, path: '/d' });
    log.warn('odd', { err: 'just a string' });
    const [r, s] = records();
    expect(r).toMatchObject({ msg: 'read failed', path: '/d', err: { type: 'Error', message: 'disk gone', code: 'EIO' } });
    expect((r!.err as { stack: string }).stack).toContain('disk gone');
    expect(s).toMatchObject({ err: 'just a string' });
  });

  it('falls back to info for an unknown level, and honours FST_LOG_LEVEL by default', () => {
    const lines: string[] = [];
    const log = createLogger('x', 'loud' as LogLevel, {}, (l) => lines.push(l));
    expect(log.level).toBe('info');
    log.debug('hidden');
    expect(lines).toEqual([]);

    const saved = process.env.FST_LOG_LEVEL;
    process.env.FST_LOG_LEVEL = 'error';
    try {
      expect(createLogger('y', undefined, {}, () => {}).level).toBe('error');
    } finally {
      if (saved === undefined) delete process.env.FST_LOG_LEVEL;
      else process.env.FST_LOG_LEVEL = saved;
    }
    expect(silentLogger.level).toBe('silent');
  });

  it('keeps every line logged to stderr just before process.exit', async () => {
    // A child process (stderr is a pipe there) logs a burst, then exits at once. Node 20 cannot run
    // TypeScript, so the two log modules are transpiled into a temporary directory first.
    const dir = await mkdtemp(join(tmpdir(), 'fst-logger-'));
    try {
      const pinoUrl = pathToFileURL(createRequire(import.meta.url).resolve('pino')).href;
      for (const file of ['logger', 'destinations']) {
        const source = await readFile(join(REPO_ROOT, 'src/common/log', `${file}.ts`), 'utf8');
        const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
        await writeFile(join(dir, `${file}.js`), js.replaceAll(`from 'pino'`, `from '${pinoUrl}'`));
      }
      await writeFile(join(dir, 'package.json'), '{"type":"module"}');
      await writeFile(join(dir, 'main.js'), [
        `import { createLogger } from './logger.js';`,
        `const log = createLogger('child', 'info');`,
        `for (let i = 0; i < 200; i++) log.info('line', { i, pad: 'x'.repeat(500) });`,
        `log.error('start failed', { err: new Error('boom') });`,
        `process.exit(1);`,
      ].join('\n'));
      const failure = await promisify(execFile)(process.execPath, [join(dir, 'main.js')])
        .then(() => undefined, (e: { code: number; stderr: string }) => e);
      expect(failure?.code).toBe(1);
      const records = failure!.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(records).toHaveLength(201);
      expect(records.at(-1)).toMatchObject({ level: 'error', name: 'child', msg: 'start failed', err: { message: 'boom' } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/**
 * libpq multi-host metadata URLs split into the single-host URLs node-pg takes: every host in
 * order with the path and the other parameters kept, target_session_attrs read and removed, and a
 * clear EINVAL for what the master cannot use.
 */
import { describe, expect, it } from 'vitest';
import { FsError } from '../../src/common/errors/errno.js';
import { parsePgTargets } from '../../src/master/db/pg-hosts.js';
import { redactUrl } from '../../src/master/db/postgres.js';

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return e instanceof FsError ? e.code : String(e);
  }
  return 'no error';
};

describe('parsePgTargets', () => {
  it('splits a host list, keeping user, password, database and other parameters', () => {
    const t = parsePgTargets('postgres://fst:s3cret@db1:5433,db2,[::1]:6000/meta?sslmode=require&target_session_attrs=read-write');
    expect(t.urls).toEqual([
      'postgres://fst:s3cret@db1:5433/meta?sslmode=require',
      'postgres://fst:s3cret@db2/meta?sslmode=require',
      'postgres://fst:s3cret@[::1]:6000/meta?sslmode=require',
    ]);
    expect(t.hosts).toEqual(['db1:5433', 'db2', '[::1]:6000']);
    expect(t.readWrite).toBe(true);
  });

  it('takes one host, and a Unix socket given as a parameter, as they are', () => {
    expect(parsePgTargets('postgresql://fst@127.0.0.1:5432/meta')).toEqual({ urls: ['postgresql://fst@127.0.0.1:5432/meta'], hosts: ['127.0.0.1:5432'], readWrite: false });
    expect(parsePgTargets('postgres:///meta?host=/run/postgresql').urls).toEqual(['postgres:///meta?host=%2Frun%2Fpostgresql']);
    expect(parsePgTargets('postgres://h1,h2/meta?target_session_attrs=primary').readWrite).toBe(true);
  });

  it('refuses what the master cannot use with EINVAL', () => {
    expect(codeOf(() => parsePgTargets('mysql://h/db'))).toBe('EINVAL');
    expect(codeOf(() => parsePgTargets('postgres://h1,h2/db?target_session_attrs=read-only'))).toBe('EINVAL');
    expect(codeOf(() => parsePgTargets('postgres://h1,,h2/db?target_session_attrs=read-write'))).toBe('EINVAL');
    expect(codeOf(() => parsePgTargets('postgres://h1,h2/db')), 'several hosts, any of them').toBe('EINVAL');
  });

  it('hides the password of a multi-host URL in logs', () => {
    expect(redactUrl('postgres://fst:s3cret@h1:1,h2:2/db?target_session_attrs=read-write')).toBe('postgres://fst:***@h1:1,h2:2/db?target_session_attrs=read-write');
    expect(redactUrl('postgres://fst@h1/db')).toBe('postgres://fst@h1/db');
  });
});

import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ERRNO_NAMES, FsError } from '../../src/common/errors/errno.js';
import { LimitError, PreconditionError, UnavailableError, answeredErrno, errnoMetadata, errnoOfServiceError, fsErrorToStatus, statusForErrno } from '../../src/common/errors/rpc-status.js';
import { toErrno } from '../../src/common/errors/to-errno.js';

describe('errno <-> gRPC status', () => {
  it('maps the fixed table both ways', () => {
    expect(statusForErrno('ENOENT')).toBe(status.NOT_FOUND);
    expect(statusForErrno('EEXIST')).toBe(status.ALREADY_EXISTS);
    expect(statusForErrno('EACCES')).toBe(status.PERMISSION_DENIED);
    expect(statusForErrno('ENOTEMPTY')).toBe(status.FAILED_PRECONDITION);
    expect(statusForErrno('ENOSPC')).toBe(status.RESOURCE_EXHAUSTED);
    expect(statusForErrno('ENAMETOOLONG')).toBe(status.INVALID_ARGUMENT);
  });

  it('answers refusals of state and limits with their own status, keeping EAGAIN in the trailer', () => {
    const pre = fsErrorToStatus(new PreconditionError('a chunkserver is down'));
    expect([pre.code, pre.metadata?.get('fst-errno')[0]]).toEqual([status.FAILED_PRECONDITION, 'EAGAIN']);
    expect(fsErrorToStatus(new LimitError('too many')).code).toBe(status.RESOURCE_EXHAUSTED);
    expect(fsErrorToStatus(new FsError('EAGAIN', 'later')).code).toBe(status.UNAVAILABLE);
  });

  it('answers a daemon that cannot serve for now with UNAVAILABLE (retried), and EIO in the trailer', () => {
    const s = fsErrorToStatus(new UnavailableError('the metadata database is failing over'));
    expect([s.code, s.metadata?.get('fst-errno')[0]]).toEqual([status.UNAVAILABLE, 'EIO']);
    expect(answeredErrno(Object.assign(new Error('x'), { code: s.code, details: s.details, metadata: s.metadata }))).toBe('EIO');
  });

  it('answers a call that may have been applied (its commit answer lost) without an errno, as a connection lost after the request', () => {
    const s = fsErrorToStatus(new UnavailableError('the outcome is unknown', { maybeApplied: true }));
    expect(s.code).toBe(status.UNAVAILABLE);
    expect(s.metadata.get('fst-errno')).toEqual([]);
    const asReceived = Object.assign(new Error('x'), { code: s.code, details: s.details, metadata: s.metadata });
    expect(answeredErrno(asReceived)).toBeUndefined();
    expect(errnoOfServiceError(asReceived)).toBe('EIO');
  });

  it('prefers the trailer over the status code, for every errno name', () => {
    for (const name of ERRNO_NAMES) {
      expect(errnoOfServiceError({ code: statusForErrno(name), metadata: errnoMetadata(name) })).toBe(name);
    }
  });

  it('falls back on the status code without a trailer', () => {
    const md = new Metadata();
    expect(errnoOfServiceError({ code: status.UNAVAILABLE, metadata: md })).toBe('EIO');
    expect(errnoOfServiceError({ code: status.DEADLINE_EXCEEDED, metadata: md })).toBe('ETIMEDOUT');
    expect(errnoOfServiceError({ code: status.CANCELLED, metadata: md })).toBe('EINTR');
    expect(errnoOfServiceError({ code: status.NOT_FOUND, metadata: md })).toBe('ENOENT');
  });

  it('ignores a trailer that is not an errno name', () => {
    const md = new Metadata();
    md.set('fst-errno', '66');
    expect(errnoOfServiceError({ code: status.ALREADY_EXISTS, metadata: md })).toBe('EEXIST');
  });

  it('toErrno keeps FsError and Node system error codes, and reports the unknown as EIO', () => {
    expect(toErrno(new FsError('ENOTDIR', 'x'))).toBe('ENOTDIR');
    expect(toErrno(Object.assign(new Error('disk'), { code: 'ENOSPC' }))).toBe('ENOSPC');
    let logged = false;
    expect(toErrno(new TypeError('bug'), () => (logged = true))).toBe('EIO');
    expect(logged).toBe(true);
  });
});

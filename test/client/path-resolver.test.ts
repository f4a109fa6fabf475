import { describe, expect, it } from 'vitest';
import { normalizeComponents, normalizePath, parsePath, splitPath } from '../../src/client/path-resolver.js';
import { FsError } from '../../src/common/errors/errno.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return e instanceof FsError ? e.code : 'not an FsError';
  }
  return undefined;
};

describe('path normalization', () => {
  it('drops empty components and "."', () => {
    expect(parsePath('/')).toEqual([]);
    expect(parsePath('//')).toEqual([]);
    expect(parsePath('/a//b/./c/')).toEqual(['a', 'b', 'c']);
    expect(normalizePath('/a//b/./c/')).toBe('/a/b/c');
    expect(normalizePath('/./')).toBe('/');
  });

  it('resolves ".." lexically and stops at the root', () => {
    expect(parsePath('/a/b/../c')).toEqual(['a', 'c']);
    expect(parsePath('/..')).toEqual([]);
    expect(parsePath('/../../a/..')).toEqual([]);
    expect(normalizeComponents(['x', '..', '..', 'y', '.', ''])).toEqual(['y']);
  });

  it('keeps names that merely contain dots', () => {
    expect(parsePath('/...//.hidden/a..b')).toEqual(['...', '.hidden', 'a..b']);
  });

  it('refuses relative, empty, NUL-containing and over-long paths with an errno', () => {
    expect(code(() => parsePath('a/b'))).toBe('EINVAL');
    expect(code(() => parsePath(''))).toBe('ENOENT');
    expect(code(() => parsePath('/a\0b'))).toBe('EINVAL');
    expect(code(() => parsePath('/' + 'x'.repeat(256)))).toBe('ENAMETOOLONG');
    expect(code(() => parsePath('/' + 'x'.repeat(255)))).toBeUndefined();
    // 255 bytes is the limit, not 255 UTF-16 units.
    expect(code(() => parsePath('/' + 'é'.repeat(128)))).toBe('ENAMETOOLONG');
  });

  it('splits a path into its parent and its last name', () => {
    expect(splitPath('/a/b/c')).toEqual({ parent: ['a', 'b'], name: 'c' });
    expect(splitPath('/a/')).toEqual({ parent: [], name: 'a' });
    expect(splitPath('/a/b/..')).toEqual({ parent: [], name: 'a' });
    expect(splitPath('/')).toEqual({ parent: [], name: '' });
  });
});

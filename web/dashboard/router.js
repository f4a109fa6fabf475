// The URL hash names what the page shows, so back/forward and bookmarks work:
// "#/overview" (also the default) and "#/files/<encoded path>/".
/* global window */
import { decodePath, encodePath } from './paths.js';

const FILES_PREFIX = '/files';

/** The route a hash names: `{ view: 'overview' }` or `{ view: 'files', path }`. */
export function parseHash(hash) {
  const route = hash.replace(/^#/, '');
  if (route === FILES_PREFIX || route.startsWith(`${FILES_PREFIX}/`)) {
    return { view: 'files', path: decodePath(route.slice(FILES_PREFIX.length)) };
  }
  return { view: 'overview' };
}

/** The hash of the overview. */
export function overviewHash() {
  return '#/overview';
}

/** The hash of a directory in the file browser. */
export function filesHash(dirPath) {
  const encoded = encodePath(dirPath);
  return `#${FILES_PREFIX}${encoded === '/' ? '/' : `${encoded}/`}`;
}

/** Calls `handler(route)` now and on every hash change. */
export function followRoute(handler) {
  const emit = () => handler(parseHash(window.location.hash));
  window.addEventListener('hashchange', emit);
  emit();
}

// One row of the file listing. Each row carries `data-name` and `data-type`, which tests rely
// on. Directories link to their own listing (through the hash, so back/forward work), files to
// a download.
/* global document */
import { h } from './dom.js';
import { childPath, fileUrl } from './paths.js';
import { filesHash } from './router.js';
import { DASH, formatBytes, formatDate } from './format.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Outline icons drawn in a 24×24 box, one per entry type. */
const ICON_PATHS = {
  dir: 'M3 6.5A1.5 1.5 0 0 1 4.5 5h4.2l2 2h8.8A1.5 1.5 0 0 1 21 8.5v9a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5z',
  file: 'M6.5 3h7.5l4.5 4.5v12A1.5 1.5 0 0 1 17 21H6.5A1.5 1.5 0 0 1 5 19.5v-15A1.5 1.5 0 0 1 6.5 3zM14 3v4.5h4.5',
  symlink: 'M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1',
  other: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z',
};
const DOWNLOAD_PATH = 'M12 4v11M7 10.5l5 5 5-5M5 20h14';
const DELETE_PATH = 'M4 7h16M9.5 7V4.5h5V7M6.5 7l1 13h9l1-13M10 11v5.5M14 11v5.5';

/** Words for the types the name alone does not make plain. */
const TYPE_WORDS = { symlink: 'symbolic link', other: 'special file' };

function icon(pathData, className) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', className);
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', pathData);
  path.setAttribute('fill', 'none');
  path.setAttribute('stroke', 'currentColor');
  path.setAttribute('stroke-width', '1.6');
  path.setAttribute('stroke-linejoin', 'round');
  path.setAttribute('stroke-linecap', 'round');
  svg.append(path);
  return svg;
}

function nameCell(entry, path) {
  const label = entry.type === 'dir'
    ? h('a', { href: filesHash(path), text: entry.name })
    : h('span', { text: entry.name });
  const kind = TYPE_WORDS[entry.type] ? h('span', { class: 'entry-kind', text: ` (${TYPE_WORDS[entry.type]})` }) : null;
  return h('td', { class: 'name-cell' }, h('div', { class: 'entry-name' }, icon(ICON_PATHS[entry.type] ?? ICON_PATHS.other, 'entry-icon'), h('span', {}, label, kind)));
}

/** Icon and word; on a phone only the icon shows, and the aria-label names the entry. */
function buttonContent(pathData, word) {
  return [icon(pathData, 'button-icon'), h('span', { class: 'wide-only', text: word })];
}

function actionsCell(entry, path, { readOnly, onDelete }) {
  const download = entry.type === 'file'
    ? h('a', {
      class: 'button button-small',
      href: `${fileUrl(path)}?download=1`,
      download: entry.name,
      attrs: { 'aria-label': `Download ${entry.name}` },
    }, ...buttonContent(DOWNLOAD_PATH, 'Download'))
    : null;
  const remove = readOnly
    ? null
    : h('button', {
      type: 'button',
      class: 'button button-small button-danger',
      attrs: { 'aria-label': `Delete ${entry.name}` },
      on: { click: () => onDelete(entry) },
    }, ...buttonContent(DELETE_PATH, 'Delete'));
  return h('td', { class: 'actions' }, download, remove);
}

/** The `<tr>` for one listing entry of directory `dir`. */
export function entryRow(entry, dir, options) {
  const path = childPath(dir, entry.name);
  const isDir = entry.type === 'dir';
  const mtime = formatDate(entry.mtime);
  return h('tr', { dataset: { name: entry.name, type: entry.type } },
    nameCell(entry, path),
    h('td', { class: 'num meta-cell size-cell', text: isDir ? DASH : formatBytes(entry.size) }),
    h('td', { class: 'meta-cell date-cell' }, mtime === DASH ? DASH : h('time', { dateTime: entry.mtime, text: mtime })),
    actionsCell(entry, path, options));
}

// The file browser: lists a directory page by page through the REST API
// (`GET /files/<dir>/?list&limit=1000[&after=<token>]`), shows the path as breadcrumbs, and
// hosts the upload, delete and new-folder actions. The directory shown follows the URL hash.
/* global AbortController, document */
import { getJson, isAbort } from './api.js';
import { byId, h, setText, show } from './dom.js';
import { breadcrumbsOf, dirUrl } from './paths.js';
import { filesHash } from './router.js';
import { entryRow } from './file-rows.js';
import { deleteEntry, makeFolder } from './file-actions.js';
import { createUploads } from './uploads.js';

const PAGE_SIZE = 1000;

function listUrl(dir, after) {
  const query = `list&limit=${PAGE_SIZE}${after ? `&after=${encodeURIComponent(after)}` : ''}`;
  return `${dirUrl(dir)}?${query}`;
}

function renderBreadcrumbs(list, dir) {
  const crumbs = breadcrumbsOf(dir);
  list.replaceChildren(...crumbs.map((crumb, index) => {
    const isRoot = crumb.path === '/';
    const props = { text: crumb.name, class: isRoot ? 'crumb-root' : null, attrs: isRoot ? { 'aria-label': 'Root folder' } : {} };
    const content = index === crumbs.length - 1
      ? h('span', { ...props, tabIndex: -1, attrs: { ...props.attrs, 'aria-current': 'page' } })
      : h('a', { ...props, href: filesHash(crumb.path) });
    return h('li', {}, content);
  }));
}

/** The file-browser view; `show(route)` displays `route.path`, `setReadOnly` hides the mutations. */
export function createFileBrowser() {
  const section = byId('view-files');
  const body = byId('files-body');
  const empty = byId('files-empty');
  const message = byId('files-message');
  const loadMore = byId('load-more');
  const newFolder = byId('new-folder');
  const toolbarUpload = byId('upload-input').closest('.upload-picker');

  let dir = '/';
  let next = null; // token of the next page, null when the listing is complete
  let loading = null; // AbortController of the listing request under way
  let readOnly = false;

  function showMessage(text) {
    setText(message, text);
    show(message, text !== '');
  }

  /** Loads the first page of `dir` (or the next page when `append`), replacing rows in one go. */
  async function load({ append = false } = {}) {
    loading?.abort();
    const controller = new AbortController();
    loading = controller;
    loadMore.disabled = true;
    const listedDir = dir;
    try {
      const page = await getJson(listUrl(listedDir, append ? next : null), { signal: controller.signal });
      const entries = Array.isArray(page?.entries) ? page.entries : [];
      const onDelete = (entry) => remove(listedDir, entry);
      const rows = entries.map((entry) => entryRow(entry, listedDir, { readOnly, onDelete }));
      if (append) body.append(...rows);
      else body.replaceChildren(...rows);
      next = page?.next ?? null;
      show(empty, body.children.length === 0);
      if (!append) showMessage('');
    } catch (error) {
      if (isAbort(error)) return;
      if (!append) {
        body.replaceChildren();
        next = null;
        show(empty, false);
      }
      showMessage(error.code === 'ENOENT' ? `${listedDir} does not exist.` : `Cannot list ${listedDir}: ${error.message}`);
    } finally {
      if (loading === controller) {
        loading = null;
        loadMore.disabled = false;
        show(loadMore, next !== null);
      }
    }
  }

  /** Runs a mutation; refreshes the listing when it changed something, shows why it failed. */
  async function mutate(action, failure) {
    try {
      if (await action()) await load();
    } catch (error) {
      if (error.status !== 401) showMessage(`${failure}: ${error.message}`);
    }
  }

  function remove(entryDir, entry) {
    void mutate(() => deleteEntry(entryDir, entry), `Cannot delete ${entry.name}`);
  }

  newFolder.addEventListener('click', () => void mutate(() => makeFolder(dir), 'Cannot create the folder'));
  loadMore.addEventListener('click', () => void load({ append: true }));
  byId('files-refresh').addEventListener('click', () => void load());

  createUploads({
    targetDir: () => dir,
    canUpload: () => !readOnly,
    onUploaded: (uploadedDir) => {
      if (uploadedDir === dir && !section.hidden) void load();
    },
    onRefused: showMessage,
  });

  return {
    section,
    show(route) {
      const changed = route.path !== dir;
      // The folder link just followed is about to go; keep keyboard focus in the browser.
      const focusWasInList = body.contains(document.activeElement);
      dir = route.path;
      renderBreadcrumbs(byId('breadcrumbs'), dir);
      if (focusWasInList) byId('breadcrumbs').querySelector('[aria-current]')?.focus();
      if (changed) {
        body.replaceChildren();
        show(empty, false);
        show(loadMore, false);
        showMessage('');
      }
      void load();
    },
    hide() {
      loading?.abort();
    },
    setReadOnly(value) {
      readOnly = value;
      show(newFolder, !value);
      show(toolbarUpload, !value);
      setText(byId('files-hint'), value
        ? 'Read-only session: files can be listed and downloaded.'
        : 'Drop files here to upload them into this folder.');
    },
  };
}

// Uploads: files picked in the file input or dropped on the listing are sent one request each
// with XMLHttpRequest (fetch cannot report upload progress), `PUT /files/<dir>/<name>` with the
// File as the body. Each gets a row `data-upload="<name>"` whose `data-status` goes
// uploading → done | failed, with a <progress> bar and the server's message on failure.
/* global XMLHttpRequest, window */
import { errorFromResponse, notifyUnauthorized } from './api.js';
import { byId, h, setText, show } from './dom.js';
import { childPath, fileUrl } from './paths.js';

/** The row of one upload; `update` sets its status, fraction done and message. */
function createUploadRow(file, dir, onCancel) {
  const progress = h('progress', { max: 100, value: 0, attrs: { 'aria-label': `Upload of ${file.name}` } });
  const percent = h('span', { class: 'upload-percent', text: '0 %' });
  const message = h('p', { class: 'upload-message muted', text: `Uploading to ${dir}…` });
  const cancel = h('button', {
    type: 'button',
    class: 'button button-quiet button-small',
    text: 'Cancel',
    attrs: { 'aria-label': `Cancel the upload of ${file.name}` },
    on: { click: onCancel },
  });
  const row = h('li', { class: 'upload', dataset: { upload: file.name, status: 'uploading' } },
    h('span', { class: 'upload-name', text: file.name }), progress, percent, cancel, message);

  function update(status, fraction, text) {
    row.dataset.status = status;
    const value = Math.round(fraction * 100);
    progress.value = value;
    setText(percent, `${value} %`);
    if (text !== undefined) setText(message, text);
    show(cancel, status === 'uploading');
  }
  return { row, update };
}

/** Sends one file; resolves when it ended, whatever the outcome, as the row shows it. */
function sendFile(file, dir, list) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    const { row, update } = createUploadRow(file, dir, () => xhr.abort());
    list.prepend(row);

    const finish = (status, fraction, text) => {
      update(status, fraction, text);
      resolve(status === 'done');
    };
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable && event.total > 0) update('uploading', event.loaded / event.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        finish('done', 1, `Uploaded to ${dir}`);
        return;
      }
      const error = errorFromResponse(xhr.status, xhr.statusText, xhr.responseText);
      if (xhr.status === 401) notifyUnauthorized(error);
      finish('failed', 0, `Failed: ${error.message}`);
    });
    xhr.addEventListener('error', () => finish('failed', 0, 'Failed: cannot reach the gateway.'));
    xhr.addEventListener('abort', () => finish('failed', 0, 'Cancelled.'));

    xhr.open('PUT', fileUrl(childPath(dir, file.name)));
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.send(file);
  });
}

/** True when a drag carries files (not text or a link from the page). */
function carriesFiles(event) {
  return Array.from(event.dataTransfer?.types ?? []).includes('Files');
}

/** The dropped files, and how many dropped items were folders (which a PUT cannot carry). */
function droppedFiles(dataTransfer) {
  const items = Array.from(dataTransfer.items ?? []);
  const folders = items.filter((item) => item.webkitGetAsEntry?.()?.isDirectory).length;
  const files = items.length === 0
    ? Array.from(dataTransfer.files)
    : items.filter((item) => item.kind === 'file' && !item.webkitGetAsEntry?.()?.isDirectory)
      .map((item) => item.getAsFile())
      .filter((file) => file !== null);
  return { files, folders };
}

/**
 * Wires the upload input, the drop zone and the upload list. `targetDir()` names the directory
 * shown now (uploads go there), `canUpload()` is false for a read-only session,
 * `onUploaded(dir)` runs after each successful upload, `onRefused(text)` for a refused drop.
 */
export function createUploads({ targetDir, canUpload, onUploaded, onRefused }) {
  const input = byId('upload-input');
  const dropzone = byId('dropzone');
  const section = byId('uploads');
  const list = byId('upload-list');

  function upload(files) {
    if (files.length === 0) return;
    const dir = targetDir();
    show(section, true);
    for (const file of files) {
      void sendFile(file, dir, list).then((ok) => {
        if (ok) onUploaded(dir);
      });
    }
  }

  input.addEventListener('change', () => {
    upload(Array.from(input.files ?? []));
    input.value = ''; // so picking the same file again uploads it again
  });

  byId('uploads-clear').addEventListener('click', () => {
    for (const row of list.querySelectorAll('[data-status="done"], [data-status="failed"]')) row.remove();
    show(section, list.children.length > 0);
  });

  // Stop the browser from opening a file dropped beside the zone, which would leave the page.
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => event.preventDefault());

  dropzone.addEventListener('dragover', (event) => {
    if (!carriesFiles(event) || !canUpload()) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    dropzone.classList.add('is-dragging');
  });
  dropzone.addEventListener('dragleave', (event) => {
    if (!dropzone.contains(event.relatedTarget)) dropzone.classList.remove('is-dragging');
  });
  dropzone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropzone.classList.remove('is-dragging');
    if (!carriesFiles(event)) return;
    if (!canUpload()) {
      onRefused('This session is read-only: uploads are not allowed.');
      return;
    }
    const { files, folders } = droppedFiles(event.dataTransfer);
    if (folders > 0) onRefused('Folders cannot be uploaded by drag-and-drop; drop the files inside them, or create the folder first.');
    upload(files);
  });
}

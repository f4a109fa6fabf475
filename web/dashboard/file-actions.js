// The file browser's mutations that need a question first: delete (confirm) and new folder
// (prompt). Each answers true when it changed the directory, so the caller knows to refresh,
// and throws the gateway's ApiError when the change failed.
/* global window */
import { request } from './api.js';
import { childPath, dirUrl, fileUrl, invalidNameReason } from './paths.js';

/** Asks, then deletes `entry` of `dir`; a directory goes with everything in it. */
export async function deleteEntry(dir, entry) {
  const path = childPath(dir, entry.name);
  const isDir = entry.type === 'dir';
  const question = isDir
    ? `Delete the folder "${entry.name}" and everything in it?`
    : `Delete "${entry.name}"?`;
  if (!window.confirm(question)) return false;
  await request('DELETE', isDir ? `${dirUrl(path)}?recursive=1` : fileUrl(path));
  return true;
}

/** Asks for a name, then creates that folder in `dir`. */
export async function makeFolder(dir) {
  let name = window.prompt('Name of the new folder:', '');
  while (name !== null) {
    const reason = invalidNameReason(name.trim());
    if (reason === null) break;
    name = window.prompt(`${reason}\nName of the new folder:`, name);
  }
  if (name === null) return false;
  await request('POST', `${dirUrl(childPath(dir, name.trim()))}?mkdir`);
  return true;
}

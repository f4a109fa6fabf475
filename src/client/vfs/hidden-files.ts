/**
 * libfuse2 keeps a file that is removed while open alive by renaming it to `.fuse_hiddenXXXX` in
 * the same directory ("hide"), unlinking that name at the last close. For unlink(2) that is fine,
 * but rename(2) over an open file becomes two steps — hide the target, then rename the source —
 * and a reader opening the target between them gets ENOENT. So fst-mount turns the hide into a
 * link: the target keeps its name and gains the hidden one, and the removal of the old name is
 * completed just before the next path operation, unless that operation is the rename that
 * replaces it (atomically, in one master transaction). libfuse holds its tree lock from the hide to
 * the end of the rename, so no other path operation can come in between. A timer completes an
 * unlink's hide when nothing else arrives.
 */
import type { Logger } from '../../common/log/logger.js';
import { toFsError } from '../../common/errors/to-errno.js';
import type { MetaClient } from '../meta-client.js';
import type { Attr } from '../types.js';

export const HIDDEN_NAME = /^\.fuse_hidden[0-9a-f]{8,}$/;

interface PendingHide {
  path: string;
  dirIno: number;
  name: string;
}

const SETTLE_AFTER_MS = 100;

export class HideTracker {
  private pending: PendingHide | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly meta: MetaClient,
    private readonly log: Logger,
    /** Called once the old name is gone (cache invalidation), with its directory's new attributes if known. */
    private readonly removed: (path: string, dirAttr: Attr | undefined) => void,
  ) {}

  /** A hide became a link: `path` still names the file until `settle`. */
  start(p: PendingHide): void {
    this.pending = p;
    this.timer = setTimeout(() => void this.settle(), SETTLE_AFTER_MS);
    this.timer.unref();
  }

  /**
   * Completes a pending hide by removing the old name — unless `replacedBy` is that name, i.e.
   * this is the rename that replaces the hidden file, which removes the old name itself.
   */
  async settle(replacedBy?: string): Promise<void> {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    clearTimeout(this.timer);
    if (replacedBy === p.path) return;
    let dirAttr: Attr | undefined;
    try {
      dirAttr = (await this.meta.unlink(p.dirIno, p.name)).parentAttr;
    } catch (e) {
      if (toFsError(e).code !== 'ENOENT') this.log.warn('removing the name of a hidden file failed', { path: p.path, err: e });
    } finally {
      this.removed(p.path, dirAttr);
    }
  }
}

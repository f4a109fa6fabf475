/** fstadmin fsck: placeholder until the checker lands. */
import { FsError } from '../../common/errors/errno.js';
import type { fst } from '../../proto-gen/fst.js';
import type { AdminDeps } from './admin-deps.js';

export function fsck(_deps: AdminDeps, _req: fst.IFsckRequest): Promise<fst.IFsckResponse> {
  return Promise.reject(new FsError('ENOSYS', 'fsck is not implemented yet'));
}

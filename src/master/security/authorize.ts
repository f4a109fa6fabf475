/**
 * Who may call which of the master's services, decided in addService (common/rpc/server.ts) before
 * any handler runs: the caller is the credential of its TLS connection, checked against the
 * master's records on every call, so a revoked credential stops working on open connections at
 * once. Clients and operators call the master service; chunkservers (and admins) the registry;
 * only admins the admin service. For the master service it also refuses changes from a read-only
 * credential (EROFS) and rewrites every caller in the request through the credential's caller map
 * (root squash, map-all): handlers only ever see ids the credential allows. A master run
 * `--insecure` has no credentials to check.
 */
import { isIdentityMap, mapCaller, type CallerMap } from '../../common/caller-map.js';
import { FsError } from '../../common/errors/errno.js';
import type { Authorize, CallContext } from '../../common/rpc/server.js';
import type { Role } from '../../common/security/principal.js';
import type { fst } from '../../proto-gen/fst.js';
import { callerMapOf, type CredentialRecord, type CredentialRegistry } from './credential-registry.js';
import type { SubtreeRoots } from './subtree.js';

const SERVICE_ROLES = {
  master: ['admin', 'client'],
  registry: ['admin', 'chunkserver'],
  admin: ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type MasterServiceName = keyof typeof SERVICE_ROLES;

/** MasterService calls that change the namespace or file data: refused to read-only credentials. */
const CHANGES = new Set([
  'SetAttr', 'Mknod', 'Mkdir', 'Unlink', 'Rmdir', 'Rename', 'Link', 'Symlink', 'SetXattr', 'RemoveXattr',
  'AllocateChunk', 'CommitWrite', 'WriteInline', 'Delegate', 'ApplyChanges', 'PunchHole',
]);

/** A request's caller, as sent (absent: the request claims root, as clients without ids do). */
type WithCaller = { caller?: fst.ICaller | null };

const ROOT: fst.ICaller = { uid: 0, gid: 0, groups: [] };

function mapRequestCaller(req: WithCaller, map: CallerMap): void {
  const c = req.caller ?? ROOT;
  req.caller = mapCaller({ uid: c.uid ?? 0, gid: c.gid ?? 0, groups: c.groups ?? [] }, map);
}

/** Rewrites every caller of a MasterService request (and of each change of a batch) through `map`. */
export function mapCallers(method: string, request: unknown, map: CallerMap): void {
  if (isIdentityMap(map) || typeof request !== 'object' || request === null) return;
  if (method === 'ApplyChanges') {
    for (const change of (request as fst.IApplyChangesRequest).changes ?? []) {
      const op = change.mkdir ?? change.symlink ?? change.unlink ?? change.rmdir ?? change.rename ?? change.setattr;
      if (op) mapRequestCaller(op, map);
    }
    return;
  }
  // protobufjs puts every field of a message type on its prototype: `in` tells which types have one.
  if ('caller' in request) mapRequestCaller(request as WithCaller, map);
}

/**
 * The check for one service; undefined (nothing to check) for an insecure master. `subtrees`
 * confines MasterService calls of credentials made with `--path` (subtree.ts).
 */
export function authorizeService(service: MasterServiceName, credentials: CredentialRegistry | undefined, subtrees?: SubtreeRoots): Authorize | undefined {
  if (!credentials) return undefined;
  const roles: readonly Role[] = SERVICE_ROLES[service];
  return (method, ctx, request) => {
    const rec = credentials.check(ctx.principal!);
    if (!roles.includes(rec.role)) {
      throw new FsError('EACCES', `credential '${rec.name}' (${rec.role}) may not call ${method.path}`);
    }
    if (service !== 'master') return undefined;
    if (rec.readOnly && CHANGES.has(method.name)) throw new FsError('EROFS', `credential '${rec.name}' is read-only`);
    mapCallers(method.name, request, callerMapOf(rec));
    // Only confined credentials need the tree looked at.
    if (rec.path === '/' || !subtrees || typeof request !== 'object' || request === null) return undefined;
    const path = rec.path;
    return subtrees.rootOf(path).then((root) => subtrees.confine(method.name, request as Record<string, unknown>, root));
  };
}

/** The caller's credential record (undefined on an insecure master: no limits). */
export function callerCredential(credentials: CredentialRegistry | undefined, ctx: CallContext): CredentialRecord | undefined {
  return credentials && ctx.principal ? credentials.check(ctx.principal) : undefined;
}

/** GetIdentity's answer: what the caller's credential allows; `rootIno`: its subtree's inode. */
export function identityOf(rec: CredentialRecord | undefined, rootIno = 1): fst.IGetIdentityResponse {
  if (!rec) return { name: '(insecure)', role: 'admin', readOnly: false, squashRoot: false, mapAll: false, path: '/', rootIno: 1 };
  const map = callerMapOf(rec);
  return {
    name: rec.name, role: rec.role, readOnly: rec.readOnly, path: rec.path, rootIno,
    squashRoot: map.root !== undefined, rootAs: map.root && { uid: map.root.uid, gid: map.root.gid, groups: [map.root.gid] },
    mapAll: map.all !== undefined, allAs: map.all && { uid: map.all.uid, gid: map.all.gid, groups: [map.all.gid] },
  };
}

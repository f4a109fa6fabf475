/**
 * How a credential changes who its callers are (MooseFS's maproot/mapall, NFS's root squash):
 * with `all`, every caller acts as that uid and gid; otherwise root callers act as `root` (nobody
 * unless the credential says otherwise; an admin credential keeps root as root). The master
 * applies it to every request, whatever the client sent; fst-mount applies the same map first, so
 * that what it answers itself (delegated directories) matches what the master will record.
 */
export interface IdPair {
  uid: number;
  gid: number;
}

export interface CallerMap {
  /** What root (uid 0) callers become; undefined: root stays root. */
  root: IdPair | undefined;
  /** What every caller becomes; undefined: callers keep their ids (root as above). */
  all: IdPair | undefined;
}

export interface CallerIds {
  uid: number;
  gid: number;
  groups: number[];
}

/** The traditional unprivileged user and group. */
export const NOBODY: IdPair = Object.freeze({ uid: 65534, gid: 65534 });

/** Callers keep their ids, root included (admin credentials, insecure clusters). */
export const IDENTITY_MAP: CallerMap = Object.freeze({ root: undefined, all: undefined });

export function isIdentityMap(m: CallerMap): boolean {
  return m.root === undefined && m.all === undefined;
}

/** The caller `c` acts as under `m`; `c` itself when nothing changes. */
export function mapCaller<C extends CallerIds>(c: C, m: CallerMap): C | CallerIds {
  const to = m.all ?? (c.uid === 0 ? m.root : undefined);
  if (!to) return c;
  return { uid: to.uid, gid: to.gid, groups: [to.gid] };
}

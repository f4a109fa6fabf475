/**
 * Who may do what to an inode: simplified POSIX. A caller with uid 0, or no caller at all (a
 * trusted in-process request), passes every check. Others get the owner, group or other class of
 * the mode bits. ACLs and capabilities other than "is root" do not exist in FST. The master judges
 * every call with these (master/tree/checks.ts); fst-mount judges the changes it answers itself in
 * delegated directories with the same functions, so both answer alike.
 */
import type { fst } from '../proto-gen/fst.js';
import { FsError } from './errors/errno.js';

/** What the rules look at of an inode (the master's row, the mount's attributes). */
export interface Owned {
  ino: number;
  type: number;
  mode: number;
  uid: number;
  gid: number;
}

export const MAY_READ = 4;
export const MAY_WRITE = 2;
export const MAY_EXEC = 1;

export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_ISVTX = 0o1000;
export const S_IXGRP = 0o010;

/** Who asks, resolved from the wire Caller. `undefined` means a trusted internal request. */
export interface Cred {
  uid: number;
  gid: number;
  groups: readonly number[];
}

/** The wire Caller as the checks accept it (absent = trusted). */
export type Caller = fst.ICaller | null | undefined;

export function toCred(caller: Caller): Cred | undefined {
  if (!caller) return undefined;
  return { uid: caller.uid ?? 0, gid: caller.gid ?? 0, groups: caller.groups ?? [] };
}

/** True for root and for trusted internal requests. */
export function isPrivileged(cred: Cred | undefined): cred is undefined | (Cred & { uid: 0 }) {
  return cred === undefined || cred.uid === 0;
}

export function inGroup(cred: Cred, gid: number): boolean {
  return cred.gid === gid || cred.groups.includes(gid);
}

export function isOwner(row: Owned, cred: Cred | undefined): boolean {
  return isPrivileged(cred) || cred.uid === row.uid;
}

/** True when `cred` holds every bit of `mask` (MAY_*) on `row`. */
export function hasAccess(row: Owned, cred: Cred | undefined, mask: number): boolean {
  if (isPrivileged(cred)) return true;
  const shift = cred.uid === row.uid ? 6 : inGroup(cred, row.gid) ? 3 : 0;
  return ((row.mode >> shift) & mask) === mask;
}

/** EACCES unless `cred` holds every bit of `mask` on `row`. */
export function checkAccess(row: Owned, cred: Cred | undefined, mask: number): void {
  if (!hasAccess(row, cred, mask)) {
    throw new FsError('EACCES', `permission denied on inode ${row.ino}`);
  }
}

/** EPERM unless `cred` owns `row` (chmod, explicit utimes, chown). */
export function checkOwner(row: Owned, cred: Cred | undefined): void {
  if (!isOwner(row, cred)) throw new FsError('EPERM', `not the owner of inode ${row.ino}`);
}

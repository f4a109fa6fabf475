/**
 * The supplementary groups of a FUSE request's caller. The kernel tells FUSE only the caller's
 * fsuid, fsgid and pid; its other groups are on the `Groups:` line of /proc/PID/status. The master
 * needs them wherever it checks membership (chgrp to a group the caller is in, keeping S_ISGID on a
 * chmod, a directory whose group grants the caller access), as the kernel does with the same
 * process's credentials. Read once per pid and kept for a second: a program calls setgroups(2)
 * rarely, and a request's pid is the calling thread's (a /proc entry of its own).
 */
import { readFileSync } from 'node:fs';

const NONE: readonly number[] = Object.freeze([]);
/** Pids kept at most; past this the oldest half goes. */
const MAX_PIDS = 4096;

/** The ids on the `Groups:` line of a /proc/PID/status text (none when the line is missing). */
export function parseGroups(status: string): number[] {
  const m = /^Groups:[ \t]*([0-9 \t]*)$/m.exec(status);
  if (!m) return [];
  return m[1]!.split(/[ \t]+/).filter(Boolean).map(Number).filter((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff_ffff);
}

export class CallerGroups {
  private readonly byPid = new Map<number, { groups: readonly number[]; until: number }>();

  constructor(private readonly ttlMs = 1000, private readonly procRoot = '/proc') {}

  /** The groups of process (or thread) `pid`; none for pid 0 (the kernel's own requests) or a process gone. */
  of(pid: number): readonly number[] {
    if (pid <= 0) return NONE;
    const now = Date.now();
    const hit = this.byPid.get(pid);
    if (hit && hit.until > now) return hit.groups;
    let groups = NONE;
    try {
      groups = Object.freeze(parseGroups(readFileSync(`${this.procRoot}/${pid}/status`, 'latin1')));
    } catch {
      // Exited before we looked: it gets no supplementary groups (its request is about to be moot).
    }
    if (this.byPid.size >= MAX_PIDS) {
      let drop = MAX_PIDS / 2;
      for (const k of this.byPid.keys()) {
        if (drop-- <= 0) break;
        this.byPid.delete(k);
      }
    }
    this.byPid.delete(pid);
    this.byPid.set(pid, { groups, until: now + this.ttlMs });
    return groups;
  }
}

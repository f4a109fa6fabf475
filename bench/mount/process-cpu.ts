/**
 * CPU time of a target's processes, by role (the mount, the master, the chunkservers), so that the
 * benchmark can report CPU seconds per GiB moved beside the rates: a target can be fast by burning
 * cores that a loaded machine would not have.
 */
import { readFileSync } from 'node:fs';

export type ProcessRole = 'mount' | 'master' | 'chunkservers';
export const PROCESS_ROLES: readonly ProcessRole[] = ['mount', 'master', 'chunkservers'];

/** The pids of each role of a target. */
export type RolePids = Record<ProcessRole, number[]>;

/** Clock ticks per second of /proc/PID/stat (USER_HZ, 100 on every Linux we run). */
const TICKS_PER_SECOND = 100;

/**
 * User + system CPU seconds of one process, all its threads. A process that is gone throws (its
 * CPU time is lost with it: counting it as 0 would understate the target).
 */
function cpuOf(pid: number): number {
  // Fields after the command (which may hold spaces): state is the 3rd field, utime the 14th, stime the 15th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU seconds used so far by each role. */
export function cpuByRole(pids: RolePids): Record<ProcessRole, number> {
  const sum = (list: number[]): number => list.reduce((n, pid) => n + cpuOf(pid), 0);
  return { mount: sum(pids.mount), master: sum(pids.master), chunkservers: sum(pids.chunkservers) };
}

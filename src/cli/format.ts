/** Human-readable numbers, times and tables for the command-line tools. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 -> "1.5 KiB"; bytes below 1 KiB stay exact. */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(n)} B` : `${v.toFixed(1)} ${UNITS[u]}`;
}

/** How long ago a Unix-ms time was: "850ms ago", "12s ago", "3m ago", "never" for 0. */
export function formatAge(unixMs: number, now = Date.now()): string {
  if (!unixMs) return 'never';
  const ms = Math.max(0, now - unixMs);
  if (ms < 1000) return `${ms}ms ago`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s ago`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m ago`;
  return `${Math.round(ms / 3_600_000)}h ago`;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** Local time as "2025-11-21 10:34". */
export function formatShortTime(unixMs: number): string {
  const d = new Date(unixMs);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** Local time with nanoseconds and offset, as stat(1) prints it. */
export function formatFullTime(t: { sec: number; nsec: number }): string {
  const d = new Date(t.sec * 1000);
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const zone = `${sign}${pad2(Math.floor(Math.abs(off) / 60))}${pad2(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}.${String(t.nsec).padStart(9, '0')} ${zone}`;
}

/**
 * Rows as aligned columns separated by two spaces; columns listed in `right` are right-aligned
 * (numbers). The last column is never padded.
 */
export function formatTable(rows: string[][], right: ReadonlySet<number> = new Set()): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => {
    if (i === r.length - 1 && !right.has(i)) return c;
    const w = widths[i] ?? 0;
    return right.has(i) ? c.padStart(w) : c.padEnd(w);
  }).join('  '));
}

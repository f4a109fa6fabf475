/**
 * The master-scale table: one row per figure, one column per namespace size, beside each size
 * after the first its ratio to the first (10^4), and a last column with the target and
 * whether the largest size met it.
 */
import type { MasterCpu, MasterMemory, DbSize } from './scale-master.js';
import type { Latency, Throughput } from './sampling.js';

export const MiB = 1024 * 1024;
/** The memory target: MooseFS keeps every inode in RAM at about 300 MiB per million files. */
export const RSS_TARGET = 300 * MiB;
/** The latency target: at 10^6 files within 1.5 times the latency at 10^4. */
export const LATENCY_TARGET = 1.5;

export interface SizeResult {
  /** "10^4"; a step cut short by the time budget says where it stopped. */
  label: string;
  files: number;
  dirs: number;
  /** The create step that led here (files and directories it made, its wall time and the master's CPU). */
  step: { files: number; dirs: number; seconds: number; cpu: MasterCpu };
  lookup: Latency;
  getattr: Latency;
  readdir: Latency;
  lookup16: Throughput;
  memory: MasterMemory;
  db: DbSize;
}

type Target = 'latency' | 'rss' | undefined;

interface Row {
  figure: string;
  unit: string;
  value: (r: SizeResult) => number;
  /** Whether the ratio to the first size means something for this row. */
  ratio: boolean;
  target?: Target;
}

const createOps = (r: SizeResult): number => r.step.files + r.step.dirs;

const ROWS: Row[] = [
  { figure: 'files', unit: 'count', value: (r) => r.files, ratio: false },
  { figure: 'create rate (mknod; mkdir each 1000)', unit: 'files/s', value: (r) => r.step.files / r.step.seconds, ratio: true },
  { figure: 'master CPU per create: main thread', unit: 'us', value: (r) => (r.step.cpu.main / createOps(r)) * 1e6, ratio: true },
  { figure: 'master CPU per create: other threads', unit: 'us', value: (r) => (r.step.cpu.other / createOps(r)) * 1e6, ratio: true },
  { figure: 'lookup p50 (1 at a time)', unit: 'us', value: (r) => r.lookup.p50, ratio: true, target: 'latency' },
  { figure: 'lookup p99', unit: 'us', value: (r) => r.lookup.p99, ratio: true, target: 'latency' },
  { figure: 'getattr p50 (1 at a time)', unit: 'us', value: (r) => r.getattr.p50, ratio: true, target: 'latency' },
  { figure: 'getattr p99', unit: 'us', value: (r) => r.getattr.p99, ratio: true, target: 'latency' },
  { figure: 'readdir 1000 + attrs p50', unit: 'us', value: (r) => r.readdir.p50, ratio: true, target: 'latency' },
  { figure: 'readdir 1000 + attrs p99', unit: 'us', value: (r) => r.readdir.p99, ratio: true, target: 'latency' },
  { figure: 'lookup, 16 in flight', unit: 'ops/s', value: (r) => r.lookup16.opsPerSec, ratio: true },
  { figure: 'lookup, 16 in flight p50', unit: 'us', value: (r) => r.lookup16.p50, ratio: true },
  { figure: 'lookup, 16 in flight p99', unit: 'us', value: (r) => r.lookup16.p99, ratio: true },
  { figure: 'master RSS (VmRSS)', unit: 'MiB', value: (r) => r.memory.rss / MiB, ratio: true, target: 'rss' },
  { figure: 'master RSS / 300 MiB target', unit: 'x', value: (r) => r.memory.rss / RSS_TARGET, ratio: false },
  { figure: 'master peak RSS (VmHWM)', unit: 'MiB', value: (r) => r.memory.hwm / MiB, ratio: true, target: 'rss' },
  { figure: 'database (file + wal + shm)', unit: 'MiB', value: (r) => r.db.total / MiB, ratio: true },
  { figure: 'database per file', unit: 'bytes', value: (r) => r.db.total / r.files, ratio: true },
];

export const fmt = (v: number): string =>
  !Number.isFinite(v) ? '-' : Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);

function verdict(row: Row, sizes: SizeResult[]): string {
  const first = sizes[0];
  const last = sizes[sizes.length - 1];
  if (!row.target || !first || !last) return '';
  if (row.target === 'rss') return `< 300 MiB: ${row.value(last) < RSS_TARGET / MiB ? 'met' : 'missed'}`;
  if (sizes.length < 2) return `<= ${LATENCY_TARGET}x`;
  return `<= ${LATENCY_TARGET}x: ${row.value(last) / row.value(first) <= LATENCY_TARGET ? 'met' : 'missed'}`;
}

/** The table as text (also written to stdout), with `notes` under it. */
export function printScaleTable(title: string, sizes: SizeResult[], notes: string[] = []): string {
  const base = sizes[0];
  const head = ['figure'.padEnd(38), 'unit'.padEnd(7)];
  sizes.forEach((s, i) => {
    head.push(s.label.padStart(Math.max(11, s.label.length)));
    if (i > 0) head.push(`x${base?.label ?? ''}`.padStart(7));
  });
  head.push('target (largest size)');
  const lines = [`\n${title}`, head.join(' ')];
  for (const row of ROWS) {
    const cells = [row.figure.padEnd(38), row.unit.padEnd(7)];
    sizes.forEach((s, i) => {
      cells.push(fmt(row.value(s)).padStart(Math.max(11, s.label.length)));
      if (i > 0) cells.push((row.ratio && base ? (row.value(s) / row.value(base)).toFixed(2) : '').padStart(7));
    });
    cells.push(verdict(row, sizes));
    lines.push(cells.join(' ').trimEnd());
  }
  lines.push(...notes);
  const text = lines.join('\n');
  process.stdout.write(text + '\n');
  return text;
}

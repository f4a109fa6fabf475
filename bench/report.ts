/** Prints benchmark rows as a table, each figure beside its baseline and the ratio to it. */
export interface BenchRow {
  workload: string;
  unit: string;
  baselineName: string;
  baseline: number;
  value: number;
}

export function printTable(title: string, rows: BenchRow[]): string {
  const lines = [
    `\n${title}`,
    `${'workload'.padEnd(34)} ${'baseline'.padEnd(16)} ${'baseline'.padStart(12)} ${'fst'.padStart(12)} ${'ratio'.padStart(7)}`,
  ];
  for (const r of rows) {
    lines.push(
      `${r.workload.padEnd(34)} ${r.baselineName.padEnd(16)} ${`${r.baseline.toFixed(1)} ${r.unit}`.padStart(12)} ${`${r.value.toFixed(1)} ${r.unit}`.padStart(12)} ${(r.value / r.baseline).toFixed(2).padStart(7)}`,
    );
  }
  const text = lines.join('\n');
  process.stdout.write(text + '\n');
  return text;
}

/** One workload measured on several targets (figures by target name; a missing one prints "-"). */
export interface ComparisonRow {
  workload: string;
  unit: string;
  /** Times: the ratio is then baseline / figure, so that above 1 is still better. */
  lowerIsBetter: boolean;
  /** How the caches stood (cold, cached...). */
  caches: string;
  values: Partial<Record<string, number>>;
}

const fmt = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '-' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/**
 * Prints each target's figure and, beside every target but the baseline, its ratio to the
 * baseline's, oriented so that above 1 is better than the baseline on every row: figure / baseline
 * figure for rates, baseline / figure for times (`lowerIsBetter`). No baseline: no ratio columns.
 */
export function printComparison(title: string, targets: string[], baseline: string | undefined, rows: ComparisonRow[], notes: string[] = []): string {
  const ratioOf = (t: string): string => `${t}/${baseline}`;
  const cols: { head: string; width: number; cell: (r: ComparisonRow) => string }[] = [
    { head: 'workload', width: 40, cell: (r) => r.workload },
    { head: 'unit', width: 9, cell: (r) => `${r.unit} ${r.lowerIsBetter ? 'v' : '^'}` },
    { head: 'caches', width: 7, cell: (r) => r.caches },
  ];
  for (const t of targets) {
    cols.push({ head: t, width: Math.max(9, t.length), cell: (r) => fmt(r.values[t]) });
    if (baseline !== undefined && t !== baseline) {
      cols.push({ head: ratioOf(t), width: Math.max(7, ratioOf(t).length), cell: (r) => {
        const v = r.values[t];
        const b = r.values[baseline];
        return v === undefined || b === undefined ? '-' : (r.lowerIsBetter ? b / v : v / b).toFixed(2);
      } });
    }
  }
  const line = (cells: string[]): string => cells.map((c, i) => (i < 3 ? c.padEnd(cols[i]!.width) : c.padStart(cols[i]!.width))).join('  ').trimEnd();
  const lines = [`\n${title}`, line(cols.map((c) => c.head)), ...rows.map((r) => line(cols.map((c) => c.cell(r)))), ...notes];
  const text = lines.join('\n');
  process.stdout.write(text + '\n');
  return text;
}

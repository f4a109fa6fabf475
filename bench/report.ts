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

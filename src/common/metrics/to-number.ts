/** protobufjs types 64-bit fields as number | Long; the values metrics read fit a double. */
export function toNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (typeof v === 'number') return v;
  return v ? v.toNumber() : 0;
}

/** Percentiles and small number helpers for the tools' reports. */

/** Nearest-rank percentile (p in 0..100) of `values`; undefined when there are none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  if (p < 0 || p > 100) throw new RangeError(`percentile ${p} is outside 0..100`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** p50/p95/p99 rounded to 0.1 ms; null when nothing was measured. */
export function percentiles(values: readonly number[]): Percentiles {
  const at = (p: number) => {
    const value = percentile(values, p);
    return value === undefined ? null : round(value, 1);
  };
  return { p50: at(50), p95: at(95), p99: at(99) };
}

export function round(value: number, digits = 0): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Counts of each value, e.g. outcomes per status. */
export function tally(values: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

// Order statistics for the benchmark's samples.

const sorted = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);

/** Nearest-rank percentile (p in 0–100); NaN for no samples. */
export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const ordered = sorted(values);
  const rank = Math.min(ordered.length, Math.max(1, Math.ceil((p / 100) * ordered.length)));
  return ordered[rank - 1] ?? Number.NaN;
};

/** The middle value, or the mean of the two middle ones. */
export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const ordered = sorted(values);
  const middle = Math.floor(ordered.length / 2);
  return ordered.length % 2 === 1
    ? (ordered[middle] ?? Number.NaN)
    : ((ordered[middle - 1] ?? Number.NaN) + (ordered[middle] ?? Number.NaN)) / 2;
};

export const mean = (values: readonly number[]): number =>
  values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;

export interface Summary {
  n: number;
  min: number;
  median: number;
  mean: number;
  p90: number;
  p99: number;
  max: number;
}

export const summarize = (values: readonly number[]): Summary => ({
  n: values.length,
  min: percentile(values, 0),
  median: median(values),
  mean: mean(values),
  p90: percentile(values, 90),
  p99: percentile(values, 99),
  max: percentile(values, 100),
});

/** Rounds every number in a JSON-able value to `digits` decimals, for a compact results file. */
export const rounded = <T>(value: T, digits = 3): T =>
  JSON.parse(
    JSON.stringify(value, (_, item) =>
      typeof item === 'number' && !Number.isInteger(item) ? Number(item.toFixed(digits)) : item,
    ),
  ) as T;

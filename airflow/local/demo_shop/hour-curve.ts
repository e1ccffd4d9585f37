/**
 * When in the local day people shop: a relative weight per wall-clock hour (quiet night, a lunch
 * bump, an evening peak), and its inverse CDF sampled at fixed points so that SQL can turn a
 * quantile in [0, 1) into a time of day with one array lookup and a linear interpolation.
 */

/** Relative activity per local hour 0..23 (shape of a typical consumer web shop). */
export const HOURLY_WEIGHTS: readonly number[] = [
  1.6, 1.0, 0.7, 0.5, 0.5, 0.7, 1.4, 2.6, 3.8, 4.6, 5.0, 5.3,
  5.6, 5.4, 5.2, 5.1, 5.2, 5.6, 6.2, 6.9, 7.2, 6.6, 4.8, 3.0,
];

/** Points of the sampled inverse CDF (the SQL array holds QUANTILE_STEPS + 1 values). */
export const QUANTILE_STEPS = 256;

/**
 * Seconds after local midnight at each quantile k / QUANTILE_STEPS, k = 0..QUANTILE_STEPS, of the
 * piecewise-constant density given by `weights`. Exact at the nodes; SQL interpolates linearly
 * between them, which only blurs the density within 1/256 of the mass around each hour boundary.
 */
export function timeOfDayQuantiles(weights: readonly number[] = HOURLY_WEIGHTS, steps = QUANTILE_STEPS): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf = [0];
  for (const w of weights) cdf.push(cdf[cdf.length - 1]! + w / total);
  const out: number[] = [];
  let hour = 0;
  for (let k = 0; k <= steps; k++) {
    const p = k / steps;
    while (hour < weights.length - 1 && cdf[hour + 1]! <= p) hour++;
    const share = weights[hour]! / total;
    const within = share > 0 ? Math.min(1, (p - cdf[hour]!) / share) : 0;
    out.push(Math.round((hour + within) * 36000) / 10); // 0.1 s: plenty, and short SQL
  }
  out[steps] = weights.length * 3600;
  return out;
}

/**
 * SQL expression: seconds after local midnight for the quantile expression `p` (in [0, 1)). A plain
 * expression rather than a subquery so that the planner inlines it; `p` is cheap to repeat.
 */
export function timeOfDaySql(p: string, quantiles: readonly number[] = timeOfDayQuantiles()): string {
  const steps = quantiles.length - 1;
  const q = `('{${quantiles.join(",")}}'::float8[])`;
  const x = `((${p}) * ${steps})`;
  const k = `floor(${x})::int`;
  // SQL arrays are 1-based: q[k + 1] is the k-th node.
  return `(${q}[${k} + 1] + (${q}[${k} + 2] - ${q}[${k} + 1]) * (${x} - floor(${x})))`;
}

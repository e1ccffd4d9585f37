/**
 * SQL expression builders for the seeded generator. Every pseudo-random value is a pure function of
 * (seed, stream, row key): `hashint8extended(key, seed-and-stream)`, PostgreSQL's built-in 64-bit
 * hash of a bigint. It needs no extension, costs tens of nanoseconds, and must stay stable across
 * releases because hash partitions depend on it. `random()` would make the rows depend on the plan,
 * the order of rows and the number of connections.
 *
 * Integer and timestamp arithmetic is exact; amounts go through exp/ln/cos, so a platform with a
 * different libm could in principle round a rare cent differently. Same server build, same rows.
 */
import { quoteLiteral } from "./database.ts";
import { timeOfDaySql } from "./hour-curve.ts";

/**
 * One stream per independent decision, so that e.g. an order's amount and its status never come
 * from the same bits. Numbers are part of the generator's output: never renumber, only append.
 */
export const Stream = {
  dayNoise: 1,
  userCreated: 2,
  userCountry: 3,
  userDomain: 4,
  userDstFold: 5,
  userChange: 6,
  userChangeTime: 7,
  orderTime: 10,
  orderDstFold: 11,
  orderUser: 12,
  orderAmountA: 13,
  orderAmountB: 14,
  orderKind: 15,
  orderPayDelay: 16,
  orderShipDelay: 17,
  orderLate: 18,
  orderEndDelay: 19,
  sessionTime: 30,
  sessionDstFold: 31,
  sessionUser: 32,
  sessionLength: 33,
  eventType: 34,
  eventJitter: 35,
} as const;

const MASK_52 = "4503599627370495"; // 2^52 - 1: the bits a float8 mantissa holds exactly
const TWO_52 = "4503599627370496.0";

/** Builds SQL for uniform pseudo-random numbers of one seed. */
export class SeededSql {
  constructor(readonly seed: number) {}

  /** The hash seed of one stream: distinct for every (seed, stream) with |seed| < 2^31. */
  streamKey(stream: number): string {
    return (BigInt(this.seed) * 1_000_003n + BigInt(stream)).toString();
  }

  /** Uniform float8 in [0, 1) as a function of the bigint expression `key`. */
  uniform(stream: number, key: string): string {
    return `((hashint8extended((${key})::bigint, ${this.streamKey(stream)}) & ${MASK_52})::float8 / ${TWO_52})`;
  }

  /** Standard normal via Box-Muller on two streams. */
  normal(streamA: number, streamB: number, key: string): string {
    return `(sqrt(-2.0 * ln(1.0 - ${this.uniform(streamA, key)})) * cos(2.0 * pi() * ${this.uniform(streamB, key)}))`;
  }
}

/**
 * SQL for the instant at local time `secondsExpr` (seconds after midnight) of a local day.
 *
 * On a day of 24 hours the UTC offset is the same all day, so the instant is the day's start plus
 * the seconds: no timezone lookup per row. A day with a clock change (23 or 25 hours) converts the
 * local time with the timezone rules. There, the repeated hour of a 25-hour day is ambiguous and
 * PostgreSQL picks its later (standard time) occurrence; `foldUniform` < 0.5 moves the row to the
 * earlier occurrence, so both hours get traffic. A skipped local hour (23-hour day) is read as the
 * hour after it, which doubles that night hour's share: harmless at 2-3 am.
 */
export function localInstantSql(opts: {
  dayExpr: string;
  dayStartExpr: string;
  regularDayExpr: string;
  secondsExpr: string;
  timezone: string;
  foldUniform: string;
}): string {
  const tz = quoteLiteral(opts.timezone);
  const local = `(${opts.dayExpr}::timestamp + (${opts.secondsExpr}) * interval '1 second')`;
  const instant = `(${local} AT TIME ZONE ${tz})`;
  return `CASE
      WHEN ${opts.regularDayExpr} THEN ${opts.dayStartExpr} + (${opts.secondsExpr}) * interval '1 second'
      WHEN ${opts.foldUniform} < 0.5 AND ((${instant} - interval '1 hour') AT TIME ZONE ${tz}) = ${local}
      THEN ${instant} - interval '1 hour'
      ELSE ${instant}
    END`;
}

/**
 * The instant of the `indexExpr`-th of `countExpr` rows of plan day `day`, spread over the day by
 * the hour-of-day curve. Stratified (row i gets a quantile in [i/n, (i+1)/n)), so ids grow with time
 * within a day, as in an application that assigns ids from a sequence.
 *
 * Returns a LATERAL item to add to FROM (it computes the time of day, so the curve's array appears
 * once in the SQL text) and the expression of the instant, which reads it.
 */
export function stratifiedInstantSql(opts: {
  rng: SeededSql;
  timeStream: number;
  foldStream: number;
  keyExpr: string;
  indexExpr: string;
  countExpr: string;
  /** Alias of the ops.demo_seed_day row. */
  day: string;
  timezone: string;
  /** Alias for the LATERAL item. */
  alias: string;
}): { from: string; instant: string } {
  const p = `((${opts.indexExpr})::float8 + ${opts.rng.uniform(opts.timeStream, opts.keyExpr)}) / (${opts.countExpr})::float8`;
  return {
    from: `CROSS JOIN LATERAL (SELECT ${timeOfDaySql(p)} AS secs) AS ${opts.alias}`,
    instant: localInstantSql({
      dayExpr: `${opts.day}.day`,
      dayStartExpr: `${opts.day}.day_start`,
      regularDayExpr: `${opts.day}.regular_day`,
      secondsExpr: `${opts.alias}.secs`,
      timezone: opts.timezone,
      foldUniform: opts.rng.uniform(opts.foldStream, opts.keyExpr),
    }),
  };
}

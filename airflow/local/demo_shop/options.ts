/**
 * Options of the demo source database and their validation. Everything that changes the generated
 * rows is part of {@link SeedParams}; the same params always give the same rows.
 */

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/demo_shop";
export const DEFAULT_ORDERS_PER_DAY = 100_000;
export const DEFAULT_SEED = 42;
export const DEFAULT_TIMEZONE = "America/New_York";

/**
 * Bumped whenever the generator's SQL changes its output, so that a database seeded by an older
 * generator is not mistaken for an up-to-date one by the "already seeded" check.
 */
export const GENERATOR_VERSION = 2; // 2: app.users.updated_at and profile changes

export interface DemoShopOptions {
  /** Connection string of the demo database; created when missing. Default {@link DEFAULT_DATABASE_URL}. */
  databaseUrl?: string;
  /** Number of local calendar days to seed, ending with `endDay` (inclusive). Example: 60. */
  days: number;
  /** Last seeded local day, `YYYY-MM-DD`. Example: "2026-11-15". */
  endDay: string;
  /** Average orders per day over the window (weekday and trend factors move single days). Default 100000. */
  ordersPerDay?: number;
  /** Seed of the pseudo-random functions; any integer in [-2^31, 2^31). Default 42. */
  seed?: number;
  /** IANA timezone whose calendar days are seeded. Default "America/New_York". */
  timezone?: string;
  /** Drop and re-seed even when the database already holds this exact seed. Default false. */
  reset?: boolean;
  /** Concurrent connections used while seeding. Default: 2 (the machines we run on have 2 cores). */
  parallelism?: number;
  /**
   * Rows per generated statement. Tuning only (the rows do not depend on it): tests set it small to
   * prove that. Default 1000000.
   */
  rowsPerJob?: number;
}

/** The parameters that determine the generated rows; recorded in `ops.demo_seed`. */
export interface SeedParams {
  generatorVersion: number;
  days: number;
  endDay: string;
  ordersPerDay: number;
  seed: number;
  timezone: string;
}

export interface ResolvedOptions {
  databaseUrl: string;
  reset: boolean;
  parallelism: number;
  rowsPerJob: number;
  params: SeedParams;
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when `day` is a real calendar date written as `YYYY-MM-DD`. */
export function isIsoDay(day: string): boolean {
  const m = DAY_RE.exec(day);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

function requireInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`createDemoShop: ${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

/**
 * Validates options and fills defaults. The timezone is checked against the server's tz database
 * later (PostgreSQL does the day arithmetic), here only for being a plausible IANA name.
 */
export function resolveOptions(opts: DemoShopOptions): ResolvedOptions {
  if (!isIsoDay(opts.endDay)) {
    throw new RangeError(`createDemoShop: endDay must be a date written YYYY-MM-DD, got ${JSON.stringify(opts.endDay)}`);
  }
  const timezone = opts.timezone ?? DEFAULT_TIMEZONE;
  if (!/^[A-Za-z0-9_+\-/]+$/.test(timezone)) {
    throw new RangeError(`createDemoShop: timezone must be an IANA name such as "Europe/Berlin", got ${JSON.stringify(timezone)}`);
  }
  return {
    databaseUrl: opts.databaseUrl ?? DEFAULT_DATABASE_URL,
    reset: opts.reset ?? false,
    parallelism: requireInteger("parallelism", opts.parallelism ?? 2, 1, 16),
    rowsPerJob: requireInteger("rowsPerJob", opts.rowsPerJob ?? 1_000_000, 1, 1e9),
    params: {
      generatorVersion: GENERATOR_VERSION,
      days: requireInteger("days", opts.days, 1, 3660),
      endDay: opts.endDay,
      ordersPerDay: requireInteger("ordersPerDay", opts.ordersPerDay ?? DEFAULT_ORDERS_PER_DAY, 0, 100_000_000),
      seed: requireInteger("seed", opts.seed ?? DEFAULT_SEED, -(2 ** 31), 2 ** 31 - 1),
      timezone,
    },
  };
}

/** Canonical JSON of the params (fixed key order), used to compare with what a database holds. */
export function paramsKey(p: SeedParams): string {
  return JSON.stringify({
    generatorVersion: p.generatorVersion,
    days: p.days,
    endDay: p.endDay,
    ordersPerDay: p.ordersPerDay,
    seed: p.seed,
    timezone: p.timezone,
  });
}

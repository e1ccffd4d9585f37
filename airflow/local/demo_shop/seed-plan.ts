/**
 * The day plan: one row per seeded local day with its UTC bounds, its volume factors and the id
 * ranges of its rows. Every insert statement reads its day's slice of this table, so chunks of days
 * can be generated in any order, on any number of connections, with identical results.
 */
import { quoteLiteral } from "./database.ts";
import type { SeedParams } from "./options.ts";
import { SeededSql, Stream } from "./random-sql.ts";

/** Relative volume per ISO weekday, Monday first: busy midweek, quiet weekend. Averages 1. */
export const WEEKDAY_FACTORS: readonly number[] = [1.05, 1.07, 1.08, 1.09, 1.06, 0.85, 0.8];

/** Volume at the first and last day of the window relative to the average: steady growth. */
export const GROWTH_FROM = 0.8;
export const GROWTH_TO = 1.2;

/** Day-to-day noise on volumes: +/- this share. */
export const DAY_NOISE = 0.03;

/** Users who signed up before the window, per average daily order. */
export const EXISTING_USERS_PER_DAILY_ORDER = 8;
/** New sign-ups per day, per average daily order. */
export const SIGNUPS_PER_ORDER = 0.04;
/** Browsing sessions per order (purchases are separate events). */
export const SESSIONS_PER_ORDER = 0.7;
/** Most events in one browsing session; their event ids are reserved per session. */
export const MAX_EVENTS_PER_SESSION = 5;
/** Users who signed up before the window did so during this many days before it. */
export const EXISTING_USERS_SPAN_DAYS = 365;

export function existingUsers(p: SeedParams): number {
  return Math.max(100, EXISTING_USERS_PER_DAILY_ORDER * p.ordersPerDay);
}

/** CREATE TABLE ops.demo_seed_day for `p`. */
export function seedPlanSql(p: SeedParams): string {
  const rng = new SeededSql(p.seed);
  const tz = quoteLiteral(p.timezone);
  const n = p.days;
  const growth =
    n === 1 ? "1.0" : `(${GROWTH_FROM} + ${(GROWTH_TO - GROWTH_FROM).toFixed(6)} * day_idx::float8 / ${n - 1})`;
  const weekday = `('{${WEEKDAY_FACTORS.join(",")}}'::float8[])[extract(isodow FROM day)::int]`;
  const noise = `(${(1 - DAY_NOISE).toFixed(6)} + ${(2 * DAY_NOISE).toFixed(6)} * ${rng.uniform(Stream.dayNoise, "day_idx")})`;
  return `
DROP TABLE IF EXISTS ops.demo_seed_day;
CREATE TABLE ops.demo_seed_day AS
WITH days AS (
  SELECT i AS day_idx, (DATE ${quoteLiteral(p.endDay)} - ${n - 1} + i) AS day
  FROM generate_series(0, ${n - 1}) AS i
), factors AS (
  SELECT day_idx, day,
         day::timestamp AT TIME ZONE ${tz} AS day_start,
         (day + 1)::timestamp AT TIME ZONE ${tz} AS day_end,
         ${growth} * ${weekday} * ${noise} AS factor
  FROM days
), volumes AS (
  SELECT f.*,
         round(${p.ordersPerDay} * factor)::bigint AS n_orders,
         round(${p.ordersPerDay * SIGNUPS_PER_ORDER} * factor)::bigint AS n_new_users,
         round(${p.ordersPerDay * SESSIONS_PER_ORDER} * factor)::bigint AS n_sessions
  FROM factors f
)
SELECT day_idx, day, day_start, day_end,
       day_end - day_start = interval '24 hours' AS regular_day,
       max(day_end) OVER () AS window_end,
       factor, n_orders, n_new_users, n_sessions,
       -- sum(bigint) is numeric: back to bigint, or every id computed from these is numeric (slow).
       (1 + sum(n_orders) OVER w - n_orders)::bigint AS first_order_id,
       (${existingUsers(p)} + 1 + sum(n_new_users) OVER w - n_new_users)::bigint AS first_user_id,
       (sum(n_sessions) OVER w - n_sessions)::bigint AS first_session,
       -- Event ids: purchase events reuse their order's id; sessions' events come after all orders.
       (sum(n_orders) OVER () + 1)::bigint AS first_session_event_id
FROM volumes
WINDOW w AS (ORDER BY day_idx ROWS UNBOUNDED PRECEDING)
ORDER BY day_idx;
ALTER TABLE ops.demo_seed_day ADD PRIMARY KEY (day_idx);
`;
}

/** The plan rows the seeder needs in TypeScript (to cut the work into chunks). */
export interface PlanDay {
  dayIdx: number;
  day: string;
  dayStart: Date;
  dayEnd: Date;
  orders: number;
  newUsers: number;
  sessions: number;
}

export const SELECT_PLAN_SQL = `
SELECT day_idx, to_char(day, 'YYYY-MM-DD') AS day, day_start, day_end,
       n_orders::float8 AS n_orders, n_new_users::float8 AS n_new_users, n_sessions::float8 AS n_sessions
FROM ops.demo_seed_day ORDER BY day_idx`;

export function toPlanDay(row: Record<string, unknown>): PlanDay {
  return {
    dayIdx: Number(row.day_idx),
    day: String(row.day),
    dayStart: row.day_start as Date,
    dayEnd: row.day_end as Date,
    orders: Number(row.n_orders),
    newUsers: Number(row.n_new_users),
    sessions: Number(row.n_sessions),
  };
}

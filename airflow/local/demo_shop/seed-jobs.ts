/** Cuts the seed into statements of similar size that the work pool can run in parallel. */
import type { SeedParams } from "./options.ts";
import { APP_INDEX_DDL } from "./schema.ts";
import { MAX_EVENTS_PER_SESSION, existingUsers, type PlanDay } from "./seed-plan.ts";
import {
  type DaySlice,
  existingUsersSql,
  newUsersSql,
  ordersSql,
  sessionEventsSql,
} from "./seed-rows.ts";
import type { SqlJob } from "./work-pool.ts";

/** Rows per statement: big enough to amortise planning, small enough to balance two workers. */
export const ROWS_PER_JOB = 1_000_000;

/** Consecutive days grouped so that each group has about `target` rows (a single day may exceed it). */
export function sliceDays(plan: readonly PlanDay[], rows: (d: PlanDay) => number, target = ROWS_PER_JOB): Array<DaySlice & { rows: number }> {
  const slices: Array<DaySlice & { rows: number }> = [];
  let current: (DaySlice & { rows: number }) | undefined;
  for (const d of plan) {
    const r = rows(d);
    if (current && current.rows + r <= target) {
      current.to = d.dayIdx;
      current.rows += r;
    } else {
      current = { from: d.dayIdx, to: d.dayIdx, rows: r };
      slices.push(current);
    }
  }
  return slices.filter((s) => s.rows > 0);
}

/** The INSERT statements of one seed. */
export function rowJobs(p: SeedParams, plan: readonly PlanDay[], rowsPerJob = ROWS_PER_JOB): SqlJob[] {
  const jobs: SqlJob[] = [];
  const total = existingUsers(p);
  for (let from = 1; from <= total; from += rowsPerJob) {
    const to = Math.min(total, from + rowsPerJob - 1);
    jobs.push({ label: `users ${from}..${to}`, sql: existingUsersSql(p, from, to), weight: to - from + 1 });
  }
  const perDay = (kind: string, rows: (d: PlanDay) => number, sql: (s: DaySlice) => string, cost = 1) => {
    for (const s of sliceDays(plan, rows, rowsPerJob)) {
      jobs.push({ label: `${kind} days ${s.from}..${s.to}`, sql: sql(s), weight: s.rows * cost });
    }
  };
  perDay("new users", (d) => d.newUsers, (s) => newUsersSql(p, s));
  // Orders write a purchase event each and compute a status: about three times a session event's cost.
  perDay("orders", (d) => d.orders, (s) => ordersSql(p, s), 3);
  perDay("session events", (d) => d.sessions * ((MAX_EVENTS_PER_SESSION + 1) / 2), (s) => sessionEventsSql(p, s));
  return jobs;
}

/** Keys and indexes, built after loading; weights follow the tables' sizes. */
export function indexJobs(plan: readonly PlanDay[]): SqlJob[] {
  const orders = plan.reduce((a, d) => a + d.orders, 0);
  const weightOf = (sql: string) => (sql.includes("app.events") ? 4 * orders : sql.includes("app.orders") ? orders : orders / 10);
  return APP_INDEX_DDL.map((sql) => ({ label: sql, sql, weight: weightOf(sql) }));
}

/**
 * VACUUM ANALYZE: statistics for the extract queries' plans, and hint bits plus visibility map set
 * now, so that the first extract reads the tables like it would read a long-running database's,
 * instead of rewriting every page.
 */
export function vacuumJobs(plan: readonly PlanDay[]): SqlJob[] {
  const orders = plan.reduce((a, d) => a + d.orders, 0);
  return [
    { label: "vacuum events", sql: "VACUUM (ANALYZE) app.events", weight: 3 * orders },
    { label: "vacuum orders", sql: "VACUUM (ANALYZE) app.orders", weight: orders },
    { label: "vacuum users", sql: "VACUUM (ANALYZE) app.users", weight: orders / 10 },
  ];
}

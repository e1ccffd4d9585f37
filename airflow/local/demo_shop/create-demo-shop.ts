/**
 * createDemoShop: the demo OLTP source database `demo_shop`, created when missing and seeded with
 * deterministic synthetic data. Re-running with the same parameters is a cheap no-op.
 */
import type pg from "pg";
import { ensureDatabase, withClient } from "./database.ts";
import { type DemoShopOptions, type ResolvedOptions, type SeedParams, paramsKey, resolveOptions } from "./options.ts";
import { APP_TABLES, APP_TABLES_DDL, APP_TABLES_READY_DDL, DEMO_SEED_DDL, OPS_DDL } from "./schema.ts";
import { indexJobs, rowJobs, vacuumJobs } from "./seed-jobs.ts";
import { SELECT_PLAN_SQL, seedPlanSql, toPlanDay, type PlanDay } from "./seed-plan.ts";
import { runJobs } from "./work-pool.ts";

export interface DemoShopCounts {
  users: number;
  orders: number;
  events: number;
}

export interface DemoShopResult {
  databaseUrl: string;
  /** "seeded" when this call generated the data, "skipped" when the database already held this seed. */
  action: "seeded" | "skipped";
  params: SeedParams;
  /** The seeded local days and their UTC bounds [start, end); `end` is every table's watermark. */
  window: { firstDay: string; lastDay: string; start: Date; end: Date };
  counts: DemoShopCounts;
  /** Wall-clock seconds of this call. */
  seconds: number;
  /** Seconds per phase of the seed (absent when skipped). */
  phases?: Record<string, number>;
}

/** Serialises concurrent createDemoShop calls on one database (advisory locks are per database). */
const LOCK_KEY = 0x6461_6773; // "dags"

export async function createDemoShop(opts: DemoShopOptions): Promise<DemoShopResult> {
  const options = resolveOptions(opts);
  const t0 = performance.now();
  await ensureDatabase(options.databaseUrl);
  return withClient(options.databaseUrl, async (client) => {
    await client.query("SELECT pg_advisory_lock($1)", [LOCK_KEY]);
    try {
      await assertTimezone(client, options.params.timezone);
      await client.query(OPS_DDL);
      const existing = options.reset ? undefined : await existingSeed(client, options.params);
      const result = existing ?? (await seed(client, options));
      return { ...result, databaseUrl: options.databaseUrl, seconds: (performance.now() - t0) / 1000 };
    } finally {
      // If this fails the connection is gone, and with it the lock: keep the original error.
      await client.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY]).catch(() => undefined);
    }
  });
}

type PartialResult = Omit<DemoShopResult, "databaseUrl" | "seconds">;

async function assertTimezone(client: pg.Client, timezone: string): Promise<void> {
  try {
    await client.query("SELECT now() AT TIME ZONE $1::text", [timezone]);
  } catch (err) {
    throw new RangeError(`createDemoShop: PostgreSQL does not know the timezone ${JSON.stringify(timezone)}`, { cause: err });
  }
}

/** The completed seed with exactly these params, if the database holds it and its tables. */
async function existingSeed(client: pg.Client, params: SeedParams): Promise<PartialResult | undefined> {
  const present = await client.query(
    `SELECT to_regclass('ops.demo_seed') IS NOT NULL AND to_regclass('ops.demo_seed_day') IS NOT NULL
        AND to_regclass('app.users') IS NOT NULL AND to_regclass('app.orders') IS NOT NULL
        AND to_regclass('app.events') IS NOT NULL AS ok`,
  );
  if (!present.rows[0].ok) return undefined;
  const row = (await client.query("SELECT params::text AS params, counts FROM ops.demo_seed")).rows[0];
  if (!row || paramsKey(JSON.parse(row.params) as SeedParams) !== paramsKey(params)) return undefined;
  const plan = (await client.query(SELECT_PLAN_SQL)).rows.map(toPlanDay);
  return { action: "skipped", params, window: windowOf(plan), counts: row.counts as DemoShopCounts };
}

function windowOf(plan: readonly PlanDay[]): DemoShopResult["window"] {
  const first = plan[0]!;
  const last = plan[plan.length - 1]!;
  return { firstDay: first.day, lastDay: last.day, start: first.dayStart, end: last.dayEnd };
}

async function timed<T>(phases: Record<string, number>, name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    phases[name] = Math.round(performance.now() - t0) / 1000;
  }
}

async function seed(client: pg.Client, options: ResolvedOptions): Promise<PartialResult> {
  const { params: p, databaseUrl, parallelism, rowsPerJob } = options;
  const t0 = performance.now();
  const phases: Record<string, number> = {};
  const plan = await timed(phases, "schema", async () => {
    // The old seed's marker, tables and readiness state go together.
    await transaction(client, async () => {
      await client.query("DROP TABLE IF EXISTS ops.demo_seed");
      await client.query("DROP SCHEMA IF EXISTS app CASCADE");
      await client.query(APP_TABLES_DDL);
      await client.query("TRUNCATE ops.maintenance, ops.load_watermark");
      await client.query(seedPlanSql(p));
    });
    return (await client.query(SELECT_PLAN_SQL)).rows.map(toPlanDay);
  });
  const loaded = await timed(phases, "rows", () => runJobs(databaseUrl, rowJobs(p, plan, rowsPerJob), parallelism));
  await timed(phases, "indexes", () => runJobs(databaseUrl, indexJobs(plan), parallelism));
  await timed(phases, "vacuum", () => runJobs(databaseUrl, vacuumJobs(plan), parallelism));

  const rowsOf = (prefix: string) => loaded.filter((r) => r.label.startsWith(prefix)).reduce((a, r) => a + r.rowCount, 0);
  const counts: DemoShopCounts = {
    users: rowsOf("users ") + rowsOf("new users "),
    orders: rowsOf("orders "),
    // Each orders statement reports its purchase events, one per order.
    events: rowsOf("orders ") + rowsOf("session events "),
  };
  const window = windowOf(plan);
  await timed(phases, "finish", () =>
    transaction(client, async () => {
      await client.query(APP_TABLES_READY_DDL);
      await client.query(
        "INSERT INTO ops.load_watermark (table_name, complete_through) SELECT unnest($1::text[]), $2::timestamptz",
        [APP_TABLES, window.end],
      );
      await client.query(DEMO_SEED_DDL);
      await client.query("INSERT INTO ops.demo_seed (params, counts, seconds) VALUES ($1, $2, $3)", [
        paramsKey(p),
        JSON.stringify(counts),
        ((performance.now() - t0) / 1000).toFixed(3),
      ]);
    }),
  );
  return { action: "seeded", params: p, window, counts, phases };
}

async function transaction(client: pg.Client, fn: () => Promise<void>): Promise<void> {
  await client.query("BEGIN");
  try {
    await fn();
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}

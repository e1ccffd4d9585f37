import type pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDemoShop, type DemoShopResult } from "../../airflow/local/demo_shop/index.ts";
import { connect, dropDatabase, scalar, scratchDatabaseUrl } from "./scratch-db.ts";

// Four full weeks ending on a Sunday, across the 25-hour 2026-11-01 in New York.
const PARAMS = { days: 28, endDay: "2026-11-15", ordersPerDay: 2000, seed: 7, timezone: "America/New_York" };
const TZ = PARAMS.timezone;
const url = scratchDatabaseUrl("generator");
let seeded: DemoShopResult;
let db: pg.Client;

beforeAll(async () => {
  await dropDatabase(url);
  seeded = await createDemoShop({ ...PARAMS, databaseUrl: url });
  db = await connect(url);
}, 120_000);

afterAll(async () => {
  await db?.end();
  await dropDatabase(url);
});

/** Orders per local day, oldest first. */
async function ordersPerDay(): Promise<Array<{ day: string; isodow: number; n: number }>> {
  const res = await db.query(
    `SELECT to_char(d, 'YYYY-MM-DD') AS day, extract(isodow FROM d)::int AS isodow, n::int AS n
       FROM (SELECT (created_at AT TIME ZONE $1)::date AS d, count(*) AS n FROM app.orders GROUP BY 1) s
      ORDER BY d`,
    [TZ],
  );
  return res.rows;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("createDemoShop: the seeded data", () => {
  test("covers the window and reports what it wrote", async () => {
    expect(seeded.action).toBe("seeded");
    expect(seeded.window).toMatchObject({ firstDay: "2026-10-19", lastDay: "2026-11-15" });
    expect(seeded.window.end.toISOString()).toBe("2026-11-16T05:00:00.000Z");
    expect(seeded.counts.orders).toBe(await scalar(db, "SELECT count(*) FROM app.orders"));
    expect(seeded.counts.events).toBe(await scalar(db, "SELECT count(*) FROM app.events"));
    expect(seeded.counts.users).toBe(await scalar(db, "SELECT count(*) FROM app.users"));
    const days = await ordersPerDay();
    expect(days.map((d) => d.day)).toHaveLength(28);
    expect(days[0]!.day).toBe("2026-10-19");
    // The average is ordersPerDay (trend and weekday factors average 1 over whole weeks).
    expect(mean(days.map((d) => d.n))).toBeGreaterThan(0.95 * PARAMS.ordersPerDay);
    expect(mean(days.map((d) => d.n))).toBeLessThan(1.05 * PARAMS.ordersPerDay);
  });

  test("weekends are quieter than weekdays and the business grows", async () => {
    const days = await ordersPerDay();
    const weekend = mean(days.filter((d) => d.isodow >= 6).map((d) => d.n));
    const weekday = mean(days.filter((d) => d.isodow <= 5).map((d) => d.n));
    expect(weekend / weekday).toBeLessThan(0.9);
    const firstWeek = mean(days.slice(0, 7).map((d) => d.n));
    const lastWeek = mean(days.slice(-7).map((d) => d.n));
    expect(lastWeek / firstWeek).toBeGreaterThan(1.25);
  });

  test("the evening is busier than the night (local hour-of-day curve)", async () => {
    const byHour = async (from: number, to: number) =>
      scalar(db, "SELECT count(*) FROM app.orders WHERE extract(hour FROM created_at AT TIME ZONE $1) BETWEEN $2 AND $3", [TZ, from, to]);
    expect(await byHour(18, 21)).toBeGreaterThan(5 * (await byHour(2, 5)));
  });

  test("every status occurs, ~5% cancelled and ~2% refunded, with late updates", async () => {
    const res = await db.query("SELECT status, count(*)::int AS n FROM app.orders GROUP BY status");
    const share = Object.fromEntries(res.rows.map((r) => [r.status, r.n / seeded.counts.orders]));
    expect(Object.keys(share).sort()).toEqual(["cancelled", "paid", "placed", "refunded", "shipped"]);
    expect(share.cancelled).toBeGreaterThan(0.04);
    expect(share.cancelled).toBeLessThan(0.055);
    // Refunds come a week or so after the order: the last days of the window have fewer yet.
    expect(share.refunded).toBeGreaterThan(0.01);
    expect(share.refunded).toBeLessThan(0.025);
    expect(share.shipped).toBeGreaterThan(0.7);
    const late = await scalar(db,
      "SELECT count(*) FROM app.orders WHERE status IN ('cancelled', 'refunded') AND updated_at >= created_at + interval '1 day'");
    expect(late).toBeGreaterThan(0.02 * seeded.counts.orders);
    // Status is read at the end of the window: nothing happens after it, nothing before creation.
    expect(await scalar(db, "SELECT count(*) FROM app.orders WHERE updated_at < created_at OR updated_at > $1", [seeded.window.end])).toBe(0);
    expect(await scalar(db, "SELECT count(*) FROM app.orders WHERE status = 'placed' AND updated_at <> created_at")).toBe(0);
  });

  test("users exist before their orders and events; amounts are positive cents", async () => {
    expect(await scalar(db, `SELECT count(*) FROM app.orders o LEFT JOIN app.users u ON u.id = o.user_id
                              WHERE u.id IS NULL OR u.created_at >= o.created_at`)).toBe(0);
    expect(await scalar(db, `SELECT count(*) FROM app.events e LEFT JOIN app.users u ON u.id = e.user_id
                              WHERE u.id IS NULL OR u.created_at >= e.occurred_at`)).toBe(0);
    expect(await scalar(db, "SELECT count(*) FROM app.orders WHERE amount IS NULL OR amount <= 0 OR scale(amount) <> 2")).toBe(0);
    const median = await scalar(db, "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY amount) FROM app.orders");
    expect(median).toBeGreaterThan(20);
    expect(median).toBeLessThan(60);
    // Some users sign up during the window, at local times of the same curve.
    expect(await scalar(db, "SELECT count(*) FROM app.users WHERE created_at >= $1", [seeded.window.start])).toBeGreaterThan(0);
    // updated_at: the sign-up, or the last profile change (a new email) inside the window; a few
    // per mille of the users change on any one day.
    expect(await scalar(db, "SELECT count(*) FROM app.users WHERE updated_at IS NULL OR updated_at < created_at OR updated_at > $1", [seeded.window.end])).toBe(0);
    expect(await scalar(db, "SELECT count(*) FROM app.users WHERE updated_at > created_at AND (updated_at < $1 OR email NOT LIKE '%.new@%')", [seeded.window.start])).toBe(0);
    const changed = await scalar(db, "SELECT count(*) FROM app.users WHERE updated_at > created_at");
    expect(changed).toBeGreaterThan(0);
    expect(changed).toBeLessThan(0.1 * seeded.counts.users);
  });

  test("events: a purchase per order, browsing sessions, a few events per active user", async () => {
    expect(await scalar(db, `SELECT count(*) FROM app.orders o JOIN app.events e
                              ON e.id = o.id AND e.event_type = 'purchase' AND e.user_id = o.user_id AND e.occurred_at = o.created_at`))
      .toBe(seeded.counts.orders);
    const types = (await db.query("SELECT DISTINCT event_type FROM app.events ORDER BY 1")).rows.map((r) => r.event_type);
    expect(types).toEqual(["add_to_cart", "checkout", "page_view", "product_view", "purchase", "search"]);
    const perUser = await scalar(db, `SELECT avg(n) FROM (
        SELECT count(*) AS n FROM app.events GROUP BY user_id, (occurred_at AT TIME ZONE $1)::date) s`, [TZ]);
    expect(perUser).toBeGreaterThan(1.5);
    expect(perUser).toBeLessThan(6);
    expect(await scalar(db, "SELECT count(*) FROM app.events WHERE occurred_at < $1 OR occurred_at >= $2",
      [seeded.window.start, seeded.window.end])).toBe(0);
  });

  test("ids grow with created_at within each 24-hour day", async () => {
    const inversions = await scalar(db, `
      SELECT count(*) FROM (
        SELECT created_at < lag(created_at) OVER (ORDER BY id) AS inverted, (created_at AT TIME ZONE $1)::date AS d
        FROM app.orders) s
      WHERE inverted AND d <> DATE '2026-11-01'`, [TZ]);
    expect(inversions).toBe(0);
  });

  test("watermarks say every app table is complete through the end of the last day", async () => {
    const res = await db.query("SELECT table_name, complete_through FROM ops.load_watermark ORDER BY 1");
    expect(res.rows.map((r) => [r.table_name, r.complete_through.toISOString()])).toEqual([
      ["app.events", "2026-11-16T05:00:00.000Z"],
      ["app.orders", "2026-11-16T05:00:00.000Z"],
      ["app.users", "2026-11-16T05:00:00.000Z"],
    ]);
  });

  test("the extraction indexes exist and there are no foreign keys", async () => {
    const idx = (await db.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'app' ORDER BY 1")).rows.map((r) => r.indexname);
    expect(idx).toEqual([
      "events_occurred_at_idx", "events_pkey", "orders_created_at_idx", "orders_pkey", "users_created_at_idx", "users_pkey",
      "users_updated_at_idx",
    ]);
    expect(await scalar(db, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'app'::regnamespace")).toBe(0);
  });

  test("re-running with the same parameters skips; the recorded parameters say why", async () => {
    const again = await createDemoShop({ ...PARAMS, databaseUrl: url });
    expect(again.action).toBe("skipped");
    expect(again.counts).toEqual(seeded.counts);
    expect(again.window).toEqual(seeded.window);
    expect(again.seconds).toBeLessThan(2);
    const recorded = (await db.query("SELECT params FROM ops.demo_seed")).rows[0].params;
    expect(recorded).toMatchObject({ days: 28, endDay: "2026-11-15", ordersPerDay: 2000, seed: 7, timezone: TZ });
  });
});

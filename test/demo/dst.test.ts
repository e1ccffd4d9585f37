import type pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDemoShop, localDayBounds, sourceKpis } from "../../airflow/local/demo_shop/index.ts";
import { connect, dropDatabase, scalar, scratchDatabaseUrl } from "./scratch-db.ts";

const NY = "America/New_York";
const url = scratchDatabaseUrl("dst");
let db: pg.Client;

beforeAll(async () => {
  await dropDatabase(url);
  await createDemoShop({ databaseUrl: url, days: 1, endDay: "2026-01-01", ordersPerDay: 0, seed: 1 });
  db = await connect(url);
}, 60_000);

afterAll(async () => {
  await db?.end();
  await dropDatabase(url);
});

describe("local days across DST changes", { timeout: 60_000 }, () => {
  test("day bounds: 25 h on 2026-11-01 and 23 h on 2026-03-08 in New York", async () => {
    const fall = await localDayBounds(db, "2026-11-01", NY);
    expect([fall.start.toISOString(), fall.end.toISOString(), fall.hours]).toEqual([
      "2026-11-01T04:00:00.000Z", "2026-11-02T05:00:00.000Z", 25,
    ]);
    const spring = await localDayBounds(db, "2026-03-08", NY);
    expect([spring.start.toISOString(), spring.end.toISOString(), spring.hours]).toEqual([
      "2026-03-08T05:00:00.000Z", "2026-03-09T04:00:00.000Z", 23,
    ]);
    expect((await localDayBounds(db, "2026-07-01", NY)).hours).toBe(24);
    expect((await localDayBounds(db, "2026-10-25", "Europe/Berlin")).hours).toBe(25);
  });

  test("the generator fills all 25 hours of 2026-11-01, both 01:00-02:00 included", async () => {
    const seeded = await createDemoShop({ databaseUrl: url, days: 3, endDay: "2026-11-02", ordersPerDay: 4000, seed: 5, timezone: NY });
    const plan = await db.query("SELECT to_char(day, 'YYYY-MM-DD') AS day, n_orders::int AS n, regular_day FROM ops.demo_seed_day ORDER BY day");
    expect(plan.rows.map((r) => [r.day, r.regular_day])).toEqual([["2026-10-31", true], ["2026-11-01", false], ["2026-11-02", true]]);
    const planned = plan.rows[1].n as number;
    // Every planned order of the day lies within its 25 hours: the oracle sees exactly them.
    expect((await sourceKpis(db, { day: "2026-11-01", timezone: NY })).orders).toBe(
      await scalar(db, "SELECT count(*) FROM app.orders WHERE status <> 'cancelled' AND created_at >= '2026-11-01T04:00Z' AND created_at < '2026-11-02T05:00Z'"),
    );
    expect(await scalar(db, "SELECT count(*) FROM app.orders WHERE created_at >= '2026-11-01T04:00Z' AND created_at < '2026-11-02T05:00Z'")).toBe(planned);
    // 01:30 EDT (05:00-06:00Z) and 01:30 EST (06:00-07:00Z) both get orders, and the last hour
    // (23:00-24:00 EST, 04:00-05:00Z the next day) too.
    const inHour = (from: string) =>
      scalar(db, "SELECT count(*) FROM app.orders WHERE created_at >= $1::timestamptz AND created_at < $1::timestamptz + interval '1 hour'", [from]);
    expect(await inHour("2026-11-01T05:00Z")).toBeGreaterThan(0);
    expect(await inHour("2026-11-01T06:00Z")).toBeGreaterThan(0);
    expect(await inHour("2026-11-02T04:00Z")).toBeGreaterThan(0);
    expect(seeded.window.end.toISOString()).toBe("2026-11-03T05:00:00.000Z");
  });

  test("the generator handles the 23-hour 2026-03-08: nothing falls outside the day", async () => {
    await createDemoShop({ databaseUrl: url, days: 2, endDay: "2026-03-09", ordersPerDay: 4000, seed: 5, timezone: NY });
    const planned = await scalar(db, "SELECT n_orders FROM ops.demo_seed_day WHERE day = '2026-03-08'");
    expect(await scalar(db, "SELECT count(*) FROM app.orders WHERE created_at >= '2026-03-08T05:00Z' AND created_at < '2026-03-09T04:00Z'")).toBe(planned);
    // There is no 02:00-03:00 local: nothing is stamped with it.
    expect(await scalar(db, "SELECT count(*) FROM app.orders WHERE (created_at AT TIME ZONE $1)::date = '2026-03-08' AND extract(hour FROM created_at AT TIME ZONE $1) = 2", [NY])).toBe(0);
    expect(await scalar(db, "SELECT count(*) FROM app.events WHERE occurred_at < '2026-03-08T05:00Z' OR occurred_at >= '2026-03-10T04:00Z'")).toBe(0);
  });
});

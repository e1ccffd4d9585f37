import { afterAll, describe, expect, test } from "vitest";
import { createDemoShop } from "../../airflow/local/demo_shop/index.ts";
import { HOURLY_WEIGHTS, QUANTILE_STEPS, timeOfDayQuantiles } from "../../airflow/local/demo_shop/hour-curve.ts";
import { isIsoDay, paramsKey, resolveOptions } from "../../airflow/local/demo_shop/options.ts";
import { sliceDays } from "../../airflow/local/demo_shop/seed-jobs.ts";
import type { PlanDay } from "../../airflow/local/demo_shop/seed-plan.ts";
import { dropDatabase, scratchDatabaseUrl } from "./scratch-db.ts";

const url = scratchDatabaseUrl("options");
afterAll(() => dropDatabase(url));

describe("options", () => {
  test("defaults", () => {
    expect(resolveOptions({ days: 3, endDay: "2026-11-15" })).toEqual({
      databaseUrl: "postgres://postgres@127.0.0.1:5432/demo_shop",
      reset: false,
      parallelism: 2,
      rowsPerJob: 1_000_000,
      params: { generatorVersion: 2, days: 3, endDay: "2026-11-15", ordersPerDay: 100_000, seed: 42, timezone: "America/New_York" },
    });
  });

  test("rejects what cannot be seeded", () => {
    expect(() => resolveOptions({ days: 0, endDay: "2026-11-15" })).toThrow(/days/);
    expect(() => resolveOptions({ days: 1.5, endDay: "2026-11-15" })).toThrow(/days/);
    expect(() => resolveOptions({ days: 1, endDay: "2026-02-30" })).toThrow(/endDay/);
    expect(() => resolveOptions({ days: 1, endDay: "15/11/2026" })).toThrow(/endDay/);
    expect(() => resolveOptions({ days: 1, endDay: "2026-11-15", ordersPerDay: -1 })).toThrow(/ordersPerDay/);
    expect(() => resolveOptions({ days: 1, endDay: "2026-11-15", seed: 2 ** 40 })).toThrow(/seed/);
    expect(() => resolveOptions({ days: 1, endDay: "2026-11-15", timezone: "New York'; DROP" })).toThrow(/timezone/);
    expect(isIsoDay("2028-02-29")).toBe(true);
    expect(isIsoDay("2026-02-29")).toBe(false);
  });

  test("a timezone PostgreSQL does not know is refused before anything is dropped", async () => {
    await expect(createDemoShop({ databaseUrl: url, days: 1, endDay: "2026-11-15", ordersPerDay: 10, timezone: "Mars/Olympus_Mons" }))
      .rejects.toThrow(/does not know the timezone/);
  });

  test("paramsKey ignores key order and tuning options", () => {
    const a = resolveOptions({ days: 3, endDay: "2026-11-15", seed: 1, parallelism: 1 }).params;
    const b = resolveOptions({ seed: 1, endDay: "2026-11-15", days: 3, rowsPerJob: 5 }).params;
    expect(paramsKey(a)).toBe(paramsKey(b));
    expect(paramsKey(a)).not.toBe(paramsKey({ ...a, seed: 2 }));
  });
});

describe("hour-of-day curve", () => {
  test("quantiles rise from midnight to midnight and follow the weights", () => {
    const q = timeOfDayQuantiles();
    expect(q).toHaveLength(QUANTILE_STEPS + 1);
    expect(q[0]).toBe(0);
    expect(q[QUANTILE_STEPS]).toBe(86_400);
    for (let k = 1; k < q.length; k++) expect(q[k]!).toBeGreaterThan(q[k - 1]!);
    // The median falls where half the weight has passed.
    const total = HOURLY_WEIGHTS.reduce((a, b) => a + b, 0);
    let cum = 0;
    let hour = 0;
    while (cum + HOURLY_WEIGHTS[hour]! < total / 2) cum += HOURLY_WEIGHTS[hour++]!;
    expect(Math.floor(q[QUANTILE_STEPS / 2]! / 3600)).toBe(hour);
  });
});

describe("sliceDays", () => {
  const day = (dayIdx: number, orders: number): PlanDay => ({
    dayIdx, day: "", dayStart: new Date(0), dayEnd: new Date(0), orders, newUsers: 0, sessions: 0,
  });
  test("groups consecutive days up to the target, never splits a day, drops empty slices", () => {
    const plan = [day(0, 40), day(1, 50), day(2, 30), day(3, 200), day(4, 10)];
    expect(sliceDays(plan, (d) => d.orders, 100)).toEqual([
      { from: 0, to: 1, rows: 90 },
      { from: 2, to: 2, rows: 30 },
      { from: 3, to: 3, rows: 200 },
      { from: 4, to: 4, rows: 10 },
    ]);
    expect(sliceDays([day(0, 0), day(1, 0)], (d) => d.orders, 100)).toEqual([]);
  });
});

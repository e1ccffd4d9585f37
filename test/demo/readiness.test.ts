import { existsSync } from "node:fs";
import { execa } from "execa";
import type pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import {
  READINESS_SQL,
  checkReadiness,
  clearMaintenance,
  clearWatermark,
  createDemoShop,
  readinessParams,
  setMaintenance,
  setWatermark,
  toPositional,
} from "../../airflow/local/demo_shop/index.ts";
import { connect, dropDatabase, scratchDatabaseUrl } from "./scratch-db.ts";

const TZ = "America/New_York";
const url = scratchDatabaseUrl("readiness");
const hours = (h: number) => new Date(Date.now() + h * 3_600_000);
let db: pg.Client;

async function reseed() {
  // reset: also empties ops.maintenance and rewrites the watermarks to the end of 2026-11-02.
  await createDemoShop({ databaseUrl: url, days: 3, endDay: "2026-11-02", ordersPerDay: 100, seed: 3, timezone: TZ, reset: true });
}

beforeAll(async () => {
  await dropDatabase(url);
  await reseed();
  db = await connect(url);
}, 60_000);

beforeEach(async () => {
  await clearMaintenance(db);
  await setWatermark(db, "2026-11-03T05:00:00Z"); // end of 2026-11-02 in New York (EST)
});

afterAll(async () => {
  await db?.end();
  await dropDatabase(url);
});

describe("READINESS_SQL", () => {
  test("a fresh seed is ready for its days and not for the next one", async () => {
    await reseed();
    expect(await checkReadiness(db, "2026-11-02", TZ)).toBe(true);
    expect(await checkReadiness(db, "2026-10-31", TZ)).toBe(true);
    expect(await checkReadiness(db, "2026-11-03", TZ)).toBe(false);
  });

  test("not ready while a maintenance window covers now()", async () => {
    await setMaintenance(db, { startsAt: hours(-1), endsAt: hours(1), reason: "vacuum full" });
    expect(await checkReadiness(db, "2026-11-02", TZ)).toBe(false);
    await clearMaintenance(db);
    expect(await checkReadiness(db, "2026-11-02", TZ)).toBe(true);
  });

  test("windows in the past or the future do not block; an open-ended one does", async () => {
    await setMaintenance(db, { startsAt: hours(-3), endsAt: hours(-1) });
    await setMaintenance(db, { startsAt: hours(1), endsAt: hours(3) });
    expect(await checkReadiness(db, "2026-11-02", TZ)).toBe(true);
    await setMaintenance(db, { startsAt: hours(-1), endsAt: null, reason: "until further notice" });
    expect(await checkReadiness(db, "2026-11-02", TZ)).toBe(false);
  });

  test("not ready until every app table's watermark reaches the end of the day", async () => {
    await setWatermark(db, "2026-11-03T04:59:59Z", "app.events");
    expect(await checkReadiness(db, "2026-11-02", TZ)).toBe(false);
    await setWatermark(db, "2026-11-03T05:00:00Z", "app.events");
    expect(await checkReadiness(db, "2026-11-02", TZ)).toBe(true);
    await clearWatermark(db, "app.users"); // never loaded counts as not ready
    expect(await checkReadiness(db, "2026-11-02", TZ)).toBe(false);
  });

  test("the 25-hour day 2026-11-01 ends at 05:00 UTC, not 24 hours after its 04:00 UTC start", async () => {
    expect(await readinessParams(db, "2026-11-01", TZ)).toEqual({
      report_day: "2026-11-01",
      day_start: "2026-11-01T04:00:00.000Z",
      day_end: "2026-11-02T05:00:00.000Z",
    });
    await setWatermark(db, "2026-11-02T04:00:00Z");
    expect(await checkReadiness(db, "2026-11-01", TZ)).toBe(false);
    await setWatermark(db, "2026-11-02T05:00:00Z");
    expect(await checkReadiness(db, "2026-11-01", TZ)).toBe(true);
  });

  test("toPositional maps psycopg placeholders to $n and leaves no '%' behind", () => {
    const { text, values } = toPositional(READINESS_SQL, { report_day: "d", day_start: "s", day_end: "e" });
    expect(text).toContain("$1::timestamptz");
    expect(text).not.toContain("%");
    expect(values).toEqual(["e"]);
    expect(toPositional("SELECT %(a)s, %(b)s, %(a)s, 5 %% 2", { a: 1, b: 2 })).toEqual({
      text: "SELECT $1, $2, $1, 5 % 2",
      values: [1, 2],
    });
    expect(() => toPositional("SELECT %(missing)s", {})).toThrow(/missing/);
  });
});

// The sensor's own driver: the SQL text and parameters exactly as the generated DAG passes them.
const python = new URL("../../.venv/bin/python", import.meta.url).pathname;
const DRIVER_SCRIPT = `
import json, sys
driver, dsn, sql, params = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
if driver == "psycopg":
    import psycopg
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql, params).fetchone()
else:
    import psycopg2
    conn = psycopg2.connect(dsn)
    cur = conn.cursor()
    cur.execute(sql, params)
    row = cur.fetchone()
    conn.close()
print(json.dumps(bool(row[0])))
`;

describe.skipIf(!existsSync(python))("READINESS_SQL through psycopg named parameters", () => {
  for (const driver of ["psycopg", "psycopg2"]) {
    test(`${driver}: same answer as node-postgres, extra parameters ignored`, { timeout: 30_000 }, async () => {
      const ask = async () => {
        const params = await readinessParams(db, "2026-11-01", TZ);
        const { stdout } = await execa(python, ["-c", DRIVER_SCRIPT, driver, url, READINESS_SQL, JSON.stringify(params)]);
        return JSON.parse(stdout) as boolean;
      };
      await setWatermark(db, "2026-11-02T04:00:00Z");
      expect(await ask()).toBe(false);
      await setWatermark(db, "2026-11-02T05:00:00Z");
      expect(await ask()).toBe(true);
      await setMaintenance(db, { startsAt: hours(-1), endsAt: hours(1) });
      expect(await ask()).toBe(false);
    });
  }
});

import type pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createDemoShop, insertEvent, insertOrder, sourceKpis } from "../../airflow/local/demo_shop/index.ts";
import { connect, dropDatabase, scratchDatabaseUrl } from "./scratch-db.ts";

const NY = "America/New_York";
const url = scratchDatabaseUrl("source_kpis");
let db: pg.Client;

// A hand-made dataset around 2026-11-01, the 25-hour day in New York: [04:00Z Nov 1, 05:00Z Nov 2).
beforeAll(async () => {
  await dropDatabase(url);
  await createDemoShop({ databaseUrl: url, days: 1, endDay: "2026-10-01", ordersPerDay: 0, seed: 1, timezone: NY });
  db = await connect(url);
  await db.query("TRUNCATE app.users, app.orders, app.events");
  const orders: Array<[string, string, string, number]> = [
    // createdAt, amount, status, userId
    ["2026-11-01T03:59:59Z", "1000.00", "paid", 1], // Oct 31 23:59:59 EDT
    ["2026-11-01T04:00:00Z", "10.00", "paid", 1], // Nov 1 00:00 EDT: the day starts here
    ["2026-11-01T05:30:00Z", "20.50", "shipped", 2], // 01:30 EDT, first pass
    ["2026-11-01T06:30:00Z", "30.25", "refunded", 3], // 01:30 EST, second pass: refunds still count
    ["2026-11-01T12:00:00Z", "99.99", "cancelled", 4], // cancelled: excluded
    ["2026-11-01T15:00:00Z", "-5.00", "placed", 999999], // negative amount, orphan user: counted as is
    ["2026-11-01T16:00:00Z", "1.00", "on_hold", 5], // unknown status: only 'cancelled' is excluded
    ["2026-11-02T04:30:00Z", "44.26", "paid", 6], // Nov 1 23:30 EST: the 25th hour
    ["2026-11-02T05:00:00Z", "7.00", "paid", 7], // Nov 2 00:00 EST
    ["2026-03-09T03:30:00Z", "3.00", "paid", 1], // Mar 8 23:30 EDT (23-hour day)
    ["2026-03-09T04:30:00Z", "4.00", "paid", 1], // Mar 9 00:30 EDT
  ];
  for (const [createdAt, amount, status, userId] of orders) await insertOrder(db, { createdAt, amount, status, userId });
  const events: Array<[string, string, number | null]> = [
    ["2026-11-01T04:10:00Z", "page_view", 1],
    ["2026-11-01T05:30:00Z", "purchase", 1],
    ["2026-11-02T04:59:59Z", "page_view", 2], // Nov 1 23:59:59 EST
    ["2026-11-02T05:00:00Z", "page_view", 3], // Nov 2
    ["2026-11-01T03:00:00Z", "add_to_cart", 4], // Oct 31
    ["2026-11-01T06:15:00Z", "search", 5],
    ["2026-11-01T10:00:00Z", "page_view", null], // no user: not a user
  ];
  for (const [occurredAt, eventType, userId] of events) await insertEvent(db, { occurredAt, eventType, userId });
}, 60_000);

afterAll(async () => {
  await db?.end();
  await dropDatabase(url);
});

describe("sourceKpis (the end-to-end oracle)", () => {
  test("2026-11-01 in New York: 25 hours of orders, cancelled ones excluded", async () => {
    const k = await sourceKpis(db, { day: "2026-11-01", timezone: NY });
    // 10.00 + 20.50 + 30.25 - 5.00 + 1.00 + 44.26
    expect(k).toMatchObject({ day: "2026-11-01", timezone: NY, revenue: "101.01", orders: 6, dau: 3 });
    expect(Number(k.aov)).toBeCloseTo(101.01 / 6, 12);
  });

  test("dau can be restricted to event types", async () => {
    expect((await sourceKpis(db, { day: "2026-11-01", timezone: NY, eventTypes: ["purchase"] })).dau).toBe(1);
    expect((await sourceKpis(db, { day: "2026-11-01", timezone: NY, eventTypes: ["page_view"] })).dau).toBe(2);
    expect((await sourceKpis(db, { day: "2026-11-01", timezone: NY, eventTypes: ["search", "purchase"] })).dau).toBe(2);
    expect((await sourceKpis(db, { day: "2026-11-01", timezone: NY, eventTypes: [] })).dau).toBe(0);
  });

  test("neighbouring days get the rows on their side of local midnight", async () => {
    expect(await sourceKpis(db, { day: "2026-10-31", timezone: NY })).toMatchObject({ revenue: "1000.00", orders: 1, aov: "1000.0000000000000000", dau: 1 });
    expect(await sourceKpis(db, { day: "2026-11-02", timezone: NY })).toMatchObject({ revenue: "7.00", orders: 1, dau: 1 });
  });

  test("the 23-hour day 2026-03-08 ends at 04:00 UTC", async () => {
    expect(await sourceKpis(db, { day: "2026-03-08", timezone: NY })).toMatchObject({ revenue: "3.00", orders: 1 });
    expect(await sourceKpis(db, { day: "2026-03-09", timezone: NY })).toMatchObject({ revenue: "4.00", orders: 1 });
  });

  test("the same rows read in another timezone fall on other days", async () => {
    // Berlin's 2026-11-01 is [2026-10-31T23:00Z, 2026-11-01T23:00Z): it gains the 1000.00 order and
    // user 4's event, and loses the 44.26 order and user 2's event.
    const k = await sourceKpis(db, { day: "2026-11-01", timezone: "Europe/Berlin" });
    expect(k).toMatchObject({ revenue: "1056.75", orders: 6, dau: 3 });
  });

  test("a day without orders has zero revenue and no aov", async () => {
    expect(await sourceKpis(db, { day: "2026-11-05", timezone: NY })).toEqual({
      day: "2026-11-05", timezone: NY, revenue: "0.00", orders: 0, aov: null, dau: 0,
    });
  });
});
